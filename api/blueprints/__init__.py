"""Every blueprint of the service, registered in one place.

Add a blueprint here (documented: `api.register_blueprint`; plain Flask: `app.register_blueprint`).
"""

from flask import Flask
from flask_smorest import Api

from . import (
    access_log,
    catalogue,
    contracts,
    decisions,
    docs,
    health,
    metrics,
    policy_impact,
    policy_versions,
    shadow,
    simulations,
    verdicts,
)

DOCUMENTED = (
    verdicts.blp,
    decisions.blp,
    contracts.blp,
    catalogue.blp,
    health.blp,
    metrics.blp,
    simulations.blp,
    access_log.blp,
    policy_versions.blp,
    policy_impact.blp,
    shadow.blp,
)
UNDOCUMENTED = (docs.blp,)


def register_blueprints(app: Flask, api: Api) -> None:
    for blueprint in DOCUMENTED:
        api.register_blueprint(blueprint)
    for blueprint in UNDOCUMENTED:
        app.register_blueprint(blueprint)
