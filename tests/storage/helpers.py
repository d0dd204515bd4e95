"""Contacts and pending decisions for the storage tests."""

import time
import uuid
from datetime import UTC, datetime
from typing import NamedTuple

import orjson

import rules
from api.decision_entry import pending_from_verdict
from api.keys import hash_key
from rules.loader import parse_policy_files, read_policy_files
from rules.policy_version import document_text, version_files


def contact(contact_id="c-1", **changes) -> dict:
    data = {
        "contact_id": contact_id,
        "contact_date": "2022-03-01",
        "home_region": "25",
        "care_region": "06",
        "provider_id": "SE162321000255-K001",
        "mode": "video",
        "care_category": "planned",
        "profession": "physician",
        "digital_requirements": {
            "qualified_care": True,
            "strong_authentication": True,
            "journaled": True,
            "triaged": True,
        },
        "claimed_amount_sek": "500.00",
        "patient": {"age": 34, "sex": "female"},
    }
    data.update(changes)
    return data


def kry_contract(**changes) -> dict:
    """A contract body for POST /v1/contracts: Norrbotten with a digital provider it has none with."""
    body = {
        "id": "contract-25-kry",
        "home_region": "25",
        "provider_id": "SE2321000230-KRY",
        "valid_from": "2023-01-01",
        "valid_to": None,
        "tariff_sek": {"physician": "400.00"},
        "source": "Avtal Dnr 99-2023 (test)",
        "fictitious": True,
    }
    body.update(changes)
    return body


def pending(data: dict, *, policy=None, client="test-client", at: datetime | None = None):
    policy = policy or rules.default_policy()
    verdict = rules.evaluate(data, policy)
    at = at or datetime.now(UTC)
    body = {"decision_id": str(uuid.uuid4())}
    body.update(verdict.to_dict())
    body["evaluated_at"] = at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return pending_from_verdict(verdict, data, body, at, client, policy.contracts.digest)


def record(storage, entries) -> list[dict]:
    """Store the entries; the verdicts to send, parsed (the log returns them as JSON text)."""
    return [orjson.loads(text) for text in storage.decisions.record(entries)]


def api_keys(keys: dict[str, tuple]) -> str:
    """API_KEYS for {key id: (secret, scopes)}, every region, or {key id: (secret, regions, scopes)}."""
    return ";".join(
        f"{key_id}:{hash_key(secret)}:{regions[0] if regions else '*'}:{scopes}"
        for key_id, (secret, *regions, scopes) in keys.items()
    )


def advisory_files() -> dict[str, str]:
    """The on-disk policy files with Norrbotten's stop (Dnr 347-2021) made advisory: pay, and flag
    DIGITAL_STOP_ADVISORY. A candidate version (contracts/ left out), as POST /v1/policy-versions
    would take it."""
    name = "regions/25-norrbotten.yaml"
    files = read_policy_files()
    doc = parse_policy_files(files)[name]
    (period,) = [p for p in doc["periods"] if p["id"] == "region-25-2022-01-01"]
    if period["parameters"]["digital_stop"]["value"] != "enforce":
        raise AssertionError("the on-disk stop is no longer enforced: change this helper")
    period["parameters"]["digital_stop"]["value"] = "advisory"
    return version_files({**files, name: document_text(doc)})


class FakeClock:
    """A monotonic clock the test moves: LivePolicy(..., clock=FakeClock())."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def eventually(attempt, done, timeout: float = 10.0):
    """attempt() again until done(its result), and that result: a change made through another
    worker or instance applies there within a second (api/storage/live_policy.py)."""
    deadline = time.monotonic() + timeout
    while True:
        result = attempt()
        if done(result):
            return result
        assert time.monotonic() < deadline, f"not done after {timeout} s: {result!r}"
        time.sleep(0.05)


class Chunk(NamedTuple):
    """A batch's chunk as DecisionLog's Transaction.record_chunks takes it (api/batch_chunks.py)."""

    entries: list
