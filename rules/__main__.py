"""`python -m rules COMMAND`: the engine from the command line. Each command is a module in
rules/commands/ with `add_arguments(parser)` and `run(args) -> exit code`."""

import argparse
import importlib
import sys

COMMANDS = {
    "check": "Check the policy files; exit 1 on any problem.",
    "show-compiled": "Print the Python the eligibility rules compile to.",
    "evaluate": "Decide contacts from a JSON Lines or CSV file; verdicts as JSON Lines.",
    "generate": "Write a synthetic, reproducible year of digital out-of-county contacts.",
    "simulate": "Cost of policy scenarios over a file of contacts.",
    "readjudicate": "Decide exported decisions again under a candidate policy; list what changes.",
    "replay": "Replay exported decisions under the policy and contracts each was decided with.",
    "diff": "What changes from one policy directory to another (parameters, periods, rules, texts), as JSON.",
    "export": "Write a policy version stored in the service's database into a directory.",
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rules", description="Out-of-county reimbursement rules from the command line."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    modules = {}
    for name, help_text in COMMANDS.items():
        try:
            module = importlib.import_module(f"rules.commands.{name.replace('-', '_')}")
        except ModuleNotFoundError as exc:
            if exc.name != f"rules.commands.{name.replace('-', '_')}":
                raise
            continue
        modules[name] = module
        module.add_arguments(sub.add_parser(name, help=help_text, description=help_text))
    args = parser.parse_args(argv)
    return modules[args.command].run(args)


if __name__ == "__main__":
    sys.exit(main())
