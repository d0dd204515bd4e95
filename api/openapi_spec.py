"""flask-smorest's Api, made to speak problem+json and to describe the service for its readers."""

import http

from flask_smorest import Api
from flask_smorest.utils import prepare_response

from .errors import http_problem
from .openapi_security import KeySecurityPlugin
from .problem import PROBLEM_JSON, ProblemSchema

DESCRIPTION = """\
Decides whether a Swedish home region pays for an out-of-county care contact (utomlänsvård),
how much, and why: national layer (Riksavtalet, SKR digital tariff), the home region's own
decisions (e.g. Region Norrbotten's digital stop, Dnr 347-2021) and its contracts with providers.

Every verdict carries its reason, an explanation in Swedish and English, the legal basis, flags
(e.g. `PATIENTLAG_CONFLICT` where a regional digital stop conflicts with Patientlagen 9 kap. 1 §),
the trace of rules looked at and the digest of the policy used.

Money is sent as decimal strings in SEK with 2 decimals. Every error is an RFC 9457
`application/problem+json`; invalid input is a 422 whose `errors` says, per field, what is wrong.
"""

SPEC_OPTIONS = {
    "info": {
        "description": DESCRIPTION,
        "contact": {"name": "Utomläns rules maintainers", "email": "utomlans-rules@example.org"},
        "license": {"name": "Policy data: public decisions; code: see repository"},
    },
    "servers": [{"url": "/", "description": "This server"}],
}


class ProblemApi(Api):
    """Errors documented and answered as RFC 9457 problems."""

    ERROR_SCHEMA = ProblemSchema

    def handle_http_exception(self, error):
        return http_problem(error)

    def _register_responses(self):
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = "Problem"
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Error (RFC 9457 problem)", "schema": "Problem"}
        prepare_response(response, self.spec, PROBLEM_JSON)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, response, lazy=True)


def make_api(app) -> ProblemApi:
    app.config.setdefault("API_SPEC_OPTIONS", SPEC_OPTIONS)
    api = ProblemApi(app, spec_kwargs={"extra_plugins": [KeySecurityPlugin()]})
    api.spec.components.schema("Problem", schema=ProblemSchema)
    return api
