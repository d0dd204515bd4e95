"""A client generated from the committed openapi.yaml by a standard generator (openapi-python-client,
which reads YAML 1.2) decides a contact and a batch against the real server, with an API key."""

import copy
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from api import examples
from api.keys import hash_key
from tests.storage.gunicorn_server import running_gunicorn

ROOT = Path(__file__).resolve().parents[2]
GENERATOR = Path(sys.executable).with_name("openapi-python-client")
PACKAGE = "utomlans_client"
KEY = "s3cret-billing"


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The generated package, imported. A warning fails the generation: a schema the generator
    cannot read is one it leaves out (the Contact schema, when 08 and 09 were integers to it)."""
    out = tmp_path_factory.mktemp("generated")
    config = out / "config.yaml"
    config.write_text(f"package_name_override: {PACKAGE}\npost_hooks: []\n")
    command = [str(GENERATOR), "generate", "--path", str(ROOT / "openapi.yaml"), "--meta", "none"]
    command += ["--config", str(config), "--output-path", str(out / PACKAGE), "--fail-on-warning"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(out))
        yield importlib.import_module(PACKAGE)
    for name in [name for name in sys.modules if name == PACKAGE or name.startswith(PACKAGE + ".")]:
        del sys.modules[name]


@pytest.fixture
def keyed_server(tmp_path, app_db_url):
    """Real gunicorn on SQLite, then PostgreSQL, with one API key (scopes verdicts, decisions:read)."""
    env = {
        "DATABASE_URL": app_db_url,
        "API_KEYS": f"billing:{hash_key(KEY)}:*:verdicts,decisions:read",
        "API_KEYS_FILE": None,
    }
    with running_gunicorn(tmp_path / "gunicorn.log", env=env, startup_timeout=30) as (base, _proc):
        yield base


@pytest.mark.slow
def test_the_generated_client_decides_a_contact_and_a_batch(generated, keyed_server):
    # The generated package, on sys.path while `generated` lasts.
    from utomlans_client import AuthenticatedClient, models
    from utomlans_client.api.decisions import get_v1_decisions_decision_id
    from utomlans_client.api.verdicts import decide_batch, decide_contact

    client = AuthenticatedClient(base_url=keyed_server, token=KEY, raise_on_unexpected_status=True)

    contact = copy.deepcopy(examples.NORRBOTTEN_VIDEO)
    verdict = decide_contact.sync(client=client, body=models.Contact.from_dict(contact))
    assert isinstance(verdict, models.IssuedVerdict), verdict
    assert (verdict.contact_id, verdict.decision.value, verdict.reason) == (
        contact["contact_id"],
        "no_pay",
        "DIGITAL_NOT_CONTRACTED",
    )
    assert verdict.amount_sek == "0.00"

    stored = get_v1_decisions_decision_id.sync(str(verdict.decision_id), client=client)
    assert isinstance(stored, models.DecisionRecord), stored
    assert (stored.decision_id, stored.client) == (verdict.decision_id, "billing")

    lines = [dict(examples.PHYSICAL_VISIT, contact_id=f"generated-{n}") for n in range(3)]
    lines.append(dict(examples.PHYSICAL_VISIT, contact_id="generated-bad", claimed_amount_sek="-1.00"))
    batch = decide_batch.sync(
        client=client,
        body=models.BatchRequest.from_dict({"contacts": lines}),
    )
    assert isinstance(batch, models.BatchResponse), batch
    assert [v.contact_id for v in batch.verdicts] == ["generated-0", "generated-1", "generated-2"]
    assert {v.reason for v in batch.verdicts} == {"OUTPATIENT_FREE_CHOICE"}
    assert [(r.index, r.contact_id) for r in batch.rejected] == [(3, "generated-bad")]

    refused = decide_contact.sync(
        client=client, body=models.Contact.from_dict(dict(contact, claimed_amount_sek="-1.00"))
    )
    assert isinstance(refused, models.Problem), refused
    assert refused.status == 422 and "claimed_amount_sek" in refused.errors.to_dict()
