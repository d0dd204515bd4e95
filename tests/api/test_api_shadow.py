"""Shadow (issue 17, item 4): a candidate version decides live traffic beside the version in force;
the answers stay as they were, the decision log counts where it would have decided otherwise.
Every test runs on SQLite and PostgreSQL (make_app)."""

import itertools
import re
from datetime import UTC, datetime

import orjson
import pytest
import yaml
from sqlalchemy import select, update

import rules
from api import examples
from api.storage.tables import decisions, policy_state, shadow_disagreements
from rules.loader import POLICY_DIR, read_policy_files
from rules.policy_version import document_text, version_files
from rules.simulation.scenarios import scenario_documents
from tests.storage.helpers import advisory_files, api_keys, eventually

KEYS = {
    "admin": ("s3cret-admin", "policy:admin"),
    "plain": ("s3cret-plain", "verdicts,decisions:read"),
    "shadowed": ("s3cret-shadowed", "verdicts"),
}
VIDEO = examples.NORRBOTTEN_VIDEO  # Norrbotten's digital stop: no_pay DIGITAL_NOT_CONTRACTED
REFERRAL = {  # Norrbotten's referral requirement: no_pay REFERRAL_MISSING
    "contact_id": "referral",
    "contact_date": "2020-07-01",
    "home_region": "25",
    "care_region": "04",
    "provider_id": "SE2321000032-NPF01",
    "mode": "physical",
    "care_category": "planned",
    "profession": "psychologist",
    "specialty": "neuropsychiatric_assessment",
    "claimed_amount_sek": "12500.00",
}
UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
EVALUATED_AT = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


def bearer(name: str) -> dict:
    return {"Authorization": f"Bearer {KEYS[name][0]}"}


@pytest.fixture
def app(make_app):
    return make_app(API_KEYS=api_keys(KEYS), BATCH_CHUNK_LINES=2)  # a batch of several chunks


@pytest.fixture
def client(app):
    return app.test_client()


def _storage(app):
    return app.extensions["utomlans.storage"]


def _store(app, files: dict) -> str:
    version, _ = _storage(app).versions.add(version_files(files), actor="test", note="test")
    return version["digest"]


def _national_only(app) -> str:
    """A candidate without the regional layer: no digital stop, no referral requirement."""
    return _store(app, {rel: document_text(doc) for rel, doc in scenario_documents("national_only").items()})


def _national_from_2019_10(app) -> str:
    """A candidate whose national policy starts on 2019-10-01: it refuses earlier contacts."""
    files = read_policy_files(POLICY_DIR)
    national = yaml.safe_load(files["national.yaml"])
    national["covers_from"] = "2019-10-01"
    national["periods"] = national["periods"][1:]
    files["national.yaml"] = document_text(national)
    return _store(app, files)


def _put(client, digest, note="Shadow it for a week", who="admin"):
    return client.put("/v1/shadow", json={"digest": digest, "note": note}, headers=bearer(who))


def _counter(client, name: str) -> float:
    text = client.get("/metrics").text
    found = re.search(rf"^{name}_total (\S+)$", text, re.M)
    return float(found.group(1)) if found else 0.0


def _counters(client) -> tuple[float, float]:
    return _counter(client, "utomlans_shadow_verdicts"), _counter(client, "utomlans_shadow_disagreements")


def _mix(client, who: str) -> list[bytes]:
    """Single and batch calls: new decisions, identical resubmissions, a superseding change, a bad
    line. The bodies as answered."""
    answers = []
    for contact in (
        VIDEO,
        REFERRAL,
        examples.PHYSICAL_VISIT,
        VIDEO,
        dict(VIDEO, claimed_amount_sek="300.00"),
    ):
        response = client.post("/v1/verdicts", json=contact, headers=bearer(who))
        assert response.status_code == 200
        answers.append(response.data)
    video_2 = dict(VIDEO, contact_id="NLL-2022-000200")
    batch = [
        video_2,
        examples.PHYSICAL_VISIT,  # identical to a decision made above: answered with it
        examples.INVALID_LINE,
        examples.CONTRACTED_CHAT,
        dict(video_2, claimed_amount_sek="450.00"),  # the same contact again, changed: supersedes
        REFERRAL,  # identical: answered with its decision
    ]
    response = client.post("/v1/verdicts/batch", json={"contacts": batch}, headers=bearer(who))
    assert response.status_code == 200
    answers.append(response.data)
    return answers


def _placeholders(answers: list[bytes]) -> list[bytes]:
    """The answers with each decision_id and evaluated_at replaced by its order of appearance."""
    names: dict[bytes, bytes] = {}

    def name(match):
        return names.setdefault(match.group(0), b"<%d>" % len(names))

    return [EVALUATED_AT.sub(name, UUID.sub(name, answer)) for answer in answers]


def _rows(app, table, *where):
    with _storage(app).engine.connect() as conn:
        return conn.execute(select(table).where(*where)).all()


def test_a_shadow_leaves_every_answer_as_it_was_and_counts_what_it_would_change(app, client):
    candidate = _national_only(app)
    before = _counters(client)
    plain = _placeholders(_mix(client, "plain"))  # no shadow yet
    assert _counters(client) == before

    put = _put(client, candidate)
    assert put.status_code == 200
    assert put.json["digest"] == candidate
    assert (put.json["verdicts"], put.json["disagreements"], put.json["changed"]) == (0, 0, [])

    shadowed = _placeholders(_mix(client, "shadowed"))
    assert shadowed == plain  # byte for byte, ids and times aside (each client has its own chains)

    report = client.get("/v1/shadow", headers=bearer("admin")).json
    assert report == {
        "digest": candidate,
        "since": put.json["since"],
        # Made now: 4 single calls (one was a resubmission) and 3 batch lines (2 resubmissions, 1 bad).
        "verdicts": 7,
        "disagreements": 5,
        "changed": [
            {
                "from": "REFERRAL_MISSING",
                "to": "OUTPATIENT_FREE_CHOICE",
                "count": 1,
                "amount_sek": "+12500.00",
            },
            {"from": "DIGITAL_NOT_CONTRACTED", "to": "DIGITAL_TARIFF", "count": 4, "amount_sek": "+1750.00"},
        ],
    }
    assert _counters(client) == (before[0] + 7, before[1] + 5)

    made = _rows(app, decisions, decisions.c.client == "shadowed")
    assert len(made) == 7 and {row.shadow_version for row in made} == {candidate}
    assert {row.shadow_version for row in _rows(app, decisions, decisions.c.client == "plain")} == {None}
    disagreements = {row.decision_id: row for row in _rows(app, shadow_disagreements)}
    assert set(disagreements) <= {row.decision_id for row in made} and len(disagreements) == 5
    shadow = _storage(app).live.now().shadow
    for row in made:
        contact = orjson.loads(row.contact)
        contact.get("patient", {}).pop("age", None)  # stored as its age group; never decides
        would = rules.evaluate(contact, shadow)
        if (would.reason, would.amount_ore) == (row.reason, row.amount_ore):
            assert row.decision_id not in disagreements
            continue
        stored = disagreements[row.decision_id]
        assert (stored.shadow_version, stored.decision, stored.reason, stored.amount_ore) == (
            candidate,
            would.decision,
            would.reason,
            would.amount_ore,
        )
        answered = orjson.loads(row.verdict)
        assert orjson.loads(stored.verdict) == {
            "decision_id": row.decision_id,
            **orjson.loads(orjson.dumps(would.to_dict())),
            "evaluated_at": answered["evaluated_at"],
        }


def test_a_contact_the_shadow_would_refuse_is_a_disagreement_and_the_answer_stays(app, client):
    candidate = _national_from_2019_10(app)
    assert _put(client, candidate).status_code == 200
    early = dict(examples.PHYSICAL_VISIT, contact_id="SLL-2019-000001", contact_date="2019-05-01")
    response = client.post("/v1/verdicts", json=early, headers=bearer("shadowed"))
    assert response.status_code == 200 and response.json["amount_sek"] == "1850.00"
    [stored] = _rows(app, shadow_disagreements)
    assert (stored.decision, stored.reason, stored.amount_ore) == ("rejected", "INVALID_CONTACT", 0)
    assert "contact_date" in orjson.loads(stored.verdict)["errors"]
    changed = client.get("/v1/shadow", headers=bearer("admin")).json["changed"]
    assert changed == [
        {"from": response.json["reason"], "to": "INVALID_CONTACT", "count": 1, "amount_sek": "-1850.00"}
    ]


def test_ending_the_shadow_stops_counting_and_a_new_one_counts_from_its_start(app, client):
    candidate = _national_only(app)
    first = _put(client, candidate)
    client.post("/v1/verdicts", json=VIDEO, headers=bearer("shadowed"))
    assert client.get("/v1/shadow", headers=bearer("admin")).json["verdicts"] == 1

    ended = client.delete("/v1/shadow?note=Seen enough", headers=bearer("admin"))
    assert ended.status_code == 204 and ended.data == b""
    before = _counters(client)
    off = client.post("/v1/verdicts", json=dict(VIDEO, contact_id="after"), headers=bearer("shadowed"))
    assert _counters(client) == before
    [row] = _rows(app, decisions, decisions.c.decision_id == off.json["decision_id"])
    assert row.shadow_version is None
    assert len(_rows(app, shadow_disagreements)) == 1  # the one before stays
    for answer in (
        client.get("/v1/shadow", headers=bearer("admin")),
        client.delete("/v1/shadow", headers=bearer("admin")),
    ):
        assert answer.status_code == 404
        assert answer.json["detail"] == "No version runs in shadow."

    again = _put(client, candidate)
    assert again.json["since"] > first.json["since"]
    assert (again.json["verdicts"], again.json["disagreements"]) == (0, 0)  # the earlier run not counted


def test_put_and_end_are_audited_and_the_same_version_again_changes_nothing(app, client):
    first, second = _national_only(app), _national_from_2019_10(app)
    put = _put(client, first, note="Try the national rules alone")
    client.post("/v1/verdicts", json=VIDEO, headers=bearer("shadowed"))
    same = _put(client, first, note="again")
    assert same.json["since"] == put.json["since"] and same.json["verdicts"] == 1
    replaced = _put(client, second, note="Try a later start")
    assert replaced.json["digest"] == second and replaced.json["verdicts"] == 0
    client.delete("/v1/shadow", query_string={"note": "Done"}, headers=bearer("admin"))
    audit = client.get("/v1/policy-versions/audit", headers=bearer("admin")).json["items"]
    shadow_rows = [
        (e["actor"], e["action"], e["digest"], e["previous"], e["note"])
        for e in audit
        if e["action"] in ("shadow", "unshadow")
    ]
    assert shadow_rows == [
        ("admin", "shadow", first, None, "Try the national rules alone"),
        ("admin", "shadow", second, first, "Try a later start"),
        ("admin", "unshadow", second, None, "Done"),
    ]


def test_what_cannot_be_shadowed(app, client):
    active = _storage(app).versions.state().active
    in_force = _put(client, active)
    assert in_force.status_code == 409 and in_force.mimetype == "application/problem+json"
    assert _put(client, "0" * 64).status_code == 404
    broken = _store(app, {"national.yaml": "layer: national\n"})
    fails = _put(client, broken)
    assert fails.status_code == 422 and "digest" in fails.json["errors"]
    for body, field in (
        ({"digest": "not-a-digest", "note": "x"}, "digest"),
        ({"digest": active + "\n", "note": "x"}, "digest"),  # malformed: not an unknown version (404)
        ({"digest": 5, "note": "x"}, "digest"),
        ({"digest": active}, "note"),
        ({"digest": active, "note": "x", "extra": 1}, "extra"),
    ):
        refused = client.put("/v1/shadow", json=body, headers=bearer("admin"))
        assert refused.status_code == 422 and field in refused.json["errors"]
    assert _storage(app).versions.state().shadow is None
    assert client.get("/v1/shadow", headers=bearer("admin")).status_code == 404


def test_shadow_needs_the_policy_admin_scope(app, client):
    candidate = _national_only(app)
    for call in (
        lambda headers: client.put("/v1/shadow", json={"digest": candidate, "note": "x"}, headers=headers),
        lambda headers: client.get("/v1/shadow", headers=headers),
        lambda headers: client.delete("/v1/shadow", headers=headers),
    ):
        assert call({}).status_code == 401
        assert call(bearer("plain")).status_code == 403
    assert _storage(app).versions.state().shadow is None


def test_another_worker_on_the_same_database_shadows_within_a_second(make_app):
    one, other = make_app(API_KEYS=api_keys(KEYS)), make_app(API_KEYS=api_keys(KEYS))
    first, second = one.test_client(), other.test_client()
    assert second.post("/v1/verdicts", json=VIDEO, headers=bearer("shadowed")).status_code == 200  # before
    candidate = _national_only(one)
    assert _put(first, candidate).status_code == 200
    ids = (f"next-{n}" for n in itertools.count())

    def shadow_of_a_new_decision():
        decided = second.post(
            "/v1/verdicts", json=dict(VIDEO, contact_id=next(ids)), headers=bearer("shadowed")
        )
        [row] = _rows(other, decisions, decisions.c.decision_id == decided.json["decision_id"])
        return row.shadow_version

    # The other worker: within a second (polled; RECHECK_SECONDS in live_policy.py).
    eventually(shadow_of_a_new_decision, lambda shadow: shadow == candidate)
    assert second.get("/v1/shadow", headers=bearer("admin")).json["disagreements"] == 1

    assert first.delete("/v1/shadow", headers=bearer("admin")).status_code == 204
    eventually(shadow_of_a_new_decision, lambda shadow: shadow is None)


def test_the_swagger_examples_work_once_their_candidate_is_stored(app, client):
    """Swagger UI's PUT example names the candidate of POST /v1/policy-versions' overlay example
    (Norrbotten's stop advisory): once that example is sent, it shadows, and the example contact is
    one of the disagreements the GET example shows."""
    example = examples.shadow_request_example()
    assert client.put("/v1/shadow", json=example, headers=bearer("admin")).status_code == 404
    proposed = client.post("/v1/policy-versions", json=examples.CANDIDATE_OVERLAY, headers=bearer("admin"))
    assert proposed.status_code == 201 and proposed.json["digest"] == example["digest"]
    assert client.put("/v1/shadow", json=example, headers=bearer("admin")).status_code == 200
    client.post("/v1/verdicts", json=VIDEO, headers=bearer("shadowed"))
    report = client.get("/v1/shadow", headers=bearer("admin")).json
    [change] = examples.shadow_example()["changed"]
    assert report["changed"] == [dict(change, count=1, amount_sek="+500.00")]


def test_a_shadow_the_engine_cannot_load_never_fails_a_live_request(app, client, caplog):
    """PUT refuses such a version; a later release of the engine may no longer load one in shadow."""
    broken = _store(app, {"national.yaml": "layer: national\n"})
    with _storage(app).engine.begin() as conn:
        conn.execute(
            update(policy_state).values(
                shadow=broken, shadow_since=datetime.now(UTC), changed=policy_state.c.changed + 1
            )
        )
    response = client.post("/v1/verdicts", json=VIDEO, headers=bearer("shadowed"))
    assert response.status_code == 200
    [row] = _rows(app, decisions, decisions.c.decision_id == response.json["decision_id"])
    assert row.shadow_version is None
    assert f"the version in shadow, {broken[:12]}, cannot be loaded" in caplog.text
    ready = client.get("/ready")  # the operator sees it where a release's problems are looked for
    assert ready.status_code == 200
    assert ready.json["checks"]["shadow"] == (
        f"warning: the version in shadow, {broken[:12]}, cannot be loaded by this release: decisions are "
        "made without it (DELETE /v1/shadow ends it)"
    )
    assert client.delete("/v1/shadow", headers=bearer("admin")).status_code == 204
    assert client.get("/ready").json["checks"]["shadow"] == "ok"


def test_activating_the_version_in_shadow_ends_the_shadow(app, client):
    """Decided twice under one policy, a shadow of the version in force could never disagree."""
    candidate = _store(app, advisory_files())
    assert _put(client, candidate).status_code == 200
    activated = client.post(
        f"/v1/policy-versions/{candidate}/activate", json={"note": "RS 2026-12-01"}, headers=bearer("admin")
    )
    assert activated.status_code == 200
    assert client.get("/v1/shadow", headers=bearer("admin")).status_code == 404
    audit = client.get("/v1/policy-versions/audit", headers=bearer("admin")).json["items"]
    assert [(e["action"], e["digest"], e["note"]) for e in audit[-2:]] == [
        ("unshadow", candidate, "activated: RS 2026-12-01"),
        ("activate", candidate, "RS 2026-12-01"),
    ]
