"""Text and Token: the marshmallow Strings for text from clients (bodies and query parameters), which
refuse control characters by the contact's rule (rules/text.py) and document it as a pattern.

Text is free text (an id, a provider, a source): it is also never an identity number, by the
contact's rule (rules/identity_numbers.py), and its description says so. A Token is a value this
service issued and takes back (a page cursor, a feed token): not free text, and checked against
what was issued, so identity numbers are not looked for in it (a base64 token may hold ten digits
by chance).
"""

from marshmallow import fields

from rules.identity_numbers import IDENTITY_NUMBER_MESSAGE
from rules.schema import no_control_characters, no_identity_numbers, noted
from rules.text import NO_CONTROL_CHARACTERS_PATTERN


def _validators(kwargs: dict) -> list:
    given = kwargs.pop("validate", None)
    return [given] if callable(given) else list(given or [])


class Token(fields.String):
    def __init__(self, **kwargs):
        metadata = {"pattern": NO_CONTROL_CHARACTERS_PATTERN, **kwargs.pop("metadata", {})}
        validators = _validators(kwargs)
        super().__init__(validate=[no_control_characters, *validators], metadata=metadata, **kwargs)


class Text(Token):
    def __init__(self, **kwargs):
        metadata = noted(kwargs.pop("metadata", None), IDENTITY_NUMBER_MESSAGE)
        validators = _validators(kwargs)
        super().__init__(validate=[no_identity_numbers, *validators], metadata=metadata, **kwargs)
