"""The impact of a policy version on a stored log of a million decisions: under a minute.

Goal (issue 17): POST /v1/policy-versions/{digest}/impact over 1,000,000 stored decisions answers
in under 60 s on this machine, with progress in the log, memory bounded, and no statement stopped by
the service's statement time limit (UTOMLANS_STATEMENT_TIMEOUT_MS, 5 s by default: the run below
reads with that limit set, as the service does).

The rows are written straight into the table by the database (INSERT ... SELECT over a generated
series, as decision_filters.py does), each a copy of one of 1,000 real decisions: synthetic 2022
contacts (rules.simulation.generator; 700 of Norrbotten's residents, 300 of Stockholm's) decided
under the version in force, stored as the service stores them (age reduced to its group, the
verdict's JSON). 700,000 contacts, 300,000 of them decided twice (the newest counts); a tenth of the
decisions name no contract book (as if stored before migration 0009); evaluated_at 30 s apart. The
candidate is the version in force with Norrbotten's stop made advisory. Timed: one call of the
storage function (api.storage.policy_impact.impact), then one HTTP call to the service under
gunicorn (the shipped config) on the same database.

    .venv/bin/python bench/policy_impact.py [sqlite] [postgresql] [--rows 1000000]
"""

import argparse
import logging
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from server import request  # noqa: E402

import rules  # noqa: E402
from api.decision_entry import stored_contact_text  # noqa: E402
from api.storage import Storage  # noqa: E402
from api.storage.policy_impact import impact  # noqa: E402
from rules.simulation.generator import GeneratorSpec, generate  # noqa: E402
from tests.storage import pgserver  # noqa: E402
from tests.storage.gunicorn_server import running_gunicorn  # noqa: E402
from tests.storage.helpers import advisory_files  # noqa: E402

GOAL_SECONDS = 60
TEMPLATES = 1000
START = datetime(2024, 1, 1, tzinfo=UTC)
STEP_SECONDS = 30
CHUNK = 100_000
STATEMENT_TIMEOUT_MS = 5000  # the service's default


def templates(policy) -> list[dict]:
    """1,000 decisions as the log keeps them: 700 Norrbotten, 300 Stockholm contacts of 2022."""
    contacts = [
        *generate(GeneratorSpec(2022, "25", 700, seed=17)),
        *generate(GeneratorSpec(2022, "01", 300, seed=17)),
    ]
    rows = []
    for k, data in enumerate(contacts):
        verdict = rules.evaluate(data, policy)
        rows.append(
            {
                "k": k,
                "contact": stored_contact_text(data).decode(),
                "verdict": orjson.dumps(verdict.to_dict()).decode(),
                "home_region": data["home_region"],
                "care_region": data["care_region"],
                "contact_date": data["contact_date"],
                "decision": verdict.decision,
                "reason": verdict.reason,
                "amount_ore": verdict.amount_ore,
            }
        )
    return rows


def fill_sql(dialect: str, contacts: int) -> str:
    """One INSERT ... SELECT of rows i = :first .. :last, row i a copy of template i % TEMPLATES."""
    if dialect == "sqlite":
        series = "WITH RECURSIVE s(i) AS (SELECT @first@ UNION ALL SELECT i + 1 FROM s WHERE i < @last@)"
        source = "s"
        decision_id = "printf('%08x-0000-4000-8000-%012x', i, i)"
        idem_key = "printf('%064x', i)"
        moment = f"{int(START.timestamp())} + i * {STEP_SECONDS}"
        evaluated_at = f"strftime('%Y-%m-%d %H:%M:%S', {moment}, 'unixepoch') || '.000000'"
        contact_date = "t.contact_date"
    else:
        series = ""
        source = "generate_series(@first@::bigint, @last@::bigint) AS s(i)"
        decision_id = "lpad(to_hex(i), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(i), 12, '0')"
        idem_key = "lpad(to_hex(i), 64, '0')"
        evaluated_at = f"(timestamptz '{START.isoformat()}' + i * interval '{STEP_SECONDS} seconds')"
        contact_date = "t.contact_date::date"
    sql = f"""{series}
    INSERT INTO decisions (decision_id, idem_key, contact_id, home_region, care_region, revision,
        contact_date, decision, reason, amount_ore, contact, verdict, policy_digest, layers,
        evaluated_at, client, supersedes, policy_version, contract_book, tx)
    SELECT {decision_id}, {idem_key}, 'C' || (i % {contacts}), t.home_region, t.care_region,
        i / {contacts} + 1, {contact_date}, t.decision, t.reason, t.amount_ore, t.contact, t.verdict,
        @version@, '[]', {evaluated_at}, 'bench', NULL, @version@,
        CASE WHEN i % 10 = 0 THEN NULL ELSE @book@ END, 'bench'
    FROM {source} JOIN bench_templates t ON t.k = i % {TEMPLATES}
    """
    if dialect == "postgresql":
        sql = sql.replace("%", "%%")  # psycopg's placeholders start with %
    placeholder = ":{}" if dialect == "sqlite" else "%({})s"
    for name in ("first", "last", "book", "version"):
        sql = sql.replace(f"@{name}@", placeholder.format(name))
    return sql


def fill(storage: Storage, rows: int) -> float:
    contacts = rows * 7 // 10 // TEMPLATES * TEMPLATES or rows  # a multiple of TEMPLATES: a contact
    live = storage.live.current()  # keeps its template when decided again
    dialect = storage.engine.dialect.name
    began = time.perf_counter()
    with storage.engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE bench_templates (k INTEGER PRIMARY KEY, contact TEXT, verdict TEXT, "
            "home_region TEXT, care_region TEXT, contact_date TEXT, decision TEXT, reason TEXT, "
            "amount_ore BIGINT)"
        )
        names = ("k", "contact", "verdict", "home_region", "care_region", "contact_date")
        names += ("decision", "reason", "amount_ore")
        mark = ":{}" if dialect == "sqlite" else "%({})s"
        params = ", ".join(mark.format(name) for name in names)
        conn.exec_driver_sql(f"INSERT INTO bench_templates VALUES ({params})", templates(live))
    sql = fill_sql(dialect, contacts)
    for first in range(1, rows + 1, CHUNK):
        with storage.engine.begin() as conn:
            conn.exec_driver_sql(
                sql,
                {
                    "first": first,
                    "last": min(first + CHUNK - 1, rows),
                    "book": live.contracts.digest,
                    "version": live.version,
                },
            )
    with storage.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE bench_templates")
    if dialect == "postgresql":
        with storage.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE decisions")
    return time.perf_counter() - began


def run(database: str, rows: int) -> bool:
    with tempfile.TemporaryDirectory(prefix="bench-impact-") as tmp:
        server = None
        if database == "sqlite":
            path = Path(tmp) / "decisions.sqlite3"
            url, env = f"sqlite:///{path}", {"DATABASE_URL": None, "DATABASE_PATH": str(path)}
        else:
            server = pgserver.PrivatePostgres(fsync=True)
            server.start()
            url = server.create_database("bench")
            env = {"DATABASE_PATH": None, "DATABASE_URL": url}
        try:
            filler = Storage.open(url)
            seconds = fill(filler, rows)
            candidate = filler.versions.add(advisory_files(), actor="bench", note="stop advisory")[0][
                "digest"
            ]
            print(f"\n{database}: {filler.decisions.count():,} decisions written in {seconds:.0f} s")
            filler.close()

            storage = Storage.open(url, statement_timeout_ms=STATEMENT_TIMEOUT_MS)
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            began = time.perf_counter()
            result = impact(storage, candidate).to_dict()
            direct = time.perf_counter() - began
            rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            storage.close()
            print(
                f"storage function: {result['decisions']:,} contacts re-decided in {direct:.1f} s "
                f"({result['decisions'] / direct:,.0f}/s), {result['changed_decisions']:,} changed, "
                f"delta {result['amount_delta_sek']} SEK, {result['without_contract_book']:,} without a "
                f"contract book, {result['rejected']['count']} rejected; peak RSS {rss_after:.0f} MB "
                f"({rss_before:.0f} MB before)"
            )
            print(
                "changed: "
                + "; ".join(f"{c['from']} -> {c['to']}: {c['count']:,}" for c in result["changed"])
            )

            with running_gunicorn(
                Path(tmp) / "gunicorn.log",
                workers=2,
                env={**env, "GUNICORN_ACCESS_LOG": "", "LOG_LEVEL": "info"},
            ) as (base, _):
                elapsed, status, body = request(
                    base, "POST", f"/v1/policy-versions/{candidate}/impact", timeout=600
                )
            answer = orjson.loads(body)
            same = status == 200 and answer == result
            print(f"HTTP: {status} in {elapsed:.1f} s, {'the same answer' if same else 'ANOTHER ANSWER'}")
            progress = [
                line for line in (Path(tmp) / "gunicorn.log").read_text().splitlines() if "impact of" in line
            ]
            last = progress[-1] if progress else "-"
            print(f"progress lines in the service log: {len(progress)}; last: {last}")
            passed = same and direct < GOAL_SECONDS and elapsed < GOAL_SECONDS
            print(f"{database}: {'PASS' if passed else 'FAIL'}: {rows:,} decisions in under {GOAL_SECONDS} s")
            return passed
        finally:
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
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("api").setLevel(logging.INFO)
    results = [run(database, args.rows) for database in args.databases]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
