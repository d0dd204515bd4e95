"""The HTTP side: decisions stored before answering, idempotent repeats, contracts through the API,
API keys and scopes. Runs on SQLite and PostgreSQL."""

import json
import logging
import os
import threading
import time
import urllib.request
from collections import Counter

import pytest

from api import create_app
from api.auth import StartupRefused
from api.keys import KeyConfigError, hash_key

from .gunicorn_server import running_gunicorn
from .helpers import api_keys, contact, kry_contract

KEYS = {
    "billing": ("s3cret-billing", "verdicts,decisions:read"),
    "admin": ("s3cret-admin", "contracts:admin"),
    "other-billing": ("s3cret-other", "verdicts"),
}


def bearer(name):
    return {"Authorization": f"Bearer {KEYS[name][0]}"}


@pytest.fixture
def app(db_url, monkeypatch):
    monkeypatch.setenv("API_KEYS", api_keys(KEYS))
    application = create_app({"DATABASE_URL": db_url})
    yield application
    application.extensions["utomlans.storage"].close()


@pytest.fixture
def client(app):
    return app.test_client()


def test_verdicts_are_stored_and_repeats_answered_with_the_original(client):
    first = client.post("/v1/verdicts", json=contact(), headers=bearer("billing"))
    assert first.status_code == 200
    again = client.post("/v1/verdicts", json=contact(), headers=bearer("billing"))
    assert again.json == first.json
    changed = client.post("/v1/verdicts", json=contact(claimed_amount_sek="10.00"), headers=bearer("billing"))
    assert changed.json["supersedes"] == first.json["decision_id"]
    stored = client.get(f"/v1/decisions/{first.json['decision_id']}", headers=bearer("billing"))
    assert stored.status_code == 200
    assert stored.json["verdict"] == first.json and stored.json["client"] == "billing"
    assert stored.json["contact"]["patient"] == {"age": "19-39", "sex": "female"}


def test_a_return_to_earlier_content_supersedes_the_newest_decision(client):
    """A, B, then A again (alone, then in a batch with a retry of it): the log's newest decision is
    always what the client sent last, and a retry of it gets it back."""
    a = client.post("/v1/verdicts", json=contact("aba"), headers=bearer("billing")).json
    b = client.post(
        "/v1/verdicts", json=contact("aba", claimed_amount_sek="9.00"), headers=bearer("billing")
    ).json
    back = client.post("/v1/verdicts", json=contact("aba"), headers=bearer("billing")).json
    assert back["decision_id"] not in (a["decision_id"], b["decision_id"])
    assert back["supersedes"] == b["decision_id"] and b["supersedes"] == a["decision_id"]
    assert client.post("/v1/verdicts", json=contact("aba"), headers=bearer("billing")).json == back
    batch = client.post(
        "/v1/verdicts/batch",
        json={"contacts": [contact("aba"), contact("aba", claimed_amount_sek="9.00"), contact("aba")]},
        headers=bearer("billing"),
    ).json["verdicts"]
    assert batch[0] == back
    assert batch[1]["supersedes"] == back["decision_id"] and batch[2]["supersedes"] == batch[1]["decision_id"]
    listed = client.get("/v1/decisions?contact_id=aba", headers=bearer("billing")).json["items"]
    assert [d["decision_id"] for d in listed] == [
        a["decision_id"],
        b["decision_id"],
        back["decision_id"],
        batch[1]["decision_id"],
        batch[2]["decision_id"],
    ]


def test_two_clients_sending_the_same_contact_each_get_their_own_decision(client):
    """Each API key has its own chain per contact: neither is told of the other's decision, as an
    answer or in `supersedes`, alone or in a batch. A by one key, then by the other, then by the
    first again: the first key's decision."""
    mine = client.post("/v1/verdicts", json=contact("two-clients"), headers=bearer("billing")).json
    theirs = client.post("/v1/verdicts", json=contact("two-clients"), headers=bearer("other-billing")).json
    assert theirs["decision_id"] != mine["decision_id"]
    assert "supersedes" not in mine and "supersedes" not in theirs
    again = client.post("/v1/verdicts", json=contact("two-clients"), headers=bearer("billing")).json
    assert again == mine
    batch = client.post(
        "/v1/verdicts/batch",
        json={"contacts": [contact("two-clients"), contact("two-clients", claimed_amount_sek="9.00")]},
        headers=bearer("other-billing"),
    ).json["verdicts"]
    assert batch[0] == theirs and batch[1]["supersedes"] == theirs["decision_id"]
    changed = client.post(
        "/v1/verdicts", json=contact("two-clients", claimed_amount_sek="9.00"), headers=bearer("billing")
    ).json
    assert changed["supersedes"] == mine["decision_id"]
    listed = client.get("/v1/decisions?contact_id=two-clients", headers=bearer("billing")).json["items"]
    assert [(d["client"], d["supersedes"]) for d in listed] == [
        ("billing", None),
        ("other-billing", None),
        ("other-billing", theirs["decision_id"]),
        ("billing", mine["decision_id"]),
    ]


def test_concurrent_identical_submissions_give_one_decision_per_key(app):
    """Six requests at once, three per key, each a single contact and a batch of 20: one decision
    per key for each contact, never another key's."""
    keys = ("billing", "other-billing")
    batch = {"contacts": [contact(f"together-{i}") for i in range(20)]}
    answers: list = [None] * 6
    start = threading.Barrier(6)

    def send(n):
        client = app.test_client()
        start.wait(timeout=10)
        single = client.post("/v1/verdicts", json=contact("together"), headers=bearer(keys[n % 2]))
        many = client.post("/v1/verdicts/batch", json=batch, headers=bearer(keys[n % 2]))
        answers[n] = (single.status_code, many.status_code, [single.json, *many.json["verdicts"]])

    threads = [threading.Thread(target=send, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [(single, many) for single, many, _ in answers] == [(200, 200)] * 6
    for line in range(21):
        per_key = [{verdicts[line]["decision_id"] for _, _, verdicts in answers[k::2]} for k in range(2)]
        assert [len(ids) for ids in per_key] == [1, 1] and per_key[0] != per_key[1], (line, per_key)
        assert not any("supersedes" in verdicts[line] for _, _, verdicts in answers)
    listed = app.test_client().get("/v1/decisions?contact_id=together", headers=bearer("billing"))
    assert Counter(item["client"] for item in listed.json["items"]) == {"billing": 1, "other-billing": 1}


def test_the_contact_is_stored_as_received_in_a_single_post_and_in_a_batch(client):
    sent = contact("as-sent", claimed_amount_sek="500")  # no setting, referral...: defaults not added
    single = client.post("/v1/verdicts", json=sent, headers=bearer("billing")).json
    batch = client.post(
        "/v1/verdicts/batch",
        json={"contacts": [dict(sent, contact_id="as-sent-2")]},
        headers=bearer("billing"),
    ).json
    expected = dict(sent, patient={"age": "19-39", "sex": "female"})
    for decision_id, contact_id in (
        (single["decision_id"], "as-sent"),
        (batch["verdicts"][0]["decision_id"], "as-sent-2"),
    ):
        stored = client.get(f"/v1/decisions/{decision_id}", headers=bearer("billing")).json
        assert stored["contact"] == dict(expected, contact_id=contact_id)


def test_every_verdict_of_a_batch_is_stored(client):
    lines = [contact(f"b-{i}") for i in range(30)] + [{"contact_id": "bad"}]
    answer = client.post("/v1/verdicts/batch", json={"contacts": lines}, headers=bearer("billing"))
    assert answer.status_code == 200
    ids = [v["decision_id"] for v in answer.json["verdicts"]]
    assert len(ids) == 30 and len(answer.json["rejected"]) == 1
    for decision_id in ids:
        assert client.get(f"/v1/decisions/{decision_id}", headers=bearer("billing")).status_code == 200
    page = client.get("/v1/decisions?limit=20", headers=bearer("billing")).json
    rest = client.get(f"/v1/decisions?limit=20&cursor={page['next_cursor']}", headers=bearer("billing")).json
    assert [i["decision_id"] for i in page["items"] + rest["items"]] == ids
    assert rest["next_cursor"] is None


def test_missing_unknown_and_underprivileged_keys(client):
    none = client.post("/v1/verdicts", json=contact())
    assert none.status_code == 401 and none.mimetype == "application/problem+json"
    assert none.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = client.post("/v1/verdicts", json=contact(), headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    forbidden = client.get("/v1/contracts", headers=bearer("billing"))
    assert forbidden.status_code == 403 and forbidden.mimetype == "application/problem+json"
    assert client.get("/health").status_code == 200  # operations stay open


def test_contracts_through_the_api_change_verdicts_at_once(client):
    body = kry_contract()
    line = contact("k-1", provider_id="SE2321000230-KRY", contact_date="2023-05-01")
    before = client.post("/v1/verdicts", json=line, headers=bearer("billing")).json
    assert before["reason"] == "DIGITAL_NOT_CONTRACTED"
    created = client.post("/v1/contracts", json=body, headers=bearer("admin"))
    assert created.status_code == 201, created.json
    line["claimed_amount_sek"] = "450.00"  # new content, so a new decision
    after = client.post("/v1/verdicts", json=line, headers=bearer("billing")).json
    assert after["reason"] == "CONTRACTED_PROVIDER" and after["amount_sek"] == "400.00"

    clash = client.post(
        "/v1/contracts",
        json=dict(body, id="contract-25-kry-b", valid_from="2024-01-01"),
        headers=bearer("admin"),
    )
    assert clash.status_code == 409 and clash.mimetype == "application/problem+json"
    bad = client.post(
        "/v1/contracts",
        json=dict(body, id="x", tariff_sek={"wizard": "1.00"}, extra=1),
        headers=bearer("admin"),
    )
    assert bad.status_code == 422 and set(bad.json["errors"]) >= {"extra"}
    put = client.put(
        "/v1/contracts/contract-25-kry", json=dict(body, valid_to="2023-12-31"), headers=bearer("admin")
    )
    assert put.status_code == 200 and put.json["revision"] == 2
    assert client.delete("/v1/contracts/contract-25-kry", headers=bearer("admin")).status_code == 204
    audit = client.get("/v1/contracts/contract-25-kry/audit", headers=bearer("admin")).json["items"]
    assert [(a["action"], a["actor"]) for a in audit] == [
        ("create", "admin"),
        ("update", "admin"),
        ("delete", "admin"),
    ]


def test_openapi_documents_bearer_security_per_operation(client):
    spec = client.get("/openapi.json").json
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert spec["paths"]["/v1/verdicts"]["post"]["security"] == [{"bearerAuth": []}]
    assert spec["paths"]["/v1/contracts/{contract_id}"]["put"]["security"] == [{"bearerAuth": []}]
    assert "security" not in spec["paths"]["/health"]["get"]


@pytest.mark.parametrize("environment", ["production", "Production", "PRODUCTION", " production\n"])
def test_production_refuses_to_start_without_keys(monkeypatch, tmp_path, environment):
    monkeypatch.delenv("API_KEYS", raising=False)
    monkeypatch.delenv("API_KEYS_FILE", raising=False)
    monkeypatch.setenv("POLICY_ENV", environment)
    with pytest.raises(StartupRefused):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"})


KEPT = "the keys loaded before stay in use (the log says why)"


def _key_line(key_id: str, secret: str) -> str:
    return f'- id: {key_id}\n  sha256: {hash_key(secret)}\n  scopes: [verdicts]\n  regions: "*"\n'


def _rewrite(path, data: bytes) -> None:
    """Rewrite the key file in place, as `> keys.yaml` or an editor does, with an mtime of its own."""
    stamp = path.stat().st_mtime_ns + 10**9 if path.exists() else time.time_ns()
    path.write_bytes(data)
    os.utime(path, ns=(stamp, stamp))


@pytest.fixture
def keyed(make_app, tmp_path, monkeypatch):
    """An app whose only key, k1, comes from a key file; its test client and the file."""
    keyfile = tmp_path / "keys.yaml"
    keyfile.write_text(_key_line("one", "k1"))
    monkeypatch.delenv("API_KEYS", raising=False)
    monkeypatch.delenv("API_KEYS_FILE", raising=False)
    return make_app(API_KEYS_FILE=str(keyfile)).test_client(), keyfile


def _status(client, secret: str) -> int:
    headers = {"Authorization": f"Bearer {secret}"}
    return client.post("/v1/verdicts", json=contact(), headers=headers).status_code


def test_key_file_is_reloaded_without_restart(keyed):
    client, keyfile = keyed
    assert _status(client, "k1") == 200
    _rewrite(keyfile, _key_line("two", "k2").encode())
    assert _status(client, "k1") == 401
    assert _status(client, "k2") == 200
    assert client.get("/ready").get_json()["checks"]["keys"] == "ok"


@pytest.mark.parametrize(
    ("content", "shown"),
    [
        (b"", "the API key file is empty"),
        (b"\n# every key moved to the new file\n", "the API key file is empty"),
        (b"keys:\n", "the API key file is empty"),
        (b"\xff\xfe not UTF-8", "the API key file cannot be read"),
        (b"- id: [", "the API key file is not valid"),
    ],
    ids=["zero-bytes", "comments-only", "keys-null", "not-utf8", "bad-yaml"],
)
def test_a_key_file_that_cannot_be_used_keeps_the_keys_before_and_says_so_in_ready(
    keyed, caplog, tmp_path, content, shown
):
    client, keyfile = keyed
    assert _status(client, "k1") == 200
    with caplog.at_level(logging.ERROR, logger="api.keys"):
        _rewrite(keyfile, content)
        assert _status(client, "k1") == 200  # not locked out
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any("key file not reloaded" in message for message in errors)
    ready = client.get("/ready")
    assert ready.status_code == 200  # still serving: every instance sharing the file would go otherwise
    body = ready.get_json()
    assert body["status"] == "ready"
    assert body["checks"]["keys"] == f"warning: {shown}; {KEPT}"
    assert str(tmp_path) not in ready.get_data(as_text=True)
    _rewrite(keyfile, _key_line("two", "k2").encode())  # fixed: the new keys, and /ready clear again
    assert _status(client, "k2") == 200 and _status(client, "k1") == 401
    assert client.get("/ready").get_json()["checks"]["keys"] == "ok"


def test_a_removed_key_file_keeps_the_keys_before_and_says_so_in_ready(keyed):
    client, keyfile = keyed
    keyfile.unlink()
    assert _status(client, "k1") == 200
    checks = client.get("/ready").get_json()["checks"]
    assert checks["keys"] == f"warning: the API key file is missing; {KEPT}"
    _rewrite(keyfile, _key_line("one", "k1").encode())
    assert client.get("/ready").get_json()["checks"]["keys"] == "ok"


def test_an_empty_list_of_keys_revokes_every_key(keyed):
    client, keyfile = keyed
    _rewrite(keyfile, b"[]\n")
    assert _status(client, "k1") == 401
    assert client.get("/ready").get_json()["checks"]["keys"] == "ok"


def test_an_empty_key_file_at_start_stops_the_service(make_app, tmp_path, monkeypatch):
    keyfile = tmp_path / "keys.yaml"
    keyfile.write_bytes(b"")
    monkeypatch.delenv("API_KEYS", raising=False)
    with pytest.raises(KeyConfigError, match="empty"):
        make_app(API_KEYS_FILE=str(keyfile))


@pytest.mark.slow
def test_emptying_the_key_file_under_gunicorn_locks_no_client_out(tmp_path, app_db_url):
    """As it happened: `> keys.yaml` while the real server runs, two workers each with its keys."""
    keyfile = tmp_path / "keys.yaml"
    keyfile.write_text(_key_line("one", "k1"))
    env = {"DATABASE_URL": app_db_url, "API_KEYS_FILE": str(keyfile), "API_KEYS": None}
    with running_gunicorn(tmp_path / "gunicorn.log", env=env, startup_timeout=30) as (base, _proc):
        _rewrite(keyfile, b"")
        for n in range(8):  # several requests, so both workers answer some
            request = urllib.request.Request(
                base + "/v1/verdicts",
                data=json.dumps(contact(f"live-keys-{n}")).encode(),
                headers={"Content-Type": "application/json", "Authorization": "Bearer k1"},
            )
            with urllib.request.urlopen(request, timeout=30) as response:
                assert response.status == 200
        with urllib.request.urlopen(base + "/ready", timeout=10) as response:
            body = json.loads(response.read())
        assert body["checks"]["keys"] == f"warning: the API key file is empty; {KEPT}"
    assert "key file not reloaded" in (tmp_path / "gunicorn.log").read_text()
