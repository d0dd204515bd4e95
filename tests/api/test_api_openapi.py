"""The committed openapi.yaml is what the app serves, it is valid, and Swagger UI needs no CDN."""

import re
import shlex
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from openapi_spec_validator import validate
from ruamel.yaml import YAML

from api.openapi_export import render

ROOT = Path(__file__).resolve().parents[2]


def test_committed_openapi_yaml_equals_what_the_app_serves(client):
    served = client.get("/openapi.json").get_json()
    committed = yaml.safe_load((ROOT / "openapi.yaml").read_text(encoding="utf-8"))
    assert committed == served, (
        "openapi.yaml is stale: run `make openapi` (python -m api.openapi_export openapi.yaml)"
    )


def test_export_is_stable(client):
    served = client.get("/openapi.json").get_json()
    assert render(served) == render(yaml.safe_load(render(served)))


def test_committed_openapi_yaml_reads_the_same_in_yaml_1_2(client):
    """Client generators read YAML 1.2 (region codes 08 and 09 unquoted were integers to them)."""
    served = client.get("/openapi.json").get_json()
    committed = YAML(typ="safe", pure=True).load((ROOT / "openapi.yaml").read_text(encoding="utf-8"))
    assert committed == served


@pytest.mark.parametrize(
    "text",
    ["08", "09", "0089", "-12", "+1", "0o17", "0x1F", "1e3", "1.", ".5", "2E-5", ".inf", "-.Inf", ".NaN",
     "true", "False", "NULL", "~", "", "yes", "off", "1_000", "12:30", "2022-03-01", "25", "0.00"],
)  # fmt: skip
def test_a_string_that_looks_like_another_type_stays_a_string_in_yaml_1_1_and_1_2(text):
    rendered = render({"value": text})
    assert yaml.safe_load(rendered) == {"value": text}
    assert YAML(typ="safe", pure=True).load(rendered) == {"value": text}


@given(st.text(alphabet="0123456789+-._:~eEoxXabcfinNtTruFalsyYO "))
def test_any_string_of_number_like_characters_reads_back_as_itself(text):
    rendered = render({"value": text})
    assert yaml.safe_load(rendered) == {"value": text}
    assert YAML(typ="safe", pure=True).load(rendered) == {"value": text}


def test_openapi_document_is_valid(client):
    validate(client.get("/openapi.json").get_json())


# The operations of this part of the service (storage's decisions and contracts test their own).
MINE = {"verdicts", "catalogue", "operations", "metrics"}


def test_every_operation_has_an_example_and_documents_problems(client):
    spec = client.get("/openapi.json").get_json()
    assert spec["info"]["description"] and spec["info"]["contact"]
    assert {t["name"] for t in spec["tags"]} >= {"verdicts", "catalogue", "operations"}
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method == "parameters" or not MINE & set(op.get("tags", [])):
                continue
            assert op.get("summary"), f"{method} {path} has no summary"
            if "requestBody" in op:
                content = op["requestBody"]["content"]["application/json"]
                assert "example" in content or "examples" in content, f"{method} {path}: no request example"
            for param in op.get("parameters", []):
                if param["in"] != "header" and param.get("required"):
                    assert "example" in param.get("schema", {}) or "example" in param, (
                        f"{path}: {param['name']}"
                    )
    for path in ("/v1/verdicts", "/v1/verdicts/batch"):
        responses = spec["paths"][path]["post"]["responses"]
        assert "example" in responses["200"]["content"]["application/json"]
        assert "application/problem+json" in responses["422"]["content"]


def test_contact_schema_rejects_unknown_fields_in_the_documentation(client):
    schemas = client.get("/openapi.json").get_json()["components"]["schemas"]
    assert schemas["Contact"]["additionalProperties"] is False
    assert schemas["BatchRequest"]["additionalProperties"] is False
    assert set(schemas["Problem"]["properties"]) >= {"type", "title", "status", "detail", "errors"}


def test_example_verdict_is_the_engines_verdict_for_the_example_contact(client):
    spec = client.get("/openapi.json").get_json()
    example_contact = spec["paths"]["/v1/verdicts"]["post"]["requestBody"]["content"]["application/json"][
        "examples"
    ]["digital_stop"]["value"]
    response = client.post("/v1/verdicts", json=example_contact).get_json()
    documented = spec["paths"]["/v1/verdicts"]["post"]["responses"]["200"]["content"]["application/json"][
        "example"
    ]
    for key in ("decision_id", "evaluated_at"):
        response.pop(key), documented.pop(key)
    assert response == documented


def test_the_root_leads_to_the_docs(client):
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"] == "/docs"


def test_swagger_ui_is_served_from_local_files_only(client):
    page = client.get("/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    initializer = client.get("/docs/swagger-initializer.js").get_data(as_text=True)
    for text in (html, initializer):
        assert not re.search(r"(src|href)=\"(https?:)?//", text), "Swagger UI must not load from another host"
    assert 'url: "/openapi.json"' in initializer
    assert "validatorUrl: null" in initializer  # else Swagger UI calls validator.swagger.io
    for asset in re.findall(r'(?:src|href)="(/docs/[^"]+)"', html):
        assert client.get(asset).status_code == 200, asset


def test_docs_send_nosniff_and_a_content_security_policy_with_the_right_content_types(client):
    """nosniff: a browser runs a script only when it is served as one, so each type must be right."""
    types = {
        "/docs": "text/html",
        "/docs/swagger-ui-bundle.js": "text/javascript",
        "/docs/swagger-initializer.js": "text/javascript",
        "/docs/swagger-ui.css": "text/css",
        "/docs/favicon-32x32.png": "image/png",
        "/docs/no-such-file.js": "application/problem+json",
    }
    for path, mimetype in types.items():
        response = client.get(path)
        assert response.mimetype == mimetype, path
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        policy = dict(part.split(" ", 1) for part in response.headers["Content-Security-Policy"].split("; "))
        assert policy["default-src"] == "'none'" and policy["script-src"] == "'self'", path
    html = client.get("/docs").get_data(as_text=True)
    assert not re.search(r"<script>|<style|\sstyle=|\son[a-z]+=", html), "inline code needs 'unsafe-inline'"


# -- Dockerfile and the server command ------------------------------------------------------------


def _dockerfile() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            instruction, _, rest = line.partition(" ")
            out.append((instruction.upper(), rest.strip()))
    return out


def _exec_form(rest: str) -> list[str]:
    return yaml.safe_load(rest)  # a JSON array is valid YAML


def test_dockerfile_runs_the_same_gunicorn_command_as_make_run():
    cmds = [rest for instruction, rest in _dockerfile() if instruction == "CMD"]
    assert len(cmds) == 1
    docker_cmd = _exec_form(cmds[0])
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^run:.*\n((?:\t.*\n)+)", makefile, re.M).group(1)
    gunicorn_line = next(line.strip() for line in recipe.splitlines() if "gunicorn" in line)
    make_cmd = shlex.split(gunicorn_line)
    assert make_cmd[0].endswith("/bin/gunicorn") and docker_cmd[0] == "gunicorn"
    assert docker_cmd[1:] == make_cmd[1:] == ["-c", "api/gunicorn.conf.py", "api:create_app()"]


def test_dockerfile_is_slim_non_root_with_a_healthcheck():
    instructions = _dockerfile()
    (base,) = [rest for instruction, rest in instructions if instruction == "FROM"]
    assert base.startswith("python:3.11-slim")
    users = [rest for instruction, rest in instructions if instruction == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert ("EXPOSE", "8000") in instructions
    (health,) = [rest for instruction, rest in instructions if instruction == "HEALTHCHECK"]
    assert "/health" in health and "curl" not in health
    assert any(instruction == "RUN" and "pip install ." in rest for instruction, rest in instructions)
    copied = " ".join(rest for instruction, rest in instructions if instruction == "COPY")
    for needed in ("pyproject.toml", "rules", "api"):
        assert needed in copied


def test_dockerfile_copies_the_migrations_the_service_runs_at_start():
    """create_app upgrades the database from api/storage/migrate.MIGRATIONS; the image must hold
    that directory where the copied source will look for it."""
    from api.storage.migrate import MIGRATIONS

    relative = MIGRATIONS.relative_to(ROOT).as_posix()
    copies = [rest.split() for instruction, rest in _dockerfile() if instruction == "COPY"]
    assert any(parts[0] == relative for parts in copies), copies
    assert (MIGRATIONS / "env.py").is_file()


def test_dockerfile_gives_the_non_root_user_a_writable_decision_log():
    instructions = _dockerfile()
    env = " ".join(rest for instruction, rest in instructions if instruction == "ENV")
    path = re.search(r"DATABASE_PATH=(\S+)", env).group(1)
    directory = path.rsplit("/", 1)[0]
    (user,) = [rest for instruction, rest in instructions if instruction == "USER"]
    runs = " ".join(rest for instruction, rest in instructions if instruction == "RUN")
    assert f"chown {user} {directory}" in runs


def test_every_request_body_has_an_example_that_the_service_accepts(client):
    """Swagger UI's "Try it out" sends the documented example as it is: it must work at once."""
    spec = client.get("/openapi.json").get_json()
    bodies = {
        (method, path): op["requestBody"]["content"]["application/json"]
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if method != "parameters" and "requestBody" in op
    }
    assert bodies
    for (method, path), content in bodies.items():
        assert "example" in content or "examples" in content, f"{method.upper()} {path}: no example"
    post = bodies[("post", "/v1/contracts")]["example"]
    created = client.post("/v1/contracts", json=post)
    assert created.status_code == 201, created.get_json()
    put = bodies[("put", "/v1/contracts/{contract_id}")]["example"]
    replaced = client.put(f"/v1/contracts/{post['id']}", json=put)
    assert replaced.status_code == 200, replaced.get_json()
    assert replaced.get_json()["tariff_sek"] == put["tariff_sek"]
