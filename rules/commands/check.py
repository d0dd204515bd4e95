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
    regions = ", ".join(sorted(policy.regional)) or "none"
    print(
        f"policy ok: {len(policy.rules)} rules, {len(policy.national)} national periods, "
        f"regional layers for {regions}, {len(policy.contracts)} contracts"
    )
    return 0
