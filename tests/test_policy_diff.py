"""rules.policy_diff: what a reviewer reads about a change of policy (the API and the CLI print it)."""

import yaml

from rules.loader import load_policy_documents, read_policy_documents
from rules.policy_diff import diff
from rules.simulation.scenarios import build_policy


def test_a_new_rule_and_its_texts_are_added_and_no_rule_moves():
    result = diff(build_policy("in_force"), build_policy("ds_2023_27"))
    assert [r["reason"] for r in result["rules"]["added"]] == ["NEEDS_ASSESSMENT_MISSING"]
    added = result["rules"]["added"][0]
    assert added["when"] == {"mode": ["video", "chat", "telephone"], "needs_assessment": [False, None]}
    assert added["legal_basis"][0]["id"] == "ds-2023-27" and added["legal_basis"][0]["ref"]
    assert result["rules"]["moved"] == [] and result["rules"]["removed"] == []
    assert result["rules"]["changed"] == []  # the rules after it are numbered on, not changed
    texts = {(t["section"], t["code"], t["key"]) for t in result["texts"]}
    assert ("reasons", "NEEDS_ASSESSMENT_MISSING", "title.sv") in texts
    assert all(t["old"] is None for t in result["texts"])


def test_a_rule_taken_out_of_its_place_is_moved_and_the_others_are_not():
    docs = read_policy_documents()
    rules_list = docs["eligibility.yaml"]["rules"]
    reasons = [r["reason"] for r in rules_list]
    first, second = rules_list[1], rules_list[2]  # time-barred, contracted: independent of each other
    rules_list[1], rules_list[2] = second, first
    shipped = load_policy_documents(read_policy_documents())
    moved = diff(shipped, load_policy_documents(docs))["rules"]["moved"]
    assert len(moved) == 1 and moved[0]["reason"] in reasons[1:3]
    assert abs(moved[0]["old_number"] - moved[0]["new_number"]) == 1


def test_periods_added_removed_and_redated():
    result = diff(build_policy("in_force"), build_policy("stop_from_2020"))
    assert result["periods"]["added"] or result["periods"]["changed"]
    for period in result["periods"]["added"]:
        assert all(p["source"]["ref"] for p in period["parameters"].values())
    gone = diff(build_policy("in_force"), build_policy("national_only"))
    assert {p["home_region"] for p in gone["periods"]["removed"]} == {"25"}
    assert gone["parameters"] == []
    assert yaml.safe_dump(gone)  # plain data: JSON and YAML ready
