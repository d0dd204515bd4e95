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


def test_simulate_reads_csv_in_the_evaluate_mapping(tmp_path, capsys):
    rows = [
        "contact_id,contact_date,home_region,care_region,provider_id,mode,care_category,profession,"
        "claimed_amount_sek,digital_requirements.qualified_care,digital_requirements.strong_authentication,"
        "digital_requirements.journaled,digital_requirements.triaged,patient.age,patient.sex",
        "SYN-C-1,2020-03-02,25,06,SYN-HSA-06-0001,chat,planned,physician,500.00,true,true,true,true,34,female",
        "SYN-C-2,2020-03-02,25,06,SYN-HSA-06-0001,fax,planned,physician,500.00,true,true,true,true,40,male",
        "SYN-C-3,2020-04-02,25,04,SYN-HSA-04-0001,video,planned,nurse,275.00,true,true,true,true,,male",
    ]
    data = tmp_path / "contacts.csv"
    data.write_text("\n".join(rows) + "\n")
    out, rejected = tmp_path / "result.json", tmp_path / "rejected.jsonl"
    args = ["simulate", str(data), "-s", "in_force", "-s", "stop_from_2020", "-o", str(out)]
    assert main([*args, "--rejected", str(rejected), "--no-progress"]) == 0
    result = json.loads(out.read_text())
    assert result["count"] == 2
    assert result["scenarios"][0]["amount_sek"] == "775.00"
    assert result["scenarios"][0]["by_age_group"]["unknown"]["count"] == 1
    assert result["rejected"]["lines"] == [{"index": 3, "errors": result["rejected"]["lines"][0]["errors"]}]
    assert "mode" in result["rejected"]["lines"][0]["errors"]
    assert [json.loads(line)["line"] for line in rejected.read_text().splitlines()] == [3]
