"""The Policy the service decides with: the policy files (rules/policy/, or UTOMLANS_POLICY_DIR)
with the contracts of the database's registry, as of the current request."""

from flask import Flask

import rules

from .storage.service import current_storage


def load_on_disk_policy(app: Flask) -> rules.Policy:
    """Loaded and compiled at start: a broken policy stops the app before it serves anything."""
    directory = app.config.get("POLICY_DIR")
    return rules.load_policy(directory) if directory else rules.default_policy()


def current_policy() -> rules.Policy:
    return current_storage().live.current()
