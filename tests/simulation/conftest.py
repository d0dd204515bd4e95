"""Fixtures for the simulation tests: the generated 2020 Norrbotten year, made once."""

import pytest

from rules.simulation.generator import GeneratorSpec, generate


@pytest.fixture(scope="session")
def year_2020():
    return list(generate(GeneratorSpec(2020)))
