"""A policy version: the policy files as written, addressed by the digest of their text.

The service stores every version it has decided with (api/storage/policy_versions.py), and each
verdict names its version (`policy.version`), so a decision can be replayed under the exact rules
it was made with. Contracts are not part of a version: they live in the contract registry, which
keeps its own snapshots (api/storage/contract_books.py); `contracts/` files only seed it.
"""

import hashlib
import json
from collections.abc import Mapping

import yaml

NOT_VERSIONED = "contracts/"


def version_files(files: Mapping[str, str]) -> dict[str, str]:
    """The files of a policy directory that make up its version (all but the seed contracts)."""
    return {name: files[name] for name in sorted(files) if not name.startswith(NOT_VERSIONED)}


def version_digest(files: Mapping[str, str]) -> str:
    """sha256 of the files' names and texts: the same text always gives the same digest."""
    text = json.dumps(dict(files), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


class _PlainDumper(yaml.SafeDumper):
    """Every value written out where it stands: the loader refuses aliases (rules/loader.py)."""

    def ignore_aliases(self, data) -> bool:
        return True


def document_text(data) -> str:
    """A policy document (parsed YAML, e.g. after an overlay) written back as YAML text."""
    return yaml.dump(data, Dumper=_PlainDumper, sort_keys=False, allow_unicode=True, width=100)
