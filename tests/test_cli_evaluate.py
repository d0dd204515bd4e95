"""`python -m rules evaluate`: JSON Lines and CSV in, one verdict line per input line out, bad lines
reported by number, a summary, exit codes, and streaming in constant memory."""

import csv
import io
import json
import select
import subprocess
import sys
from pathlib import Path

import pytest

import rules
from rules.__main__ import main
from rules.io_formats import CSV_COLUMNS, csv_records
from rules.text import CONTROL_CHARACTERS_MESSAGE

PYTHON = sys.executable
ALL_MET = {"qualified_care": True, "strong_authentication": True, "journaled": True, "triaged": True}


def contact(n: int, **changes) -> dict:
    """A valid contact; n varies mode, date, region and profession so the lines differ."""
    data = {
        "contact_id": f"c{n}",
        "contact_date": ("2019-03-04", "2021-06-30", "2022-08-31", "2024-02-29")[n % 4],
        "home_region": ("25", "25", "01", "14", "25")[n % 5],
        "care_region": ("06", "04", "06", "14", "25")[n % 5],
        "provider_id": "SE2321000230-SAMPLE1" if n % 7 == 0 else f"SE1623-K{n % 13:03d}",
        "mode": ("video", "chat", "physical", "telephone", "video", "chat")[n % 6],
        "care_category": ("planned", "planned", "planned", "acute", "maternity")[n % 5],
        "profession": ("physician", "nurse", "psychologist", "physiotherapist")[n % 4],
        "claimed_amount_sek": ("500.00", "650", "275.50", "1200.00")[n % 4],
    }
    if data["mode"] != "physical":
        data["digital_requirements"] = dict(ALL_MET, triaged=n % 11 != 0)
    data.update(changes)
    return data


def write_jsonl(path: Path, rows) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(row if isinstance(row, str) else json.dumps(row))
            out.write("\n")
    return path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def expected_line(number: int, data: dict) -> dict:
    return {"line": number, **rules.evaluate(data).to_dict()}


def test_jsonl_all_decided_matches_library_and_exits_0(tmp_path):
    contacts = [contact(n) for n in range(40)]
    source = write_jsonl(tmp_path / "in.jsonl", contacts)
    out = tmp_path / "out.jsonl"
    summary_path = tmp_path / "summary.json"

    assert main(["evaluate", str(source), "-o", str(out), "--summary-json", str(summary_path)]) == 0

    lines = read_jsonl(out)
    assert lines == [expected_line(n + 1, data) for n, data in enumerate(contacts)]
    verdicts = [rules.evaluate(data) for data in contacts]
    summary = json.loads(summary_path.read_text())
    assert summary["lines"] == summary["count"] == 40
    assert summary["rejected"] == 0
    assert summary["pay"] == sum(v.decision == "pay" for v in verdicts)
    assert summary["no_pay"] == sum(v.decision == "no_pay" for v in verdicts)
    total = sum(v.amount_ore for v in verdicts)
    assert summary["amount_sek_total"] == f"{total // 100}.{total % 100:02d}"
    assert summary["by_decision"]["pay"]["amount_sek"] == summary["amount_sek_total"]
    assert summary["by_decision"]["no_pay"] == {"count": summary["no_pay"], "amount_sek": "0.00"}
    for reason, cell in summary["by_reason"].items():
        chosen = [v for v in verdicts if v.reason == reason]
        ore = sum(v.amount_ore for v in chosen)
        assert cell == {"count": len(chosen), "amount_sek": f"{ore // 100}.{ore % 100:02d}"}
    assert sum(cell["count"] for cell in summary["by_reason"].values()) == 40


def test_bad_lines_are_reported_by_number_and_kept_in_the_output(tmp_path, capsys):
    rows = [
        contact(1),
        contact(2, home_region="02"),  # retired region code
        '{"contact_id": "broken", "home_region": ',  # malformed JSON
        "",  # blank line: skipped, counted
        contact(3, contact_date="2016-12-31"),  # before the national policy starts
        "[1, 2]",  # JSON, but not an object
        contact(4, colour="blue"),  # unknown field
        contact(5),
    ]
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    out = tmp_path / "out.jsonl"
    rejects = tmp_path / "rejects.jsonl"
    summary_path = tmp_path / "summary.json"

    code = main(
        [
            "evaluate",
            str(source),
            "-o",
            str(out),
            "--rejects",
            str(rejects),
            "--summary-json",
            str(summary_path),
        ]
    )

    assert code == 2
    lines = read_jsonl(out)
    assert [line["line"] for line in lines] == [1, 2, 3, 5, 6, 7, 8]  # one per non-blank input line
    assert lines[0] == expected_line(1, contact(1))
    assert lines[-1] == expected_line(8, contact(5))
    rejected = [line for line in lines if line.get("rejected")]
    assert [r["line"] for r in rejected] == [2, 3, 5, 6, 7]
    by_line = {r["line"]: r for r in rejected}
    assert by_line[2]["contact_id"] == "c2" and set(by_line[2]["errors"]) == {"home_region"}
    assert by_line[3]["contact_id"] is None
    assert by_line[3]["errors"]["_line"][0].startswith("Not valid JSON")
    assert set(by_line[5]["errors"]) == {"contact_date"}
    assert set(by_line[6]["errors"]) == {"_schema"}
    assert by_line[7]["errors"] == {"colour": ["Unknown field."]}
    assert read_jsonl(rejects) == rejected

    err = capsys.readouterr().err
    assert "line 2: home_region: Not a region code in use" in err
    assert "line 3: _line: Not valid JSON" in err
    assert "line 7: colour: Unknown field." in err
    summary = json.loads(summary_path.read_text())
    assert (summary["lines"], summary["count"], summary["rejected"], summary["blank_lines"]) == (7, 2, 5, 1)
    assert "5 rejected" in err and "1 blank lines skipped" in err


def csv_text(header, rows) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def test_csv_mapping_gives_the_same_verdicts_as_json(tmp_path):
    header = [
        "contact_id",
        "contact_date",
        "home_region",
        "care_region",
        "provider_id",
        "mode",
        "care_category",
        "profession",
        "claimed_amount_sek",
        "patient_fee_sek",
        "prior_approval",
        "setting",
        "digital_requirements.qualified_care",
        "digital_requirements.strong_authentication",
        "digital_requirements.journaled",
        "digital_requirements.triaged",
        "patient.age",
        "patient.sex",
    ]
    rows = [
        [
            "v1",
            "2021-03-01",
            "25",
            "06",
            "SE1",
            "video",
            "planned",
            "physician",
            "650.00",
            "100",
            "",
            "",
            "true",
            "True",
            "TRUE",
            "true",
            "34",
            "female",
        ],
        [
            "p1",
            "2021-03-01",
            "25",
            "14",
            "SE2",
            "physical",
            "planned",
            "nurse",
            "1234.56",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
        [
            "i1",
            "2020-01-15",
            "01",
            "12",
            "SE3",
            "physical",
            "planned",
            "physician",
            "9000",
            "",
            "true",
            "inpatient",
            "",
            "",
            "",
            "",
            "7",
            "",
        ],
        [
            "t1",
            "2021-03-01",
            "25",
            "06",
            "SE1",
            "chat",
            "planned",
            "nurse",
            "300.00",
            "",
            "",
            "",
            "true",
            "true",
            "true",
            "false",
            "",
            "male",
        ],
    ]
    source = tmp_path / "in.csv"
    source.write_text(csv_text(header, rows), encoding="utf-8")
    out = tmp_path / "out.jsonl"

    assert main(["evaluate", str(source), "-o", str(out)]) == 0

    as_json = [
        {
            **contact(0),
            "contact_id": "v1",
            "contact_date": "2021-03-01",
            "home_region": "25",
            "care_region": "06",
            "provider_id": "SE1",
            "mode": "video",
            "care_category": "planned",
            "profession": "physician",
            "claimed_amount_sek": "650.00",
            "patient_fee_sek": "100",
            "digital_requirements": ALL_MET,
            "patient": {"age": 34, "sex": "female"},
        },
        {
            "contact_id": "p1",
            "contact_date": "2021-03-01",
            "home_region": "25",
            "care_region": "14",
            "provider_id": "SE2",
            "mode": "physical",
            "care_category": "planned",
            "profession": "nurse",
            "claimed_amount_sek": "1234.56",
        },
        {
            "contact_id": "i1",
            "contact_date": "2020-01-15",
            "home_region": "01",
            "care_region": "12",
            "provider_id": "SE3",
            "mode": "physical",
            "care_category": "planned",
            "profession": "physician",
            "claimed_amount_sek": "9000",
            "prior_approval": True,
            "setting": "inpatient",
            "patient": {"age": 7},
        },
        {
            "contact_id": "t1",
            "contact_date": "2021-03-01",
            "home_region": "25",
            "care_region": "06",
            "provider_id": "SE1",
            "mode": "chat",
            "care_category": "planned",
            "profession": "nurse",
            "claimed_amount_sek": "300.00",
            "digital_requirements": dict(ALL_MET, triaged=False),
            "patient": {"sex": "male"},
        },
    ]
    lines = read_jsonl(out)
    assert lines == [expected_line(n + 2, data) for n, data in enumerate(as_json)]  # header is line 1
    assert [line["reason"] for line in lines] == [
        "DIGITAL_TARIFF",
        "OUTPATIENT_FREE_CHOICE",
        "INPATIENT_APPROVED",
        "DIGITAL_REQUIREMENTS_NOT_MET",
    ]
    assert lines[0]["amount_sek"] == "400.00"  # 500 physician tariff - 100 fee, exact


def test_csv_bad_cells_rows_and_line_numbers(tmp_path, capsys):
    header = [
        "contact_id",
        "contact_date",
        "home_region",
        "care_region",
        "provider_id",
        "mode",
        "care_category",
        "profession",
        "claimed_amount_sek",
        "prior_approval",
        "patient.age",
    ]
    good = ["ok", "2021-03-01", "25", "14", "SE2", "physical", "planned", "nurse", "100.00", "", ""]
    text = csv_text(
        header,
        [
            good,
            ["bad", "2021-03-01", "25", "14", "SE2", "physical", "planned", "nurse", "1.001", "yes", "old"],
            ["short", "2021-03-01"],
            [
                "multi\nline id",
                "2021-03-01",
                "25",
                "14",
                "SE2",
                "physical",
                "planned",
                "nurse",
                "100.00",
                "",
                "",
            ],
            good,
        ],
    )
    source = tmp_path / "in.csv"
    source.write_text(text, encoding="utf-8")
    out = tmp_path / "out.jsonl"

    assert main(["evaluate", str(source), "-o", str(out)]) == 2

    lines = read_jsonl(out)
    # physical lines: header 1, rows 2, 3, 4, 5-6 (a quoted newline), 7
    assert [line["line"] for line in lines] == [2, 3, 4, 5, 7]
    assert lines[1]["rejected"] and set(lines[1]["errors"]) == {
        "claimed_amount_sek",
        "prior_approval",
        "patient.age",
    }
    assert lines[2]["errors"] == {"_line": ["2 cells, but the header has 11 columns."]}
    # The quoted newline keeps the numbering right; in an id it is a control character (SPEC 6).
    assert lines[3]["contact_id"] == "multi\nline id" and lines[3]["rejected"]
    assert lines[3]["errors"] == {"contact_id": [CONTROL_CHARACTERS_MESSAGE]}
    assert lines[4]["decision"] == "pay"
    err = capsys.readouterr().err
    assert "line 3: prior_approval: Not a valid boolean" in err
    assert "line 3: patient.age: Not a valid integer." in err


def test_csv_unknown_column_rejects_every_line_even_when_empty(tmp_path):
    header = [
        "contact_id",
        "contact_date",
        "home_region",
        "care_region",
        "provider_id",
        "mode",
        "care_category",
        "profession",
        "claimed_amount_sek",
        "digital_requirements",
        "remarks",
    ]
    rows = [
        ["a", "2021-03-01", "25", "14", "SE2", "physical", "planned", "nurse", "100.00", "", ""],
        ["b", "2021-03-01", "25", "14", "SE2", "physical", "planned", "nurse", "100.00", "", "x"],
    ]
    source = tmp_path / "in.csv"
    source.write_text(csv_text(header, rows), encoding="utf-8")
    out = tmp_path / "out.jsonl"

    assert main(["evaluate", str(source), "-o", str(out)]) == 2

    lines = read_jsonl(out)
    assert [(line["line"], line["rejected"], line["contact_id"]) for line in lines] == [
        (2, True, "a"),
        (3, True, "b"),
    ]
    for line in lines:
        assert set(line["errors"]) == {"remarks", "digital_requirements"}
        assert line["errors"]["remarks"][0].startswith("Unknown column")
        assert "digital_requirements.triaged" in line["errors"]["digital_requirements"][0]


# Every field of SPEC section 6, nested ones included, with a value that is not its default.
EVERY_FIELD = {
    "contact_id": "every-field",
    "contact_date": "2022-06-01",
    "home_region": "25",
    "care_region": "06",
    "provider_id": "SE2",
    "mode": "video",
    "care_category": "planned",
    "setting": "inpatient",
    "profession": "nurse",
    "specialty": "primary_care",
    "referral": "home_region_referral",
    "prior_approval": True,
    "digital_requirements": {**ALL_MET, "triaged": False},
    "claimed_amount_sek": "275.00",
    "patient_fee_sek": "100.00",
    "invoice_date": "2022-06-15",
    "patient": {"age": 40, "sex": "female"},
    "needs_assessment": False,
}


def test_every_contact_field_has_a_csv_column_typed_as_in_json():
    assert rules.parse_contact(EVERY_FIELD).to_dict() == EVERY_FIELD  # really every field
    cells = {}
    for name, value in EVERY_FIELD.items():
        for column, cell in value.items() if isinstance(value, dict) else [(None, value)]:
            key = name if column is None else f"{name}.{column}"
            cells[key] = str(cell).lower() if isinstance(cell, bool) else str(cell)
    assert set(cells) == set(CSV_COLUMNS)
    lines = csv_text(list(cells), [list(cells.values())]).encode().splitlines()

    (record,) = csv_records(lines)

    assert record.errors is None
    assert record.data == EVERY_FIELD


def test_same_input_gives_byte_identical_output(tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", [contact(n) for n in range(25)])
    first, second = tmp_path / "1.jsonl", tmp_path / "2.jsonl"
    assert main(["evaluate", str(source), "-o", str(first)]) == 0
    assert main(["evaluate", str(source), "-o", str(second)]) == 0
    assert first.read_bytes() == second.read_bytes()
    assert "decision_id" not in first.read_text() and "evaluated_at" not in first.read_text()


def test_a_date_after_the_day_judged_on_is_rejected_and_today_replays_a_file(tmp_path, capsys):
    source = write_jsonl(tmp_path / "in.jsonl", [contact(1), contact(2, contact_date="2100-12-31")])
    out = tmp_path / "out.jsonl"
    assert main(["evaluate", str(source), "-o", str(out)]) == 2
    assert read_jsonl(out)[1]["errors"]["contact_date"][0].startswith("Must not be after today")
    assert "line 2: contact_date: Must not be after today" in capsys.readouterr().err
    assert main(["evaluate", str(source), "-o", str(out), "--today", "2100-12-31"]) == 0
    assert [line["contact_id"] for line in read_jsonl(out)] == ["c1", "c2"]
    assert main(["evaluate", str(source), "-o", str(out), "--today", "2021-06-30"]) == 2
    assert [line.get("rejected", False) for line in read_jsonl(out)] == [False, True]


def test_a_bad_today_is_a_usage_error(tmp_path, capsys):
    source = write_jsonl(tmp_path / "in.jsonl", [contact(1)])
    with pytest.raises(SystemExit) as exited:
        main(["evaluate", str(source), "--today", "2101-01-01"])
    assert exited.value.code == 2
    assert "Not a date from 2000-01-01 to 2100-12-31" in capsys.readouterr().err


def test_io_errors_exit_1(tmp_path, capsys):
    assert main(["evaluate", str(tmp_path / "missing.jsonl")]) == 1
    assert "missing.jsonl" in capsys.readouterr().err
    odd = tmp_path / "contacts.txt"
    odd.write_text(json.dumps(contact(1)) + "\n")
    assert main(["evaluate", str(odd)]) == 1
    assert "--format" in capsys.readouterr().err
    out = tmp_path / "out.jsonl"
    assert main(["evaluate", str(odd), "--format", "jsonl", "-o", str(out)]) == 0
    assert len(read_jsonl(out)) == 1
    assert main(["evaluate", str(odd), "--format", "jsonl", "-o", str(tmp_path / "no" / "such" / "dir")]) == 1


def test_stdin_to_stdout_in_a_subprocess_with_progress_forced(tmp_path):
    payload = "".join(json.dumps(contact(n)) + "\n" for n in range(30)).encode()
    done = subprocess.run(
        [PYTHON, "-m", "rules", "evaluate", "-", "--progress"],
        input=payload,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["line"] for line in lines] == list(range(1, 31))
    err = done.stderr.decode()
    assert "evaluate:" in err  # the tqdm bar
    assert "30 lines: 30 decided, 0 rejected" in err


def test_no_progress_bar_when_stderr_is_not_a_terminal(tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", [contact(1)])
    done = subprocess.run(
        [PYTHON, "-m", "rules", "evaluate", str(source)], capture_output=True, timeout=120, check=False
    )
    assert done.returncode == 0
    assert "evaluate:" not in done.stderr.decode() and "it/s" not in done.stderr.decode()


def _read_line(stream, deadline_s: float) -> bytes:
    """One line from a pipe, or b'' if none comes within the deadline (a hang guard, not a timing check)."""
    ready, _, _ = select.select([stream], [], [], deadline_s)
    return stream.readline() if ready else b""


def test_verdicts_come_out_while_the_input_is_still_open():
    """Streaming: a line written to stdin is decided and flushed before stdin is closed."""
    proc = subprocess.Popen(
        [PYTHON, "-m", "rules", "evaluate", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        for n in range(3):
            proc.stdin.write((json.dumps(contact(n)) + "\n").encode())
            proc.stdin.flush()
            line = _read_line(proc.stdout, 60)
            assert line, f"no verdict for input line {n + 1} while stdin was open"
            assert json.loads(line)["line"] == n + 1
        assert proc.poll() is None  # still running, waiting for more input
        proc.stdin.close()
        assert proc.wait(timeout=60) == 0
        assert proc.stdout.read() == b""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# The child reports its own peak from /proc/self/status VmHWM (per address space, reset at exec).
# rusage's ru_maxrss would not do: Linux carries the parent's high-water mark into a forked child
# across exec, so under a large pytest process every child would look as large as pytest.
_REPORT_PEAK = (
    "import sys\n"
    "from rules.__main__ import main\n"
    "code = main(sys.argv[1:])\n"
    "peak = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0].split()[1]\n"
    "print('VmHWM', peak, file=sys.stderr)\n"
    "sys.exit(code)\n"
)


def _peak_rss_kib(args: list[str], stdin_path: Path) -> tuple[int, int]:
    """(exit code, peak RSS in KiB) of one run of `python -m rules ARGS`, as the child saw it."""
    with stdin_path.open("rb") as stdin:
        proc = subprocess.run(
            [PYTHON, "-c", _REPORT_PEAK, *args],
            stdin=stdin,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            timeout=600,
        )
    peak = [line for line in proc.stderr.splitlines() if line.startswith("VmHWM ")]
    assert peak, proc.stderr[-2000:]
    return proc.returncode, int(peak[-1].split()[1])


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmHWM from /proc")
def test_memory_does_not_grow_with_the_input(tmp_path):
    """2,000 and 50,000 lines through stdin: the peak RSS is the same within a few MB."""
    template = [json.dumps(contact(n)) + "\n" for n in range(200)]
    small, large = tmp_path / "small.jsonl", tmp_path / "large.jsonl"
    small.write_text("".join(template * 10))
    large.write_text("".join(template * 250))
    args = ["evaluate", "-"]
    code_small, rss_small = _peak_rss_kib(args, small)
    code_large, rss_large = _peak_rss_kib(args, large)
    assert (code_small, code_large) == (0, 0)
    assert rss_large - rss_small < 8 * 1024, (rss_small, rss_large)
    assert rss_large < 200 * 1024


def test_a_json_number_amount_is_read_as_written_never_rounded(tmp_path):
    """500.0000000000000001 read as a float would be 500.0 and 1e-400 would be 0.0."""
    written = ["499.5", "500.0000000000000001", "1e-400", "450"]
    rows = [json.dumps(contact(n, claimed_amount_sek="@")).replace('"@"', w) for n, w in enumerate(written)]
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    out = tmp_path / "out.jsonl"

    assert main(["evaluate", str(source), "-o", str(out)]) == 2

    lines = read_jsonl(out)
    assert [line.get("rejected", False) for line in lines] == [False, True, True, False]
    assert lines[1]["errors"] == {"claimed_amount_sek": ["At most 2 decimals."]}
    assert list(lines[2]["errors"]) == ["claimed_amount_sek"]
    assert lines[2]["errors"]["claimed_amount_sek"][0].startswith("No exponent")
    assert lines[0] == expected_line(1, contact(0, claimed_amount_sek="499.50"))
    assert lines[3] == expected_line(4, contact(3, claimed_amount_sek="450.00"))
