"""Contacts read from JSON Lines or CSV, one record at a time, each with its input line number.

Files are read in chunks as they arrive (a pipe is served line by line, memory stays constant),
and a line that cannot be read becomes a Record with errors instead of stopping the run: the
command line reports it by number and goes on.

CSV mapping (also printed by `python -m rules evaluate --help`, see CSV_HELP):
a header row of SPEC section 6 field names; the objects `digital_requirements` and `patient` as
dotted columns; an empty cell is an absent field; boolean columns take true/false; patient.age is
an integer; every other cell, amounts included, is passed on as the string it is.
"""

import csv
import json
import re
from collections.abc import Callable, Iterable, Iterator
from typing import NamedTuple

from .contact_fields import CONTACT
from .field_kinds import Boolean, Integer, ObjectKind
from .json_numbers import loads

CHUNK_BYTES = 1 << 16
MAX_LINE_BYTES = 1 << 20  # a contact is well under 2 KB; a longer line is an error, not a memory spike
BOM = b"\xef\xbb\xbf"
LINE_ERROR = "_line"  # error key for a line that is not a contact at all (bad JSON, bad CSV row)


def _column_kinds(kind: ObjectKind, prefix: str = ""):
    for field in kind.fields:
        if isinstance(field.kind, ObjectKind):
            yield from _column_kinds(field.kind, f"{prefix}{field.name}.")
        else:
            yield prefix + field.name, field.kind


# Columns, and how a cell is typed, follow the declaration of the contact.
_NESTED = {
    f.name: tuple(inner.name for inner in f.kind.fields)
    for f in CONTACT.fields
    if isinstance(f.kind, ObjectKind)
}
_COLUMN_KINDS = dict(_column_kinds(CONTACT))
BOOLEAN_COLUMNS = frozenset(name for name, kind in _COLUMN_KINDS.items() if isinstance(kind, Boolean))
INTEGER_COLUMNS = frozenset(name for name, kind in _COLUMN_KINDS.items() if isinstance(kind, Integer))
CSV_COLUMNS = tuple(sorted(name for name in _COLUMN_KINDS if "." not in name)) + tuple(
    name for name in _COLUMN_KINDS if "." in name
)
_INTEGER = re.compile(r"[+-]?\d{1,9}")
_TRUE_FALSE = {"true": True, "false": False}

CSV_HELP = f"""\
CSV mapping: the first row is a header of contact field names (SPEC section 6). The objects
digital_requirements and patient are dotted columns: {", ".join(c for c in CSV_COLUMNS if "." in c)}.
An empty cell means the field is absent (its default applies, or a required field is reported
missing). Boolean columns ({", ".join(sorted(BOOLEAN_COLUMNS))}) take true or false (any case);
patient.age takes an integer; every other cell is passed on as text, so amounts stay exact decimal
strings ("450.00"). A digital_requirements object is built when any of its columns is filled.
An unknown or repeated column rejects every line, naming the column. A row with more or fewer
cells than the header is rejected. Line numbers count physical lines: the header is line 1."""


class Record(NamedTuple):
    """One input line: `data` is the contact dict (None if the line could not be parsed), `errors`
    the per-field problems found while reading (None if none). Both None: a blank line."""

    line: int
    data: object
    errors: dict | None


def chunked_lines(
    stream, before_read: Callable[[], None] | None = None, on_read: Callable[[int], None] | None = None
) -> Iterator[bytes | None]:
    """Lines of a binary stream without their line ending; None for a line over MAX_LINE_BYTES.

    Reads with read1 (whatever is available, at most one system call), so a pipe is processed as
    it arrives. `before_read` runs before each read, i.e. whenever the reader may block: the
    command flushes its output there. `on_read` gets the byte count of each chunk (progress)."""
    pending = b""
    overlong = False
    while True:
        if before_read is not None:
            before_read()
        chunk = stream.read1(CHUNK_BYTES)
        if not chunk:
            break
        if on_read is not None:
            on_read(len(chunk))
        lines = (pending + chunk).split(b"\n")
        pending = lines.pop()
        for line in lines:
            if overlong:
                overlong = False
                yield None
            else:
                yield line
        if len(pending) > MAX_LINE_BYTES:
            overlong = True
            pending = b""
    if overlong:
        yield None
    elif pending:
        yield pending


def _overlong(number: int) -> Record:
    return Record(number, None, {LINE_ERROR: [f"Line longer than {MAX_LINE_BYTES} bytes: not a contact."]})


def jsonl_records(lines: Iterable[bytes | None]) -> Iterator[Record]:
    """One Record per line of JSON Lines; malformed JSON is a Record with an error, not a crash."""
    for number, raw in enumerate(lines, 1):
        if raw is None:
            yield _overlong(number)
            continue
        if number == 1 and raw.startswith(BOM):
            raw = raw[len(BOM) :]
        if not raw.strip():
            yield Record(number, None, None)
            continue
        try:
            data = loads(raw)
        except json.JSONDecodeError as exc:
            yield Record(number, None, {LINE_ERROR: [f"Not valid JSON: {exc.msg} at column {exc.colno}."]})
            continue
        except ValueError as exc:
            yield Record(number, None, {LINE_ERROR: [f"Not valid JSON: {exc}."]})
            continue
        yield Record(number, data, None)


class _DecodedLines:
    """Text lines for the csv module, remembering which physical lines were not valid UTF-8."""

    def __init__(self, lines: Iterable[bytes | None]):
        self._lines = iter(lines)
        self.number = 0
        self.bad: dict[int, str] = {}

    def __iter__(self):
        return self

    def __next__(self) -> str:
        raw = next(self._lines)
        self.number += 1
        if raw is None:
            self.bad[self.number] = f"Line longer than {MAX_LINE_BYTES} bytes: not a contact."
            return "\n"
        if self.number == 1 and raw.startswith(BOM):
            raw = raw[len(BOM) :]
        try:
            return raw.decode() + "\n"
        except UnicodeDecodeError as exc:
            self.bad[self.number] = f"Not valid UTF-8 ({exc.reason} at byte {exc.start})."
            return raw.decode(errors="replace") + "\n"


def _column_errors(header: list[str]) -> tuple[list, dict]:
    """(path per column, errors for unknown and repeated columns, reported on every line)."""
    known = set(CSV_COLUMNS)
    paths, errors, seen = [], {}, set()
    for name in header:
        if name in seen:
            errors[name] = ["Repeated column: each field may appear once."]
        seen.add(name)
        if name in known:
            paths.append(tuple(name.split(".", 1)))
        elif name in _NESTED:
            columns = ", ".join(f"{name}.{key}" for key in _NESTED[name])
            errors[name] = [f"Unknown column: {name} is an object, give it as the columns {columns}."]
            paths.append(None)
        else:
            errors[name] = ["Unknown column: not a contact field (SPEC section 6)."]
            paths.append(None)
    return paths, errors


def _cell(name: str, text: str):
    if name in BOOLEAN_COLUMNS:
        return _TRUE_FALSE.get(text.strip().lower(), text)
    if name in INTEGER_COLUMNS and _INTEGER.fullmatch(text.strip()):
        return int(text)
    return text


def csv_records(lines: Iterable[bytes | None]) -> Iterator[Record]:
    """One Record per CSV row, numbered by the physical line the row starts on."""
    decoded = _DecodedLines(lines)
    reader = csv.reader(decoded, strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        yield Record(1, None, {LINE_ERROR: [f"Not a valid CSV header: {exc}."]})
        return
    if header is None:
        return
    paths, column_errors = _column_errors(header)
    previous = reader.line_num
    width = len(header)
    while True:
        start = previous + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            previous = reader.line_num
            yield Record(start, None, {LINE_ERROR: [f"Not a valid CSV row: {exc}."]})
            continue
        previous = reader.line_num
        bad = [decoded.bad.pop(n) for n in range(start, previous + 1) if n in decoded.bad]
        if bad:
            yield Record(start, None, {LINE_ERROR: bad})
            continue
        if not row or (len(row) == 1 and not row[0].strip() and width > 1):
            yield Record(start, None, None)
            continue
        if len(row) != width:
            yield Record(
                start, None, {LINE_ERROR: [f"{len(row)} cells, but the header has {width} columns."]}
            )
            continue
        data: dict = {}
        for path, name, text in zip(paths, header, row, strict=True):
            if path is None or text == "":
                continue
            if len(path) == 1:
                data[name] = _cell(name, text)
            else:
                data.setdefault(path[0], {})[path[1]] = _cell(name, text)
        yield Record(start, data, dict(column_errors) if column_errors else None)


READERS = {"jsonl": jsonl_records, "csv": csv_records}
SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv"}


def format_of(name: str) -> str | None:
    """The input format a file name implies, or None when the suffix says nothing."""
    for suffix, fmt in SUFFIXES.items():
        if name.lower().endswith(suffix):
            return fmt
    return None
