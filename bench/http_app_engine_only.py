"""The service without the decision log and the live contract registry, for benchmarks only:
shows what the engine and the HTTP layer cost on their own (bench/http_load.py --engine-only).
Never deploy this: verdicts answered here are not stored."""

import rules
from api import create_app, issuing, policy_source


def create():
    app = create_app()
    issuing.set_decision_recorder(app, None)
    policy_source.set_policy_provider(app, rules.default_policy)
    return app
