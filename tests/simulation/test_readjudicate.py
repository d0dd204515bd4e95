"""Re-adjudication of stored decisions under a candidate policy."""

import json

import rules
from rules.__main__ import main
from rules.simulation.generator import GeneratorSpec, generate
from rules.simulation.readjudicate import readjudicate
from rules.simulation.scenarios import build_policy
from rules.vocabulary import age_group


def _stored_records(contacts, policy):
    """Records as the decision log keeps them: the contact with age as its group, the verdict."""
    records = []
    for data in contacts:
        verdict = rules.evaluate(data, policy).to_dict()
        stored = json.loads(json.dumps(data))
        if "age" in stored["patient"]:
            stored["patient"]["age"] = age_group(stored["patient"]["age"])
        records.append({"decision_id": f"d-{data['contact_id']}", "contact": stored, "verdict": verdict})
    return records


def test_lifting_the_stop_changes_the_stopped_verdicts_and_says_how_much_per_region(policy):
    contacts = list(generate(GeneratorSpec(2022, count=400, seed=3)))
    records = _stored_records(contacts, policy)
    result = readjudicate(records, build_policy("national_only"))
    stopped = [r for r in records if r["verdict"]["reason"] == "DIGITAL_NOT_CONTRACTED"]
    changes = result["changed"]["items"]
    # the stop lifted, and (no regional layer) the referral requirement too
    assert {(c["before"]["reason"], c["after"]["reason"]) for c in changes} == {
        ("DIGITAL_NOT_CONTRACTED", "DIGITAL_TARIFF"),
        ("REFERRAL_MISSING", "DIGITAL_TARIFF"),
    }
    assert (
        len([c for c in changes if c["before"]["reason"] == "DIGITAL_NOT_CONTRACTED"]) == len(stopped) > 300
    )
    expected = sum(rules.money.parse_sek(c["after"]["amount_sek"]) for c in changes)
    region = result["by_home_region"]["25"]
    assert region["decisions"] == 400
    assert region["changed"] == result["changed"]["count"] == len(changes)
    assert region["amount_delta_sek"] == "+" + rules.money.format_sek(expected)


def test_the_same_policy_changes_nothing(policy):
    contacts = list(generate(GeneratorSpec(2022, count=200, seed=4)))
    result = readjudicate(_stored_records(contacts, policy), build_policy("in_force"))
    assert result["changed"]["count"] == 0
    assert result["by_home_region"]["25"]["amount_delta_sek"] == "0.00"


def test_a_resent_contact_counts_once_and_bad_records_are_rejected_by_index(policy):
    contacts = list(generate(GeneratorSpec(2022, count=3, seed=5)))
    records = _stored_records(contacts, policy)
    records[0]["evaluated_at"] = "2022-02-01T00:00:00Z"
    resent = json.loads(json.dumps(records[0]))
    resent["evaluated_at"] = "2022-03-01T00:00:00Z"
    records += [resent, {"contact": contacts[1]}, "junk"]
    result = readjudicate(records, build_policy("national_only"))
    assert result["decisions"] == 3
    assert result["superseded"] == 1
    assert [r["index"] for r in result["rejected"]["items"]] == [4, 5]
    assert "verdict" in result["rejected"]["items"][0]["errors"]


def test_command(tmp_path, policy, capsys):
    contacts = list(generate(GeneratorSpec(2022, count=50, seed=6)))
    path = tmp_path / "decisions.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in _stored_records(contacts, policy)) + "\n{bad\n")
    assert (
        main(["readjudicate", str(path), "-s", "adv=in_force:regions.25.digital_stop.enforcement=advisory"])
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["changed"]["count"] > 0
    assert out["rejected"]["count"] == 1
    assert "not valid JSON" in out["rejected"]["items"][0]["errors"]["_record"][0]


def test_stored_decisions_are_not_refused_for_a_date_after_the_day_of_the_readjudication(policy):
    """Their dates were checked when they were decided; readjudication judges as a simulation does."""
    contacts = list(generate(GeneratorSpec(2022, count=3, seed=4)))
    records = _stored_records(contacts, policy)
    records[1]["contact"]["contact_date"] = records[1]["contact"]["invoice_date"] = "2100-12-31"
    result = readjudicate(records, build_policy("in_force"))
    assert result["decisions"] == 3 and result["rejected"]["count"] == 0
