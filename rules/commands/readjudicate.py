"""`python -m rules readjudicate DECISIONS.jsonl --scenario NAME`: decide exported decisions
(JSON Lines of {contact, verdict}, e.g. GET /v1/decisions items) again under a candidate policy;
print the changed verdicts and the money difference per home region as JSON."""

import sys
from pathlib import Path

import orjson

from ..json_numbers import loads
from ..simulation.readjudicate import readjudicate
from ..simulation.scenarios import ScenarioError, build_policy
from .simulate import parse_scenario


def add_arguments(parser) -> None:
    parser.add_argument("file", type=Path, help="decision records, one JSON object per line")
    parser.add_argument(
        "--scenario",
        "-s",
        required=True,
        metavar="SCENARIO",
        help="candidate policy: a scenario name or NAME=BASE:KEY=VALUE,... (as for simulate)",
    )
    parser.add_argument("--output", "-o", default="-", help="JSON result file (default: stdout)")


def _records(path: Path):
    with path.open("rb") as f:
        for line in f:
            if line.strip():
                try:
                    yield loads(line)
                except ValueError as exc:
                    yield f"not valid JSON: {exc}"


def run(args) -> int:
    if not args.file.is_file():
        print(f"readjudicate: no such file: {args.file}", file=sys.stderr)
        return 2
    try:
        policy = build_policy(parse_scenario(args.scenario))
    except ScenarioError as exc:
        for key, messages in exc.errors.items():
            print(f"readjudicate: {key}: {' '.join(messages)}", file=sys.stderr)
        return 2
    result = readjudicate(_records(args.file), policy)
    payload = orjson.dumps(result, option=orjson.OPT_INDENT_2) + b"\n"
    if args.output == "-":
        sys.stdout.buffer.write(payload)
    else:
        Path(args.output).write_bytes(payload)
    print(
        f"{result['decisions']:,} decisions re-adjudicated under {policy.name}: "
        f"{result['changed']['count']:,} changed, {result['rejected']['count']:,} records rejected",
        file=sys.stderr,
    )
    for region, cell in result["by_home_region"].items():
        print(
            f"  home region {region}: {cell['changed']:,} changed, amount {cell['amount_delta_sek']} SEK",
            file=sys.stderr,
        )
    return 0
