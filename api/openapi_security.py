"""API keys in the OpenAPI document, so Swagger UI's Authorize button works: the bearer scheme, and
on every operation under a protected path (api/auth.py's table) its security requirement, the scope
it needs and its 401 and 403 answers.

An apispec plugin, given to flask-smorest as an `extra_plugins` spec argument (api/openapi_spec.py):
apispec calls operation_helper for each operation as the blueprints are registered. An operation
that can also refuse a key for its regions declares that 403 with `forbidden_for_regions`; the
plugin puts the scope's reason before it.
"""

from apispec import BasePlugin

from .auth import SECURITY_SCHEME, scope_for
from .problem import PROBLEM_JSON

METHODS = ("get", "put", "post", "delete", "patch")


class KeySecurityPlugin(BasePlugin):
    def init_spec(self, spec) -> None:
        super().init_spec(spec)
        spec.components.security_scheme(
            SECURITY_SCHEME,
            {
                "type": "http",
                "scheme": "bearer",
                "description": "An API key made with `python -m api.keys new`; it acts for the regions "
                'it names (or "*" for every region).',
            },
        )

    def operation_helper(self, path=None, operations=None, **kwargs) -> None:
        scope = scope_for(path.split("{", 1)[0].rstrip("/") or path)
        if scope is None:
            return
        for method, operation in operations.items():
            if method not in METHODS:
                continue
            operation["security"] = [{SECURITY_SCHEME: []}]
            note = f"Needs an API key with scope `{scope}`."
            operation["description"] = (operation.get("description", "") + "\n\n" + note).strip()
            responses = operation.setdefault("responses", {})
            responses.setdefault(401, _problem_response("No API key, or an unknown one."))
            lacks = f"The API key lacks the scope `{scope}`"
            declared = responses.get(403)  # flask-smorest keys responses by int status here
            if declared is None:
                responses[403] = _problem_response(lacks + ".")
            else:
                responses[403] = {**declared, "description": f"{lacks}; or {declared['description']}."}


def forbidden_for_regions(blp, when: str, **example):
    """Document an operation's 403 for a key's regions; `when` completes "...; or <when>."."""
    return blp.alt_response(403, description=when, schema="Problem", content_type=PROBLEM_JSON, **example)


def _problem_response(description: str) -> dict:
    return {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
