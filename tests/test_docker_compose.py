"""docker-compose.yml (Docker cannot run here): it runs the README's server command, several
replicas of it, on one PostgreSQL 15 whose data is on a volume."""

import re
import shlex
from pathlib import Path

import yaml

from api.storage.engine import database_url

ROOT = Path(__file__).resolve().parents[1]


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_the_service_runs_the_readmes_server_command():
    readme = (ROOT / "README.md").read_text()
    (documented,) = set(re.findall(r"`(gunicorn -c [^`]+)`", readme))
    assert _compose()["services"]["api"]["command"] == shlex.split(documented)


def test_several_replicas_share_one_postgresql_15_kept_on_a_volume():
    compose = _compose()
    api, db = compose["services"]["api"], compose["services"]["db"]
    assert api["deploy"]["replicas"] >= 2
    assert db["image"] == "postgres:15"
    assert api["depends_on"]["db"]["condition"] == "service_healthy"
    url = database_url({"DATABASE_URL": api["environment"]["DATABASE_URL"]})
    assert url.startswith("postgresql+psycopg://") and "@db:5432/" in url
    (volume,) = db["volumes"]
    name, mount = volume.split(":")
    assert name in compose["volumes"] and mount == "/var/lib/postgresql/data"


def test_production_keys_come_from_a_secret():
    compose = _compose()
    api = compose["services"]["api"]
    assert api["environment"]["POLICY_ENV"] == "production"
    assert api["environment"]["API_KEYS_FILE"] == "/run/secrets/api_keys"
    assert api["secrets"] == ["api_keys"] and "api_keys" in compose["secrets"]
