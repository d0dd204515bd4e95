"""rules.replay without a database: the day a replay judges on, what it compares, what it refuses.
(The API and the command line over both databases: tests/storage/test_replay.py.)"""

from datetime import date

import pytest

import rules
from api.decision_entry import stored_contact
from rules.replay import NotReplayable, decided_with, replay

LINE = {
    "contact_id": "r-1",
    "contact_date": "2022-04-01",
    "invoice_date": "2022-04-01",
    "home_region": "25",
    "care_region": "01",
    "provider_id": "SE2321000016-A1B2",
    "mode": "physical",
    "care_category": "planned",
    "profession": "physician",
    "claimed_amount_sek": "1850.00",
    "patient": {"age": 34, "sex": "female"},
}


def record(evaluated_at: str, **verdict_changes) -> dict:
    """LINE as the decision log exports it, decided on 2022-04-01 under the shipped policy."""
    policy = rules.default_policy()
    verdict = rules.evaluate(LINE, policy, today=date(2022, 4, 1)).to_dict()
    issued = {"decision_id": "0190a1b2-0000-7000-8000-000000000001", **verdict, "evaluated_at": evaluated_at}
    return {
        "decision_id": issued["decision_id"],
        "contact": stored_contact(LINE),  # age 34 stored as its group
        "verdict": dict(issued, **verdict_changes),
        "evaluated_at": evaluated_at,
        "policy": {"version": policy.version, "contract_book": policy.contracts.digest},
    }


def test_a_replay_judges_on_the_date_in_stockholm_of_the_decision():
    # 22:30 UTC on 31 March is 00:30 on 1 April in Stockholm (summer time): the contact was billable.
    result = replay(record("2022-03-31T22:30:00.000000Z"), rules.default_policy())
    assert result["identical"] is True, result["differences"]
    assert result["differences"] == []
    # An hour earlier it was still 31 March there: the same contact dated 1 April is refused.
    early = replay(record("2022-03-31T21:30:00.000000Z"), rules.default_policy())
    assert early["identical"] is False
    assert early["replayed"]["rejected"] is True
    assert set(early["replayed"]["errors"]) == {"contact_date", "invoice_date"}


def test_what_the_service_adds_when_it_issues_is_not_compared():
    stored = record("2022-04-02T08:00:00.000000Z", supersedes="0190a1b2-0000-7000-8000-000000000000")
    result = replay(stored, rules.default_policy())
    assert result["identical"] is True
    assert result["original"] == stored["verdict"]  # as answered, supersedes and all
    assert not {"decision_id", "evaluated_at", "supersedes"} & set(result["replayed"])


def test_differences_name_the_path_and_both_values_and_a_member_on_one_side_only():
    stored = record("2022-04-02T08:00:00.000000Z")
    verdict = stored["verdict"]
    verdict["explanation"] = {"sv": "annan text", "en": verdict["explanation"]["en"]}
    verdict["legal_basis"] = verdict["legal_basis"][:-1]
    verdict["note"] = "added"
    result = replay(stored, rules.default_policy())
    dropped, now = len(verdict["legal_basis"]), result["replayed"]
    assert result["differences"] == [
        {"path": "explanation.sv", "original": "annan text", "replayed": now["explanation"]["sv"]},
        {"path": f"legal_basis[{dropped}]", "replayed": now["legal_basis"][dropped]},
        {"path": "note", "original": "added"},
    ]


@pytest.mark.parametrize(
    "changed, why",
    [
        ({"policy": {"digest": "x", "layers": [], "version": None, "contract_book": None}}, "migration 0009"),
        ({"policy": {"digest": "x", "layers": []}}, "does not name its policy.version"),
        ({"verdict": None}, "Not a decision record"),
        ({"evaluated_at": None}, "Not a decision record"),
        ({"evaluated_at": "2022-04-02T08:00:00"}, "not a date-time with a zone"),
        ({"evaluated_at": "yesterday"}, "not a date-time with a zone"),
        # An edited export: the command line stopped with a traceback (a list is no key to look up).
        ({"policy": {"version": ["x"], "contract_book": {"a": 1}}}, "not digests"),
        ({"policy": {"version": 5, "contract_book": "b" * 64}}, "not digests"),
        ({"policy": {"version": "a" * 64, "contract_book": "B" * 64}}, "not digests"),
    ],
)
def test_what_cannot_be_replayed_says_why(changed, why):
    with pytest.raises(NotReplayable, match=why):
        decided_with(dict(record("2022-04-02T08:00:00.000000Z"), **changed))
    with pytest.raises(NotReplayable, match="Not a decision record"):
        decided_with("not an object")
