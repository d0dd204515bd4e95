"""Read the rule cases in rules/cases/*.yaml (format: rules/cases/README.md)."""

from pathlib import Path

import yaml

import rules

CASES_DIR = Path(rules.__file__).parent / "cases"


class _JsonLikeLoader(yaml.SafeLoader):
    """Safe YAML without the timestamp resolver: dates stay strings, as JSON carries them."""


_JsonLikeLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_case_files() -> dict[str, dict]:
    """{file name: {"policy"?, "templates"?, "cases": [...]}} for every case file."""
    files = {}
    for path in sorted(CASES_DIR.glob("*.yaml")):
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_JsonLikeLoader)  # noqa: S506 - a SafeLoader
        unknown = set(data) - {"policy", "templates", "cases"}
        if unknown:
            raise ValueError(f"{path.name}: unknown top-level keys {sorted(unknown)}")
        files[path.name] = data
    return files


def case_contacts() -> list:
    """Every contact the case files send, valid or not: a shared corpus for other tests."""
    return [case["contact"] for data in load_case_files().values() for case in data["cases"]]
