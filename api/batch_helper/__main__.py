"""The helper process: `python -m api.batch_helper SOCKET_FD [POLICY_DIR]`, started by its worker
(api/batch_helper/process.py), never by hand. It decides the chunks the worker sends and exits when
the worker closes the socket or dies."""

import gc
import signal
import socket
import sys
import time
import traceback

import orjson

import rules

from ..batch_chunks import decide_chunk
from . import wire
from .policy_sync import contracts_from_payload, fingerprint


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in a terminal: the worker ends us
    sock = socket.socket(fileno=int(argv[0]))
    policy_dir = argv[1] if len(argv) > 1 else ""
    base = rules.load_policy(policy_dir) if policy_dir else rules.default_policy()
    policy = base
    # As in a gunicorn worker (api/gunicorn.conf.py): what lives as long as the process is frozen
    # out of the cyclic GC's reach, and the young generation is collected less often.
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 50, 100)
    try:
        wire.send(sock, {"op": "ready", "fingerprint": fingerprint(base), "contracts": base.contracts.digest})
        while True:
            header, payload = wire.receive(sock)
            if header["op"] == "contracts":
                policy = base.with_contracts(contracts_from_payload(payload, header["digest"]))
            elif header["op"] == "decide":
                wire.send(sock, *_decided(header, payload, policy))
    except (wire.HelperGone, OSError):
        return 0  # the worker is gone (or stopping): nothing is left to answer


def _decided(header: dict, payload: bytes, policy) -> tuple[dict, bytes | None]:
    began = time.monotonic()
    reply = {"op": "decided", "batch": header["batch"], "chunk": header["chunk"]}
    try:
        chunk = decide_chunk(
            orjson.loads(payload),
            header["start"],
            policy,
            header["evaluated_at"],
            header["client"],
            header["recorded"],
        )
    except Exception as exc:  # a bug: the worker decides this chunk itself and logs why
        traceback.print_exc(file=sys.stderr)
        reply.update(op="failed", error=f"{exc.__class__.__name__}: {exc}")
        return reply, None
    payload = wire.chunk_payload(chunk)
    reply["seconds"] = time.monotonic() - began  # the worker paces its share of the work by it
    return reply, payload


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
