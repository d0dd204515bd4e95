"""`python -m rules simulate FILE --scenario in_force --scenario national_only ...`: the cost of
policy scenarios over a JSON Lines file of contacts, streamed over worker processes with a
progress bar (JSON Lines in parallel; .csv files, in the `evaluate` command's column mapping,
in one process). Prints the result as JSON (stdout or --output); --report writes the HTML report.

A scenario is a name under rules/scenarios/ or NAME=BASE:KEY=VALUE[,KEY=VALUE...] for a what-if,
e.g. `stop_advisory=in_force:regions.25.digital_stop.enforcement=advisory` (values are read as
YAML scalars: true, 6, 2023-01-01 stay what they look like). The first scenario is the baseline.
"""

import sys
from pathlib import Path

import orjson
import yaml
from tqdm import tqdm

from ..io_formats import chunked_lines, csv_records, format_of, jsonl_records
from ..simulation.parallel import simulate_file
from ..simulation.scenarios import ScenarioError
from ..simulation.simulate import Simulation

DEFAULT_SCENARIOS = ["in_force", "national_only", "stop_from_2020", "ds_2023_27"]


def add_arguments(parser) -> None:
    parser.add_argument("file", type=Path, help="contacts, one JSON object per line")
    parser.add_argument(
        "--scenario",
        "-s",
        action="append",
        dest="scenarios",
        metavar="SCENARIO",
        help=f"scenario name or NAME=BASE:KEY=VALUE,... (repeat; default {' '.join(DEFAULT_SCENARIOS)})",
    )
    parser.add_argument("--output", "-o", default="-", help="JSON result file (default: stdout)")
    parser.add_argument("--report", type=Path, help="also write the HTML report to this file")
    parser.add_argument("--rejected", type=Path, help="write every rejected line's number and errors (JSONL)")
    parser.add_argument("--processes", "-j", type=int, default=None, help="worker processes (default: cores)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def parse_scenario(text: str):
    """'name' or 'name=base:key=value,key=value' -> a scenario spec."""
    if "=" not in text.split(":", 1)[0]:
        return text
    head, _, rest = text.partition(":")
    name, _, base = head.partition("=")
    overrides = {}
    for item in filter(None, rest.split(",")):
        key, sep, value = item.partition("=")
        if not sep:
            raise ScenarioError({text: [f"Expected KEY=VALUE, got {item!r}."]})
        parsed = yaml.safe_load(value)
        overrides[key.strip()] = parsed.isoformat() if hasattr(parsed, "isoformat") else parsed
    return {"name": name, "base": base or "in_force", "overrides": overrides}


def run(args) -> int:
    if not args.file.is_file():
        print(f"simulate: no such file: {args.file}", file=sys.stderr)
        return 2
    try:
        scenarios = [parse_scenario(text) for text in (args.scenarios or DEFAULT_SCENARIOS)]
        total = args.file.stat().st_size
        with tqdm(
            total=total,
            unit="B",
            unit_scale=True,
            desc="simulating",
            disable=args.no_progress,
            file=sys.stderr,
        ) as bar:
            if format_of(args.file.name) == "csv":
                simulation = _simulate_csv(args.file, scenarios, bar.update)
            else:
                simulation = simulate_file(args.file, scenarios, args.processes, progress=bar.update)
    except ScenarioError as exc:
        for key, messages in exc.errors.items():
            print(f"simulate: {key}: {' '.join(messages)}", file=sys.stderr)
        return 2
    result = simulation.to_dict()
    payload = orjson.dumps(result, option=orjson.OPT_INDENT_2) + b"\n"
    if args.output == "-":
        sys.stdout.buffer.write(payload)
    else:
        Path(args.output).write_bytes(payload)
    if args.rejected is not None:
        _write_rejected(args, scenarios, args.rejected)
    if args.report is not None:
        from ..simulation.report import render_report

        args.report.write_text(render_report(result, data_label=_label(args.file)), encoding="utf-8")
    _summary(result)
    return 0


def _records(path: Path, progress=None):
    """The file's records (rules/io_formats.py): JSON Lines or, for .csv, the `evaluate` mapping."""
    read = csv_records if format_of(path.name) == "csv" else jsonl_records
    with path.open("rb") as f:
        yield from read(chunked_lines(f, on_read=progress))


def _simulate_csv(path: Path, scenarios: list, progress) -> Simulation:
    """CSV in this process: a quoted cell may span lines, so the file cannot be cut at line ends
    for workers."""
    simulation = Simulation(scenarios)
    for record in _records(path, progress):
        if record.errors:
            simulation.reject(record.line, record.errors)
        elif record.data is not None:
            simulation.add(record.data, record.line)
    return simulation


def _label(path: Path) -> str:
    with path.open("rb") as f:
        head = f.readline() + f.readline()
    synthetic = b"SYN-" in head
    return f"{path.name}" + (" (SYNTHETIC DATA from `python -m rules generate`)" if synthetic else "")


def _write_rejected(args, scenarios, target: Path) -> None:
    """Every rejected line, not only the first listed: a second, sequential pass over the file."""
    simulation = Simulation(scenarios[:1])
    with target.open("wb") as out:
        for record in _records(args.file):
            errors = record.errors
            if errors is None and record.data is not None:
                simulation.rejected.clear()
                before = simulation.rejected_count
                simulation.add(record.data, record.line)
                if simulation.rejected_count > before:
                    errors = simulation.rejected[0]["errors"]
            if errors:
                out.write(orjson.dumps({"line": record.line, "errors": errors}) + b"\n")


def _summary(result: dict) -> None:
    print(
        f"{result['count']:,} contacts decided, {result['rejected']['count']:,} lines rejected",
        file=sys.stderr,
    )
    for scenario in result["scenarios"]:
        print(
            f"  {scenario['name']:<24} paid {scenario['paid']:>10,}  amount {scenario['amount_sek']:>16} SEK",
            file=sys.stderr,
        )
    for delta in result["deltas"]:
        print(
            f"  {delta['scenario']} vs {delta['against']}: "
            f"paid {delta['paid']:+,}, amount {delta['amount_sek']} SEK",
            file=sys.stderr,
        )
