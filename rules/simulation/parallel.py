"""Simulate a JSON Lines file in byte-range chunks, over worker processes.

Simulating is all Python: worker processes use every core.
The file is cut into chunks at line ends; each worker reads its own chunk (the parent never holds
the data), simulates it and sends back only the counter cells. Rejected lines are numbered by
their line in the file (1-based), counted blank lines included, so a user can find them.
"""

import multiprocessing
import os
from collections.abc import Callable
from pathlib import Path

from ..io_formats import BOM
from .simulate import Simulation

CHUNK_BYTES = 4 << 20

_worker_scenarios: list | None = None


def chunk_bounds(path: Path, chunk_bytes: int = CHUNK_BYTES) -> list[tuple[int, int]]:
    """(start, end) byte ranges covering the file, each ending just after a newline (or at EOF)."""
    size = path.stat().st_size
    bounds = []
    with path.open("rb") as f:
        start = 0
        while start < size:
            end = min(start + chunk_bytes, size)
            if end < size:
                f.seek(end)
                rest = f.readline()
                end += len(rest)
            bounds.append((start, end))
            start = end
    return bounds


def _simulate_chunk(args) -> tuple:
    path, start, end = args
    simulation = Simulation(_worker_scenarios)
    with open(path, "rb") as f:
        f.seek(start)
        data = f.read(end - start)
    if start == 0 and data.startswith(BOM):
        data = data[len(BOM) :]
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for number, line in enumerate(lines):
        if line.strip():
            simulation.add_line(line, number + 1)  # 1-based within the chunk
    return start, len(lines), end - start, simulation.state()


def _init_worker(scenarios) -> None:
    global _worker_scenarios
    _worker_scenarios = scenarios


def simulate_file(
    path: Path | str,
    scenarios: list,
    processes: int | None = None,
    progress: Callable[[int], None] | None = None,
    chunk_bytes: int = CHUNK_BYTES,
) -> Simulation:
    """Simulate every line of a JSON Lines file. `progress(n_bytes)` is called as chunks finish.
    Raises ScenarioError (bad scenario) before reading anything."""
    path = Path(path)
    result = Simulation(scenarios)  # builds and checks every scenario policy up front
    bounds = chunk_bounds(path, chunk_bytes)
    processes = processes or min(len(bounds), os.cpu_count() or 1)
    jobs = [(str(path), start, end) for start, end in bounds]
    if processes <= 1 or len(jobs) <= 1:
        _init_worker(scenarios)
        done = map(_simulate_chunk, jobs)
        pool = None
    else:
        # fork: workers inherit the compiled scenario policies (cached in this process)
        context = multiprocessing.get_context("fork")
        pool = context.Pool(processes, initializer=_init_worker, initargs=(scenarios,))
        done = pool.imap_unordered(_simulate_chunk, jobs)
    finished = []
    try:
        for start, n_lines, n_bytes, state in done:
            finished.append((start, n_lines, state))
            if progress is not None:
                progress(n_bytes)
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    lines_before = 0
    for _, n_lines, state in sorted(finished, key=lambda item: item[0]):
        result.merge_state(state, lines_before)
        lines_before += n_lines
    return result
