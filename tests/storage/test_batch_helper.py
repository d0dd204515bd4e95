"""Batches shared between a worker and its helper process (api/batch_helper): answered and stored
exactly as if the worker had decided every line, whatever happens to the helper. SQLite and
PostgreSQL."""

import dataclasses
import os
import signal
import threading
import time

import pytest

import rules
from api import batch_helper, create_app
from api.policy_source import current_policy, set_policy_provider

from .helpers import contact, kry_contract

CHUNK = 4


@pytest.fixture
def app(db_url):
    application = create_app({"DATABASE_URL": db_url, "BATCH_CHUNK_LINES": CHUNK})
    yield application
    application.extensions[batch_helper.EXTENSION].stop()
    application.extensions["utomlans.storage"].close()


def ready_helper(app):
    helper = app.extensions[batch_helper.EXTENSION]
    with app.app_context():
        policy = current_policy()
    deadline = time.monotonic() + 60
    while not helper.usable_for(policy):
        assert time.monotonic() < deadline, "the batch helper did not start"
        time.sleep(0.05)
    return helper


def without_ids(verdict: dict) -> dict:
    return {k: v for k, v in verdict.items() if k not in ("decision_id", "evaluated_at", "supersedes")}


def test_a_batch_shared_with_the_helper_is_answered_and_stored_as_if_decided_alone(app):
    helper = ready_helper(app)
    client = app.test_client()
    lines = [contact(f"h-{i}", claimed_amount_sek=f"{400 + i}.00") for i in range(30)]
    lines[3] = {"contact_id": "bad", "mode": "telepathy"}
    lines[21] = dict(lines[2], claimed_amount_sek="1.00")  # same contact, new content: supersedes
    lines[25] = dict(lines[5])  # identical: the same decision
    answer = client.post("/v1/verdicts/batch", json={"contacts": lines})
    assert answer.status_code == 200
    body = answer.json
    assert helper.chunks_decided["helper"] > 0

    good = [line for i, line in enumerate(lines) if i != 3]
    assert [without_ids(v) for v in body["verdicts"]] == [rules.evaluate(line).to_dict() for line in good]
    assert [(r["index"], r["contact_id"]) for r in body["rejected"]] == [(3, "bad")]
    expected = rules.Summary()
    for line in good:
        expected.add(rules.evaluate(line))
    expected.add_rejected()
    assert body["summary"] == expected.to_dict()

    by_line = dict(zip([i for i in range(30) if i != 3], body["verdicts"], strict=True))
    assert by_line[21]["supersedes"] == by_line[2]["decision_id"]
    assert by_line[25]["decision_id"] == by_line[5]["decision_id"]
    for verdict in body["verdicts"]:
        stored = client.get(f"/v1/decisions/{verdict['decision_id']}")
        assert stored.status_code == 200 and stored.json["verdict"]["decision_id"] == verdict["decision_id"]

    again = client.post("/v1/verdicts/batch", json={"contacts": lines}).json
    assert [v["decision_id"] for v in again["verdicts"]] == [v["decision_id"] for v in body["verdicts"]]


def test_contract_changes_reach_the_helper_with_the_next_batch(app):
    helper = ready_helper(app)
    client = app.test_client()
    contract = kry_contract()
    lines = [contact(f"k-{i}", provider_id="SE2321000230-KRY", contact_date="2023-05-01") for i in range(12)]
    before = client.post("/v1/verdicts/batch", json={"contacts": lines}).json["verdicts"]
    assert {v["reason"] for v in before} == {"DIGITAL_NOT_CONTRACTED"}

    assert client.post("/v1/contracts", json=contract).status_code == 201
    shared = helper.chunks_decided["helper"]
    lines = [dict(line, claimed_amount_sek="450.00") for line in lines]
    after = client.post("/v1/verdicts/batch", json={"contacts": lines}).json["verdicts"]
    assert helper.chunks_decided["helper"] > shared
    assert {(v["reason"], v["amount_sek"]) for v in after} == {("CONTRACTED_PROVIDER", "400.00")}

    changed = kry_contract(tariff_sek={"physician": "300.00"})
    assert client.put("/v1/contracts/contract-25-kry", json=changed).status_code == 200
    lines = [dict(line, claimed_amount_sek="460.00") for line in lines]
    later = client.post("/v1/verdicts/batch", json={"contacts": lines}).json["verdicts"]
    assert {(v["reason"], v["amount_sek"]) for v in later} == {("CONTRACTED_PROVIDER", "300.00")}


def test_a_helper_killed_mid_batch_loses_no_line(app):
    helper = ready_helper(app)
    pid = helper.pid
    os.kill(pid, signal.SIGSTOP)  # it takes the first chunks and does not answer...
    killer = threading.Timer(0.5, os.kill, (pid, signal.SIGKILL))  # ...and dies while they wait
    killer.start()
    lines = [contact(f"x-{i}") for i in range(40)]
    started = time.monotonic()
    body = app.test_client().post("/v1/verdicts/batch", json={"contacts": lines}).json
    killer.join()
    assert time.monotonic() - started < 20  # noticed at once (end of file), not after a timeout
    assert helper.pid is None and helper.chunks_decided == {"helper": 0, "worker": 10}
    assert [without_ids(v) for v in body["verdicts"]] == [rules.evaluate(line).to_dict() for line in lines]
    for verdict in body["verdicts"]:
        assert app.test_client().get(f"/v1/decisions/{verdict['decision_id']}").status_code == 200
    more = [contact(f"y-{i}") for i in range(9)]
    later = app.test_client().post("/v1/verdicts/batch", json={"contacts": more})
    assert later.status_code == 200 and len(later.json["verdicts"]) == 9
    assert helper.pid is None  # not restarted at once: the worker decides alone for a while


def test_a_hung_helper_is_stopped_and_its_chunks_decided_by_the_worker(app, monkeypatch):
    from api.batch_helper import process

    monkeypatch.setattr(process, "ANSWER_TIMEOUT_SECONDS", 0.5)
    helper = ready_helper(app)
    pid = helper.pid
    os.kill(pid, signal.SIGSTOP)  # alive, holding its socket, answering nothing
    lines = [contact(f"z-{i}") for i in range(40)]
    body = app.test_client().post("/v1/verdicts/batch", json={"contacts": lines}).json
    assert [v["contact_id"] for v in body["verdicts"]] == [f"z-{i}" for i in range(40)]
    assert helper.pid is None and helper.chunks_decided == {"helper": 0, "worker": 10}
    with pytest.raises(ProcessLookupError):  # killed and reaped, not left behind
        os.kill(pid, 0)


def test_the_helper_never_decides_with_a_policy_it_did_not_load(app, caplog):
    helper = ready_helper(app)
    with app.app_context():
        other = dataclasses.replace(current_policy(), name="another_policy")
    set_policy_provider(app, lambda: other)
    lines = [contact(f"p-{i}") for i in range(10)]
    body = app.test_client().post("/v1/verdicts/batch", json={"contacts": lines}).json
    assert len(body["verdicts"]) == 10
    assert helper.chunks_decided["helper"] == 0
    assert "loaded other policy files" in caplog.text
