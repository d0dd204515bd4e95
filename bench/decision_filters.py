"""GET /v1/decisions on a large log: the plan and time of every filter combination.

Goal: on a log of a million decisions, no filter combination of DecisionLog.find (contact_id,
home_region, reason, decision, evaluated_at range, contact_date range, cursor; 128 in all) scans
the table or sorts: each reads one index in (evaluated_at, seq) order and stops when its page is
full or the index part it reads ends. The same for keys scoped to one region (25, 01): without
contact_id or home_region, a read per index of home_region and care_region, merged (SQLite sorts
each read's page for the merge).

The rows are written straight into the table by the database itself (INSERT ... SELECT over a
generated series), not through HTTP: a contact's and its verdict's text as the service stores them,
700,000 contact ids (some decided twice), 21 regions, 14 reasons in realistic proportions, care
given in 01, 12 and 14 for 65% of contacts (digital providers), else in the home region,
evaluated_at 30 s apart over a year, contact_date up to 60 days before. PostgreSQL (a private
cluster, tests/storage/pgserver.py) is analysed after the load as autovacuum would; SQLite plans
without statistics, as the service leaves it. Each combination's plan comes from EXPLAIN (QUERY
PLAN) of find's query; its time is one call of DecisionLog.find (limit 100) after an untimed one.

    .venv/bin/python bench/decision_filters.py [sqlite] [postgresql] [--rows 1000000]
"""

import argparse
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from api.storage import Storage  # noqa: E402
from api.storage.decision_log import MAX_PAGE, encode_cursor  # noqa: E402
from tests.storage import pgserver  # noqa: E402
from tests.storage.helpers import contact, pending  # noqa: E402
from tests.storage.query_plans import (  # noqa: E402
    every_combination,
    index_used,
    merge_sorts,
    plan,
    sorts,
    table_scanned,
)

REGIONS = "010304050607080910121314171819202122232425"  # 21 two-digit codes, packed
# (reason, decision, share in %): digital contacts dominate, as in the seed's statistics.
REASONS = (
    ("DIGITAL_TARIFF", "pay", 35),
    ("DIGITAL_NOT_CONTRACTED", "no_pay", 20),
    ("OUTPATIENT_FREE_CHOICE", "pay", 12),
    ("ACUTE_CARE", "pay", 8),
    ("CONTRACTED_PROVIDER", "pay", 6),
    ("DIGITAL_REFERRED", "pay", 4),
    ("IN_REGION", "pay", 3),
    ("REFERRAL_MISSING", "no_pay", 3),
    ("TELEPHONE_NOT_REIMBURSED", "no_pay", 3),
    ("DIGITAL_REQUIREMENTS_NOT_MET", "no_pay", 2),
    ("MATERNITY_CARE", "pay", 1),
    ("INPATIENT_APPROVED", "pay", 1),
    ("INPATIENT_NOT_APPROVED", "no_pay", 1),
    ("INVOICE_TIME_BARRED", "no_pay", 1),
)
# (care region, share in %): digital providers' care is given in a few regions; the rest in the
# home region.
CARE_REGIONS = (("01", 40), ("12", 15), ("14", 10))
START = datetime(2024, 1, 1, tzinfo=UTC)
STEP_SECONDS = 30
CHUNK = 100_000
# The keys whose reads are timed: every region ("*", None), a region little care is given in (25:
# its decisions mostly by home_region), one most digital care is given in (01: by care_region).
SCOPES = (None, "25", "01")


def _case(column: int) -> str:
    """CASE over the row's slot (0-99) picking REASONS' reason (column 0) or decision (1)."""
    branches, upper = [], 0
    for row in REASONS:
        upper += row[2]
        branches.append(f"WHEN slot < {upper} THEN '{row[column]}'")
    return "CASE " + " ".join(branches) + " END"


def _care_region() -> str:
    """CASE over the contact's care_slot (0-99) picking its care region from CARE_REGIONS, else home."""
    branches, upper = [], 0
    for region, share in CARE_REGIONS:
        upper += share
        branches.append(f"WHEN care_slot < {upper} THEN '{region}'")
    return "CASE " + " ".join(branches) + " ELSE home END"


def fill_sql(dialect: str, contacts: int) -> str:
    """One INSERT ... SELECT of the rows i = :first .. :last (seq = i in an empty table)."""
    if dialect == "sqlite":
        series = "WITH RECURSIVE s(i) AS (SELECT @first@ UNION ALL SELECT i + 1 FROM s WHERE i < @last@)"
        source = "s"
        decision_id = "printf('%08x-0000-4000-8000-%012x', i, i)"
        idem_key = "printf('%064x', i)"
        moment = f"{int(START.timestamp())} + i * {STEP_SECONDS}"
        evaluated_at = f"strftime('%Y-%m-%d %H:%M:%S', {moment}, 'unixepoch') || '.000000'"
        contact_date = f"date({moment} - ((i * 7919) % 60) * 86400, 'unixepoch')"
    else:
        series = ""
        source = "generate_series(@first@::bigint, @last@::bigint) AS s(i)"
        decision_id = "lpad(to_hex(i), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(i), 12, '0')"
        idem_key = "lpad(to_hex(i), 64, '0')"
        moment = f"(timestamptz '{START.isoformat()}' + i * interval '{STEP_SECONDS} seconds')"
        evaluated_at = moment
        contact_date = f"(({moment} - ((i * 7919) % 60) * interval '1 day') AT TIME ZONE 'UTC')::date"
    sql = f"""{series}
    INSERT INTO decisions (decision_id, idem_key, contact_id, home_region, care_region, revision,
        contact_date, decision, reason, amount_ore, contact, verdict, policy_digest, layers,
        evaluated_at, client, supersedes, tx)
    SELECT {decision_id}, {idem_key}, 'C' || (i % {contacts}), home, {_care_region()},
        i / {contacts} + 1, {contact_date}, {_case(1)}, {_case(0)}, 50000, @contact@, @verdict@,
        @digest@, @layers@, {evaluated_at}, 'bench', NULL, 'bench'
    FROM (SELECT i, ((i * 2654435761) % 9973) % 100 AS slot, (((i % {contacts}) * 7919) % 9973) % 100 AS
          care_slot, substr('{REGIONS}', CAST(1 + 2 * ((((i % {contacts}) * 40503) % 65521) % 21) AS
          INTEGER), 2) AS home FROM {source}) AS rows
    """
    if dialect == "postgresql":
        sql = sql.replace("%", "%%")  # psycopg's placeholders start with %
    placeholder = ":{}" if dialect == "sqlite" else "%({})s"
    for name in ("first", "last", "contact", "verdict", "digest", "layers"):
        sql = sql.replace(f"@{name}@", placeholder.format(name))
    return sql


def fill(storage: Storage, rows: int, contacts: int) -> float:
    sample = pending(contact("C0"))
    texts = {
        "contact": sample.contact_text.decode(),
        "verdict": sample.verdict.decode(),
        "digest": sample.policy_digest,
        "layers": sample.layers,
    }
    dialect = storage.engine.dialect.name
    sql = fill_sql(dialect, contacts)
    began = time.perf_counter()
    for first in range(1, rows + 1, CHUNK):
        with storage.engine.begin() as conn:
            conn.exec_driver_sql(sql, {"first": first, "last": min(first + CHUNK - 1, rows), **texts})
    if dialect == "postgresql":
        with storage.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE decisions")
    return time.perf_counter() - began


def sample_values(rows: int, contacts: int) -> dict:
    number = min(100_000, contacts // 2)  # a contact decided twice when rows > contacts + number
    region_index = ((number * 40503) % 65521) % 21
    middle = rows // 2
    return {
        "contact_id": f"C{number}",
        "home_region": REGIONS[2 * region_index : 2 * region_index + 2],
        "reason": "DIGITAL_TARIFF",
        "decision": "pay",
        "evaluated": (START + timedelta(days=170), START + timedelta(days=177)),
        "contact_date": (date(2024, 6, 1), date(2024, 6, 30)),
        "after": (START + timedelta(seconds=middle * STEP_SECONDS), middle),
    }


def find_arguments(arguments: dict) -> dict:
    if "after" not in arguments:
        return arguments
    at, seq = arguments["after"]
    return {**{k: v for k, v in arguments.items() if k != "after"}, "cursor": encode_cursor(at, seq)}


def _plan_text(lines: list[str]) -> str:
    steps = [line.split("  (cost=")[0].strip().lstrip("-> ").strip() for line in lines]
    return " / ".join(step for step in steps if not step.startswith(("Index Cond", "Filter", "Recheck")))


def run(database: str, rows: int) -> bool:
    contacts = int(rows * 0.7)
    with tempfile.TemporaryDirectory(prefix="bench-filters-") as tmp:
        server = None
        if database == "sqlite":
            url = f"sqlite:///{Path(tmp) / 'decisions.sqlite3'}"
        else:
            server = pgserver.PrivatePostgres()
            server.start()
            url = server.create_database("bench")
        storage = Storage.open(url)
        try:
            seconds = fill(storage, rows, contacts)
            print(f"\n{database}: {storage.decisions.count():,} decisions written in {seconds:.0f} s")
            passed, timed = True, []
            for scope in SCOPES:
                values = sample_values(rows, contacts)
                if scope is not None:
                    values["home_region"] = scope
                regions = frozenset({scope}) if scope is not None else None
                print(f"\nkey's regions: {scope or '*'}; values: {values}")
                print(f"{'filters':58} {'index':32} {'ms':>8} {'rows':>4}  faults | plan")
                for name, arguments in every_combination(values):
                    arguments = {**arguments, "regions": regions}
                    with storage.engine.connect() as conn:
                        lines = plan(conn, arguments)
                    found = ["table scan"] if table_scanned(lines) else []
                    found += [f"sort of ~{n} rows" if n is not None else "sort" for n in sorts(lines)]
                    # SQLite's sorts of a scoped key's reads (each at most a page) are not large.
                    unbounded = sum(n is None for n in sorts(lines)) - merge_sorts(lines)
                    large = (
                        table_scanned(lines) or unbounded > 0 or any(n and n > MAX_PAGE for n in sorts(lines))
                    )
                    storage.decisions.find(**find_arguments(arguments))
                    began = time.perf_counter()
                    page = storage.decisions.find(**find_arguments(arguments))
                    ms = (time.perf_counter() - began) * 1000
                    name = f"{scope}:{name}" if scope else name
                    timed.append((ms, name))
                    passed = passed and not large
                    flag = ",".join(found) or "ok"
                    index = index_used(lines)
                    print(f"{name:58} {index:32} {ms:8.1f} {len(page.items):4}  {flag} | {_plan_text(lines)}")
            timed.sort(reverse=True)
            print("slowest: " + "; ".join(f"{name} {ms:.0f} ms" for ms, name in timed[:5]))
            verdict = "PASS" if passed else "FAIL"
            print(f"{database}: {verdict}: no combination scans the table or sorts more than a page")
            return passed
        finally:
            storage.close()
            if server is not None:
                server.destroy()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "databases", nargs="*", choices=("sqlite", "postgresql"), default=["sqlite", "postgresql"]
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    results = [run(database, args.rows) for database in args.databases]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
