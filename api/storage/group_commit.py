"""Group commit: concurrent requests of one worker share one decision-log transaction.

Each single verdict is stored before its response. With one transaction per request, the writer
lock, BEGIN, COMMIT (a WAL write of every page the transaction dirtied) and the time between were
paid once per request, and the worker's other request threads queued behind the lock. Here a
request that finds a transaction under way queues its entries; when that transaction ends, the
first request queued leads the next one, for every request queued by the time it holds the writer
lock (leader and followers: no extra thread, and no request waits longer than the transaction
under way plus its own).

A failed transaction fails every request in it, and none of them is answered as decided; when the
failure may be one request's own (`alone_after`), each request of the group is tried again in a
transaction of its own first, so only that one fails.
"""

import threading
from collections.abc import Callable, Sequence

from prometheus_client import Counter

TRANSACTIONS = Counter(
    "utomlans_decision_log_shared_transactions",
    "Decision-log transactions of single verdicts (group commit), failed ones included.",
)
REQUESTS = Counter(
    "utomlans_decision_log_shared_transaction_requests",
    "Requests stored in those transactions: divided by them, how many requests shared each.",
)


class _Request:
    __slots__ = ("entries", "done", "leads", "answer", "error")

    def __init__(self, entries):
        self.entries = entries
        self.done = threading.Event()
        self.leads = False  # set, with `done`, for the request that leads the next transaction
        self.answer = None
        self.error: BaseException | None = None


class GroupCommit:
    """`submit(entries)` returns the answers `run` gave for this call's entries. `run(take)` gets
    ready to write (on SQLite: waits for the writer lock), then calls `take()` for every queued
    request's entries (so requests that arrive while it waits still join), stores them in one
    transaction, commits it and returns their answers in that order."""

    def __init__(
        self,
        run: Callable[[Callable[[], list[Sequence]]], list],
        alone_after: Callable[[BaseException], bool] = lambda error: False,
    ):
        self._run = run
        self._alone_after = alone_after
        self._mutex = threading.Lock()
        self._queue: list[_Request] = []
        self._leading = False
        self.transactions = 0  # for tests and operators: requests / transactions is the gain
        self.requests = 0

    @property
    def queued(self) -> int:
        """Requests waiting for the next transaction."""
        with self._mutex:
            return len(self._queue)

    def submit(self, entries: Sequence):
        request = _Request(entries)
        with self._mutex:
            self._queue.append(request)
            leads = not self._leading
            self._leading = True
        if not leads:
            request.done.wait()
            leads = request.leads
        if leads:
            self._lead()
        if request.error is not None:
            raise request.error
        return request.answer

    def _lead(self) -> None:
        group: list[_Request] = []
        try:
            group = self._store(self._take_queue)
        finally:
            with self._mutex:
                following = self._queue[0] if self._queue else None
                self._leading = following is not None
            if following is not None:
                following.leads = True
                following.done.set()
            for request in group:
                request.done.set()

    def _take_queue(self) -> list[_Request]:
        with self._mutex:
            group, self._queue = self._queue, []
        return group

    def _store(self, take_group: Callable[[], list[_Request]]) -> list[_Request]:
        """One transaction for the requests take_group() returns when `run` asks; those requests."""
        group: list[_Request] = []

        def take() -> list[Sequence]:
            if not group:
                group.extend(take_group())
            return [request.entries for request in group]

        try:
            answers = self._run(take)
        except BaseException as error:  # noqa: BLE001 - handed to every request of the group
            take()  # the requests it failed for, also when it failed before taking them
            if len(group) > 1 and self._alone_after(error):
                for request in group:
                    self._store(lambda request=request: [request])
                return group
            for request in group:
                request.error = error
        else:
            for request, answer in zip(group, answers, strict=True):
                request.answer = answer
        self.transactions += 1
        self.requests += len(group)
        TRANSACTIONS.inc()
        REQUESTS.inc(len(group))
        return group
