"""Group commit (api/storage/group_commit.py): concurrent single verdicts share one transaction,
each still gets its own answer, one request's failure is its own, and none waits forever."""

import threading
import time

import orjson
import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from api.storage.group_commit import GroupCommit

from .helpers import contact, pending


def wait_until(condition, timeout=10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.005)
    return False


def _submit_all(grouping, entries_list):
    """Submit each entries list from a thread of its own; (answers, errors) in submit order."""
    answers = [None] * len(entries_list)
    errors = [None] * len(entries_list)

    def submit(i):
        try:
            answers[i] = grouping.submit(entries_list[i])
        except Exception as exc:  # reported to the test
            errors[i] = exc

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(len(entries_list))]
    return threads, answers, errors


def _first_then_the_rest(grouping, opened: threading.Event, entries_list, *, first_taken: bool):
    """The first request starts a transaction that waits for `opened` (having taken its request,
    or not yet); the others queue behind it; then `opened` is set. (answers, errors)."""
    threads, answers, errors = _submit_all(grouping, entries_list)
    threads[0].start()
    assert wait_until(lambda: grouping.queued == (0 if first_taken else 1) and threads[0].is_alive())
    for thread in threads[1:]:
        thread.start()
    assert wait_until(lambda: grouping.queued == len(entries_list) - (1 if first_taken else 0))
    opened.set()
    for thread in threads:
        thread.join(timeout=30)
    return answers, errors


class Gate:
    """A run() whose first transaction waits until the test opens the gate: after it took its
    requests (a transaction under way), or before (waiting for the writer lock)."""

    def __init__(self, fail=lambda groups: None, *, before_taking=False):
        self.opened = threading.Event()
        self.transactions: list[list] = []
        self.fail = fail
        self.before_taking = before_taking

    def run(self, take):
        first = not self.transactions and not self.opened.is_set()
        if first and self.before_taking:
            self.opened.wait(timeout=10)
        groups = take()
        if first and not self.before_taking:
            self.opened.wait(timeout=10)
        self.transactions.append(list(groups))
        self.fail(groups)
        return [[f"stored {entry}" for entry in entries] for entries in groups]


def test_requests_that_arrive_during_a_transaction_share_the_next_one_and_get_their_own_answers():
    gate = Gate()
    grouping = GroupCommit(gate.run)
    answers, errors = _first_then_the_rest(
        grouping, gate.opened, [[f"r{i}"] for i in range(6)], first_taken=True
    )
    assert errors == [None] * 6
    assert answers == [[f"stored r{i}"] for i in range(6)]
    assert [len(groups) for groups in gate.transactions] == [1, 5]
    assert (grouping.transactions, grouping.requests) == (2, 6)


def test_requests_that_arrive_while_the_leader_waits_for_the_writer_lock_join_its_transaction():
    gate = Gate(before_taking=True)
    grouping = GroupCommit(gate.run)
    answers, errors = _first_then_the_rest(
        grouping, gate.opened, [[f"r{i}"] for i in range(4)], first_taken=False
    )
    assert errors == [None] * 4
    assert answers == [[f"stored r{i}"] for i in range(4)]
    assert [len(groups) for groups in gate.transactions] == [4]


def test_a_failure_that_may_be_one_requests_own_fails_only_that_request():
    def fail(groups):
        if ["bad"] in groups:
            raise ValueError("bad entries")

    gate = Gate(fail)
    grouping = GroupCommit(gate.run, alone_after=lambda error: isinstance(error, ValueError))
    answers, errors = _first_then_the_rest(
        grouping, gate.opened, [["first"], ["a"], ["bad"], ["b"]], first_taken=True
    )
    assert isinstance(errors[2], ValueError) and answers[2] is None
    assert [answers[i] for i in (0, 1, 3)] == [["stored first"], ["stored a"], ["stored b"]]
    # The shared transaction failed, then each of its requests was tried alone.
    assert sorted(map(str, gate.transactions[2:])) == sorted(map(str, [[["a"]], [["bad"]], [["b"]]]))


def test_an_outage_fails_every_request_of_the_transaction_without_trying_each_again():
    def fail(groups):
        raise OperationalError("INSERT", None, Exception("database is gone"))

    gate = Gate(fail)
    grouping = GroupCommit(gate.run, alone_after=lambda error: not isinstance(error, OperationalError))
    answers, errors = _first_then_the_rest(grouping, gate.opened, [["first"], ["a"], ["b"]], first_taken=True)
    assert all(isinstance(error, OperationalError) for error in errors)
    assert answers == [None, None, None]
    assert len(gate.transactions) == 2  # the first request's, then the other two together


def test_many_threads_submitting_again_and_again_all_get_their_answers():
    grouping = GroupCommit(lambda take: [[entry * 2 for entry in entries] for entries in take()])
    results = {}

    def worker(t):
        results[t] = [grouping.submit([t * 1000 + n])[0] for n in range(300)]

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a request was never answered"
    assert results == {t: [2 * (t * 1000 + n) for n in range(300)] for t in range(8)}
    assert grouping.requests == 2400 and grouping.transactions <= 2400


def test_single_verdicts_waiting_for_the_sqlite_writer_lock_are_stored_in_one_transaction(tmp_path):
    from api.storage import Storage

    storage = Storage.open(f"sqlite:///{tmp_path / 'd.sqlite3'}")
    try:
        log = storage.decisions
        first = pending(contact("x-0"))
        others = [pending(contact(f"x-{i}")) for i in range(1, 6)]
        same = pending(contact("x-1"))  # identical to others[0]
        changed = pending(contact("x-2", claimed_amount_sek="99.00"))  # supersedes others[1]
        entries = [[first]] + [[entry] for entry in others] + [[same]]
        threads, answers, errors = _submit_all(log.grouping, entries)
        with storage.engine.sqlite_writer_lock.held():  # a batch of another worker, say
            threads[0].start()
            assert wait_until(lambda: log.grouping.queued == 1 and threads[0].is_alive())
            for thread in threads[1:]:
                thread.start()
            assert wait_until(lambda: log.grouping.queued == len(entries))
        for thread in threads:
            thread.join(timeout=30)
        assert errors == [None] * len(entries)
        # All of them waited for the lock together and were stored in one transaction.
        assert (log.grouping.transactions, log.grouping.requests) == (1, len(entries))
        assert log.count() == 6
        ids = [orjson.loads(answer[0])["decision_id"] for answer in answers]
        assert ids[-1] == ids[1] == others[0].decision_id  # the repeat got the stored decision
        assert [log.get(entry.decision_id) is not None for entry in [first, *others]] == [True] * 6
        [superseding] = log.record([changed])
        assert superseding["supersedes"] == others[1].decision_id
    finally:
        storage.close()


def test_in_a_shared_transaction_a_failing_request_fails_alone_and_the_others_are_stored(storage):
    log = storage.decisions
    taken = pending(contact("taken"))
    log.record([taken])
    clash = pending(contact("clash"))._replace(decision_id=taken.decision_id)  # a unique id reused
    good = [pending(contact(f"good-{i}")) for i in range(4)]
    opened, sizes = threading.Event(), []

    def run(take):  # the decision log's own transaction, the first one held until all queued
        if not sizes:
            opened.wait(timeout=10)
        sizes.append(len(take()))
        return log._record_groups(take)

    grouping = GroupCommit(run, alone_after=log.grouping._alone_after)
    entries = [[good[0]], [good[1]], [clash], [good[2]], [good[3]]]
    _, errors = _first_then_the_rest(grouping, opened, entries, first_taken=False)
    assert sizes == [5, 1, 1, 1, 1, 1]  # the shared transaction failed, then each alone
    assert isinstance(errors[2], IntegrityError)
    assert errors[:2] + errors[3:] == [None] * 4
    assert [log.get(entry.decision_id)["contact_id"] for entry in good] == [f"good-{i}" for i in range(4)]
    assert log.get(taken.decision_id)["contact_id"] == "taken"
    assert log.count() == 5


@pytest.mark.parametrize("repeat", [2, 5])
def test_identical_single_verdicts_in_one_transaction_are_one_decision(storage, repeat):
    entries = [[pending(contact("same"))] for _ in range(repeat)]
    answers = storage.decisions._record_groups(lambda: entries)
    ids = {orjson.loads(answer[0])["decision_id"] for answer in answers}
    assert ids == {entries[0][0].decision_id}
    assert storage.decisions.count() == 1
