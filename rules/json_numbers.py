"""JSON text to Python values, keeping the text of every number written with a fraction or exponent.

A parser that makes plain floats of such numbers loses what the client wrote: 500.0000000000000001
becomes 500.0 and 1e-400 becomes 0.0, so an amount would be rounded without anyone saying so.
Money is checked as written (rules/money.py); every other use takes the number as the float it is.
The API, `rules evaluate`, `rules simulate` and `rules readjudicate` read JSON through loads().

The stdlib parser hands over a number's text (parse_float); orjson cannot. It is somewhat slower
than orjson, a small part of deciding and storing a batch (bench/http_batch.py), and builds the
same values in less memory. Where it is looser than JSON it is closed here: NaN
and Infinity, lone surrogate escapes (text no store can encode), nesting past the recursion limit.
"""

import json


class WrittenFloat(float):
    """A JSON number with a fraction or exponent: its float value, and `text` as written."""

    __slots__ = ("text",)

    def __new__(cls, text: str):
        number = super().__new__(cls, text)
        number.text = text
        return number

    def __reduce__(self):
        return WrittenFloat, (self.text,)


def _not_json(name: str):
    raise ValueError(f"{name} is not a JSON value")


_DECODER = json.JSONDecoder(parse_float=WrittenFloat, parse_constant=_not_json)


def loads(data: bytes | str):
    """The value of one JSON text (bytes must be UTF-8), or ValueError saying what is wrong."""
    text = data.decode() if isinstance(data, bytes) else data  # UnicodeDecodeError is a ValueError
    try:
        value = _DECODER.decode(text)
        # Only a \ud800-\udfff escape can make a lone surrogate; a pair is one character.
        if ("\\ud" in text or "\\uD" in text) and _has_lone_surrogate(value):
            raise ValueError("a \\u escape is a lone surrogate, not a character")
    except RecursionError:
        raise ValueError("nested too deeply") from None
    return value


def _has_lone_surrogate(value) -> bool:
    if isinstance(value, str):
        try:
            value.encode()
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(item) for item in value)
    return False


def as_float(value):
    """orjson's `default` for values read by loads(): a WrittenFloat is written as its float."""
    if isinstance(value, WrittenFloat):
        return float(value)
    raise TypeError(f"Type is not JSON serializable: {type(value).__name__}")
