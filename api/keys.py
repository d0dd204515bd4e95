"""API keys: who may call the service, with which scopes. Only sha256 hashes are kept.

Keys come from a file (API_KEYS_FILE: YAML or JSON, a list of {id, sha256, scopes, regions, note})
and/or the environment (API_KEYS="id:sha256hex:25,13:scope1,scope2;id2:..."). Every key names the
regions it acts for: region codes (a region's billing system: the contacts it pays or gave care
for, its contracts) or "*" (a national role: an SKR analyst, the operator). The file is re-read when it
changes (a stat per request), so keys are added or revoked without a restart; replace it
atomically (write a new file, then rename it over the old one). A file that cannot be used (empty,
unreadable, gone, not valid) keeps the keys loaded before: it is logged as an error and shown in
GET /ready until the file is fixed, since reading it as "no keys" would lock every client out.
An explicit empty list (`[]`) does revoke every key. A file that cannot be used at start stops the
service. Neither set: the service runs open (local use); see api/auth.py.

    python -m api.keys new --id billing-25 --scopes verdicts,decisions:read --regions 25
"""

import argparse
import hashlib
import hmac
import logging
import secrets
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import yaml

from rules.regions import REGIONS

SCOPES = ("verdicts", "decisions:read", "contracts:admin", "audit:read", "policy:admin")
# Scopes over every region's data: a key with one must have regions "*". The access log names who
# read what in every region; a policy version, its shadow and its impact concern every region.
NATIONAL_SCOPES = ("audit:read", "policy:admin")
log = logging.getLogger("api.keys")


class KeyConfigError(ValueError):
    """`shown`: what is wrong with the key file in words for GET /ready (no path, no parser text)."""

    def __init__(self, message: str, shown: str = "the API key file is not valid"):
        super().__init__(message)
        self.shown = shown


ALL_REGIONS = "*"
ENV_FORMAT = (
    f'id:sha256hex:regions:scopes, e.g. billing-25:<sha256>:25:verdicts,decisions:read ("{ALL_REGIONS}": '
    "every region)"
)
REGIONS_EXPECTED = f'a list of region codes (such as ["25"]) or "{ALL_REGIONS}" for every region'


@dataclass(frozen=True)
class ApiKey:
    id: str
    sha256: str
    scopes: frozenset[str]
    regions: frozenset[str] | None  # None: every region ("*"); key_regions.covers() asks
    note: str = ""


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _key(entry, where: str) -> ApiKey:
    if not isinstance(entry, dict):
        raise KeyConfigError(f"{where}: expected a mapping with id, sha256 and scopes")
    unknown = set(entry) - {"id", "sha256", "scopes", "regions", "note"}
    if unknown:
        raise KeyConfigError(f"{where}: unknown field {sorted(unknown)[0]!r}")
    key_id, digest, scopes = entry.get("id"), entry.get("sha256"), entry.get("scopes")
    if not isinstance(key_id, str) or not 1 <= len(key_id) <= 64:
        raise KeyConfigError(f"{where}.id: expected a string of 1-64 characters")
    if not isinstance(digest, str) or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise KeyConfigError(
            f"{where}.sha256: expected 64 lowercase hex digits (the key's sha256, never the key)"
        )
    if isinstance(scopes, str):
        scopes = [s for s in scopes.split(",") if s]
    if not isinstance(scopes, list) or not scopes:
        raise KeyConfigError(f"{where}.scopes: expected a non-empty list of {', '.join(SCOPES)}")
    for scope in scopes:
        if scope not in SCOPES:
            raise KeyConfigError(f"{where}.scopes: unknown scope {scope!r} (known: {', '.join(SCOPES)})")
    if "regions" not in entry:
        raise KeyConfigError(
            f"{where}.regions: missing; say which regions the key acts for: {REGIONS_EXPECTED}"
        )
    regions = _regions(entry["regions"], f"{where}.regions")
    for scope in NATIONAL_SCOPES:
        if scope in scopes and regions is not None:
            raise KeyConfigError(
                f'{where}: the scope {scope} is for a national role: regions "{ALL_REGIONS}"'
            )
    return ApiKey(key_id, digest, frozenset(scopes), regions, str(entry.get("note") or ""))


def _regions(value, where: str) -> frozenset[str] | None:
    """A key's regions: a list (or comma-separated text) of region codes, or "*"."""
    if value == ALL_REGIONS or value == [ALL_REGIONS]:
        return None
    if isinstance(value, str):
        value = [code.strip() for code in value.split(",") if code.strip()]
    if not isinstance(value, list) or not value:
        raise KeyConfigError(f"{where}: expected {REGIONS_EXPECTED}")
    for code in value:
        if not isinstance(code, str) or code not in REGIONS:
            raise KeyConfigError(
                f'{where}: {code!r} is not a region code in use (write codes as strings: "08", not 08)'
            )
    return frozenset(value)


def parse_env(value: str) -> list[ApiKey]:
    keys = []
    for n, part in enumerate(p.strip() for p in value.split(";")):
        if not part:
            continue
        fields = part.split(":", 3)  # scopes last: a scope may hold a colon (decisions:read)
        if len(fields) != 4:
            raise KeyConfigError(f"API_KEYS[{n}]: expected {ENV_FORMAT}")
        entry = dict(zip(("id", "sha256", "regions", "scopes"), fields, strict=True))
        keys.append(_key(entry, f"API_KEYS[{n}] ({ENV_FORMAT})"))
    return keys


def parse_file(path: Path) -> list[ApiKey]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyConfigError(f"{path}: cannot read keys: {exc}", "the API key file cannot be read") from None
    try:
        data = yaml.safe_load(text)  # YAML is a superset of JSON
    except yaml.YAMLError as exc:
        raise KeyConfigError(f"{path}: cannot read keys: {exc}") from None
    if isinstance(data, dict):
        data = data.get("keys")
    if data is None:
        # Empty, or comments only: a file caught half-written, or emptied by mistake. `[]` revokes all.
        raise KeyConfigError(
            f"{path}: the key file is empty (write `[]` to revoke every key)", "the API key file is empty"
        )
    if not isinstance(data, list):
        raise KeyConfigError(f"{path}: expected a list of keys (or a mapping with `keys:`)")
    return [_key(entry, f"{path}[{i}]") for i, entry in enumerate(data)]


class KeyRing:
    """The configured keys; `configured` is False only when no source of keys is set at all."""

    def __init__(self, file: str | None = None, env_value: str | None = None):
        self.file = Path(file) if file else None
        self.env_keys = parse_env(env_value) if env_value else []
        self.configured = bool(self.file or env_value)
        self._lock = threading.Lock()
        self._mtime = None
        self._by_hash: dict[str, ApiKey] = {}
        # Why the key file in place is not the one in use, for GET /ready; None when it is.
        self.problem: str | None = None
        self._load()  # a broken file at start stops the service

    def __len__(self) -> int:
        return len(self._by_hash)

    def _load(self) -> None:
        keys = list(self.env_keys)
        if self.file is not None:
            self._mtime = _stamp(self.file) if self.file.exists() else None
            if self._mtime is None:
                raise KeyConfigError(f"{self.file}: key file does not exist", "the API key file is missing")
            keys.extend(parse_file(self.file))
        by_hash, ids = {}, set()
        for key in keys:
            if key.id in ids:
                raise KeyConfigError(f"key id {key.id!r} appears twice")
            ids.add(key.id)
            by_hash[key.sha256] = key
        self._by_hash = by_hash

    def reload_if_changed(self) -> None:
        """A stat of the key file per request: a key added or revoked counts from the next one."""
        if self.file is None:
            return
        try:
            mtime = _stamp(self.file)
        except OSError:
            mtime = None
        if mtime == self._mtime:
            return
        with self._lock:
            if mtime == self._mtime:  # another thread reloaded it meanwhile
                return
            if mtime is None:
                log.error("key file %s disappeared: keeping the keys loaded before", self.file)
                self._mtime = None
                self.problem = "the API key file is missing"
                return
            try:
                self._load()
                self.problem = None
                log.warning("reloaded %d API key(s) from %s", len(self._by_hash), self.file)
            except KeyConfigError as exc:
                # A half-written, emptied or broken file must not open or lock the service.
                self._mtime = mtime
                self.problem = exc.shown
                log.error("key file not reloaded, keeping the keys loaded before: %s", exc)

    def warning(self) -> str | None:
        """For GET /ready (a readiness check), so a key file that cannot be used shows there before
        any client calls: what is wrong, or None while the file in place is the one in use."""
        self.reload_if_changed()
        problem = self.problem
        if problem is None:
            return None
        return f"{problem}; the keys loaded before stay in use (the log says why)"

    def authenticate(self, secret: str) -> ApiKey | None:
        self.reload_if_changed()
        digest = hash_key(secret)
        found = None
        for stored, key in self._by_hash.items():  # compare with every key, in constant time
            if hmac.compare_digest(stored, digest):
                found = key
        return found


def _stamp(path: Path) -> tuple[int, int, int]:
    """What changes when the key file is replaced or rewritten, even within one clock tick."""
    status = path.stat()
    return status.st_ino, status.st_size, status.st_mtime_ns


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m api.keys", description="Make a new API key.")
    sub = parser.add_subparsers(dest="command", required=True)
    new = sub.add_parser("new", help="print a new random key and the line for the key file")
    new.add_argument("--id", required=True)
    new.add_argument("--scopes", required=True, help=f"comma-separated: {', '.join(SCOPES)}")
    new.add_argument(
        "--regions", required=True, help=f'comma-separated region codes, or "{ALL_REGIONS}" for every region'
    )
    new.add_argument("--note", default="")
    args = parser.parse_args(argv)
    secret = secrets.token_urlsafe(32)
    regions = args.regions if args.regions == ALL_REGIONS else [r for r in args.regions.split(",") if r]
    entry = {
        "id": args.id,
        "sha256": hash_key(secret),
        "scopes": [s for s in args.scopes.split(",") if s],
        "regions": regions,
    }
    if args.note:
        entry["note"] = args.note
    try:
        _key(entry, "new key")
    except KeyConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"key (give it to the client; it is not stored anywhere): {secret}")
    print("for API_KEYS_FILE (YAML list entry):")
    print(yaml.safe_dump([entry], sort_keys=False).rstrip())
    shown_regions = regions if regions == ALL_REGIONS else ",".join(regions)
    print(f"or for API_KEYS: {entry['id']}:{entry['sha256']}:{shown_regions}:{','.join(entry['scopes'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
