"""`python -m api.storage upgrade|current|activate`: run the migrations by hand, see where the
database is, or put a policy version in force. gunicorn's master runs `upgrade` before it starts
the workers (api/gunicorn.conf.py).

`activate on-disk --actor NAME --note TEXT` stores the policy files of this deployment
(UTOMLANS_POLICY_DIR, or rules/policy) if new and puts them in force; `activate DIGEST ...` puts a
stored version in force (a rollback). Audited as the API's activation is, under the actor given.
"""

import argparse
import os
import sys

import rules
from rules.identity_numbers import IDENTITY_NUMBER_MESSAGE, holds_identity_number
from rules.text import CONTROL_CHARACTERS_MESSAGE, has_control_characters

from .engine import database_url, make_engine
from .migrate import current_revision, upgrade
from .policy_versions import PolicyVersions, VersionNotFound
from .tables import policy_audit

ON_DISK = "on-disk"
ACTOR_LONGEST = policy_audit.c.actor.type.length  # as an API key id is


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m api.storage",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=("upgrade", "current", "activate"))
    parser.add_argument("version", nargs="?", help=f"activate: a version's digest, or {ON_DISK}")
    parser.add_argument("--actor", help="activate: who puts it in force (recorded in the audit)")
    parser.add_argument("--note", help="activate: why (recorded in the audit)")
    parser.add_argument("--url", help="database URL (default: DATABASE_URL or the SQLite file)")
    args = parser.parse_args(argv)
    if args.command == "activate":
        if not (args.version and args.actor and args.note):
            parser.error("activate needs a version (a digest or on-disk), --actor and --note")
        for option, text, longest in (("--actor", args.actor, ACTOR_LONGEST), ("--note", args.note, 2000)):
            problem = _text_problem(text, longest)
            if problem:
                parser.error(f"{option}: {problem}")
    engine = make_engine(args.url or database_url())
    try:
        if args.command in ("upgrade", "activate"):
            upgrade(engine)
        if args.command == "activate":
            return _activate(engine, args)
        print(f"{engine.url.render_as_string(hide_password=True)}: revision {current_revision(engine)}")
    finally:
        engine.dispose()
    return 0


def _text_problem(text: str, longest: int) -> str | None:
    """The rules the API's activation holds its note to (text from clients), for what the audit
    keeps from the command line."""
    if len(text) > longest:
        return f"at most {longest} characters"
    if has_control_characters(text):
        return CONTROL_CHARACTERS_MESSAGE
    if holds_identity_number(text):
        return IDENTITY_NUMBER_MESSAGE
    return None


def _activate(engine, args) -> int:
    versions = PolicyVersions(engine)
    digest = args.version
    try:
        if digest == ON_DISK:
            directory = os.environ.get("UTOMLANS_POLICY_DIR")
            policy = rules.load_policy(directory) if directory else rules.default_policy()
            versions.add(policy.files, actor=args.actor, note=args.note)
            digest = policy.version
        versions.policy(digest)  # refuse a version this engine cannot load
        entry = versions.activate(digest, actor=args.actor, note=args.note)
    except VersionNotFound:
        print(f"no policy version {digest}", file=sys.stderr)
        return 1
    except rules.PolicyError as exc:
        print(f"policy check failed: {exc}", file=sys.stderr)
        return 1
    print(f"version {entry['digest']} in force (was {entry['previous']}), audit entry {entry['seq']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
