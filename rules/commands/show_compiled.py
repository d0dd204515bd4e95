"""`python -m rules show-compiled`: the if-chain the eligibility rules compile to, for audit."""

from pathlib import Path

from ..loader import POLICY_DIR, load_policy


def add_arguments(parser) -> None:
    parser.add_argument("directory", nargs="?", type=Path, default=POLICY_DIR, help="policy directory")


def run(args) -> int:
    print(load_policy(args.directory).decide_source, end="")
    return 0
