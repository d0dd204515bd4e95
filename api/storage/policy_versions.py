"""Policy versions in the database: every policy the service has decided with, or may, by digest.

The YAML files stay the way policy is written and reviewed; the database holds what the service
has used and uses. A version is immutable (its digest is that of its files, rules/policy_version.py);
only its status moves: candidate -> active -> retired (and back to active, for a rollback). Which
version is in force is policy_state.active, read by every worker at most a second apart (live_policy.py), so
an activation applies on every worker and instance within a second. Every change is in
policy_audit: who, when, what, from what, and why.
"""

import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import NamedTuple

import orjson
from sqlalchemy import Connection, select, update
from sqlalchemy.engine import Engine

from rules import Policy
from rules.loader import load_policy_files
from rules.policy_version import version_digest

from .engine import dialect_insert, writing
from .own_changes import Counted, counted_writing
from .stored_time import aware, iso
from .tables import policy_audit, policy_state, policy_versions

ACTIVE, CANDIDATE, RETIRED = "active", "candidate", "retired"
START = "start"  # the actor of what the service does by itself when it starts
_COMPILED_KEPT = 16  # compiled versions a worker keeps (the active one, a shadow, a few replays)


class VersionNotFound(LookupError):
    pass


class VersionInForce(ValueError):
    """The version in force cannot also run in shadow: it would only agree with itself."""


class State(NamedTuple):
    active: str | None
    shadow: str | None
    shadow_since: datetime | None
    changed: int


class PolicyVersions(Counted):
    def __init__(self, engine: Engine):
        self.engine = engine
        self._compiled: dict[str, Policy] = {}
        self._lock = threading.Lock()

    # -- reading ---------------------------------------------------------------------------

    def state(self, conn: Connection | None = None) -> State:
        if conn is None:
            with self.engine.connect() as conn:
                return self.state(conn)
        row = conn.execute(select(policy_state).where(policy_state.c.id == 1)).one()
        return State(row.active, row.shadow, aware(row.shadow_since), row.changed)

    def all(self) -> list[dict]:
        """Every version, newest first, without its files."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(*(c for c in policy_versions.c if c.name != "files")).order_by(
                    policy_versions.c.added_at.desc(), policy_versions.c.digest
                )
            ).all()
        return [_record(row) for row in rows]

    def get(self, digest: str) -> dict:
        """The version with its files; raises VersionNotFound."""
        with self.engine.connect() as conn:
            row = conn.execute(select(policy_versions).where(policy_versions.c.digest == digest)).first()
        if row is None:
            raise VersionNotFound(digest)
        record = _record(row)
        record["files"] = orjson.loads(row.files)
        return record

    def policy(self, digest: str) -> Policy:
        """The version compiled (PolicyError if today's engine cannot load it); kept per worker,
        since a version never changes. Its contract book is empty: add one with with_contracts."""
        compiled = self._compiled.get(digest)
        if compiled is not None:
            return compiled
        files = self.get(digest)["files"]
        compiled = load_policy_files(files, root=f"version {digest[:12]}")
        with self._lock:
            if len(self._compiled) >= _COMPILED_KEPT:
                self._compiled.pop(next(iter(self._compiled)))
            self._compiled[digest] = compiled
        return compiled

    def audit(self) -> list[dict]:
        """Every change of policy, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(policy_audit).order_by(policy_audit.c.seq)).all()
        return [_audit_entry(row) for row in rows]

    # -- changing --------------------------------------------------------------------------

    def add(
        self,
        files: Mapping[str, str],
        *,
        actor: str,
        note: str,
        base: str | None = None,
        overlay: dict | None = None,
    ) -> tuple[dict, bool]:
        """Store checked files as a candidate. Returns (the version, whether it is new): identical
        files are the same version, stored once, whoever adds them again."""
        digest = version_digest(files)
        insert = dialect_insert(self.engine)
        now = datetime.now(UTC)
        with writing(self.engine) as conn:
            added = conn.execute(
                insert(policy_versions)
                .values(
                    digest=digest,
                    files=orjson.dumps(dict(files)).decode(),
                    status=CANDIDATE,
                    note=note,
                    added_by=actor,
                    added_at=now,
                    base=base,
                    overlay=orjson.dumps(overlay).decode() if overlay is not None else None,
                )
                .on_conflict_do_nothing(index_elements=["digest"])
                # rowcount is -1 here on PostgreSQL (psycopg): the row returned says it was added
                .returning(policy_versions.c.digest)
            ).first()
            if added:
                _audit(conn, actor, "add", digest, None, note, now)
        record = self.get(digest)
        record.pop("files")
        return record, added is not None

    def activate(self, digest: str, *, actor: str, note: str) -> dict:
        """Put a stored version in force (the one before is retired); returns the audit entry.
        The version already in force stays as it is, unaudited (an entry whose `previous` is itself
        would say nothing happened): the entry that put it in force is returned. Raises
        VersionNotFound. Compile it first (policy()) to refuse one that cannot load."""
        with counted_writing(self.engine, self) as conn:
            state = _lock_state(conn)
            if digest == state.active:
                return _audit_entry(_activation_of(conn, digest))
            return _activate(conn, digest, actor, note, state)

    def register_on_disk(self, policy: Policy, *, activate: bool) -> str:
        """At start: store the on-disk policy if it is new; put it in force if no version is (an
        empty database) or if `activate` (the deployment asks for it). Returns its digest."""
        self.add(policy.files, actor=START, note="the policy files on disk at start")
        with counted_writing(self.engine, self) as conn:
            state = _lock_state(conn)
            if state.active is None or (activate and state.active != policy.version):
                why = "no version was in force" if state.active is None else "activated at start (setting)"
                _activate(conn, policy.version, START, why, state)
        return policy.version

    def shadow(self, digest: str, *, actor: str, note: str) -> State:
        """Put a stored version in shadow (in place of any other) within a second on every worker;
        audited, with the version it replaced as `previous`. The version already in shadow stays as
        it is (its `since` too, so its counts go on), unaudited. Raises VersionNotFound, or
        VersionInForce for the active version. Compile it first (policy()) to refuse one that
        cannot load."""
        with counted_writing(self.engine, self) as conn:
            state = _lock_state(conn)
            if not _stored(conn, digest):
                raise VersionNotFound(digest)
            if digest == state.active:
                raise VersionInForce(digest)
            if digest == state.shadow:
                return state
            now = datetime.now(UTC)
            _set_state(conn, shadow=digest, shadow_since=now)
            _audit(conn, actor, "shadow", digest, state.shadow, note, now)
            return state._replace(shadow=digest, shadow_since=now)

    def unshadow(self, *, actor: str, note: str) -> str | None:
        """End the shadow within a second on every worker; audited. Returns the version that was
        in shadow (None: none was, nothing changed). Its disagreements stay stored."""
        with counted_writing(self.engine, self) as conn:
            shadow = _lock_state(conn).shadow
            if shadow is not None:
                _set_state(conn, shadow=None, shadow_since=None)
                _audit(conn, actor, "unshadow", shadow, None, note, datetime.now(UTC))
            return shadow


def _stored(conn: Connection, digest: str) -> bool:
    found = conn.execute(select(policy_versions.c.digest).where(policy_versions.c.digest == digest)).first()
    return found is not None


def _set_state(conn: Connection, **values) -> None:
    """Change the state and bump its counter: every worker sees the change within a second."""
    changed = policy_state.c.changed + 1
    conn.execute(update(policy_state).where(policy_state.c.id == 1).values(**values, changed=changed))


def _lock_state(conn: Connection) -> State:
    """The state, its row locked until the transaction ends, so changes are serialised (PostgreSQL:
    FOR UPDATE; SQLite: the write lock writing() took). A change that changes nothing bumps
    nothing, so no worker rebuilds its policy for it."""
    row = conn.execute(select(policy_state).where(policy_state.c.id == 1).with_for_update()).one()
    return State(row.active, row.shadow, aware(row.shadow_since), row.changed)


def _activate(conn: Connection, digest: str, actor: str, note: str, state: State) -> dict:
    """With the state row locked (_lock_state returned `state`). A version put in force leaves the
    shadow if it was there: decided twice under one policy, it could never disagree."""
    if not _stored(conn, digest):
        raise VersionNotFound(digest)
    previous = state.active
    now = datetime.now(UTC)
    if state.shadow == digest:
        _set_state(conn, shadow=None, shadow_since=None)
        _audit(conn, actor, "unshadow", digest, None, "activated: " + note, now)
    if previous is not None and previous != digest:
        conn.execute(
            update(policy_versions).where(policy_versions.c.digest == previous).values(status=RETIRED)
        )
    conn.execute(update(policy_versions).where(policy_versions.c.digest == digest).values(status=ACTIVE))
    _set_state(conn, active=digest)
    return _audit(conn, actor, "activate", digest, previous, note, now)


def _activation_of(conn: Connection, digest: str):
    """The audit row of the activation that put `digest` in force (its newest)."""
    query = select(policy_audit).where(policy_audit.c.action == "activate", policy_audit.c.digest == digest)
    return conn.execute(query.order_by(policy_audit.c.seq.desc()).limit(1)).one()


def _audit_entry(row) -> dict:
    return {
        "seq": row.seq,
        "at": iso(row.at),
        "actor": row.actor,
        "action": row.action,
        "digest": row.digest,
        "previous": row.previous,
        "note": row.note,
    }


def _audit(conn, actor, action, digest, previous, note, at) -> dict:
    entry = {"at": at, "actor": actor, "action": action, "digest": digest, "previous": previous, "note": note}
    seq = conn.execute(policy_audit.insert().values(**entry)).inserted_primary_key[0]
    return {"seq": seq, **entry, "at": iso(at)}


def _record(row) -> dict:
    return {
        "digest": row.digest,
        "status": row.status,
        "note": row.note,
        "added_by": row.added_by,
        "added_at": iso(row.added_at),
        "base": row.base,
        "overlay": orjson.loads(row.overlay) if row.overlay else None,
    }
