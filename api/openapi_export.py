"""Write the OpenAPI document served at /openapi.json as YAML: `python -m api.openapi_export openapi.yaml`.

The committed openapi.yaml is this output; tests/api/test_api_openapi.py fails when they differ.
"""

import sys
from pathlib import Path

import yaml


def served_spec() -> dict:
    from . import create_app

    response = create_app().test_client().get("/openapi.json")
    if response.status_code != 200:
        raise RuntimeError(f"/openapi.json answered {response.status_code}")
    return response.get_json()


# Words YAML 1.2's core schema reads as null or a boolean (YAML 1.1's own, such as `yes`, PyYAML
# quotes already).
_WORDS = {"null", "~", "true", "false"}


def _may_read_as_another_type(value: str) -> bool:
    """Whether a YAML 1.2 reader might take this plain scalar for something other than a string. Any
    string that starts like a number (or is a null or boolean word): a wider net than the core
    schema's patterns, since readers differ at its edges (ruamel.yaml reads `._0` as 0.0), and a
    string quoted without need costs nothing."""
    return value == "" or value[0] in "0123456789+-.~" or value.lower() in _WORDS


class _Dumper(yaml.SafeDumper):
    """PyYAML writes YAML 1.1, so it quotes only the strings a YAML 1.1 reader would take for another
    type: `'01'` (an octal integer there) but not `08` or `1e3`, which YAML 1.2 readers (most client
    generators) read as numbers. This dumper quotes a string that either version reads otherwise."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if _may_read_as_another_type(value):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="'")
    return dumper.represent_str(value)


_Dumper.add_representer(str, _represent_str)


def render(spec: dict) -> str:
    return yaml.dump(
        spec, Dumper=_Dumper, sort_keys=True, allow_unicode=True, default_flow_style=False, width=100
    )


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m api.openapi_export PATH (use - for stdout)", file=sys.stderr)
        return 2
    text = render(served_spec())
    if argv[0] == "-":
        sys.stdout.write(text)
    else:
        Path(argv[0]).write_text(text, encoding="utf-8")
        print(f"wrote {argv[0]}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
