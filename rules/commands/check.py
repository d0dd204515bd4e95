"""`python -m rules check [DIR]`: load and check a policy directory without using it."""

import sys
from pathlib import Path

from ..errors import PolicyError
from ..loader import POLICY_DIR, load_policy


def add_arguments(parser) -> None:
    parser.add_argument("directory", nargs="?", type=Path, default=POLICY_DIR, help="policy directory")


def run(args) -> int:
    try:
        policy = load_policy(args.directory)
    except PolicyError as exc:
        print(f"policy check failed: {exc}", file=sys.stderr)
        return 1
    print(f"{policy.summary()}, {len(policy.contracts)} contracts")
    return 0
