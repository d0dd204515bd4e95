"""The contract registry in the database: effective-dated contracts, every change audited.

Each change runs in one transaction that first bumps registry_version (on PostgreSQL that row lock
serialises changes, so two overlapping contracts cannot both pass the overlap check), then checks
overlaps with rules.ContractBook, writes the contract and its audit entry.

`regions` (an API key's, api/key_regions.py; None: every region) limits a call to the contracts
whose home_region is one of them: another region's contract is not found by a read, and a change
to one (or into one) raises ContractOutOfRegion inside the change's transaction.
"""

from collections.abc import Iterable
from datetime import UTC, datetime

import orjson
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection, Engine

from rules.contracts import Contract, ContractBook
from rules.loader import contract_from_dict

from ..key_regions import covers
from .own_changes import Counted, counted_writing
from .stored_time import iso
from .tables import contract_audit, contracts, registry_version

SEED_ACTOR = "seed"


class ContractNotFound(LookupError):
    pass


class ContractConflict(Exception):
    """The change would break the registry: an overlap, or an id already in use."""

    def __init__(self, message: str, other_id: str | None = None):
        super().__init__(message)
        self.other_id = other_id


class ContractOutOfRegion(Exception):
    """The change would touch a contract of a home region the caller does not act for; the
    message says which contract and region."""


class ContractRegistry(Counted):
    def __init__(self, engine: Engine):
        self.engine = engine

    # -- reading ---------------------------------------------------------------------------

    def snapshot(self) -> tuple[int, ContractBook]:
        """The version and the contracts. The version is read first: a change that commits in
        between only makes the next version check rebuild once more."""
        with self.engine.connect() as conn:
            version = conn.execute(_VERSION).scalar_one()
            rows = conn.execute(select(contracts)).all()
        return version, ContractBook(_contract(row) for row in rows)

    def find(
        self,
        home_region: str | None = None,
        provider_id: str | None = None,
        *,
        regions: frozenset[str] | None = None,
    ) -> list[dict]:
        query = select(contracts)
        if regions is not None:
            query = query.where(contracts.c.home_region.in_(sorted(regions)))
        if home_region is not None:
            query = query.where(contracts.c.home_region == home_region)
        if provider_id is not None:
            query = query.where(contracts.c.provider_id == provider_id)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        # Ordered here, in code-point order: a PostgreSQL database's collation (sv_SE, en_US) would
        # order provider ids otherwise than SQLite. A registry holds a few hundred contracts at most.
        rows.sort(key=lambda row: (row.home_region, row.provider_id, row.valid_from))
        return [_record(row) for row in rows]

    def get(self, contract_id: str, *, regions: frozenset[str] | None = None) -> dict:
        with self.engine.connect() as conn:
            row = conn.execute(select(contracts).where(contracts.c.id == contract_id)).first()
        if row is None or not covers(regions, row.home_region):
            raise ContractNotFound(contract_id)
        return _record(row)

    def audit(self, contract_id: str, *, regions: frozenset[str] | None = None) -> list[dict]:
        """The contract's changes, oldest first; none when its home_region (its last one, for a
        removed contract) is not one of `regions`: the trail belongs to the contract's region."""
        query = (
            select(contract_audit)
            .where(contract_audit.c.contract_id == contract_id)
            .order_by(contract_audit.c.seq)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        if rows and not covers(regions, _home_region_in(rows[-1])):
            return []
        return [
            {
                "contract_id": row.contract_id,
                "action": row.action,
                "actor": row.actor,
                "at": iso(row.at),
                "before": orjson.loads(row.before) if row.before else None,
                "after": orjson.loads(row.after) if row.after else None,
            }
            for row in rows
        ]

    # -- changing --------------------------------------------------------------------------

    def create(self, contract: Contract, actor: str, *, regions: frozenset[str] | None = None) -> dict:
        _check_region(
            regions, contract.home_region, f"contract {contract.id} has home_region {contract.home_region}"
        )
        now = datetime.now(UTC)
        with counted_writing(self.engine, self) as conn:
            _bump(conn)
            if conn.execute(select(contracts.c.id).where(contracts.c.id == contract.id)).first():
                raise ContractConflict(f"A contract with id {contract.id!r} exists already.", contract.id)
            if _last_home_region(conn, contract.id) not in (None, contract.home_region):
                # The audit trail belongs to the contract's last home region: an id taken over by
                # another region would hand it that region's history.
                raise ContractConflict(
                    f"The id {contract.id!r} was used before, for another region's contract: choose another.",
                    contract.id,
                )
            _check_overlap(conn, contract)
            conn.execute(insert(contracts).values(_row(contract, revision=1, created=now, updated=now)))
            after = _record(conn.execute(select(contracts).where(contracts.c.id == contract.id)).one())
            _audit(conn, contract.id, "create", actor, now, None, after)
        return after

    def replace(self, contract: Contract, actor: str, *, regions: frozenset[str] | None = None) -> dict:
        """Replace the contract with the same id (its period, tariffs, provider, home region...):
        both its home_region before and after must be one of `regions`."""
        now = datetime.now(UTC)
        with counted_writing(self.engine, self) as conn:
            _bump(conn)
            row = conn.execute(select(contracts).where(contracts.c.id == contract.id)).first()
            if row is None:
                raise ContractNotFound(contract.id)
            _check_region(regions, row.home_region, OTHER_REGIONS)
            _check_region(
                regions,
                contract.home_region,
                f"contract {contract.id} would move to home_region {contract.home_region}",
            )
            before = _record(row)
            _check_overlap(conn, contract)
            values = _row(contract, revision=row.revision + 1, created=row.created_at, updated=now)
            conn.execute(update(contracts).where(contracts.c.id == contract.id).values(values))
            after = _record(conn.execute(select(contracts).where(contracts.c.id == contract.id)).one())
            _audit(conn, contract.id, "update", actor, now, before, after)
        return after

    def delete(self, contract_id: str, actor: str, *, regions: frozenset[str] | None = None) -> dict:
        now = datetime.now(UTC)
        with counted_writing(self.engine, self) as conn:
            _bump(conn)
            row = conn.execute(select(contracts).where(contracts.c.id == contract_id)).first()
            if row is None:
                raise ContractNotFound(contract_id)
            _check_region(regions, row.home_region, OTHER_REGIONS)
            before = _record(row)
            conn.execute(delete(contracts).where(contracts.c.id == contract_id))
            _audit(conn, contract_id, "delete", actor, now, before, None)
        return before

    def seed_if_new(self, seed: Iterable[Contract]) -> int:
        """Insert the seed contracts if the registry has never held any (version 0), so deleting
        every contract later does not bring the samples back. Returns how many were inserted."""
        seed = list(seed)
        now = datetime.now(UTC)
        with counted_writing(self.engine, self) as conn:
            bumped = conn.execute(
                update(registry_version)
                .where(registry_version.c.id == 1, registry_version.c.version == 0)
                .values(version=registry_version.c.version + 1)
            ).rowcount
            if not bumped:
                return 0
            if conn.execute(select(func.count()).select_from(contracts)).scalar_one():
                return 0
            for contract in seed:
                conn.execute(insert(contracts).values(_row(contract, revision=1, created=now, updated=now)))
                after = _record(conn.execute(select(contracts).where(contracts.c.id == contract.id)).one())
                _audit(conn, contract.id, "seed", SEED_ACTOR, now, None, after)
        return len(seed)


_VERSION = select(registry_version.c.version).where(registry_version.c.id == 1)


def _bump(conn: Connection) -> None:
    conn.execute(
        update(registry_version)
        .where(registry_version.c.id == 1)
        .values(version=registry_version.c.version + 1)
    )


# Said of a stored contract the key may not change: not which region it is (a read would be a 404).
OTHER_REGIONS = "this contract is another region's"


def _check_region(regions: frozenset[str] | None, home_region: str, why: str) -> None:
    if not covers(regions, home_region):
        raise ContractOutOfRegion(why)


def _check_overlap(conn: Connection, contract: Contract) -> None:
    rows = conn.execute(
        select(contracts).where(
            contracts.c.home_region == contract.home_region,
            contracts.c.provider_id == contract.provider_id,
        )
    ).all()
    clash = ContractBook([_contract(row) for row in rows] + [contract]).overlapping(contract)
    if clash is not None:
        until = clash.valid_to.isoformat() if clash.valid_to else "open end"
        raise ContractConflict(
            f"Overlaps contract {clash.id} ({clash.valid_from.isoformat()} to {until}) for provider "
            f"{contract.provider_id} and home region {contract.home_region}.",
            clash.id,
        )


def _audit(conn, contract_id, action, actor, at, before, after) -> None:
    conn.execute(
        insert(contract_audit).values(
            contract_id=contract_id,
            action=action,
            actor=actor,
            at=at,
            before=orjson.dumps(before).decode() if before is not None else None,
            after=orjson.dumps(after).decode() if after is not None else None,
        )
    )


def _row(contract: Contract, *, revision: int, created: datetime, updated: datetime) -> dict:
    data = contract.to_dict()
    return {
        "id": contract.id,
        "home_region": contract.home_region,
        "provider_id": contract.provider_id,
        "valid_from": contract.valid_from,
        "valid_to": contract.valid_to,
        "tariff_sek": orjson.dumps(data["tariff_sek"]).decode(),
        "source": contract.source,
        "fictitious": contract.fictitious,
        "revision": revision,
        "created_at": created,
        "updated_at": updated,
    }


def _contract(row) -> Contract:
    def fail(key, message):
        raise ValueError(f"stored contract {row.id}: {key}: {message}")

    return contract_from_dict(
        {
            "id": row.id,
            "home_region": row.home_region,
            "provider_id": row.provider_id,
            "valid_from": row.valid_from,
            "valid_to": row.valid_to,
            "tariff_sek": orjson.loads(row.tariff_sek),
            "source": row.source,
            "fictitious": row.fictitious,
        },
        fail,
    )


def _record(row) -> dict:
    record = _contract(row).to_dict()
    record.update(revision=row.revision, created_at=iso(row.created_at), updated_at=iso(row.updated_at))
    return record


def _last_home_region(conn: Connection, contract_id: str) -> str | None:
    """The home region of the contract's last audited state (a removed one's too), or None."""
    row = conn.execute(
        select(contract_audit.c.before, contract_audit.c.after)
        .where(contract_audit.c.contract_id == contract_id)
        .order_by(contract_audit.c.seq.desc())
        .limit(1)
    ).first()
    return None if row is None else _home_region_in(row)


def _home_region_in(audit_row) -> str:
    """The home region of the contract as an audit row leaves it (as it was, for a removal)."""
    return orjson.loads(audit_row.after or audit_row.before)["home_region"]
