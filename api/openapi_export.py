"""Write the OpenAPI document served at /openapi.json as YAML: `python -m api.openapi_export openapi.yaml`.

The committed openapi.yaml is this output; tests/api/test_openapi.py fails when they differ.
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


def render(spec: dict) -> str:
    return yaml.safe_dump(spec, sort_keys=True, allow_unicode=True, default_flow_style=False, width=100)


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
