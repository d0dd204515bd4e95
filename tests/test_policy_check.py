"""Broken policies must never load: `rules.load_policy` raises PolicyError naming the file and the
key at fault, and `python -m rules check DIR` exits non-zero.

Each case copies rules/policy/ to a temporary directory and changes one thing, either in the
parsed YAML (`mutate`) or by laying an overlay from tests/broken_policies/ over it.
"""

import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import yaml

import rules
from rules.__main__ import main as cli
from rules.citations import rule_cites_a_parameter
from rules.facts import FACTS
from rules.loader import POLICY_DIR
from rules.policy_version import document_text

BROKEN_DIR = Path(__file__).parent / "broken_policies"
NATIONAL = "national.yaml"
NORRBOTTEN = "regions/25-norrbotten.yaml"
RULES = "eligibility.yaml"
CATALOGUE = "catalogue.yaml"
CONTRACTS = "contracts/sample.yaml"
TARIFF_2019 = "periods[1].parameters.digital_tariff_sek.value"


def copy_policy(tmp_path: Path) -> Path:
    target = tmp_path / "policy"
    shutil.copytree(POLICY_DIR, target)
    return target


def edit(directory: Path, rel: str, change) -> None:
    """Apply `change(data)` to the parsed YAML of one policy file and write it back."""
    path = directory / rel
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(document_text(data), encoding="utf-8")


def _rule(data, reason):
    return next(rule for rule in data["rules"] if rule["reason"] == reason)


def _move_before(data, reason, before):
    rule = _rule(data, reason)
    data["rules"].remove(rule)
    data["rules"].insert(data["rules"].index(_rule(data, before)), rule)


def _tariff_2019(data):
    return data["periods"][1]["parameters"]["digital_tariff_sek"]["value"]


# id, file changed, change, file named in the error, key named in the error, words in the message
MUTATIONS = [
    (
        "overlapping-national-periods",
        NATIONAL,
        lambda d: d["periods"][0].update(valid_to=date(2019, 10, 1)),
        NATIONAL,
        "periods.national-2019-10-01.valid_from",
        "overlaps",
    ),
    (
        "overlapping-regional-periods",
        NORRBOTTEN,
        lambda d: d["periods"][0].update(valid_to=date(2022, 1, 1)),
        NORRBOTTEN,
        "periods.region-25-2022-01-01.valid_from",
        "overlaps",
    ),
    (
        "gap-in-national-coverage",
        NATIONAL,
        lambda d: d["periods"][0].update(valid_to=date(2019, 9, 29)),
        NATIONAL,
        "periods.national-2019-10-01.valid_from",
        "no national tariff between",
    ),
    (
        "first-national-period-after-covers-from",
        NATIONAL,
        lambda d: d["periods"][0].update(valid_from=date(2017, 6, 1)),
        NATIONAL,
        "periods.national-2017-05-01.valid_from",
        "no national tariff from 2017-05-01",
    ),
    (
        "last-national-period-closed",
        NATIONAL,
        lambda d: d["periods"][1].update(valid_to=date(2030, 12, 31)),
        NATIONAL,
        "periods.national-2019-10-01.valid_to",
        "must be open",
    ),
    (
        "national-period-ends-before-it-starts",
        NATIONAL,
        lambda d: d["periods"][0].update(valid_to=date(2017, 4, 1)),
        NATIONAL,
        "periods[0].valid_to",
        "before valid_from",
    ),
    (
        "unknown-profession-in-tariff",
        NATIONAL,
        lambda d: _tariff_2019(d).update(surgeon="900.00"),
        NATIONAL,
        f"{TARIFF_2019}.surgeon",
        "unknown profession",
    ),
    (
        "profession-without-tariff-and-no-other-professions",
        NATIONAL,
        lambda d: _tariff_2019(d).pop("other_professions"),
        NATIONAL,
        f"{TARIFF_2019}.nurse",
        "no national tariff for this profession",
    ),
    (
        "negative-money",
        NATIONAL,
        lambda d: _tariff_2019(d).update(physician="-500.00"),
        NATIONAL,
        f"{TARIFF_2019}.physician",
        "negative",
    ),
    (
        "float-money",
        NATIONAL,
        lambda d: _tariff_2019(d).update(physician=500.0),
        NATIONAL,
        f"{TARIFF_2019}.physician",
        "never a float",
    ),
    (
        "money-with-three-decimals",
        NATIONAL,
        lambda d: _tariff_2019(d).update(physician="500.005"),
        NATIONAL,
        f"{TARIFF_2019}.physician",
        "not an amount",
    ),
    (
        "unknown-source-in-parameter",
        NATIONAL,
        lambda d: d["periods"][1]["parameters"]["digital_tariff_sek"].update(source="skr-2019"),
        NATIONAL,
        "periods[1].parameters.digital_tariff_sek.source",
        "unknown source 'skr-2019'",
    ),
    (
        "parameter-without-source",
        NATIONAL,
        lambda d: d["periods"][1]["parameters"]["telephone_reimbursed"].pop("source"),
        NATIONAL,
        "periods[1].parameters.telephone_reimbursed.source",
        "missing",
    ),
    (
        "unknown-parameter",
        NATIONAL,
        lambda d: d["periods"][1]["parameters"].update(video_bonus={"value": 1, "source": "skr-2019-06-14"}),
        NATIONAL,
        "periods[1].parameters.video_bonus",
        "unknown parameter",
    ),
    (
        "digital-stop-value-outside-domain",
        NORRBOTTEN,
        lambda d: d["periods"][1]["parameters"]["digital_stop"].update(value="maybe"),
        NORRBOTTEN,
        "periods[1].parameters.digital_stop.value",
        "expected one of",
    ),
    (
        "regional-layer-for-retired-region",
        NORRBOTTEN,
        lambda d: d.update(home_region="02"),
        NORRBOTTEN,
        "home_region",
        "not a region code in use",
    ),
    (
        "unknown-reason-code",
        RULES,
        lambda d: _rule(d, "ACUTE_CARE").update(reason="ACUTE"),
        RULES,
        "rules[3].reason",
        "unknown reason code 'ACUTE'",
    ),
    (
        "reason-used-twice",
        RULES,
        lambda d: _rule(d, "MATERNITY_CARE").update(reason="ACUTE_CARE"),
        RULES,
        "rules[4].reason",
        "used by two rules",
    ),
    (
        "unknown-flag",
        RULES,
        lambda d: _rule(d, "DIGITAL_NOT_CONTRACTED").update(flags=["PATIENTLAG"]),
        RULES,
        "rules[12].flags[0]",
        "unknown flag code 'PATIENTLAG'",
    ),
    (
        "unknown-fact",
        RULES,
        lambda d: _rule(d, "ACUTE_CARE").update(when={"care_kind": ["acute"]}),
        RULES,
        "rules[3].when.care_kind",
        "unknown fact",
    ),
    (
        "fact-value-outside-domain",
        RULES,
        lambda d: _rule(d, "ACUTE_CARE").update(when={"care_category": ["emergency"]}),
        RULES,
        "rules[3].when.care_category",
        "'emergency' is not a value of this fact",
    ),
    (
        "boolean-fact-given-text",
        RULES,
        lambda d: _rule(d, "IN_REGION").update(when={"same_region": "yes"}),
        RULES,
        "rules[0].when.same_region",
        "not a value of this fact",
    ),
    (
        "unknown-source-in-rule",
        RULES,
        lambda d: _rule(d, "ACUTE_CARE").update(legal_basis=["hsl-8-2", "hsl-9-9"]),
        RULES,
        "rules[3].legal_basis[1]",
        "unknown source 'hsl-9-9'",
    ),
    (
        "rule-without-legal-basis-testing-no-cited-parameter",
        RULES,
        lambda d: _rule(d, "ACUTE_CARE").update(legal_basis=[]),
        RULES,
        "rules[3].legal_basis",
        "rule ACUTE_CARE has no legal basis",
    ),
    (
        # A stop of `none` is also what a region without a regional period gets: nothing to cite.
        "rule-without-legal-basis-whose-test-holds-without-a-regional-period",
        RULES,
        lambda d: _rule(d, "DIGITAL_NOT_CONTRACTED").update(when={"digital_stop": ["none", "enforce"]}),
        RULES,
        "rules[12].legal_basis",
        "rule DIGITAL_NOT_CONTRACTED has no legal basis",
    ),
    (
        # The advisory flag cites the stop only when raised; the rule applies without it.
        "catch-all-without-legal-basis-citing-only-through-a-flag",
        RULES,
        lambda d: _rule(d, "DIGITAL_TARIFF").update(legal_basis=[]),
        RULES,
        "rules[13].legal_basis",
        "rule DIGITAL_TARIFF has no legal basis",
    ),
    (
        "paying-rule-without-amount",
        RULES,
        lambda d: _rule(d, "ACUTE_CARE").pop("amount"),
        RULES,
        "rules[3].amount",
        "needs amount",
    ),
    (
        "catch-all-before-a-rule-makes-it-unreachable",
        RULES,
        lambda d: _move_before(d, "DIGITAL_TARIFF", "DIGITAL_REFERRED"),
        RULES,
        "rules[12]",
        "DIGITAL_REFERRED can never apply",
    ),
    (
        "duplicated-condition-makes-a-rule-unreachable",
        RULES,
        lambda d: _rule(d, "MATERNITY_CARE").update(when={"care_category": ["acute"]}),
        RULES,
        "rules[4]",
        "MATERNITY_CARE can never apply",
    ),
    (
        "no-catch-all-leaves-cases-undecided",
        RULES,
        lambda d: d["rules"].pop(),
        RULES,
        "rules",
        "no rule decides the case",
    ),
    (
        "unknown-placeholder-in-template",
        CATALOGUE,
        lambda d: d["reasons"]["IN_REGION"]["explanation"].update(en="Patient {patient_name} is at home."),
        CATALOGUE,
        "reasons.IN_REGION.explanation.en",
        "unknown placeholder {patient_name}",
    ),
    (
        "reason-text-missing-a-language",
        CATALOGUE,
        lambda d: d["reasons"]["ACUTE_CARE"]["explanation"].pop("sv"),
        CATALOGUE,
        "reasons.ACUTE_CARE.explanation.sv",
        "missing",
    ),
    (
        "reason-legal-basis-stated-in-the-catalogue-too",
        CATALOGUE,
        lambda d: d["reasons"]["TELEPHONE_NOT_REIMBURSED"].update(legal_basis=["skr-2019-06-14"]),
        CATALOGUE,
        "reasons.TELEPHONE_NOT_REIMBURSED.legal_basis",
        "stated once, on its rule in eligibility.yaml",
    ),
    (
        "unknown-key-in-a-catalogue-reason",
        CATALOGUE,
        lambda d: d["reasons"]["IN_REGION"].update(note="x"),
        CATALOGUE,
        "reasons.IN_REGION.note",
        "unknown key",
    ),
    (
        "contract-unknown-profession",
        CONTRACTS,
        lambda d: d["contracts"][0]["tariff_sek"].update(surgeon="900.00"),
        CONTRACTS,
        "contracts[0].tariff_sek.surgeon",
        "unknown profession",
    ),
    (
        "contract-negative-tariff",
        CONTRACTS,
        lambda d: d["contracts"][0]["tariff_sek"].update(nurse="-250.00"),
        CONTRACTS,
        "contracts[0].tariff_sek.nurse",
        "negative",
    ),
    (
        "contract-not-labelled-real-or-fictitious",
        CONTRACTS,
        lambda d: d["contracts"][0].pop("fictitious"),
        CONTRACTS,
        "contracts[0].fictitious",
        "missing",
    ),
    (
        "overlapping-contracts-in-one-file",
        CONTRACTS,
        lambda d: d["contracts"].append(
            {
                **d["contracts"][0],
                "id": "contract-25-sample1b",
                "valid_from": date(2024, 12, 31),
                "valid_to": None,
            }
        ),
        CONTRACTS,
        "contract-25-sample1",
        "overlaps contract contract-25-sample1b",
    ),
    (
        "duplicate-contract-id",
        CONTRACTS,
        lambda d: d["contracts"].append(
            {**d["contracts"][0], "valid_from": date(2025, 1, 1), "valid_to": None}
        ),
        CONTRACTS,
        "contract-25-sample1",
        "duplicate contract id",
    ),
    # Policy text is stored with its version and quoted in verdicts: the rules for text from clients.
    (
        "control-character-in-a-text",
        CATALOGUE,
        lambda d: d["reasons"]["IN_REGION"]["title"].update(en="In\x07region"),
        CATALOGUE,
        "reasons.IN_REGION.title.en",
        "control character",
    ),
    (
        "identity-number-in-a-source",
        "sources.yaml",
        lambda d: d["sources"]["patientlagen-9-1"].update(ref="Ärende 19121212-1212"),
        "sources.yaml",
        "sources.patientlagen-9-1.ref",
        "Identity numbers",
    ),
    (
        "a-specialty-that-is-no-slug",
        NORRBOTTEN,
        lambda d: d["periods"][1]["parameters"]["referral_required_specialties"].update(
            value=["neuropsychiatric_assessment", "Neuropsychiatric assessment"]
        ),
        NORRBOTTEN,
        "periods[1].parameters.referral_required_specialties.value[1]",
        "Not a valid slug",
    ),
]

# id, overlay under tests/broken_policies, file named, key named, words in the message
OVERLAYS = [
    ("invalid-yaml", "invalid_yaml", RULES, "-", "not valid YAML"),
    (
        "second-file-for-a-region",
        "second_file_for_region",
        "regions/25-norrbotten.yaml",
        "home_region",
        "a second file for region 25",
    ),
    (
        "overlapping-contracts-across-files",
        "overlapping_contract",
        "contracts/s",
        "contract-25-sample1",
        "overlaps contract",
    ),
]


def assert_rejected(directory: Path, file: str, key: str, words: str, capsys) -> None:
    with pytest.raises(rules.PolicyError) as caught:
        rules.load_policy(directory)
    error = caught.value
    assert f"policy/{file}" in error.file, error
    assert error.key == key, error
    assert words in error.message, error
    assert file.split("/")[-1].split(".")[0] in str(error) and key in str(error)
    capsys.readouterr()
    assert cli(["check", str(directory)]) != 0
    assert "policy check failed" in capsys.readouterr().err


def test_shipped_policy_passes_the_check(capsys):
    assert cli(["check"]) == 0
    assert "policy ok" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("reason", "fact"),
    [
        ("CONTRACTED_PROVIDER", "contracted"),
        ("TELEPHONE_NOT_REIMBURSED", "telephone_reimbursed"),
        ("DIGITAL_NOT_CONTRACTED", "digital_stop"),
    ],
)
def test_shipped_rules_without_legal_basis_rest_on_a_cited_parameter(policy, reason, fact):
    """The shipped rules with an empty legal_basis pass because the fact they test reads a dated
    parameter (or contract) that cites its source; the same rule testing nothing would not."""
    rule = next(rule for rule in policy.rules if rule.reason == reason)
    assert rule.legal_basis == ()
    assert fact in dict(rule.when) and FACTS[fact].cites(dict(rule.when)[fact])
    assert rule_cites_a_parameter(rule.when)
    assert not rule_cites_a_parameter(tuple(test for test in rule.when if test[0] != fact))


def test_a_rule_without_legal_basis_passes_when_it_reads_a_cited_parameter(tmp_path):
    directory = copy_policy(tmp_path)
    edit(directory, RULES, lambda d: _rule(d, "INVOICE_TIME_BARRED").update(legal_basis=[]))
    loaded = rules.load_policy(directory)
    assert next(r for r in loaded.rules if r.reason == "INVOICE_TIME_BARRED").legal_basis == ()


def test_unchanged_copy_passes_the_check(tmp_path):
    directory = copy_policy(tmp_path)
    edit(directory, NATIONAL, lambda data: None)  # a YAML round trip alone breaks nothing
    rules.load_policy(directory)


@pytest.mark.parametrize(
    ("rel", "change", "file", "key", "words"),
    [pytest.param(*case[1:], id=case[0]) for case in MUTATIONS],
)
def test_broken_policy_is_rejected(tmp_path, capsys, rel, change, file, key, words):
    directory = copy_policy(tmp_path)
    edit(directory, rel, change)
    assert_rejected(directory, file, key, words, capsys)


@pytest.mark.parametrize(
    ("overlay", "file", "key", "words"), [pytest.param(*c[1:], id=c[0]) for c in OVERLAYS]
)
def test_broken_policy_overlay_is_rejected(tmp_path, capsys, overlay, file, key, words):
    directory = copy_policy(tmp_path)
    shutil.copytree(BROKEN_DIR / overlay, directory, dirs_exist_ok=True)
    assert_rejected(directory, file, key, words, capsys)


@pytest.mark.parametrize("rel", ["national.yaml", "eligibility.yaml", "sources.yaml", "catalogue.yaml"])
def test_missing_file_is_rejected(tmp_path, capsys, rel):
    directory = copy_policy(tmp_path)
    (directory / rel).unlink()
    with pytest.raises(rules.PolicyError) as caught:
        rules.load_policy(directory)
    assert caught.value.file.endswith(rel) and "missing" in caught.value.message
    assert cli(["check", str(directory)]) != 0


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('title: "a \\uD800 b"', "lone surrogate"),  # an escape YAML reads, no store can encode
        ("# a note: patient 19121212-1212", "Identity numbers"),  # a comment is stored too
        # A few lines of nested aliases stand for billions of values once read.
        ("lol0: &l0 [x, x]\nlol1: [*l0, *l0]", "an alias (*l0)"),
        ("deep: " + "[" * 2000 + "]" * 2000, "nested too deeply"),  # it was a RecursionError
    ],
)
def test_a_file_no_store_or_server_can_keep_is_named(tmp_path, capsys, text, words):
    directory = copy_policy(tmp_path)
    path = directory / CATALOGUE
    path.write_text(path.read_text(encoding="utf-8") + f"\n{text}\n", encoding="utf-8")
    file, key = CATALOGUE, "title" if text.startswith("title") else "-"
    assert_rejected(directory, file, key, words, capsys)


def test_a_document_written_back_has_no_aliases_the_loader_would_refuse(tmp_path):
    """An overlay may leave one value in two places (document_text writes its changed files)."""
    directory = copy_policy(tmp_path)
    edit(directory, CONTRACTS, lambda d: d["contracts"].append(d["contracts"][0]))
    assert "*" not in (directory / CONTRACTS).read_text(encoding="utf-8")
    with pytest.raises(rules.PolicyError, match="duplicate contract id"):  # not "an alias"
        rules.load_policy(directory)


def test_a_region_file_is_named_as_a_candidate_version_may_name_it(tmp_path, capsys):
    """The files on disk are stored as a version at start; an overlay on it keeps their names, so
    they follow the rule for a candidate's files (POST /v1/policy-versions), or every overlay on
    the version in force would be refused for an unknown file."""
    directory = copy_policy(tmp_path)
    (directory / NORRBOTTEN).rename(directory / "regions" / "25 Norrbotten.yaml")
    with pytest.raises(rules.PolicyError, match="lower-case letters, digits, - and _") as caught:
        rules.load_policy(directory)
    assert caught.value.file.endswith("regions/25 Norrbotten.yaml")
    assert cli(["check", str(directory)]) != 0


def test_check_command_exit_code_in_a_real_process(tmp_path):
    directory = copy_policy(tmp_path)
    edit(directory, RULES, lambda data: data["rules"].pop())
    broken = subprocess.run(
        [sys.executable, "-m", "rules", "check", str(directory)], capture_output=True, text=True, timeout=60
    )
    assert broken.returncode != 0
    assert "eligibility.yaml" in broken.stderr and "no rule decides" in broken.stderr
    ok = subprocess.run([sys.executable, "-m", "rules", "check"], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
