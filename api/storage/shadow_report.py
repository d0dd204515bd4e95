"""What the version in shadow has seen so far: GET /v1/shadow.

Counted from the decision log, not from counters, so every worker and instance adds up: the
decisions stored since the shadow began that name it (ix_decisions_shadow), and their stored
disagreements grouped as readjudication and simulations group changes. The state and the counts
are read in one snapshot, so `disagreements` never exceeds `verdicts`.
"""

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from rules.simulation.simulate import signed_sek

from .policy_versions import PolicyVersions
from .stored_time import iso, utc
from .tables import decisions, shadow_disagreements


class ShadowReport:
    def __init__(self, engine: Engine, versions: PolicyVersions):
        self.engine = engine
        self.versions = versions

    def now(self) -> dict | None:
        """{"digest", "since", "verdicts", "disagreements", "changed"}; None when no shadow runs."""
        conn = self.engine.connect()
        if self.engine.dialect.name == "postgresql":  # SQLite: one read transaction is one snapshot
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn:
            state = self.versions.state(conn)
            if state.shadow is None:
                return None
            verdicts = conn.execute(_count(state.shadow, state.shadow_since)).scalar_one()
            groups = conn.execute(_changes(state.shadow, state.shadow_since)).all()
        groups.sort(key=lambda row: (-abs(row.delta), row.before, row.after))
        return {
            "digest": state.shadow,
            "since": iso(state.shadow_since),
            "verdicts": verdicts,
            "disagreements": sum(row.count for row in groups),
            "changed": [
                {
                    "from": row.before,
                    "to": row.after,
                    "count": row.count,
                    "amount_sek": signed_sek(int(row.delta)),
                }
                for row in groups
            ],
        }


def _seen(digest: str, since: datetime):
    """The decisions stored while this shadow ran (the condition ix_decisions_shadow reads)."""
    return decisions.c.shadow_version == digest, decisions.c.evaluated_at >= utc(since)


def _count(digest: str, since: datetime):
    return select(func.count()).select_from(decisions).where(*_seen(digest, since))


def _changes(digest: str, since: datetime):
    """Disagreements by (live reason, shadow reason): how many, and the money the shadow would
    have paid more (öre; negative: less)."""
    d, s = decisions.c, shadow_disagreements.c
    return (
        select(
            d.reason.label("before"),
            s.reason.label("after"),
            func.count().label("count"),
            func.sum(s.amount_ore - d.amount_ore).label("delta"),
        )
        .select_from(decisions.join(shadow_disagreements, s.decision_id == d.decision_id))
        .where(*_seen(digest, since))
        .group_by(d.reason, s.reason)
    )
