"""Two service instances (two gunicorn masters on two ports, as two hosts would run them) on one
PostgreSQL database act as one service: one decision for concurrent identical submissions, a
contract change made through one applied by the other within a second, a batch stored
through one readable through the other."""

import itertools
import json
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from api.storage import Storage

from .gunicorn_server import running_gunicorn
from .helpers import contact, eventually, kry_contract
from .pgserver import psql

pytestmark = pytest.mark.slow


def call(base: str, method: str, path: str, body=None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        base + path, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


@pytest.fixture
def database(postgres_admin_url):
    name = f"t_scale_{uuid.uuid4().hex[:10]}"
    psql(postgres_admin_url, f'CREATE DATABASE "{name}"')
    url = f"{postgres_admin_url.rsplit('/', 1)[0]}/{name}"
    Storage.open(url).close()  # migrated once, as a deployment's first start would
    try:
        yield url
    finally:
        psql(postgres_admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def two_instances(database, tmp_path):
    env = {"DATABASE_URL": database, "API_KEYS": None, "API_KEYS_FILE": None, "GUNICORN_ACCESS_LOG": ""}
    with running_gunicorn(tmp_path / "a.log", workers=2, env=env) as (a, _):
        with running_gunicorn(tmp_path / "b.log", workers=2, env=env) as (b, _):
            yield a, b


def test_two_instances_on_one_postgresql_act_as_one(two_instances):
    a, b = two_instances

    # 20 concurrent identical submissions, spread over both instances: one decision.
    same = contact("scale-same")
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(lambda i: call((a, b)[i % 2], "POST", "/v1/verdicts", same), range(20)))
    assert {status for status, _ in answers} == {200}
    assert len({body["decision_id"] for _, body in answers}) == 1
    status, listed = call(b, "GET", "/v1/decisions?contact_id=scale-same")
    assert status == 200 and len(listed["items"]) == 1

    # A contract made through A is applied by B within a second (api/storage/live_policy.py).
    line = contact("scale-contract", provider_id=kry_contract()["provider_id"], contact_date="2023-03-01")
    assert call(b, "POST", "/v1/verdicts", line)[1]["reason"] == "DIGITAL_NOT_CONTRACTED"
    assert call(a, "POST", "/v1/contracts", kry_contract())[0] == 201
    ids = (f"scale-contract-{n}" for n in itertools.count(2))

    def decided_by_b():
        status, verdict = call(b, "POST", "/v1/verdicts", dict(line, contact_id=next(ids)))
        assert status == 200
        return verdict["reason"]

    # Four in a row: B's workers, whichever answers, each within a second of the change.
    eventually(
        lambda: [decided_by_b() for _ in range(4)], lambda reasons: set(reasons) == {"CONTRACTED_PROVIDER"}
    )

    # A batch stored through B is readable through A.
    status, batch = call(
        b, "POST", "/v1/verdicts/batch", {"contacts": [contact(f"scale-b-{i}") for i in range(50)]}
    )
    assert status == 200 and len(batch["verdicts"]) == 50
    for verdict in batch["verdicts"]:
        status, stored = call(a, "GET", f"/v1/decisions/{verdict['decision_id']}")
        assert status == 200 and stored["verdict"] == verdict
