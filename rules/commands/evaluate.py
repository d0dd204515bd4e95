"""`python -m rules evaluate FILE`: decide a file of contacts, streaming, one verdict line per input line.

The command is a library use of the engine, so its output is deterministic: no decision_id and
no evaluated_at (those belong to the service's records); the same file, policy and --today give
byte-identical output.
"""

import argparse
import os
import stat
import sys
from datetime import date
from pathlib import Path

import orjson

from .. import default_policy, evaluate
from ..calendar import parse_iso_date
from ..errors import InvalidContact, PolicyError
from ..io_formats import CSV_HELP, READERS, chunked_lines, format_of
from ..loader import load_policy
from ..money import format_sek
from ..summary import Summary

EXIT_OK, EXIT_IO, EXIT_REJECTED = 0, 1, 2

EPILOG = f"""\
Input: FILE in JSON Lines (one contact object per line, SPEC section 6) or CSV; the format comes
from the suffix (.jsonl, .ndjson, .json: JSON Lines; .csv: CSV) or --format. FILE - reads stdin
(JSON Lines unless --format csv). Blank lines are skipped and counted in the summary.

{CSV_HELP}

Output: one JSON object per input line, in input order, as JSON Lines on stdout or --output:
  decided:  {{"line": N, "contact_id", "decision", "reason", "amount_sek", "cap_sek",
             "explanation", "legal_basis", "flags", "trace", "policy"}}  (SPEC section 6)
  rejected: {{"line": N, "rejected": true, "contact_id": ... or null, "errors": {{field: [messages]}}}}
Verdict lines carry no decision_id or evaluated_at: the output depends only on the input, the
policy and the day it is judged on (a contact_date or invoice_date after it is rejected: care not
yet given is not billed), so the same input and --today give the same bytes. Each rejected line
is also reported on stderr as "line N: field: message" and, with --rejects FILE, copied to FILE.
The output is flushed whenever the command waits for more input, so a pipe gets verdicts as its
lines arrive.

At the end a summary goes to stderr: lines, decided, rejected, and count and amount by decision
and by reason (--summary-json FILE writes it as JSON too). A progress bar is shown on stderr when
stderr is a terminal (--progress / --no-progress to force).

Exit status: 0 every line decided; 2 some lines rejected (the rest are decided and written);
1 input, output or policy could not be read or written (argparse usage errors also exit 2)."""


def add_arguments(parser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG
    parser.add_argument("file", help="contacts to decide: a .jsonl or .csv file, or - for stdin")
    parser.add_argument("--format", choices=sorted(READERS), help="input format (default: from the suffix)")
    parser.add_argument("-o", "--output", type=Path, help="write verdicts here instead of stdout")
    parser.add_argument("--rejects", type=Path, help="also write the rejected-line records to this file")
    parser.add_argument("--summary-json", type=Path, help="write the summary as JSON to this file")
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar on stderr (default: only when stderr is a terminal)",
    )
    parser.add_argument("--policy", type=Path, help="policy directory (default: the shipped rules/policy)")
    parser.add_argument(
        "--today",
        type=_day,
        help="judge the dates as of this day, YYYY-MM-DD (default: today's date in Stockholm)",
    )


def _day(text: str) -> date:
    try:
        return parse_iso_date(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def run(args) -> int:
    fmt = args.format or ("jsonl" if args.file == "-" else format_of(args.file))
    if fmt is None:
        return _fail(f"cannot tell the format of {args.file!r} from its suffix: use --format jsonl or csv")
    try:
        policy = load_policy(args.policy) if args.policy else default_policy()
    except (PolicyError, OSError) as exc:
        return _fail(f"policy: {exc}")
    opened = []
    try:
        try:
            source = sys.stdin.buffer if args.file == "-" else _keep(opened, open(args.file, "rb"))
            sink = _keep(opened, open(args.output, "wb")) if args.output else sys.stdout.buffer
            rejects = _keep(opened, open(args.rejects, "wb")) if args.rejects else None
        except OSError as exc:
            return _fail(str(exc))
        show_progress = args.progress if args.progress is not None else sys.stderr.isatty()
        try:
            run_ = _Run(policy, sink, rejects, args.today)
            run_.process(source, READERS[fmt], show_progress)
        except BrokenPipeError:
            _silence_stdout()
            return _fail("output closed before the end (broken pipe)")
        except OSError as exc:
            return _fail(str(exc))
    finally:
        for handle in opened:
            try:
                handle.close()
            except OSError:
                pass
    report = run_.report()
    print(_table(report), file=sys.stderr)
    if args.summary_json:
        try:
            args.summary_json.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2) + b"\n")
        except OSError as exc:
            return _fail(str(exc))
    return EXIT_REJECTED if run_.summary.rejected else EXIT_OK


class _Run:
    """One pass over the input: decides each record, buffers output per input chunk."""

    def __init__(self, policy, sink, rejects, today: date | None):
        self.policy = policy
        self.today = today
        self.sink = sink
        self.rejects = rejects
        self.summary = Summary()
        self.lines = 0
        self.blank = 0
        self._out: list[bytes] = []
        self._bad: list[bytes] = []
        self._bar = None

    def flush(self) -> None:
        if self._out:
            self.sink.write(b"".join(self._out))
            self._out.clear()
        self.sink.flush()
        if self._bad:
            self.rejects.write(b"".join(self._bad))
            self._bad.clear()
        if self._bar is not None:
            self._bar.set_postfix_str(
                f"{self.summary.count} decided, {self.summary.rejected} rejected", refresh=False
            )

    def process(self, source, reader, show_progress: bool) -> None:
        on_read = None
        if show_progress:
            from tqdm import tqdm

            self._bar = tqdm(
                total=_size(source), unit="B", unit_scale=True, desc="evaluate", file=sys.stderr, leave=True
            )
            on_read = self._bar.update
        try:
            self._decide_all(reader(chunked_lines(source, self.flush, on_read)))
            self.flush()
        finally:
            if self._bar is not None:
                self._bar.close()

    def _decide_all(self, records) -> None:
        policy, today = self.policy, self.today
        dumps = orjson.dumps
        newline = orjson.OPT_APPEND_NEWLINE
        add = self.summary.add
        out = self._out
        for number, data, errors in records:
            self.lines += 1
            if data is None and errors is None:
                self.blank += 1
                continue
            if data is not None:
                try:
                    verdict = evaluate(data, policy, today)
                except InvalidContact as exc:
                    errors = {**errors, **exc.errors} if errors else exc.errors
                else:
                    if errors is None:
                        add(verdict)
                        line = {"line": number}
                        line.update(verdict.to_dict())
                        out.append(dumps(line, option=newline))
                        continue
            self._reject(number, data, errors)

    def _reject(self, number: int, data, errors: dict) -> None:
        self.summary.add_rejected()
        contact_id = data.get("contact_id") if isinstance(data, dict) else None
        record = orjson.dumps(
            {
                "line": number,
                "rejected": True,
                "contact_id": contact_id if isinstance(contact_id, str) else None,
                "errors": errors,
            },
            option=orjson.OPT_APPEND_NEWLINE,
        )
        self._out.append(record)
        if self.rejects is not None:
            self._bad.append(record)
        messages = [
            f"line {number}: {field}: {message}" for field, texts in errors.items() for message in texts
        ]
        if self._bar is not None:
            for message in messages:
                self._bar.write(message, file=sys.stderr)
        else:
            sys.stderr.write("\n".join(messages) + "\n")

    def report(self) -> dict:
        summary = self.summary
        report = {"lines": self.lines - self.blank, "blank_lines": self.blank}
        report.update(summary.to_dict())
        report["by_decision"] = {
            decision: {"count": count, "amount_sek": format_sek(ore)}
            for decision, (count, ore) in summary.by_decision.items()
        }
        return report


def _table(report: dict) -> str:
    """The summary as a human-readable table for stderr."""
    rows = [
        f"{report['lines']} lines: {report['count']} decided, {report['rejected']} rejected"
        + (f" ({report['blank_lines']} blank lines skipped)" if report["blank_lines"] else ""),
        f"{'by decision':34}{'count':>10}{'amount_sek':>18}",
    ]
    for decision, cell in report["by_decision"].items():
        rows.append(f"  {decision:32}{cell['count']:>10}{cell['amount_sek']:>18}")
    rows.append(f"  {'rejected':32}{report['rejected']:>10}")
    rows.append(f"{'by reason':34}{'count':>10}{'amount_sek':>18}")
    for reason, cell in report["by_reason"].items():
        rows.append(f"  {reason:32}{cell['count']:>10}{cell['amount_sek']:>18}")
    return "\n".join(rows)


def _keep(opened: list, handle):
    opened.append(handle)
    return handle


def _size(source) -> int | None:
    """The byte size of a regular file (for the progress bar's total), None for pipes."""
    try:
        info = os.fstat(source.fileno())
    except (OSError, ValueError, AttributeError):
        return None
    return info.st_size if stat.S_ISREG(info.st_mode) else None


def _silence_stdout() -> None:
    """After a broken pipe, stop Python's exit-time flush of stdout from failing again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _fail(message: str) -> int:
    print(f"evaluate: {message}", file=sys.stderr)
    return EXIT_IO
