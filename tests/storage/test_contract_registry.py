"""The contract registry: seeded from the sample, changed with overlap checks, every change audited,
and seen by verdicts through LivePolicy without a restart."""

from datetime import date
from types import MappingProxyType

import pytest

import rules
from api.storage import ContractConflict, ContractNotFound, Storage
from api.storage.live_policy import RECHECK_SECONDS, LivePolicy
from rules.contracts import Contract

from .helpers import FakeClock, contact


def make(cid="contract-25-kry", provider="SE2321000230-KRY", start=date(2023, 1, 1), end=None, **tariff):
    return Contract(
        id=cid,
        home_region="25",
        provider_id=provider,
        valid_from=start,
        valid_to=end,
        tariff_ore=MappingProxyType(tariff or {"physician": 40000}),
        source="Avtal Dnr 99-2023 (test)",
        fictitious=True,
    )


def test_an_empty_registry_is_seeded_with_the_sample_contract_once(storage, db_url):
    records = storage.contracts.find()
    assert [r["id"] for r in records] == ["contract-25-sample1"]
    assert records[0]["fictitious"] is True
    [entry] = storage.contracts.audit("contract-25-sample1")
    assert entry["action"] == "seed" and entry["before"] is None
    storage.contracts.delete("contract-25-sample1", "admin")
    again = Storage.open(db_url)  # a restart does not bring a deleted sample back
    try:
        assert again.contracts.find() == []
    finally:
        again.close()


def test_create_update_delete_are_audited_with_who_before_and_after(storage):
    created = storage.contracts.create(make(), "key-admin")
    assert created["revision"] == 1 and created["tariff_sek"] == {"physician": "400.00"}
    updated = storage.contracts.replace(make(end=date(2023, 12, 31), nurse=20000), "key-admin2")
    assert updated["revision"] == 2 and updated["valid_to"] == "2023-12-31"
    storage.contracts.delete("contract-25-kry", "key-admin3")
    with pytest.raises(ContractNotFound):
        storage.contracts.get("contract-25-kry")
    audit = storage.contracts.audit("contract-25-kry")
    assert [(a["action"], a["actor"]) for a in audit] == [
        ("create", "key-admin"),
        ("update", "key-admin2"),
        ("delete", "key-admin3"),
    ]
    assert audit[0]["before"] is None and audit[0]["after"]["valid_to"] is None
    assert audit[1]["before"]["valid_to"] is None and audit[1]["after"]["valid_to"] == "2023-12-31"
    assert audit[2]["before"]["revision"] == 2 and audit[2]["after"] is None


def test_contracts_are_listed_in_the_same_order_on_both_databases(storage):
    """By home region, then provider id in code-point order, then start: not by the PostgreSQL
    database's collation (the tests' orders Swedish, as production may), which would put `alpha`
    before `Zeta` and SQLite the other way round."""
    storage.contracts.delete("contract-25-sample1", "admin")
    for provider in ("alpha", "Zeta", "Åre", "ab", "a-b"):
        storage.contracts.create(make(cid=f"c-{provider.encode().hex()}", provider=provider), "admin")
    listed = [r["provider_id"] for r in storage.contracts.find()]
    assert listed == ["Zeta", "a-b", "ab", "alpha", "Åre"]


def test_overlapping_contracts_for_one_provider_and_region_are_refused(storage):
    storage.contracts.create(make(end=date(2023, 12, 31)), "a")
    with pytest.raises(ContractConflict) as caught:
        storage.contracts.create(make("contract-25-kry-2", start=date(2023, 6, 1)), "a")
    assert caught.value.other_id == "contract-25-kry"
    storage.contracts.create(make("contract-25-kry-2", start=date(2024, 1, 1)), "a")  # adjacent: fine
    with pytest.raises(ContractConflict):  # extending the first into the second overlaps
        storage.contracts.replace(make(end=date(2024, 6, 30)), "a")
    with pytest.raises(ContractConflict):  # an id in use
        storage.contracts.create(make(provider="OTHER"), "a")
    storage.contracts.create(make("contract-25-other", provider="OTHER"), "a")  # other provider: fine
    assert len(storage.contracts.audit("contract-25-kry")) == 1  # refused changes leave no audit


def test_a_contract_change_applies_at_once_in_its_worker_and_within_a_second_in_another(storage, db_url):
    clock = FakeClock()
    other_worker = Storage.open(db_url)
    other = LivePolicy(
        other_worker.engine, other_worker.contracts, other_worker.versions, other_worker.books, clock
    )
    try:
        line = contact(provider_id="SE2321000230-KRY", contact_date="2023-05-01")
        assert rules.evaluate(line, other.current()).reason == "DIGITAL_NOT_CONTRACTED"
        storage.contracts.create(make(), "admin")
        # The worker that made the change: from its next request.
        assert rules.evaluate(line, storage.live.current()).reason == "CONTRACTED_PROVIDER"
        # Another worker or instance: within RECHECK_SECONDS (a second) of the change.
        clock.advance(RECHECK_SECONDS)
        verdict = rules.evaluate(line, other.current())
        assert verdict.reason == "CONTRACTED_PROVIDER"
        assert verdict.amount_sek == "400.00"
        storage.contracts.delete("contract-25-kry", "admin")
        assert rules.evaluate(line, storage.live.current()).reason == "DIGITAL_NOT_CONTRACTED"
        clock.advance(RECHECK_SECONDS)
        assert rules.evaluate(line, other.current()).reason == "DIGITAL_NOT_CONTRACTED"
    finally:
        other_worker.close()


def test_verdicts_use_the_registry_as_of_the_contact_date(storage):
    storage.contracts.create(make(start=date(2023, 1, 1), end=date(2023, 12, 31)), "admin")
    policy = storage.live.current()
    before = contact(provider_id="SE2321000230-KRY", contact_date="2022-12-31")
    during = contact(provider_id="SE2321000230-KRY", contact_date="2023-12-31")
    assert rules.evaluate(before, policy).reason == "DIGITAL_NOT_CONTRACTED"
    assert rules.evaluate(during, policy).reason == "CONTRACTED_PROVIDER"
