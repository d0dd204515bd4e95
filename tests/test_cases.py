"""Run the rule cases in rules/cases/*.yaml: contact in, expected verdict (or 422 errors) out.

The cases are data next to the rules (rules/cases/README.md); this file only loads and checks them.
The coverage tests at the end fail when a reason code or flag of the catalogue has no case.
"""

import json
import shutil
from functools import cache
from pathlib import Path

import pytest
from case_files import CASES_DIR, load_case_files

import rules
from rules.loader import POLICY_DIR

CASE_KEYS = {"name", "description", "contact", "expect", "expect_error"}
EXPECT_KEYS = {
    "decision",
    "reason",
    "amount_sek",
    "cap_sek",
    "flags",
    "trace_applied",
    "layers",
    "legal_basis_refs",
    "explanation_contains",
}
ERROR_KEYS = {"fields", "fields_include"}
MIN_CASES = 60


FILES = load_case_files()
CASES = [
    pytest.param(file, case, id=f"{file}::{case['name']}")
    for file, data in FILES.items()
    for case in data["cases"]
]


@cache
def _policy(overlay: str | None, workdir: Path) -> rules.Policy:
    if overlay is None:
        return rules.default_policy()
    target = workdir / overlay.replace("/", "_")
    shutil.copytree(POLICY_DIR, target)
    shutil.copytree(CASES_DIR / overlay, target, dirs_exist_ok=True)
    return rules.load_policy(target, name=overlay)


@pytest.fixture(scope="session")
def overlay_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("case-policies")


@pytest.mark.parametrize(("file", "case"), CASES)
def test_case(file, case, overlay_dir):
    assert set(case) <= CASE_KEYS, f"unknown keys {set(case) - CASE_KEYS}"
    assert ("expect" in case) != ("expect_error" in case), "a case has expect or expect_error"
    policy = _policy(FILES[file].get("policy"), overlay_dir)

    if "expect_error" in case:
        expected = case["expect_error"]
        assert expected and set(expected) <= ERROR_KEYS, f"bad expect_error {expected}"
        with pytest.raises(rules.InvalidContact) as caught:
            rules.evaluate(case["contact"], policy)
        got = set(caught.value.errors)
        if "fields" in expected:
            assert got == set(expected["fields"]), caught.value.errors
        if "fields_include" in expected:
            assert set(expected["fields_include"]) <= got, caught.value.errors
        return

    expected = case["expect"]
    assert expected and set(expected) <= EXPECT_KEYS, f"unknown expect keys {set(expected) - EXPECT_KEYS}"
    verdict = rules.evaluate(case["contact"], policy)
    body = json.loads(json.dumps(verdict.to_dict()))  # what a client reads
    for key in ("decision", "reason", "amount_sek", "cap_sek"):
        if key in expected:
            assert body[key] == expected[key], f"{key}: {body[key]!r} != {expected[key]!r}"
    if "flags" in expected:
        assert sorted(body["flags"]) == sorted(expected["flags"])
        assert len(set(body["flags"])) == len(body["flags"]), "a flag twice"
    if "trace_applied" in expected:
        assert body["trace"][-1] == {"rule": expected["trace_applied"], "outcome": "applied"}
        assert all(step["outcome"] == "not_applicable" for step in body["trace"][:-1])
    if "layers" in expected:
        assert [layer["id"] for layer in body["policy"]["layers"]] == expected["layers"]
    if "legal_basis_refs" in expected:
        refs = [item["ref"] for item in body["legal_basis"]]
        for wanted in expected["legal_basis_refs"]:
            assert any(wanted in ref for ref in refs), f"{wanted!r} not in {refs}"
    for lang, texts in (expected.get("explanation_contains") or {}).items():
        for wanted in texts:
            assert wanted in body["explanation"][lang], f"{wanted!r} not in {body['explanation'][lang]!r}"


def _expected_values(key):
    return {
        case["expect"][key]
        for _, data in FILES.items()
        for case in data["cases"]
        if key in case.get("expect", {})
    }


def test_there_are_enough_cases():
    assert len(CASES) >= MIN_CASES
    names = [(file, case["name"]) for file, data in FILES.items() for case in data["cases"]]
    assert len(names) == len(set(names)), "case names repeat within a file"


def test_every_reason_has_a_case(policy):
    assert _expected_values("reason") == set(policy.catalogue.reasons)


def test_every_flag_has_a_case(policy):
    flags = {
        flag
        for _, data in FILES.items()
        for case in data["cases"]
        for flag in case.get("expect", {}).get("flags", [])
    }
    assert flags == set(policy.catalogue.flags)


def test_every_bad_input_class_has_a_case():
    """The classes of bad input in SPEC section 6, each named by a case name prefix."""
    names = {case["name"] for data in FILES.values() for case in data["cases"] if "expect_error" in case}
    classes = (
        "missing-required",
        "wrong-type",
        "unknown-field",
        "retired-region",
        "bad-enum",
        "too-many-decimals",
        "negative-money",
        "amount-bool",
        "bad-date",
        "invoice-before-contact",
        "future-contact-date",
        "future-invoice-date",
        "digital-requirements",
        "patient",
        "null",
        "contact-id",
        "not-an-object",
        "before-policy",
    )
    missing = [prefix for prefix in classes if not any(name.startswith(prefix) for name in names)]
    assert not missing
