"""Errors the engine raises: bad input from a client, and a broken policy from us."""


class InvalidContact(ValueError):
    """A contact that cannot be decided. `errors` maps a field path to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        detail = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in errors.items())
        super().__init__(f"invalid contact: {detail}")


class PolicyError(ValueError):
    """A policy file that must not be used. Names the file and the key at fault."""

    def __init__(self, file: str, key: str, message: str):
        self.file = file
        self.key = key
        self.message = message
        super().__init__(f"{file}: {key}: {message}")
