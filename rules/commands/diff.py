"""`python -m rules diff DIR_A DIR_B`: what changes from one policy directory to another, as JSON:
the structured diff GET /v1/policy-versions/{digest}/diff answers (rules/policy_diff.py). Exit 0
when the two say the same, 1 when they differ (as diff(1) does), 2 when one cannot be loaded."""

import sys
from pathlib import Path

import orjson

from ..errors import PolicyError
from ..loader import load_policy
from ..policy_diff import diff


def add_arguments(parser) -> None:
    parser.add_argument("old", type=Path, help="policy directory: the old side")
    parser.add_argument("new", type=Path, help="policy directory: the new side")


def run(args) -> int:
    policies = []
    for directory in (args.old, args.new):
        try:
            policies.append(load_policy(directory))
        except PolicyError as exc:
            print(f"diff: {directory}: policy check failed: {exc}", file=sys.stderr)
            return 2
    result = diff(*policies)
    sys.stdout.buffer.write(orjson.dumps(result, option=orjson.OPT_INDENT_2) + b"\n")
    return 0 if result["identical"] else 1
