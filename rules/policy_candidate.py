"""A candidate policy version: whole files from a client, or an overlay on a stored version's files.

The result is always files (what a version is, rules/policy_version.py), checked with every check
`python -m rules check` runs. Problems are keyed by where they are, so a client fixes what it can
at once:
  files.<file>          the file as a whole: unknown name, missing, not valid YAML
  files.<file>.<key>    a key inside it, named as the loader names it (e.g. periods[0].valid_from);
                        a text that breaks the rules for text from clients, in every file at once
  overrides.<key>       an override that cannot be applied (rules/overrides.py)
Names, presence and YAML syntax are checked for every file; the loader stops at its first problem,
so at most one `files.<file>.<key>` is reported, once every file is known, present and parses.
"""

import copy
import hashlib
from collections.abc import Mapping

from .errors import PolicyError
from .identity_numbers import IDENTITY_NUMBER_MESSAGE, holds_identity_number
from .loader import REGION_FILE, REQUIRED_DOCUMENTS, load_policy_files, parse_policy_files
from .overrides import OverrideError, apply_overrides
from .policy import Policy
from .policy_version import document_text

FILES = "files"
UNKNOWN_FILE = (
    f"Unknown file: a policy is {', '.join(REQUIRED_DOCUMENTS)} and regions/<name>.yaml "
    "(contracts are in the contract registry, /v1/contracts)."
)


class CandidateError(ValueError):
    """A candidate that must not be stored. `errors` maps a key path to messages (as InvalidContact)."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{key}: {' '.join(msgs)}" for key, msgs in errors.items()))


def check_files(files: Mapping[str, str]) -> Policy:
    """The compiled policy of the files; raises CandidateError with every problem found."""
    errors = {}
    for name in files:
        if name not in REQUIRED_DOCUMENTS and not REGION_FILE.fullmatch(name):
            errors[f"{FILES}.{name}"] = [UNKNOWN_FILE]
        elif holds_identity_number(name):  # stored, listed and exported with the version
            errors[f"{FILES}.{name}"] = [IDENTITY_NUMBER_MESSAGE]
    for name in REQUIRED_DOCUMENTS:
        if name not in files:
            errors[f"{FILES}.{name}"] = ["Missing: every policy has this file."]
    for name, text in files.items():
        if f"{FILES}.{name}" not in errors:
            try:
                parse_policy_files({name: text}, FILES)
            except PolicyError as exc:
                errors[file_key(exc)] = [exc.message]
    if errors:
        raise CandidateError(errors)
    try:
        return load_policy_files(dict(files), root=FILES)
    except PolicyError as exc:
        raise CandidateError({file_key(exc): [exc.message]}) from None


def file_key(exc: PolicyError) -> str:
    """`files.<file>.<key>` for a loader problem in files loaded with root FILES."""
    where = f"{FILES}.{exc.file.removeprefix(f'{FILES}/')}"
    return where if exc.key in ("-", "") else f"{where}.{exc.key}"


def overlay_files(
    base_files: Mapping[str, str], overrides: dict, *, base: str, source: dict | None = None
) -> dict[str, str]:
    """The files of `base_files` with `overrides` applied: changed documents written anew
    (document_text), the others kept byte for byte. With `source` ({"ref", "url"}: the decision
    behind the change), sources.yaml gains it (source_id) and every changed value cites it; without
    one, the changed values are assumptions naming the base version's digest. Raises CandidateError."""
    try:
        docs = parse_policy_files(dict(base_files), FILES)
    except PolicyError as exc:
        raise CandidateError({file_key(exc): [exc.message]}) from None
    before = copy.deepcopy(docs)
    cited = None
    if source is not None:
        cited = _add_source(docs["sources.yaml"], source["ref"], source["url"])
    try:
        label = f"Overlay on version {base[:12]}, no decision cited"
        apply_overrides(docs, overrides, "overrides", label=label, source=cited)
    except OverrideError as exc:
        raise CandidateError(exc.errors) from None
    return {rel: base_files[rel] if docs[rel] == before[rel] else document_text(docs[rel]) for rel in docs}


def source_id(ref: str, url: str) -> str:
    """A stable id for a source: the same decision gets the same id, so the same overlay gives the
    same files (and digest) whoever sends it."""
    return "decision-" + hashlib.sha256(f"{ref}\n{url}".encode()).hexdigest()[:12]


def _add_source(sources_doc: dict, ref: str, url: str) -> str:
    """The id of the source in sources.yaml: an entry with this ref and url, else a new one."""
    sources = sources_doc["sources"]
    for sid, body in sources.items():
        if isinstance(body, dict) and body.get("ref") == ref and body.get("url") == url:
            return sid
    sid = source_id(ref, url)
    sources[sid] = {"ref": ref, "url": url}
    return sid
