"""Where the service gets the Policy it decides with.

By default the policy shipped in rules/policy/ (or UTOMLANS_POLICY_DIR), loaded once per process.
Storage can install another provider (e.g. the shipped rules with the database's contracts) with
`set_policy_provider(app, provider)`; views always call `current_policy()`.
"""

from collections.abc import Callable

from flask import Flask, current_app

import rules

EXTENSION = "utomlans.policy_provider"


def init_app(app: Flask) -> None:
    directory = app.config.get("POLICY_DIR")
    if directory:
        policy = rules.load_policy(directory)
        set_policy_provider(app, lambda: policy)
    else:
        rules.default_policy()  # load and compile now: a broken policy stops the app at start
        set_policy_provider(app, rules.default_policy)


def set_policy_provider(app: Flask, provider: Callable[[], rules.Policy]) -> None:
    app.extensions[EXTENSION] = provider


def current_policy() -> rules.Policy:
    return current_app.extensions[EXTENSION]()
