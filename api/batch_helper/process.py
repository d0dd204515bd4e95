"""The worker's side: start the helper, keep it fed, take its chunks back in order, and decide
anything it cannot (not started yet, busy with another batch, died, failed a chunk) in the worker.

A batch's chunks are recorded and answered in input order (a later line may supersede an earlier
one of the same contact). The helper has up to DEPTH chunks at a time. When the chunk the worker
must record next is still at the helper, the worker decides the next unassigned chunk itself if the
helper has more work left than the worker (from the measured time per chunk of each), and waits
otherwise: the two processes share the work however fast each one is at the moment.
"""

import logging
import os
import socket
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Iterator
from pathlib import Path

import orjson

from ..batch_chunks import DecidedChunk, decide_chunk
from . import wire
from .policy_sync import contracts_payload, fingerprint

log = logging.getLogger("api.batch_helper")

DEPTH = 2  # chunks at the helper: one it decides, one waiting, so it never idles between them
ANSWER_TIMEOUT_SECONDS = 60.0  # one chunk takes tens of ms; past this the helper is taken as hung
RESTART_AFTER_SECONDS = 30.0  # after a helper died or failed to start, the worker decides alone


class BatchHelper:
    """One helper process for one worker process (started at the first batch that can use it)."""

    def __init__(self, policy_dir: str = "", chunk_lines: int = 500):
        self.policy_dir = policy_dir
        self.chunk_lines = chunk_lines
        self._busy = threading.Lock()  # one batch at a time; another one is decided in the worker
        self._process: subprocess.Popen | None = None
        self._sock: socket.socket | None = None
        self._ready: dict | None = None  # the helper's "ready" message
        self._contracts: str | None = None  # digest of the contracts the helper decides with
        self._batches = 0
        self._down_since = float("-inf")
        self._fingerprints: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._finalizer = None
        self._mismatch_logged = False
        self.chunks_decided = {"helper": 0, "worker": 0}  # since start: how the work was shared
        # Seconds one chunk takes (moving averages) to decide here and at the helper, and to store
        # here: whether to wait for the helper's next chunk or decide one more here meanwhile.
        self.pace = {"helper": None, "worker": None, "storing": None}

    # -- one batch ------------------------------------------------------------------------

    def chunks(
        self, contacts: list, policy, evaluated_at: str, client: str, recorded: bool
    ) -> Iterator[DecidedChunk]:
        """The batch's chunks, decided, in order (as local_chunks would yield them)."""
        if not self._busy.acquire(blocking=False):
            yield from local_chunks(contacts, self.chunk_lines, policy, evaluated_at, client, recorded)
            return
        try:
            yield from _Batch(self, contacts, policy, evaluated_at, client, recorded).run()
        finally:
            self._busy.release()

    def start(self) -> None:
        """Start the helper unless it runs (it loads the policy in its own time: no wait here)."""
        if self._sock is None:
            self._start()

    def usable_for(self, policy) -> bool:
        """Started and ready with this policy's files; starts the helper when it is not running."""
        if self._sock is None:
            self.start()
            return False
        if self._ready is None:
            try:
                message = wire.receive(self._sock, timeout=0)
            except wire.HelperGone as exc:
                self.lost(f"it stopped while starting ({exc})")
                return False
            if message is None:
                return False  # still loading the policy: this batch goes without it
            self._ready = message[0]
        if self._ready["fingerprint"] == self._fingerprint(policy):
            return True
        if not self._mismatch_logged:
            log.warning(
                "batch helper (pid %s) loaded other policy files than this worker decides with "
                "(changed on disk since the worker started?): the worker decides batches alone",
                self.pid,
            )
            self._mismatch_logged = True
        return False

    def send_contracts_of(self, policy) -> None:
        digest = policy.contracts.digest
        if digest != self._contracts:
            wire.send(self._sock, {"op": "contracts", "digest": digest}, contracts_payload(policy.contracts))
            self._contracts = digest

    def next_batch_number(self) -> int:
        self._batches += 1
        return self._batches

    def send_chunk(
        self, batch: int, number: int, start: int, items: list, evaluated_at: str, client: str, recorded: bool
    ) -> None:
        header = {
            "op": "decide",
            "batch": batch,
            "chunk": number,
            "start": start,
            "evaluated_at": evaluated_at,
            "client": client,
            "recorded": recorded,
        }
        wire.send(self._sock, header, orjson.dumps(items))

    def receive(self, wait: bool):
        """The helper's next answer; None if there is none yet (and `wait` is false)."""
        message = wire.receive(self._sock, ANSWER_TIMEOUT_SECONDS if wait else 0)
        if message is None and wait:
            raise wire.HelperGone(f"no answer in {ANSWER_TIMEOUT_SECONDS:.0f} s")
        return message

    def lost(self, why: str) -> None:
        """The helper cannot be used any more: stop it; the worker decides alone for a while."""
        log.warning("batch helper (pid %s): %s; the worker decides batches alone", self.pid, why)
        self.stop()
        self._down_since = time.monotonic()

    # -- the process ----------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def _start(self) -> None:
        if time.monotonic() - self._down_since < RESTART_AFTER_SECONDS:
            return
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "api.batch_helper", str(theirs.fileno()), self.policy_dir],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                env=env,
            )
        except OSError as exc:
            ours.close()
            log.warning("batch helper could not be started (%s): the worker decides batches alone", exc)
            self._down_since = time.monotonic()
            return
        finally:
            theirs.close()
        self._sock = ours
        self._ready = None
        self._contracts = None
        self._finalizer = weakref.finalize(self, _stop, self._process, ours)
        log.info("batch helper started (pid %s)", self._process.pid)

    def stop(self) -> None:
        if self._finalizer is not None:
            self._finalizer()
        self._process = self._sock = self._ready = self._finalizer = None

    def _fingerprint(self, policy) -> str:
        known = self._fingerprints.get(policy)
        if known is None:
            known = self._fingerprints[policy] = fingerprint(policy)
        return known


def _stop(process: subprocess.Popen, sock: socket.socket) -> None:
    """Closing the socket ends the helper (it reads end of file); a hung one is killed."""
    sock.close()
    try:
        process.wait(timeout=2)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class _Batch:
    """The schedule of one batch between the worker and its helper."""

    def __init__(self, helper: BatchHelper, contacts, policy, evaluated_at, client, recorded):
        self.helper = helper
        self.contacts = contacts
        self.policy = policy
        self.args = (evaluated_at, client, recorded)
        self.bounds = chunk_bounds(len(contacts), helper.chunk_lines)
        self.at_helper: set[int] = set()
        self.ready: dict[int, DecidedChunk] = {}
        self.next_assigned = 0
        self.batch = helper.next_batch_number()
        self.using = False

    def run(self) -> Iterator[DecidedChunk]:
        for number in range(len(self.bounds)):
            while number not in self.ready:
                self._step(number)
            chunk = self.ready.pop(number)
            _let_go(self.contacts, *self.bounds[number])
            handed = time.monotonic()
            yield chunk
            _measure(self.helper.pace, "storing", time.monotonic() - handed)

    def _step(self, wanted: int) -> None:
        """One move towards having chunk `wanted` decided."""
        if not self.using:
            self.using = self._use_helper()
        if self.using:
            try:
                if self._step_with_helper(wanted):
                    return
            except wire.HelperGone as exc:
                self._give_up(f"lost during a batch ({exc})")
                return
        self._decide_here(wanted)
        self.next_assigned = max(self.next_assigned, wanted + 1)

    def _step_with_helper(self, wanted: int) -> bool:
        """Feed the helper and take its answers; then wait for `wanted`, or decide the next
        unassigned chunk here while the helper is behind. False: `wanted` is not at the helper."""
        self._feed()
        self._collect(wait=False)
        if wanted in self.ready:
            return True
        if wanted not in self.at_helper:
            return False
        if self.next_assigned < len(self.bounds) and self._helper_is_behind(wanted):
            self._decide_here(self.next_assigned)  # ahead, while the helper works on `wanted`
            self.next_assigned += 1
        else:
            self._collect(wait=True)
        return True

    def _use_helper(self) -> bool:
        helper = self.helper
        if self.next_assigned >= len(self.bounds) or not helper.usable_for(self.policy):
            return False
        try:
            helper.send_contracts_of(self.policy)
        except (wire.HelperGone, OSError) as exc:
            helper.lost(f"it could not take the contracts ({exc})")
            return False
        return True

    def _feed(self) -> None:
        while len(self.at_helper) < DEPTH and self.next_assigned < len(self.bounds):
            number = self.next_assigned
            start, end = self.bounds[number]
            try:
                self.helper.send_chunk(self.batch, number, start, self.contacts[start:end], *self.args)
            except OSError as exc:
                raise wire.HelperGone(str(exc)) from exc
            self.at_helper.add(number)
            self.next_assigned += 1

    def _collect(self, wait: bool) -> None:
        while self.at_helper:
            message = self.helper.receive(wait)
            if message is None:
                return
            header, payload = message
            if header.get("batch") != self.batch:
                continue  # left over from a batch that ended early (an error while storing)
            number = header["chunk"]
            self.at_helper.discard(number)
            if header["op"] == "decided":
                _measure(self.helper.pace, "helper", header["seconds"])
                self.ready[number] = wire.chunk_from_payload(payload)
                self.helper.chunks_decided["helper"] += 1
            else:
                log.error(
                    "batch helper failed chunk %d (%s): decided in the worker", number, header.get("error")
                )
                self._decide_here(number)
            wait = False  # one answer was waited for; take the others only if they are there

    def _give_up(self, why: str) -> None:
        self.helper.lost(why)
        self.using = False
        self.at_helper.clear()  # decided here when their turn comes

    def _helper_is_behind(self, wanted: int) -> bool:
        """Whether the helper has more work left than this process (storing every chunk still to
        come, and deciding one more): then this process decides the next unassigned chunk rather
        than wait for `wanted`. Otherwise it waits: deciding here would only delay the storing,
        which no one else can do."""
        pace = self.helper.pace
        if None in (pace["helper"], pace["worker"], pace["storing"]):
            return True  # not measured yet: share the work
        helper_left = (len(self.at_helper) + len(self.bounds) - self.next_assigned) * pace["helper"]
        worker_left = (len(self.bounds) - wanted) * pace["storing"] + pace["worker"]
        return helper_left > worker_left

    def _decide_here(self, number: int) -> None:
        start, end = self.bounds[number]
        began = time.monotonic()
        self.ready[number] = decide_chunk(self.contacts[start:end], start, self.policy, *self.args)
        _measure(self.helper.pace, "worker", time.monotonic() - began)
        self.helper.chunks_decided["worker"] += 1


def _measure(pace: dict, who: str, seconds: float) -> None:
    known = pace[who]
    pace[who] = seconds if known is None else 0.7 * known + 0.3 * seconds


def local_chunks(
    contacts: list, size: int, policy, evaluated_at: str, client: str, recorded: bool
) -> Iterator[DecidedChunk]:
    """The batch's chunks decided in this process, in order."""
    for start, end in chunk_bounds(len(contacts), size):
        chunk = decide_chunk(contacts[start:end], start, policy, evaluated_at, client, recorded)
        _let_go(contacts, start, end)
        yield chunk


def chunk_bounds(count: int, size: int) -> list[tuple[int, int]]:
    """(start, end) of each chunk of `size` lines of a `count`-line batch."""
    return [(start, min(start + size, count)) for start in range(0, count, size)]


def _let_go(contacts: list, start: int, end: int) -> None:
    """The parsed lines of a decided chunk are not needed any more (bounded memory for 100,000)."""
    contacts[start:end] = [None] * (end - start)
