"""The app factory behind `api.create_app()`.

create_app is the one place where settings, extensions and blueprints come together.
"""

import logging

from flask import Flask

from . import auth, errors, instrumentation, readiness
from .blueprints import register_blueprints
from .config import Settings
from .openapi_spec import make_api
from .policy_source import load_on_disk_policy
from .storage import service as storage_service


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(Settings().to_mapping())
    if config:
        app.config.from_mapping(config)
    _configure_logging(app)

    instrumentation.init_app(app)  # first: its timer starts before any other before_request hook
    policy = load_on_disk_policy(app)
    readiness.init_app(app, policy)
    auth.init_app(app)  # before storage: refuses to start in production without keys
    storage_service.init_app(app, policy)  # decision log and contract registry; /ready check; 503s
    errors.init_app(app)
    api = make_api(app)
    register_blueprints(app, api)
    app.extensions["utomlans.api"] = api
    return app


def _configure_logging(app: Flask) -> None:
    gunicorn_error = logging.getLogger("gunicorn.error")
    if gunicorn_error.handlers:  # under gunicorn: log through its handlers and level
        app.logger.handlers = gunicorn_error.handlers
        app.logger.setLevel(gunicorn_error.level)
        package_logger = logging.getLogger("api")  # api.errors, api.auth, api.storage, ... propagate here
        package_logger.handlers = gunicorn_error.handlers
        package_logger.setLevel(gunicorn_error.level)
        package_logger.propagate = False
