"""Messages between a worker and its batch helper: a small JSON header on a SOCK_SEQPACKET socket
pair, and the payload (a chunk's contacts, a decided chunk) in a memfd passed with it.

Neither side ever blocks writing a payload, however large, while the other is busy deciding or
storing: the payload goes into memory the receiver maps when it gets to it, not through a pipe
buffer. Only the two processes of one worker hold the socket, so the decided chunks travel as
pickles (of plain tuples: a third of the cost of pickling the NamedTuples).
"""

import os
import pickle
import select
import socket

import orjson

from ..batch_chunks import DecidedChunk
from ..decision_entry import Pending

HEADER_MAX_BYTES = 64 * 1024


class HelperGone(Exception):
    """The other end closed the socket or died."""


def supported() -> bool:
    """memfd and descriptor passing: Linux (the service's platform); elsewhere no helper is used."""
    return hasattr(os, "memfd_create") and hasattr(socket, "send_fds") and hasattr(socket, "AF_UNIX")


def send(sock: socket.socket, header: dict, payload: bytes | None = None) -> None:
    data = orjson.dumps(header)
    if payload is None:
        sock.send(data)
        return
    fd = os.memfd_create("utomlans-batch", os.MFD_CLOEXEC)
    try:
        view = memoryview(payload)
        while view:
            view = view[os.write(fd, view) :]
        socket.send_fds(sock, [data], [fd])
    finally:
        os.close(fd)


def receive(sock: socket.socket, timeout: float | None = None) -> tuple[dict, bytes | None] | None:
    """The next message; None when `timeout` seconds pass without one (None: wait as long as it
    takes). Raises HelperGone."""
    if timeout is not None:
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        if not poller.poll(timeout * 1000):
            return None
    try:
        data, fds, _flags, _address = socket.recv_fds(sock, HEADER_MAX_BYTES, 1)
    except OSError as exc:
        raise HelperGone(str(exc)) from exc
    payload = None
    for fd in fds:
        try:
            payload = os.pread(fd, os.fstat(fd).st_size, 0)
        finally:
            os.close(fd)
    if not data:
        raise HelperGone("the other end closed the connection")
    return orjson.loads(data), payload


def chunk_payload(chunk: DecidedChunk) -> bytes:
    entries = [tuple(entry) for entry in chunk.entries] if _recorded(chunk) else chunk.entries
    return pickle.dumps((chunk.rejected, chunk.summary, entries), protocol=pickle.HIGHEST_PROTOCOL)


def chunk_from_payload(payload: bytes) -> DecidedChunk:
    rejected, summary, entries = pickle.loads(payload)
    if entries and isinstance(entries[0], tuple):
        entries = [Pending._make(entry) for entry in entries]
    return DecidedChunk(rejected, summary, entries)


def _recorded(chunk: DecidedChunk) -> bool:
    return bool(chunk.entries) and isinstance(chunk.entries[0], Pending)
