"""Text: the marshmallow String for free text from clients (bodies and query parameters), which
refuses control characters by the rule in rules/text.py and documents it as a pattern."""

from marshmallow import ValidationError, fields

from rules.text import CONTROL_CHARACTERS_MESSAGE, NO_CONTROL_CHARACTERS_PATTERN, has_control_characters


def _no_control_characters(value: str) -> None:
    if has_control_characters(value):
        raise ValidationError(CONTROL_CHARACTERS_MESSAGE)


class Text(fields.String):
    def __init__(self, **kwargs):
        metadata = {"pattern": NO_CONTROL_CHARACTERS_PATTERN, **kwargs.pop("metadata", {})}
        validators = kwargs.pop("validate", None)
        validators = [validators] if callable(validators) else list(validators or [])
        super().__init__(validate=[_no_control_characters, *validators], metadata=metadata, **kwargs)
