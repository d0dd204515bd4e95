"""Aggregation: the same outcome as the engine's verdicts, exact breakdowns, parallel = sequential."""

import orjson
import pytest

import rules
from rules.evaluator import decide
from rules.simulation.generator import LAST_YEAR, GeneratorSpec, generate
from rules.simulation.parallel import simulate_file
from rules.simulation.scenarios import build_policy
from rules.simulation.seed_facts import AGE_TABLE
from rules.simulation.simulate import Simulation, outcome, signed_sek, simulate_contacts

SCENARIOS = ["in_force", "national_only", "stop_from_2020", "ds_2023_27"]


def test_outcome_equals_the_engine_verdict_for_every_contact_and_scenario(year_2020):
    for name in SCENARIOS:
        policy = build_policy(name)
        for data in year_2020:
            contact = rules.parse_contact(data)
            verdict = decide(contact, policy)
            rule, amount = outcome(contact, policy)
            assert (rule.reason, amount) == (verdict.reason, verdict.amount_ore), data["contact_id"]


@pytest.fixture(scope="module")
def result_2020(year_2020):
    return simulate_contacts(year_2020, SCENARIOS).to_dict()


def test_totals_match_summing_the_verdicts(year_2020, result_2020):
    for scenario in result_2020["scenarios"]:
        summary = rules.Summary()
        for verdict in rules.evaluate_many(year_2020, build_policy(scenario["name"])):
            summary.add(verdict)
        expected = summary.to_dict()
        assert scenario["count"] == expected["count"] == 25_812
        assert scenario["paid"] == expected["pay"]
        assert scenario["amount_sek"] == expected["amount_sek_total"]
        assert {r: c["count"] for r, c in scenario["by_reason"].items()} == {
            r: c["count"] for r, c in expected["by_reason"].items()
        }


def test_breakdowns_add_up_and_age_groups_equal_the_seed(result_2020):
    for scenario in result_2020["scenarios"]:
        for dim in ("by_age_group", "by_sex", "by_profession", "by_month"):
            cells = scenario[dim].values()
            assert sum(c["count"] for c in cells) == scenario["count"]
            assert sum(c["paid"] for c in cells) == scenario["paid"]
            assert sum(rules.money.parse_sek(c["amount_sek"]) for c in cells) == rules.money.parse_sek(
                scenario["amount_sek"]
            )
        counts = {g: c["count"] for g, c in scenario["by_age_group"].items()}
        assert counts == {**AGE_TABLE[2020], "unknown": 15}
        assert len(scenario["by_month"]) == 12


def test_the_2022_stop_on_2020_volumes_saves_exactly_the_digital_tariff_payments(result_2020):
    """Pinned: with the stop applied to the generated 2020 year, every contact paid under
    DIGITAL_TARIFF is no longer paid; referred contacts still are."""
    in_force, _, stop, _ = result_2020["scenarios"]
    delta = next(d for d in result_2020["deltas"] if d["scenario"] == "stop_from_2020")
    tariff = in_force["by_reason"]["DIGITAL_TARIFF"]
    assert delta["amount_sek"] == "-" + tariff["amount_sek"]
    assert delta["paid"] == -tariff["count"]
    assert stop["by_reason"]["DIGITAL_NOT_CONTRACTED"]["count"] == tariff["count"]
    assert stop["by_reason"]["DIGITAL_REFERRED"] == in_force["by_reason"]["DIGITAL_REFERRED"]
    # the generated data and seed: 23,932 contacts, 10,274,825.00 SEK of 10,607,625.00
    assert (delta["paid"], delta["amount_sek"], in_force["amount_sek"]) == (
        -23_932,
        "-10274825.00",
        "10607625.00",
    )
    assert delta["changed"] == [
        {
            "from": "DIGITAL_TARIFF",
            "to": "DIGITAL_NOT_CONTRACTED",
            "count": 23_932,
            "amount_sek": "-10274825.00",
        }
    ]
    women = rules.money.parse_sek(delta["by_sex"]["female"]["amount_sek"].lstrip("-"))
    men = rules.money.parse_sek(delta["by_sex"]["male"]["amount_sek"].lstrip("-"))
    assert 1.8 < women / men < 2.2  # the equality consequence: women bear about two thirds


def test_bad_lines_are_rejected_by_index_and_good_lines_still_count(year_2020):
    lines = [year_2020[0], {"contact_id": "x"}, year_2020[1], {**year_2020[2], "contact_date": "2016-01-01"}]
    result = simulate_contacts(lines, ["in_force", "national_only"]).to_dict()
    assert result["count"] == 2
    assert [r["index"] for r in result["rejected"]["lines"]] == [1, 3]
    assert result["rejected"]["count"] == 2
    assert "contact_date" in result["rejected"]["lines"][1]["errors"]
    assert all(s["count"] == 2 for s in result["scenarios"])


def test_a_future_year_is_simulated_not_refused():
    """A forecast is not a bill (SPEC section 6): dates after today are taken, up to 2100-12-31."""
    year = list(generate(GeneratorSpec(LAST_YEAR, count=300, seed=5)))
    lines = [*year, {**year[0], "contact_date": "2100-12-31", "invoice_date": "2100-12-31"}]
    result = simulate_contacts(lines, ["in_force"]).to_dict()
    assert (result["count"], result["rejected"]["count"]) == (301, 0)
    beyond = simulate_contacts([{**year[0], "contact_date": "2101-01-01"}], ["in_force"]).to_dict()
    assert beyond["rejected"]["lines"][0]["errors"] == {
        "contact_date": ["Not a date from 2000-01-01 to 2100-12-31."]
    }


def test_a_file_in_parallel_chunks_gives_the_sequential_result_with_line_numbers(tmp_path, year_2020):
    path = tmp_path / "contacts.jsonl"
    body = [orjson.dumps(c) for c in year_2020[:3000]]
    body.insert(10, b"{not json")
    body.insert(2000, b"")
    body.insert(2500, orjson.dumps({**year_2020[5], "mode": "fax"}))
    path.write_bytes(b"\n".join(body) + b"\n")
    sequential = simulate_contacts(year_2020[:3000], SCENARIOS[:3]).to_dict()
    parallel = simulate_file(path, SCENARIOS[:3], processes=2, chunk_bytes=64 << 10).to_dict()
    assert parallel["scenarios"] == sequential["scenarios"]
    assert parallel["deltas"] == sequential["deltas"]
    assert [r["index"] for r in parallel["rejected"]["lines"]] == [11, 2501]
    assert "mode" in parallel["rejected"]["lines"][1]["errors"]


def test_a_byte_order_mark_at_the_start_of_a_file_is_not_a_bad_line(tmp_path, year_2020):
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + b"\n".join(orjson.dumps(c) for c in year_2020[:3]))
    result = simulate_file(path, ["in_force"]).to_dict()
    assert (result["count"], result["rejected"]["count"]) == (3, 0)


def test_scenario_names_must_differ():
    with pytest.raises(ValueError):
        Simulation(["in_force", "in_force"])


def test_signed_money():
    assert [signed_sek(v) for v in (-150, 0, 1234)] == ["-1.50", "0.00", "+12.34"]
