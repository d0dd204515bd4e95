"""The plans the databases choose for GET /v1/decisions' filter combinations (DecisionLog.find's
query), for tests/storage/test_decision_filters.py and bench/decision_filters.py."""

from collections.abc import Iterator
from itertools import combinations

from sqlalchemy import Select
from sqlalchemy.engine import Connection

from api.storage.decision_log import find_query

FILTERS = ("contact_id", "home_region", "reason", "decision", "evaluated", "contact_date", "after")


def every_combination(values: dict) -> Iterator[tuple[str, dict]]:
    """Each subset of FILTERS (none included), as a name and find_query's arguments; `values` holds
    contact_id, home_region, reason, decision, evaluated (from, to), contact_date (from, to) and
    after ((evaluated_at, seq))."""
    for size in range(len(FILTERS) + 1):
        for names in combinations(FILTERS, size):
            arguments = {}
            for name in names:
                if name in ("evaluated", "contact_date"):
                    arguments[f"{name}_from"], arguments[f"{name}_to"] = values[name]
                else:
                    arguments[name] = values[name]
            yield "+".join(names) or "(none)", arguments


def plan(conn: Connection, arguments: dict, limit: int = 101) -> list[str]:
    """The plan of find's query, one line per step, values written in (as the driver sends them,
    they are parameters; PostgreSQL plans each execution with its values)."""
    query: Select = find_query(**arguments, limit=limit)
    sql = str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    if conn.dialect.name == "postgresql":
        return [line for (line,) in conn.exec_driver_sql("EXPLAIN " + sql)]
    return [row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)]


def index_used(lines: list[str]) -> str:
    """The index the plan reads decisions by (several for a bitmap plan), or "-" for none."""
    names = [
        word for line in lines for word in line.replace("(", " ").split() if word.startswith(("ix_", "ux_"))
    ]
    return ",".join(dict.fromkeys(names)) or "-"


def table_scanned(lines: list[str]) -> bool:
    """Whether the plan reads the whole table (not by an index)."""
    return any(
        _step(line).startswith("Seq Scan on decisions") or _step(line) == "SCAN decisions" for line in lines
    )


def sorts(lines: list[str]) -> list[int | None]:
    """The plan's sorts: how many rows PostgreSQL expects each to sort (SQLite does not say: None)."""
    found = []
    for line in lines:
        step = _step(line)
        if step.split("  (")[0] in ("Sort", "Incremental Sort"):
            found.append(int(step.split(" rows=")[1].split()[0]))
        elif "TEMP B-TREE" in step:
            found.append(None)
    return found


def merge_sorts(lines: list[str]) -> int:
    """How many of SQLite's sorts are of one read of a scoped key's merge (a subquery read of at
    most a page: SCAN anon_N, then its sort; find_query)."""
    steps = [_step(line) for line in lines]
    return sum(
        1
        for before, step in zip(steps, steps[1:], strict=False)
        if before.startswith("SCAN anon_") and "TEMP B-TREE" in step
    )


def _step(line: str) -> str:
    return line.strip().removeprefix("->").strip()
