"""Text: the marshmallow String for free text from clients (bodies and query parameters), which
refuses control characters by the contact's rule (rules/text.py) and documents it as a pattern."""

from marshmallow import fields

from rules.schema import no_control_characters
from rules.text import NO_CONTROL_CHARACTERS_PATTERN


class Text(fields.String):
    def __init__(self, **kwargs):
        metadata = {"pattern": NO_CONTROL_CHARACTERS_PATTERN, **kwargs.pop("metadata", {})}
        validators = kwargs.pop("validate", None)
        validators = [validators] if callable(validators) else list(validators or [])
        super().__init__(validate=[no_control_characters, *validators], metadata=metadata, **kwargs)
