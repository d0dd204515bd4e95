"""Run every benchmark script in bench/, one after the other, and report which failed.

A script is a benchmark if it is a bench/*.py with a `main` guard; helper modules (imported by the
benchmarks) are skipped. Scripts that need a running server declare `NEEDS_SERVER = True` at top
level, or import bench/http_server.py (which starts gunicorn); they are skipped unless
--with-server is given.

Run: .venv/bin/python bench/run_all.py [--with-server] [name ...]
"""

import argparse
import ast
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _facts(path: Path) -> tuple[bool, bool]:
    """(is a runnable script, needs a server), read from the source without importing it."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    runnable = needs_server = False
    for node in tree.body:
        if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test):
            runnable = True
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [node.module] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            needs_server = needs_server or "http_server" in names
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "NEEDS_SERVER" for t in node.targets):
            needs_server = bool(ast.literal_eval(node.value))
    return runnable, needs_server


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--with-server", action="store_true", help="also run benchmarks that need a server")
    parser.add_argument("names", nargs="*", help="only these scripts (file names without .py)")
    args = parser.parse_args(argv)
    failed = []
    for path in sorted(HERE.glob("*.py")):
        if path.name == Path(__file__).name or (args.names and path.stem not in args.names):
            continue
        runnable, needs_server = _facts(path)
        if not runnable:
            continue
        if needs_server and not args.with_server:
            print(f"== {path.name}: skipped (needs a server; use --with-server)")
            continue
        print(f"== {path.name}", flush=True)
        start = time.perf_counter()
        code = subprocess.call([sys.executable, str(path)], cwd=HERE.parent)
        print(f"== {path.name}: exit {code} in {time.perf_counter() - start:.0f} s", flush=True)
        if code != 0:
            failed.append(path.name)
    if failed:
        print("failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
