"""`python -m rules generate | simulate`, end to end through the command dispatcher."""

import json

from rules.__main__ import main


def test_generate_then_simulate_with_report_and_rejected_lines(tmp_path, capsys):
    data = tmp_path / "year.jsonl"
    assert main(["generate", "--year", "2020", "--count", "2000", "--seed", "7", "-o", str(data)]) == 0
    assert "SYNTHETIC DATA" in capsys.readouterr().err
    with data.open("ab") as f:
        f.write(b'{"contact_id": "broken"}\n')
    out, report, rejected = tmp_path / "result.json", tmp_path / "report.html", tmp_path / "rejected.jsonl"
    code = main(
        [
            "simulate",
            str(data),
            "-s",
            "in_force",
            "-s",
            "stop_from_2020",
            "-s",
            "adv=in_force:regions.25.digital_stop.valid_from=2020-01-01,regions.25.digital_stop.enforcement=advisory",
            "-o",
            str(out),
            "--report",
            str(report),
            "--rejected",
            str(rejected),
            "--no-progress",
        ]
    )
    assert code == 0
    result = json.loads(out.read_text())
    assert result["count"] == 2000
    assert [s["name"] for s in result["scenarios"]] == ["in_force", "stop_from_2020", "adv"]
    assert result["rejected"]["lines"][0]["index"] == 2001
    assert [json.loads(line)["line"] for line in rejected.read_text().splitlines()] == [2001]
    advisory = result["scenarios"][2]
    assert advisory["amount_sek"] == result["scenarios"][0]["amount_sek"]  # advisory still pays
    assert "stop-saving" in report.read_text()


def test_a_bad_scenario_is_a_clear_error(tmp_path, capsys):
    data = tmp_path / "year.jsonl"
    main(["generate", "--year", "2020", "--count", "10", "-o", str(data)])
    assert main(["simulate", str(data), "-s", "x=in_force:regions.25.digital_stop.enforcement=maybe"]) == 2
    assert "digital_stop.enforcement" in capsys.readouterr().err


def test_generate_without_a_count_outside_the_seed_is_a_clear_error(capsys):
    assert main(["generate", "--year", "2021"]) == 2
    assert "count" in capsys.readouterr().err
