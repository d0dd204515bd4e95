"""Issue 17 items 1 and 5: the policies the service decides with are stored by digest; the database
says which one is in force; activation (API or command) applies within a second on every worker
(from its next request in the worker that made it), is audited, and rolls back by activating an
earlier version. SQLite and PostgreSQL."""

import itertools
import logging
import threading

import pytest

import rules
from api.storage import Storage
from api.storage.__main__ import main as storage_command
from rules.policy_version import version_digest

from .helpers import advisory_files, api_keys, contact, eventually

KEYS = {
    "policy-admin": ("s3cret-policy", "*", "policy:admin"),
    "billing": ("s3cret-billing", "*", "verdicts,decisions:read"),
}
API_KEYS = api_keys(KEYS)
ON_DISK = rules.default_policy().version


def bearer(name):
    return {"Authorization": f"Bearer {KEYS[name][0]}"}


def decide(client, contact_id="v-1"):
    answer = client.post("/v1/verdicts", json=contact(contact_id), headers=bearer("billing"))
    assert answer.status_code == 200, answer.json
    return answer.json


def activate(client, digest, note="Regionstyrelsen 2026-11-28 § 12"):
    return client.post(
        f"/v1/policy-versions/{digest}/activate", json={"note": note}, headers=bearer("policy-admin")
    )


@pytest.fixture
def two_workers(make_app):
    """Two apps on one database: two workers (or instances) of one service."""
    return make_app(API_KEYS=API_KEYS), make_app(API_KEYS=API_KEYS)


def test_the_on_disk_policy_is_stored_and_in_force_on_an_empty_database(make_app):
    client = make_app(API_KEYS=API_KEYS).test_client()
    listed = client.get("/v1/policy-versions", headers=bearer("policy-admin")).json
    assert listed["active"] == ON_DISK
    assert [(v["digest"], v["status"], v["added_by"]) for v in listed["items"]] == [
        (ON_DISK, "active", "start")
    ]
    assert decide(client)["policy"]["version"] == ON_DISK
    version = client.get(f"/v1/policy-versions/{ON_DISK}", headers=bearer("policy-admin")).json
    assert version["files"] == dict(rules.default_policy().files)
    assert version_digest(version["files"]) == ON_DISK
    assert version["check"]["ok"] is True
    active = client.get(
        "/v1/policy-versions/active", headers=bearer("policy-admin")
    ).json  # Swagger's example
    assert active["digest"] == ON_DISK
    assert {"layer": "regional", "home_region": "25", "id": "region-25-2022-01-01"}.items() <= next(
        layer for layer in version["layers"] if layer["id"] == "region-25-2022-01-01"
    ).items()
    audit = client.get("/v1/policy-versions/audit", headers=bearer("policy-admin")).json["items"]
    assert [(e["action"], e["actor"], e["digest"], e["previous"]) for e in audit] == [
        ("add", "start", ON_DISK, None),
        ("activate", "start", ON_DISK, None),
    ]


def test_an_activation_applies_on_every_worker_within_a_second_and_rolls_back(two_workers):
    one, other = (app.test_client() for app in two_workers)
    storage = two_workers[0].extensions["utomlans.storage"]
    advisory, created = storage.versions.add(advisory_files(), actor="test", note="advisory stop")
    assert created and advisory["status"] == "candidate"
    assert decide(other, "before")["reason"] == "DIGITAL_NOT_CONTRACTED"

    answer = activate(one, advisory["digest"])
    assert answer.status_code == 200, answer.json
    assert (answer.json["actor"], answer.json["previous"]) == ("policy-admin", ON_DISK)
    ids = (f"after-{n}" for n in itertools.count())
    # The other worker: within a second (polled; RECHECK_SECONDS in live_policy.py).
    after = eventually(
        lambda: decide(other, next(ids)), lambda v: v["policy"]["version"] == advisory["digest"]
    )
    assert after["decision"] == "pay"
    assert "DIGITAL_STOP_ADVISORY" in after["flags"]
    statuses = {v["digest"]: v["status"] for v in storage.versions.all()}
    assert statuses == {ON_DISK: "retired", advisory["digest"]: "active"}

    assert activate(other, ON_DISK, note="rollback").status_code == 200
    assert decide(other, "rolled-back")["policy"]["version"] == ON_DISK  # the worker that activated
    eventually(lambda: decide(one, next(ids)), lambda v: v["policy"]["version"] == ON_DISK)
    audit = other.get("/v1/policy-versions/audit", headers=bearer("policy-admin")).json["items"]
    assert [(e["action"], e["digest"], e["previous"], e["note"]) for e in audit[-2:]] == [
        ("activate", advisory["digest"], ON_DISK, "Regionstyrelsen 2026-11-28 § 12"),
        ("activate", ON_DISK, advisory["digest"], "rollback"),
    ]


def test_a_deployment_with_new_policy_files_does_not_change_the_version_in_force(make_app, tmp_path):
    """A new deployment's files are stored as a candidate; the database's version stays in force
    until someone activates it (or the deployment asks: UTOMLANS_ACTIVATE_POLICY_ON_START)."""
    make_app(API_KEYS=API_KEYS)
    directory = _policy_dir(tmp_path, advisory_files())
    deployed = make_app(API_KEYS=API_KEYS, POLICY_DIR=str(directory))
    client = deployed.test_client()
    assert decide(client)["policy"]["version"] == ON_DISK
    new = version_digest(advisory_files())
    assert {v["digest"]: v["status"] for v in deployed.extensions["utomlans.storage"].versions.all()} == {
        ON_DISK: "active",
        new: "candidate",
    }
    make_app(API_KEYS=API_KEYS, POLICY_DIR=str(directory), ACTIVATE_POLICY_ON_START=True)
    ids = (f"v-{n}" for n in itertools.count(2))
    eventually(lambda: decide(client, next(ids)), lambda v: v["policy"]["version"] == new)


def test_a_start_says_whether_the_files_on_disk_wait_as_a_candidate_or_were_retired(make_app, caplog):
    app = make_app(API_KEYS=API_KEYS)
    storage = app.extensions["utomlans.storage"]
    advisory, _ = storage.versions.add(advisory_files(), actor="test", note="advisory stop")
    storage.versions.activate(advisory["digest"], actor="test", note="advisory from today")
    with caplog.at_level(logging.WARNING, logger="api.storage"):
        make_app(API_KEYS=API_KEYS)  # a worker of the release whose files were in force before
    (warning,) = [r.getMessage() for r in caplog.records if "files on disk" in r.getMessage()]
    assert f"version {ON_DISK[:12]} (retired); version {advisory['digest'][:12]} stays in force" in warning


def test_a_start_with_nothing_to_change_leaves_the_policy_state_as_it_was(make_app):
    """Every worker of every instance prepares the storage when it starts; only a change of the
    version in force may make the others rebuild their policy."""
    storage = make_app(API_KEYS=API_KEYS).extensions["utomlans.storage"]
    before = storage.versions.state()
    make_app(API_KEYS=API_KEYS)
    make_app(API_KEYS=API_KEYS, ACTIVATE_POLICY_ON_START=True)  # in force already
    assert storage.versions.state() == before


def test_the_activate_command_puts_the_on_disk_files_or_a_stored_version_in_force(
    app_db_url, tmp_path, monkeypatch, capsys
):
    Storage.open(app_db_url).close()
    monkeypatch.setenv("UTOMLANS_POLICY_DIR", str(_policy_dir(tmp_path, advisory_files())))
    argv = ["activate", "on-disk", "--actor", "ops-anna", "--note", "release 2026.12", "--url", app_db_url]
    assert storage_command(argv) == 0
    assert (
        storage_command(["activate", ON_DISK, "--actor", "ops-anna", "--note", "back", "--url", app_db_url])
        == 0
    )
    assert storage_command(["activate", "0" * 64, "--actor", "a", "--note", "n", "--url", app_db_url]) == 1
    assert "no policy version" in capsys.readouterr().err
    storage = Storage.open(app_db_url, prepare=False)
    try:
        audit = [(e["actor"], e["action"], e["digest"]) for e in storage.versions.audit()]
        new = version_digest(advisory_files())
        assert audit[-3:] == [
            ("ops-anna", "add", new),
            ("ops-anna", "activate", new),
            ("ops-anna", "activate", ON_DISK),
        ]
        assert storage.versions.state().active == ON_DISK
    finally:
        storage.close()


@pytest.mark.parametrize(
    ("option", "value", "words"),
    [
        ("--actor", "o" * 65, "at most 64"),  # PostgreSQL refused it with a traceback
        ("--note", "Ärende för 19121212-1212", "Identity numbers"),
        ("--note", "release\n2026.12", "control characters"),
    ],
)
def test_the_activate_command_holds_its_actor_and_note_to_the_apis_rules(
    app_db_url, capsys, option, value, words
):
    Storage.open(app_db_url).close()
    argv = {"--actor": "ops-anna", "--note": "release 2026.12", option: value}
    with pytest.raises(SystemExit) as exited:
        storage_command(
            ["activate", ON_DISK, *(x for pair in argv.items() for x in pair), "--url", app_db_url]
        )
    assert exited.value.code == 2 and words in capsys.readouterr().err
    storage = Storage.open(app_db_url, prepare=False)
    try:
        assert [e["actor"] for e in storage.versions.audit()] == ["start", "start"]  # nothing stored
    finally:
        storage.close()


def test_a_release_that_cannot_load_the_version_in_force_does_not_start(make_app, app_db_url, capsys):
    """A version in force that today's engine refuses (stored under an engine with fewer checks)
    stops the start, as broken files on disk do, instead of answering 500 to every request; the
    command line puts another version in force, and the release starts."""
    storage = make_app(API_KEYS=API_KEYS).extensions["utomlans.storage"]
    broken = advisory_files()
    broken["national.yaml"] = broken["national.yaml"].replace("layer: national", "layer: nationa1")
    digest = storage.versions.add(broken, actor="test", note="an older engine's")[0]["digest"]
    storage.versions.activate(digest, actor="test", note="stored before today's checks")
    with pytest.raises(rules.PolicyError, match=f"version {digest}, in force in the database"):
        make_app(API_KEYS=API_KEYS)
    argv = ["activate", ON_DISK, "--actor", "ops-anna", "--note", "back", "--url", app_db_url]
    assert storage_command(argv) == 0
    assert decide(make_app(API_KEYS=API_KEYS).test_client())["policy"]["version"] == ON_DISK


def test_a_stored_version_this_engine_cannot_load_is_not_activated(make_app):
    app = make_app(API_KEYS=API_KEYS)
    broken = advisory_files()
    broken["national.yaml"] = broken["national.yaml"].replace("layer: national", "layer: nationa1")
    stored, _ = app.extensions["utomlans.storage"].versions.add(broken, actor="test", note="broken")
    client = app.test_client()
    answer = activate(client, stored["digest"])
    assert answer.status_code == 422 and "layer" in answer.json["errors"]["digest"][0]
    shown = client.get(f"/v1/policy-versions/{stored['digest']}", headers=bearer("policy-admin")).json
    assert shown["check"]["ok"] is False and shown["layers"] == []
    assert decide(client)["policy"]["version"] == ON_DISK


@pytest.mark.parametrize("digest", ["0" * 64, "not-a-digest", "%00"])
def test_an_unknown_version_is_a_404(make_app, digest):
    client = make_app(API_KEYS=API_KEYS).test_client()
    assert client.get(f"/v1/policy-versions/{digest}", headers=bearer("policy-admin")).status_code == 404
    assert activate(client, digest).status_code == 404


def test_activation_needs_a_note_and_the_policy_admin_scope(make_app):
    client = make_app(API_KEYS=API_KEYS).test_client()
    missing = client.post(f"/v1/policy-versions/{ON_DISK}/activate", json={}, headers=bearer("policy-admin"))
    assert missing.status_code == 422 and "note" in missing.json["errors"]
    refused = client.post(
        f"/v1/policy-versions/{ON_DISK}/activate", json={"note": "x"}, headers=bearer("billing")
    )
    assert refused.status_code == 403 and "policy:admin" in refused.json["detail"]
    assert client.get("/v1/policy-versions", headers=bearer("billing")).status_code == 403


def test_activating_the_version_in_force_changes_nothing_and_answers_with_its_activation(make_app):
    """Swagger UI's example activates `active`, the version in force: it stays in force, nothing is
    audited (an entry whose `previous` is itself would only say nothing happened), and the answer is
    the entry that put it in force. Rolling back to it later is audited as ever."""
    app = make_app(API_KEYS=API_KEYS)
    client = app.test_client()
    audit = "/v1/policy-versions/audit"
    versions = app.extensions["utomlans.storage"].versions
    digest = versions.add(advisory_files(), actor="test", note="t")[0]["digest"]
    put_in_force = activate(client, digest)
    assert put_in_force.status_code == 200 and put_in_force.json["previous"] == ON_DISK
    before = client.get(audit, headers=bearer("policy-admin")).json["items"]

    for again in (digest, "active"):
        answer = activate(client, again, note="once more")
        assert answer.status_code == 200
        assert answer.json == put_in_force.json
    assert client.get(audit, headers=bearer("policy-admin")).json["items"] == before
    assert decide(client)["policy"]["version"] == digest

    back = activate(client, ON_DISK, note="roll back")
    assert (back.json["digest"], back.json["previous"]) == (ON_DISK, digest)


def _policy_dir(tmp_path, files):
    directory = tmp_path / "policy"
    for name, text in files.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(text, encoding="utf-8")
    return directory


def _at_once(count: int, work) -> list:
    """Run work(i) in `count` threads released together; the results (or exceptions) by i."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(i):
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # the test says which
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_workers_starting_at_once_on_an_empty_database_register_and_activate_once(db_url):
    """gunicorn's master migrates the database (a new SQLite file is made in WAL mode then), then
    starts every worker at once, each preparing the storage: the on-disk version is added once and
    put in force once, by whichever came first."""
    assert storage_command(["upgrade", "--url", db_url]) == 0
    opened = _at_once(4, lambda _: Storage.open(db_url))
    try:
        assert not [result for result in opened if isinstance(result, Exception)], opened
        storage = opened[0]
        assert [(e["action"], e["actor"], e["digest"]) for e in storage.versions.audit()] == [
            ("add", "start", ON_DISK),
            ("activate", "start", ON_DISK),
        ]
        assert storage.versions.state().active == ON_DISK
    finally:
        for storage in opened:
            if isinstance(storage, Storage):
                storage.close()


def test_activations_at_once_leave_one_version_in_force_and_an_unbroken_audit(app_db_url):
    """Each activation reads the version in force under the state row's lock: whatever the order,
    one version is active, every other retired, and each audit entry's `previous` is the version the
    one before put in force."""
    storage = Storage.open(app_db_url)
    try:
        digests = []
        for months in (3, 4, 5, 7):
            files = dict(rules.default_policy().files)
            files["national.yaml"] = files["national.yaml"].replace("value: 6", f"value: {months}")
            digests.append(storage.versions.add(files, actor="test", note=f"{months} months")[0]["digest"])
        results = _at_once(
            len(digests), lambda i: storage.versions.activate(digests[i], actor=f"admin-{i}", note="at once")
        )
        assert not [result for result in results if isinstance(result, Exception)], results
        chain = [(e["previous"], e["digest"]) for e in storage.versions.audit() if e["action"] == "activate"]
        chain = chain[1:]  # the start's
        assert sorted(digest for _, digest in chain) == sorted(digests)
        assert [previous for previous, _ in chain] == [ON_DISK] + [digest for _, digest in chain[:-1]]
        statuses = {v["digest"]: v["status"] for v in storage.versions.all()}
        assert statuses == {
            **{digest: "retired" for digest in [ON_DISK, *digests]},
            chain[-1][1]: "active",
        }
        assert storage.versions.state().active == chain[-1][1]
    finally:
        storage.close()


def test_simulations_and_readjudication_lay_their_scenarios_on_the_version_in_force(make_app):
    """`in_force` in a simulation is the version the database has in force, not the files on disk."""
    app = make_app(API_KEYS=API_KEYS)
    client = app.test_client()
    stored = decide(client, "stored-before")  # decided under the on-disk version: no_pay
    advisory, _ = app.extensions["utomlans.storage"].versions.add(advisory_files(), actor="test", note="t")
    assert activate(client, advisory["digest"]).status_code == 200

    body = {"contacts": [contact("simulated")], "scenarios": ["in_force", "national_only"]}
    simulated = client.post("/v1/simulations", json=body, headers=bearer("billing"))
    assert simulated.status_code == 200, simulated.json
    paid = {scenario["name"]: scenario["paid"] for scenario in simulated.json["scenarios"]}
    assert paid == {"in_force": 1, "national_only": 1}  # the advisory stop pays, as no stop does

    readjudicated = client.post(
        "/v1/simulations/readjudication", json={"scenario": "in_force"}, headers=bearer("billing")
    )
    assert readjudicated.status_code == 200, readjudicated.json
    [item] = readjudicated.json["changed"]["items"]
    assert (item["decision_id"], item["after"]["decision"]) == (stored["decision_id"], "pay")


def test_a_change_that_changes_nothing_makes_no_worker_rebuild_its_policy(make_app):
    """Every worker rebuilds its policy when the state's counter moves: only a real change moves it."""
    app = make_app(API_KEYS=API_KEYS)
    versions = app.extensions["utomlans.storage"].versions
    advisory, _ = versions.add(advisory_files(), actor="test", note="t")
    before = versions.state().changed
    versions.unshadow(actor="test", note="no shadow runs")
    make_app(API_KEYS=API_KEYS)  # another worker starts
    assert versions.state().changed == before
    versions.shadow(advisory["digest"], actor="test", note="shadow")
    shadowed = versions.state().changed
    assert shadowed > before
    versions.shadow(advisory["digest"], actor="test", note="the same again")
    assert versions.state().changed == shadowed
