"""Text from clients never holds control characters (SPEC section 6): PostgreSQL cannot store NUL in
text, and a tab or newline in an id is never legitimate. One rule for every schema that takes text."""

import re

CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
CONTROL_CHARACTERS_MESSAGE = "Must not contain control characters (U+0000-U+001F, U+007F)."
# The same rule as a JSON Schema (ECMA-262) pattern, for OpenAPI documents.
NO_CONTROL_CHARACTERS_PATTERN = r"^[^\x00-\x1F\x7F]*$"


def has_control_characters(text: str) -> bool:
    return CONTROL_CHARACTERS.search(text) is not None
