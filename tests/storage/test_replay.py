"""Issue 17 item 6: POST /v1/decisions/{id}/replay and `python -m rules replay` decide a stored
decision again under the policy version and contract book it was decided with. Decisions made
across two activations and a contract change all replay identical; the API reads and records a
replay as GET by id does. SQLite and PostgreSQL."""

import json

import pytest
from sqlalchemy import update

from api.storage.tables import decisions
from rules.__main__ import main as rules_main
from rules.loader import POLICY_DIR, read_policy_files
from rules.policy_version import version_files

from .helpers import api_keys, contact

KEYS = {
    "national": ("s3cret-national", "*", "verdicts,decisions:read"),
    "admin": ("s3cret-admin", "*", "policy:admin,contracts:admin"),
    "norrbotten": ("s3cret-norrbotten", "25", "verdicts,decisions:read"),
    "stockholm": ("s3cret-stockholm", "01", "decisions:read"),
    "auditor": ("s3cret-auditor", "*", "audit:read"),
}
SAMPLE = "contract-25-sample1"  # rules/policy/contracts/sample.yaml: Norrbotten's fictitious contract


def bearer(name):
    return {"Authorization": f"Bearer {KEYS[name][0]}"}


def uncontracted(contact_id):
    """Norrbotten video with a provider it has no contract with: the digital stop decides."""
    return contact(contact_id)


def contracted(contact_id):
    return contact(contact_id, provider_id="SE2321000230-SAMPLE1", mode="chat")


def physical(contact_id):
    """A free-choice visit, its amount a JSON number (stored as the number it is)."""
    return contact(contact_id, mode="physical", care_region="01", claimed_amount_sek=1850.5)


def decide(client, key, *lines) -> list[dict]:
    """One line alone through POST /v1/verdicts, several as a batch: the verdicts answered."""
    if len(lines) == 1:
        answer = client.post("/v1/verdicts", json=lines[0], headers=bearer(key))
        assert answer.status_code == 200, answer.json
        return [answer.json]
    answer = client.post("/v1/verdicts/batch", json={"contacts": list(lines)}, headers=bearer(key))
    assert answer.status_code == 200, answer.json
    assert answer.json["rejected"] == []
    return answer.json["verdicts"]


def advisory_version(app) -> str:
    """The on-disk policy with Norrbotten's digital stop advisory, stored as a candidate: its digest."""
    files = read_policy_files(POLICY_DIR)
    name = "regions/25-norrbotten.yaml"
    assert files[name].count("value: enforce") == 1
    files[name] = files[name].replace("value: enforce", "value: advisory")
    storage = app.extensions["utomlans.storage"]
    version, added = storage.versions.add(version_files(files), actor="test", note="advisory stop")
    assert added
    return version["digest"]


def every_decision(client) -> list[dict]:
    items, cursor = [], None
    while True:
        query = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/decisions", query_string=query, headers=bearer("national"))
        assert page.status_code == 200, page.json
        items += page.json["items"]
        cursor = page.json["next_cursor"]
        if cursor is None:
            return items


def replayed(client, decision_id, key="national"):
    return client.post(f"/v1/decisions/{decision_id}/replay", headers=bearer(key))


@pytest.fixture
def history(make_app):
    """Decisions made under the on-disk version, then under an advisory version (activated through
    the API), then after a contract change, then after rolling back to the first version (a second
    activation): (app, client, {step: verdicts})."""
    app = make_app(API_KEYS=api_keys(KEYS))
    client = app.test_client()
    steps = {}
    steps["first"] = decide(client, "national", uncontracted("u-1"))
    steps["first"] += decide(client, "norrbotten", uncontracted("u-2"), contracted("c-1"), physical("p-1"))

    advisory = advisory_version(app)
    activated = client.post(
        f"/v1/policy-versions/{advisory}/activate", json={"note": "stop advisory"}, headers=bearer("admin")
    )
    assert activated.status_code == 200, activated.json
    # u-1 sent again, corrected (the same content would be answered with its stored decision).
    steps["advisory"] = decide(client, "national", dict(uncontracted("u-1"), claimed_amount_sek="510.00"))
    steps["advisory"] += decide(client, "norrbotten", uncontracted("u-3"), contracted("c-2"))

    sample = client.get(f"/v1/contracts/{SAMPLE}", headers=bearer("admin")).json
    body = {key: sample[key] for key in ("home_region", "provider_id", "valid_from", "valid_to", "source")}
    body.update(fictitious=True, tariff_sek={"physician": "300.00", "nurse": "250.00"})
    changed = client.put(f"/v1/contracts/{SAMPLE}", json=body, headers=bearer("admin"))
    assert changed.status_code == 200, changed.json
    steps["contract"] = decide(client, "norrbotten", contracted("c-3"), uncontracted("u-4"))
    steps["contract"] += decide(client, "national", dict(contracted("c-1"), claimed_amount_sek="520.00"))

    first_version = steps["first"][0]["policy"]["version"]  # rolled back to: the second activation
    activated = client.post(
        f"/v1/policy-versions/{first_version}/activate", json={"note": "roll back"}, headers=bearer("admin")
    )
    assert activated.status_code == 200, activated.json
    steps["rollback"] = decide(client, "norrbotten", uncontracted("u-5"), physical("p-2"))
    return app, client, steps


def test_every_decision_across_activations_and_a_contract_change_replays_identical(history):
    app, client, steps = history
    first, advisory, contract = steps["first"], steps["advisory"], steps["contract"]
    # The history has teeth: the activation and the contract change each changed verdicts.
    assert (first[0]["decision"], first[0]["reason"]) == ("no_pay", "DIGITAL_NOT_CONTRACTED")
    assert (advisory[0]["decision"], advisory[0]["reason"]) == ("pay", "DIGITAL_TARIFF")
    assert "DIGITAL_STOP_ADVISORY" in advisory[0]["flags"]
    assert first[0]["policy"]["version"] != advisory[0]["policy"]["version"]
    contracted_before = next(v for v in advisory if v["contact_id"] == "c-2")
    contracted_after = next(v for v in contract if v["contact_id"] == "c-3")
    assert contracted_before["amount_sek"] == "450.00"
    assert contracted_after["amount_sek"] == "300.00"
    rolled_back = steps["rollback"][0]
    assert (rolled_back["decision"], rolled_back["policy"]["version"]) == (
        "no_pay",
        first[0]["policy"]["version"],
    )

    stored = every_decision(client)
    assert len(stored) == 12
    assert len({d["policy"]["contract_book"] for d in stored}) == 2
    for decision in stored:
        answer = replayed(client, decision["decision_id"])
        assert answer.status_code == 200, answer.json
        result = answer.json
        assert result["differences"] == [], decision["contact_id"]
        assert result["identical"] is True
        assert result["original"] == decision["verdict"]
        assert result["replayed"]["decision"] == decision["decision"]
        assert result["replayed"]["policy"] == decision["verdict"]["policy"]
        assert "decision_id" not in result["replayed"]


def test_a_decision_of_a_retired_version_replays_under_it_not_the_one_in_force(history):
    app, client, steps = history
    under_advisory = steps["advisory"][0]  # u-1 corrected: paid under the advisory stop
    state = app.extensions["utomlans.storage"].versions.state()
    assert under_advisory["policy"]["version"] != state.active  # retired by the rollback
    result = replayed(client, under_advisory["decision_id"]).json
    assert result["identical"] is True
    again = result["replayed"]
    assert (again["decision"], again["reason"]) == ("pay", "DIGITAL_TARIFF")
    assert again["policy"]["version"] == under_advisory["policy"]["version"]
    # Decided now, the same contact is refused: the stop is enforced again.
    now = client.post("/v1/verdicts", json=uncontracted("u-new"), headers=bearer("national")).json
    assert (now["decision"], now["policy"]["version"]) == ("no_pay", state.active)


def test_a_changed_stored_verdict_replays_with_its_differences(history):
    """The comparison can fail: a stored verdict altered behind the service's back is caught."""
    app, client, steps = history
    decision = steps["contract"][0]  # c-3, paid 300.00 under the changed contract
    altered = dict(decision, amount_sek="900.00", flags=[*decision["flags"], "SOMETHING"])
    storage = app.extensions["utomlans.storage"]
    with storage.engine.begin() as conn:
        conn.execute(
            update(decisions)
            .where(decisions.c.decision_id == decision["decision_id"])
            .values(verdict=json.dumps(altered))
        )
    result = replayed(client, decision["decision_id"]).json
    assert result["identical"] is False
    assert result["original"]["amount_sek"] == "900.00"
    assert result["replayed"]["amount_sek"] == "300.00"
    assert result["differences"] == [
        {"path": "amount_sek", "original": "900.00", "replayed": "300.00"},
        {"path": f"flags[{len(decision['flags'])}]", "original": "SOMETHING"},
    ]


def test_replay_is_read_and_recorded_as_get_by_id(history):
    app, client, steps = history
    norrbotten = steps["first"][1]  # u-2: home region 25, care region 06
    assert replayed(client, norrbotten["decision_id"], "norrbotten").status_code == 200
    refused = replayed(client, norrbotten["decision_id"], "stockholm")
    assert refused.status_code == 404
    assert refused.content_type == "application/problem+json"
    read = client.get(f"/v1/decisions/{norrbotten['decision_id']}", headers=bearer("stockholm"))
    assert read.status_code == 404  # as GET by id
    unknown = "00000000-0000-7000-8000-000000000000"
    assert replayed(client, unknown).status_code == 404
    assert client.post(f"/v1/decisions/{norrbotten['decision_id']}/replay").status_code == 401
    assert replayed(client, norrbotten["decision_id"], "admin").status_code == 403  # no decisions:read

    log = client.get("/v1/access-log", headers=bearer("auditor")).json["items"]
    replays = [
        (entry["client"], entry["method"], entry["path"], entry["decision_ids"])
        for entry in log
        if entry["path"].endswith("/replay")
    ]
    path = f"/v1/decisions/{norrbotten['decision_id']}/replay"
    assert replays == [
        ("norrbotten", "POST", path, [norrbotten["decision_id"]]),
        ("stockholm", "POST", path, []),
        ("national", "POST", f"/v1/decisions/{unknown}/replay", []),
    ]


def test_a_decision_stored_before_versions_were_kept_is_a_409(history):
    app, client, steps = history
    decision = steps["first"][0]
    with app.extensions["utomlans.storage"].engine.begin() as conn:
        conn.execute(
            update(decisions)
            .where(decisions.c.decision_id == decision["decision_id"])
            .values(policy_version=None, contract_book=None)
        )
    stored = client.get(f"/v1/decisions/{decision['decision_id']}", headers=bearer("national")).json
    assert stored["policy"]["version"] is None and stored["policy"]["contract_book"] is None
    answer = replayed(client, decision["decision_id"])
    assert answer.status_code == 409
    assert answer.content_type == "application/problem+json"
    assert "migration 0009" in answer.json["detail"]


def run_cli(capsys, *argv) -> tuple[int, list[dict], str]:
    code = rules_main(["replay", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err


def test_the_command_line_replays_an_export_from_the_database(history, app_db_url, tmp_path, capsys):
    app, client, steps = history
    stored = every_decision(client)
    export = tmp_path / "decisions.jsonl"
    export.write_text("".join(json.dumps(d) + "\n" for d in stored))

    code, lines, err = run_cli(capsys, export, "--database", app_db_url)
    assert code == 0, err
    assert lines == [
        {"line": n, "decision_id": d["decision_id"], "identical": True} for n, d in enumerate(stored, 1)
    ]
    assert "12 decisions: 12 identical, 0 differ, 0 not replayed" in err

    # One decision altered in the file, one that names no version (stored before 0009).
    altered = [dict(d) for d in stored]
    altered[2] = dict(altered[2], verdict=dict(altered[2]["verdict"], reason="SOMETHING_ELSE"))
    altered[4] = dict(altered[4], policy=dict(altered[4]["policy"], version=None, contract_book=None))
    export.write_text("".join(json.dumps(d) + "\n" for d in altered))
    code, lines, err = run_cli(capsys, export, "--database", app_db_url)
    assert code == 1
    assert lines[2] == {
        "line": 3,
        "decision_id": stored[2]["decision_id"],
        "identical": False,
        "differences": [{"path": "reason", "original": "SOMETHING_ELSE", "replayed": stored[2]["reason"]}],
    }
    assert lines[4]["decision_id"] == stored[4]["decision_id"] and "migration 0009" in lines[4]["error"]
    assert "12 decisions: 10 identical, 1 differ, 1 not replayed" in err

    # Only the one that cannot be replayed: exit 2.
    export.write_text(json.dumps(altered[4]) + "\n")
    assert run_cli(capsys, export, "--database", app_db_url)[0] == 2


def test_an_edited_export_line_is_not_replayed_and_the_others_are(history, app_db_url, tmp_path, capsys):
    """A digest edited into a number or a list is that line's error: the command went on to the
    database with it (PostgreSQL refused the comparison) or stopped with a traceback."""
    app, client, steps = history
    stored = every_decision(client)[:3]
    edited = [
        dict(stored[0], policy=dict(stored[0]["policy"], version=5)),
        dict(stored[1], policy=dict(stored[1]["policy"], contract_book=["x"])),
        stored[2],
    ]
    export = tmp_path / "decisions.jsonl"
    export.write_text("".join(json.dumps(d) + "\n" for d in edited))
    code, lines, err = run_cli(capsys, export, "--database", app_db_url)
    assert code == 2, err
    assert ["not digests" in line.get("error", "") for line in lines] == [True, True, False]
    assert lines[2] == {"line": 3, "decision_id": stored[2]["decision_id"], "identical": True}
