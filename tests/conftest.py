"""Shared fixtures."""

import pytest

import rules


@pytest.fixture(scope="session")
def policy():
    return rules.default_policy()
