"""On SQLite, workers learn of contract changes from a shared change counter instead of reading
the database on every request (api/storage/registry_stamp.py), and miss none."""

import time

import rules
from api.storage import ContractRegistry, Storage, live_contracts
from api.storage.registry_stamp import RegistryStamp

from .helpers import contact
from .test_contract_registry import make

KRY_LINE = contact(provider_id="SE2321000230-KRY", contact_date="2023-05-01")


def _reason(storage) -> str:
    return rules.evaluate(KRY_LINE, storage.live.current()).reason


def _counting_database_reads(storage) -> list:
    reads = []
    version = storage.contracts.version

    def counted():
        reads.append(1)
        return version()

    storage.contracts.version = counted
    return reads


def test_a_new_counter_reads_zero_moves_by_one_per_change_and_is_shared_through_the_file(tmp_path):
    path = str(tmp_path / "d.sqlite3-registry.stamp")
    one, other = RegistryStamp(path), RegistryStamp(path)
    try:
        assert one.read() == other.read() == 0
        one.changed()
        other.changed()
        assert one.read() == other.read() == 2
    finally:
        one.close()
        other.close()
    again = RegistryStamp(path)
    assert again.read() == 2
    again.close()


def test_a_worker_reads_the_database_only_when_another_worker_changed_a_contract(tmp_path):
    url = f"sqlite:///{tmp_path / 'd.sqlite3'}"
    admin, worker = Storage.open(url), Storage.open(url)
    try:
        assert _reason(worker) == "DIGITAL_NOT_CONTRACTED"
        reads = _counting_database_reads(worker)
        for _ in range(50):
            assert _reason(worker) == "DIGITAL_NOT_CONTRACTED"
        assert reads == []
        admin.contracts.create(make(), "admin")
        assert _reason(worker) == "CONTRACTED_PROVIDER"  # the very next request
        assert len(reads) == 1
        admin.contracts.delete("contract-25-kry", "admin")
        assert _reason(worker) == "DIGITAL_NOT_CONTRACTED"
        assert len(reads) == 2
    finally:
        admin.close()
        worker.close()


def test_a_change_that_never_moved_the_counter_is_in_force_after_the_recheck_interval(tmp_path, monkeypatch):
    monkeypatch.setattr(live_contracts, "RECHECK_SECONDS", 0.2)
    url = f"sqlite:///{tmp_path / 'd.sqlite3'}"
    worker = Storage.open(url)
    try:
        assert _reason(worker) == "DIGITAL_NOT_CONTRACTED"
        # A process that died between its commit and the counter: the same registry, no stamp.
        ContractRegistry(worker.engine).create(make(), "admin")
        assert worker.live.stamp.read() == 1  # only the seed moved it
        assert _reason(worker) == "DIGITAL_NOT_CONTRACTED"  # not seen yet: the counter is still
        time.sleep(0.25)
        assert _reason(worker) == "CONTRACTED_PROVIDER"
    finally:
        worker.close()
