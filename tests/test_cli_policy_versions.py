"""`python -m rules diff DIR_A DIR_B` and `python -m rules export --database URL DIGEST DIR`, as an
operator runs them; export on SQLite and PostgreSQL."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import rules
from api.storage import Storage
from rules.__main__ import main as cli
from rules.loader import POLICY_DIR, load_policy, read_policy_files
from rules.policy_candidate import check_files, overlay_files
from rules.policy_diff import diff
from rules.policy_version import version_digest, version_files

ROOT = Path(__file__).resolve().parent.parent
DECISION = {
    "ref": "Region Norrbotten, regionstyrelsen 2026-11-28 § 12",
    "url": "https://www.norrbotten.se/rs-12",
}


def _copy(tmp_path, name) -> Path:
    target = tmp_path / name
    shutil.copytree(POLICY_DIR, target)
    return target


def test_diff_of_two_directories_is_the_structured_diff(tmp_path, capsys):
    old, new = _copy(tmp_path, "old"), _copy(tmp_path, "new")
    region = new / "regions" / "25-norrbotten.yaml"
    region.write_text(region.read_text().replace("value: enforce", "value: advisory"))
    national = new / "national.yaml"
    national.write_text(national.read_text().replace('physician: "500.00"', 'physician: "450.00"'))

    assert cli(["diff", str(old), str(new)]) == 1
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(json.dumps(diff(load_policy(old), load_policy(new))))
    changed = {
        (c["period"], c["parameter"]): (c["old"]["value"], c["new"]["value"]) for c in printed["parameters"]
    }
    assert changed[("region-25-2022-01-01", "digital_stop")] == ("enforce", "advisory")
    tariff = changed[("national-2019-10-01", "digital_tariff_sek")]
    assert (tariff[0]["physician"], tariff[1]["physician"]) == ("500.00", "450.00")
    assert all(c["old"]["source"]["ref"] and c["new"]["source"]["url"] for c in printed["parameters"])


def test_diff_names_rules_added_moved_and_changed(tmp_path, capsys):
    old, new = _copy(tmp_path, "old"), _copy(tmp_path, "new")
    rules_file = new / "eligibility.yaml"
    text = rules_file.read_text().replace(
        "legal_basis: [riksavtalet-invoicing]", "legal_basis: [riksavtalet]"
    )
    rules_file.write_text(text)
    assert cli(["diff", str(old), str(new)]) == 1
    printed = json.loads(capsys.readouterr().out)
    (changed,) = printed["rules"]["changed"]
    assert changed["reason"] == "INVOICE_TIME_BARRED"
    assert [s["id"] for s in changed["changes"]["legal_basis"]["old"]] == ["riksavtalet-invoicing"]
    assert [s["id"] for s in changed["changes"]["legal_basis"]["new"]] == ["riksavtalet"]


def test_diff_of_identical_directories_exits_0_and_a_broken_one_2(tmp_path, capsys):
    old, new = _copy(tmp_path, "old"), _copy(tmp_path, "new")
    assert cli(["diff", str(old), str(new)]) == 0
    assert json.loads(capsys.readouterr().out)["identical"] is True
    (new / "national.yaml").write_text("layer: national\n")
    assert cli(["diff", str(old), str(new)]) == 2
    assert "national.yaml" in capsys.readouterr().err


@pytest.fixture
def stored(db_url):
    """A database as the service leaves it, plus an overlay version (advisory stop, citing DECISION)."""
    storage = Storage.open(db_url)
    shipped = rules.default_policy()
    files = overlay_files(
        shipped.files,
        {"regions.25.digital_stop.enforcement": "advisory"},
        base=shipped.version,
        source=DECISION,
    )
    check_files(files)
    version, _ = storage.versions.add(files, actor="test", note="advisory")
    storage.close()
    return db_url, version["digest"], files


def test_export_writes_a_stored_version_that_passes_the_check(stored, tmp_path):
    url, digest, files = stored
    target = tmp_path / "exported"
    run = subprocess.run(
        [sys.executable, "-m", "rules", "export", "--database", url, digest, str(target)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert read_policy_files(target) == files
    assert version_digest(version_files(read_policy_files(target))) == digest
    check = subprocess.run(
        [sys.executable, "-m", "rules", "check", str(target)], cwd=ROOT, capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr


def test_export_takes_a_digest_prefix_and_DATABASE_URL(stored, tmp_path, monkeypatch, capsys):
    url, digest, files = stored
    monkeypatch.setenv("DATABASE_URL", url)
    assert cli(["export", digest[:12], str(tmp_path / "out")]) == 0
    assert read_policy_files(tmp_path / "out") == files
    assert digest in capsys.readouterr().err


def test_export_refuses_an_unknown_version_and_a_used_directory(stored, tmp_path, capsys):
    url, digest, _ = stored
    assert cli(["export", "--database", url, "0" * 64, str(tmp_path / "none")]) == 1
    assert "no version" in capsys.readouterr().err
    assert not (tmp_path / "none").exists()
    used = tmp_path / "used"
    used.mkdir()
    (used / "notes.txt").write_text("mine")
    assert cli(["export", "--database", url, digest, str(used)]) == 2
    assert "not an empty directory" in capsys.readouterr().err
    assert cli(["export", "--database", url, "%", str(tmp_path / "x")]) == 2


def test_check_names_the_file_of_a_yaml_date_that_is_no_day(tmp_path, capsys):
    policy = _copy(tmp_path, "policy")
    region = policy / "regions" / "25-norrbotten.yaml"
    region.write_text(region.read_text().replace("valid_from: 2022-01-01", "valid_from: 2022-02-30"))
    assert cli(["check", str(policy)]) == 1
    assert "regions/25-norrbotten.yaml: -: not valid YAML: a date that is no day" in capsys.readouterr().err


def test_export_from_a_sqlite_file_that_does_not_exist_makes_none(tmp_path, capsys):
    missing = tmp_path / "none.sqlite3"
    assert cli(["export", "--database", f"sqlite:///{missing}", "0" * 8, str(tmp_path / "out")]) == 1
    assert "no SQLite database" in capsys.readouterr().err
    assert not missing.exists()
