"""API keys name the regions they act for (issue 16): in the key file, in API_KEYS and from
`python -m api.keys new`; a key without them is refused when the keys are loaded."""

import subprocess
import sys

import pytest
import yaml

from api.key_regions import covers
from api.keys import KeyConfigError, KeyRing, hash_key, parse_env, parse_file

DIGEST = hash_key("secret")


def _file(tmp_path, entries) -> KeyRing:
    path = tmp_path / "keys.yaml"
    path.write_text(yaml.safe_dump(entries), encoding="utf-8")
    return KeyRing(str(path))


def test_a_key_acts_for_the_regions_it_names_or_every_region_with_a_star(tmp_path):
    _file(
        tmp_path,
        [
            {"id": "billing-25", "sha256": DIGEST, "scopes": ["verdicts"], "regions": ["25", "13"]},
            {"id": "skr", "sha256": hash_key("other"), "scopes": ["decisions:read"], "regions": "*"},
        ],
    )
    [regional, national] = parse_file(tmp_path / "keys.yaml")
    assert regional.regions == {"25", "13"}
    assert covers(regional.regions, "25") and covers(regional.regions, "13")
    assert not covers(regional.regions, "01")
    assert national.regions is None and covers(national.regions, "01") and covers(national.regions, "25")


def test_a_key_without_regions_is_refused_when_loaded_saying_what_to_write(tmp_path):
    with pytest.raises(KeyConfigError, match=r"\[0\]\.regions: missing; say which regions the key acts for"):
        _file(tmp_path, [{"id": "billing", "sha256": DIGEST, "scopes": ["verdicts"]}])


@pytest.mark.parametrize(
    ("regions", "message"),
    [
        ([], "expected a list of region codes"),
        (["02"], "'02' is not a region code in use"),
        ([25], "write codes as strings"),
        ("25,99", "'99' is not a region code in use"),
        ({"25": True}, "expected a list of region codes"),
    ],
)
def test_regions_that_are_not_region_codes_are_refused(tmp_path, regions, message):
    with pytest.raises(KeyConfigError, match=message):
        _file(tmp_path, [{"id": "k", "sha256": DIGEST, "scopes": ["verdicts"], "regions": regions}])


def test_api_keys_in_the_environment_carry_regions_before_the_scopes():
    [regional, national] = parse_env(f"a:{DIGEST}:25,13:verdicts,decisions:read;b:{hash_key('x')}:*:verdicts")
    assert (regional.regions, national.regions) == ({"25", "13"}, None)
    assert regional.scopes == {"verdicts", "decisions:read"}
    with pytest.raises(KeyConfigError, match=r"API_KEYS\[0\]: expected id:sha256hex:regions:scopes"):
        parse_env(f"a:{DIGEST}:verdicts")
    with pytest.raises(KeyConfigError, match=r"\(id:sha256hex:regions:scopes, e.g. "):
        parse_env(f"a:{DIGEST}:verdicts,decisions:read")  # the form before regions


@pytest.mark.parametrize(("given", "regions"), [("25", {"25"}), ("25,13", {"25", "13"}), ("*", None)])
def test_a_new_key_from_the_command_line_loads_with_its_regions(tmp_path, given, regions):
    made = subprocess.run(
        [sys.executable, "-m", "api.keys", "new", "--id", "b", "--scopes", "verdicts", "--regions", given],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    entry = made.split("for API_KEYS_FILE (YAML list entry):\n", 1)[1].split("\nor for API_KEYS:", 1)[0]
    (tmp_path / "keys.yaml").write_text(entry, encoding="utf-8")
    [key] = parse_file(tmp_path / "keys.yaml")
    [same] = parse_env(made.rsplit("or for API_KEYS: ", 1)[1].strip())
    assert key.regions == same.regions == regions
    assert key.sha256 == hash_key(made.split(": ", 1)[1].split("\n", 1)[0])


def test_a_new_key_needs_regions_on_the_command_line():
    refused = subprocess.run(
        [sys.executable, "-m", "api.keys", "new", "--id", "billing", "--scopes", "verdicts"],
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 2 and "--regions" in refused.stderr


@pytest.mark.parametrize("scope", ["audit:read", "policy:admin"])
def test_reading_the_access_log_and_changing_the_policy_are_national_roles(tmp_path, scope):
    """Who read what, in every region, and the policy every region is decided by: a key scoped to
    regions cannot hold audit:read or policy:admin."""
    with pytest.raises(KeyConfigError, match=f'{scope} is for a national role: regions "\\*"'):
        _file(tmp_path, [{"id": "a", "sha256": DIGEST, "scopes": [scope], "regions": ["25"]}])
    [national] = parse_env(f"a:{DIGEST}:*:{scope}")
    assert national.regions is None
