"""What one single-verdict transaction of the SQLite decision log costs, and what makes it dearer
under load: another connection's commit before it, and each index of the decisions table.

Under gunicorn every worker writes through a connection of its own. When another connection has
committed since this one's last transaction, SQLite cannot tell which pages changed and drops the
connection's whole page cache (pager_reset): the next transaction reads again every page on the
way to the row and to each index entry. With five workers storing single verdicts, nearly every
transaction follows another worker's commit. The in-process figures of single_verdict_parts.py
(one connection) do not show this; `alternating` here does, by storing through two connections in
turn. The last two schemas drop listing indexes from a new database to price each one (a
measurement only: the service needs them for GET /v1/decisions). The WAL is checkpointed as in the service, by
its background thread every 0.5 s.

Per transaction: median and mean µs of DecisionLog.record_now (group commit, the writer lock,
BEGIN IMMEDIATE, the lookups, the INSERT, COMMIT) with one new decision, and the read and write
system calls it made (/proc/self/io: the page reads after a cache drop, two writes per WAL frame).

    .venv/bin/python bench/log_transaction_costs.py [--stored 20000] [--transactions 3000]
"""

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import rules  # noqa: E402
from api import examples, issuing  # noqa: E402
from api.storage import Storage  # noqa: E402
from api.storage.checkpointer import WalCheckpointer  # noqa: E402
from api.storage.decision_log import DecisionLog  # noqa: E402
from api.storage.engine import make_engine  # noqa: E402

LISTING_INDEXES = (
    "ix_decisions_contact_date",
    "ix_decisions_evaluated",
    "ix_decisions_reason_evaluated",
    "ix_decisions_region_evaluated",
)


class Entries:
    """One new decision per call (a new contact_id each), decided by the real engine."""

    def __init__(self):
        self.policy = rules.default_policy()
        self.serial = 0

    def __call__(self, count: int = 1) -> list:
        contacts = []
        for _ in range(count):
            self.serial += 1
            contacts.append({**examples.NORRBOTTEN_VIDEO, "contact_id": f"cost-{self.serial}"})
        verdicts = [rules.evaluate(contact, self.policy) for contact in contacts]
        at = issuing.evaluated_at_now()
        return issuing.entries_for(verdicts, contacts, issuing.records_for(verdicts, at), at, "bench")


def io_calls() -> tuple[int, int]:
    fields = dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())
    return int(fields["syscr"]), int(fields["syscw"])


def database(directory: str, stored: int, without: tuple[str, ...], entries: Entries) -> str:
    """The path of a new, migrated decision log holding `stored` decisions, less the indexes named."""
    path = f"{directory}/log-{len(without)}.sqlite3"
    storage = Storage.open(f"sqlite:///{path}")
    try:
        for start in range(0, stored, 1000):
            transaction = storage.decisions.begin()
            transaction.record(entries(min(1000, stored - start)))
            transaction.commit()
    finally:
        storage.close()
    connection = sqlite3.connect(path)
    for index in without:
        connection.execute(f"DROP INDEX {index}")
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    return path


def measure(logs: list[DecisionLog], count: int, entries: Entries) -> tuple[float, float, float, float]:
    """(median µs, mean µs, reads, writes) per transaction, storing through `logs` in turn."""
    batches = [entries() for _ in range(count)]
    times = []
    reads, writes = io_calls()
    for number, batch in enumerate(batches):
        started = time.perf_counter_ns()
        logs[number % len(logs)].record_now(batch)
        times.append(time.perf_counter_ns() - started)
    after_reads, after_writes = io_calls()
    return (
        statistics.median(times) / 1000,
        statistics.fmean(times) / 1000,
        (after_reads - reads) / count,
        (after_writes - writes) / count,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stored", type=int, default=20_000, help="decisions in the log before timing")
    parser.add_argument("--transactions", type=int, default=3000, help="timed transactions per row")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    entries = Entries()
    schemas = {
        "all indexes (the service)": (),
        "without contact_date, evaluated": LISTING_INDEXES[:2],
        "without the 4 listing indexes": LISTING_INDEXES,
    }
    with tempfile.TemporaryDirectory(prefix="utomlans-log-costs-") as directory:
        print(
            f"single-verdict transactions, {args.stored:,} decisions stored first, "
            f"{args.transactions:,} per row, {args.rounds} rounds (median, mean, syscalls):"
        )
        for label, without in schemas.items():
            path = database(directory, args.stored, without, entries)
            engines = [make_engine(f"sqlite:///{path}") for _ in range(2)]
            logs = [DecisionLog(engine) for engine in engines]
            for log in logs:
                log.record_now(entries())  # open each connection, read the schema
            # As in the service (Storage): the WAL is checkpointed every 0.5 s, off the request path.
            checkpointer = WalCheckpointer(path, engines[0].sqlite_writer_lock).start()
            print(f"  {label}")
            for round_number in range(args.rounds):
                for mode, used in (("one connection", logs[:1]), ("alternating", logs)):
                    median, mean, reads, writes = measure(used, args.transactions, entries)
                    print(
                        f"    round {round_number + 1} {mode:15} {median:6.0f} µs median {mean:6.0f} µs mean"
                        f"   {reads:5.1f} reads {writes:5.1f} writes"
                    )
            checkpointer.stop()
            for log, engine in zip(logs, engines, strict=True):
                log.close()
                engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
