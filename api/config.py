"""Settings from the environment, so one image runs in every hospital network unchanged.

Every setting has a safe default; `create_app(config)` overrides win over the environment.
"""

import os
from dataclasses import asdict, dataclass, field

MB = 1024 * 1024


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"environment variable {name} must be an integer, got {raw!r}") from None
    if value <= 0:
        raise ValueError(f"environment variable {name} must be positive, got {value}")
    return value


def _flag(name: str) -> bool:
    raw = os.environ.get(name, "").strip().casefold()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ValueError(f"environment variable {name} must be true or false, got {raw!r}")


# The limit the OpenAPI document states (an operator may set a lower one).
DEFAULT_BATCH_MAX_LINES = 100_000


@dataclass(frozen=True)
class Settings:
    # Largest request body in bytes; a 100,000-line batch is about 35 MB.
    MAX_CONTENT_LENGTH: int = field(default_factory=lambda: _int("UTOMLANS_MAX_BODY_MB", 100) * MB)
    # Most lines one batch (or simulation) may carry; more is a 413.
    BATCH_MAX_LINES: int = field(
        default_factory=lambda: _int("UTOMLANS_BATCH_MAX_LINES", DEFAULT_BATCH_MAX_LINES)
    )
    # Lines of a batch decided and stored at a time (in the batch's one transaction): memory stays
    # bounded however long the batch.
    BATCH_CHUNK_LINES: int = field(default_factory=lambda: _int("UTOMLANS_BATCH_CHUNK_LINES", 500))
    # Longest a database statement of the service may run (migrations excepted): past it the
    # statement is stopped and the request answered 503 (api/storage/time_limit.py).
    STATEMENT_TIMEOUT_MS: int = field(default_factory=lambda: _int("UTOMLANS_STATEMENT_TIMEOUT_MS", 5000))
    # A policy directory other than the one shipped in rules/policy/ (empty: the shipped one).
    POLICY_DIR: str = field(default_factory=lambda: os.environ.get("UTOMLANS_POLICY_DIR", ""))
    # Put the on-disk policy in force at start, if it is not (README, "Changing the policy in
    # production"). Off by default: the database says which version is in force, and a deployment
    # does not change the rules by the way; several instances starting in turn never flip it back.
    ACTIVATE_POLICY_ON_START: bool = field(default_factory=lambda: _flag("UTOMLANS_ACTIVATE_POLICY_ON_START"))
    API_TITLE: str = "Utomläns reimbursement rules"
    API_VERSION: str = "1.0.0"
    OPENAPI_VERSION: str = "3.0.3"
    OPENAPI_URL_PREFIX: str = "/"
    OPENAPI_JSON_PATH: str = "openapi.json"

    def to_mapping(self) -> dict:
        return asdict(self)
