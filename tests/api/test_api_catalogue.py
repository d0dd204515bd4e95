"""GET /v1/reasons, /v1/regions and /v1/policies."""

import shutil

import pytest
from case_files import CASES_DIR, case_contacts

import rules
from api import examples
from rules.loader import POLICY_DIR, read_policy_files
from rules.policy_version import document_text, version_files
from rules.simulation.scenarios import scenario_documents


def test_reasons_follow_the_rule_order_with_titles_and_legal_basis(client, policy):
    body = client.get("/v1/reasons").get_json()
    reasons = body["reasons"]
    assert [r["code"] for r in reasons] == [rule.reason for rule in policy.rules]
    assert [r["rule"] for r in reasons] == list(range(1, len(policy.rules) + 1))
    stop = next(r for r in reasons if r["code"] == "DIGITAL_NOT_CONTRACTED")
    assert stop["decision"] == "no_pay"
    assert stop["title"]["sv"] and stop["title"]["en"]
    assert all({"id", "ref", "url"} <= set(ref) for r in reasons for ref in r["legal_basis"])
    flags = {f["code"]: f for f in body["flags"]}
    assert "PATIENTLAG_CONFLICT" in flags
    assert any(ref["id"] == "patientlagen-9-1" for ref in flags["PATIENTLAG_CONFLICT"]["legal_basis"])


def test_a_reason_states_its_rules_own_legal_basis_and_the_parameters_it_cites(client, policy):
    reasons = {r["code"]: r for r in client.get("/v1/reasons").get_json()["reasons"]}
    for rule in policy.rules:
        assert [ref["id"] for ref in reasons[rule.reason]["legal_basis"]] == list(rule.legal_basis)
    phone = reasons["TELEPHONE_NOT_REIMBURSED"]
    assert phone["legal_basis"] == []  # no fixed citation that a dated verdict could contradict
    (cited,) = phone["cited_parameters"]
    assert (cited["layer"], cited["parameter"], cited["fact"]) == (
        "national",
        "telephone_reimbursed",
        "telephone_reimbursed",
    )
    assert [(p["period"], p["source"]["id"]) for p in cited["sources"]] == [
        ("national-2017-05-01", "skl-2017-05"),
        ("national-2019-10-01", "skr-2019-06-14"),
    ]
    stop = reasons["DIGITAL_NOT_CONTRACTED"]["cited_parameters"]
    assert [(c["layer"], c["parameter"]) for c in stop] == [("regional", "digital_stop")]
    assert {p["home_region"] for p in stop[0]["sources"]} == {"25"}
    (contract,) = reasons["CONTRACTED_PROVIDER"]["cited_parameters"]
    assert (contract["layer"], contract["parameter"], contract["sources"]) == ("contracts", "contract", None)
    advisory = reasons["DIGITAL_TARIFF"]["cited_parameters"]
    assert [(c["parameter"], c["only_with_flag"], c["only_with_amount"]) for c in advisory] == [
        ("digital_stop", "DIGITAL_STOP_ADVISORY", None),
        ("digital_tariff_sek", None, "digital_tariff"),
    ]


def test_a_2018_telephone_verdict_cites_what_the_reasons_endpoint_lists_for_2018(client):
    call = {**examples.NORRBOTTEN_VIDEO, "mode": "telephone", "contact_date": "2018-01-15"}
    call.pop("invoice_date")
    verdict = rules.evaluate(call).to_dict()
    assert verdict["reason"] == "TELEPHONE_NOT_REIMBURSED"
    cited = [ref["ref"] for ref in verdict["legal_basis"]]
    reasons = {r["code"]: r for r in client.get("/v1/reasons").get_json()["reasons"]}
    (parameter,) = reasons["TELEPHONE_NOT_REIMBURSED"]["cited_parameters"]
    in_2018 = next(p for p in parameter["sources"] if p["valid_from"] <= "2018-01-15" <= p["valid_to"])
    assert cited == [in_2018["source"]["ref"]] and "SKL rekommendation maj 2017" in cited[0]
    assert not any("2019-06-14" in ref for ref in cited)


def _catalogue_citation(reason: dict, flags: dict, verdict, policy) -> list[str]:
    """The refs GET /v1/reasons says a verdict with this reason cites, for its date and region."""
    day, region = verdict.contact.contact_date.isoformat(), verdict.contact.home_region
    ids = [ref["id"] for ref in reason["legal_basis"]]
    contract = False
    for cited in reason["cited_parameters"]:
        if cited["only_with_flag"] not in (None, *verdict.flags):
            continue
        if cited["only_with_amount"] not in (None, verdict.amount_kind):
            continue
        if cited["sources"] is None:  # the contract found for the provider cites its own source
            contract = verdict.contract is not None
            continue
        ids.extend(
            period["source"]["id"]
            for period in cited["sources"]
            if period["home_region"] in (None, region)
            and period["valid_from"] <= day
            and (period["valid_to"] is None or day <= period["valid_to"])
        )
    for flag in verdict.flags:
        ids.extend(ref["id"] for ref in flags[flag]["legal_basis"])
    refs = [policy.sources[sid].ref for sid in dict.fromkeys(ids)]
    if contract:
        refs.append(policy.sources[verdict.contract.source].ref)
    return refs


def _policy_files(tmp_path, which) -> dict[str, str]:
    if which == "advisory":
        target = tmp_path / "advisory"
        shutil.copytree(POLICY_DIR, target)
        shutil.copytree(CASES_DIR / "policies" / "advisory", target, dirs_exist_ok=True)
        return read_policy_files(target)
    return {rel: document_text(doc) for rel, doc in scenario_documents(which).items()}


def _activate(app, files) -> rules.Policy:
    """Store the files as a policy version and put it in force: the app decides with it."""
    storage = app.extensions["utomlans.storage"]
    version, _ = storage.versions.add(version_files(files), actor="test", note="test")
    storage.versions.activate(version["digest"], actor="test", note="test")
    return storage.live.current()


@pytest.mark.parametrize("which", ["in_force", "advisory", "ds_2023_27", "stop_from_2020"])
def test_every_verdict_cites_what_the_reasons_endpoint_says(app, tmp_path, which):
    """For every reason: the legal basis of each case contact's verdict is exactly what
    GET /v1/reasons lists for it on the contact's date and home region."""
    policy = _activate(app, _policy_files(tmp_path, which))
    body = app.test_client().get("/v1/reasons").get_json()
    reasons = {r["code"]: r for r in body["reasons"]}
    flags = {f["code"]: f for f in body["flags"]}
    seen = set()
    for contact in case_contacts():
        try:
            verdict = rules.evaluate(contact, policy)
        except rules.InvalidContact:
            continue
        seen.add(verdict.reason)
        seen.update(verdict.flags)
        cited = [ref["ref"] for ref in verdict.to_dict()["legal_basis"]]
        assert cited == _catalogue_citation(reasons[verdict.reason], flags, verdict, policy), contact
    if which == "in_force":
        assert set(reasons) <= seen  # every reason, and the contract's own source
    if which == "advisory":
        assert "DIGITAL_STOP_ADVISORY" in seen  # a parameter cited only with a flag


def test_regions_are_the_21_in_use(client):
    regions = client.get("/v1/regions").get_json()["regions"]
    codes = [r["code"] for r in regions]
    assert len(codes) == 21
    assert not {"02", "11", "15", "16"} & set(codes)
    norrbotten = next(r for r in regions if r["code"] == "25")
    assert norrbotten == {"code": "25", "name": "Region Norrbotten", "regional_policy": True}
    assert next(r for r in regions if r["code"] == "01")["regional_policy"] is False


def test_policy_in_force_for_norrbotten_on_2022_03_01(client):
    response = client.get("/v1/policies?home_region=25&on=2022-03-01")
    assert response.status_code == 200
    body = response.get_json()
    assert (body["home_region"], body["on"]) == ("25", "2022-03-01")
    national, regional = body["layers"]
    assert national["id"] == "national-2019-10-01" and national["layer"] == "national"
    assert national["parameters"]["digital_tariff_sek"]["value"]["physician"] == "500.00"
    assert national["parameters"]["digital_tariff_sek"]["source"]["id"] == "skr-2019-06-14"
    assert regional["id"] == "region-25-2022-01-01"
    assert regional["parameters"]["digital_stop"]["value"] == "enforce"
    assert "assumed" in regional["parameters"]["referral_required_specialties"]["assumption"]
    assert [c["provider_id"] for c in body["contracts"]] == ["SE2321000230-SAMPLE1"]
    assert body["contracts"][0]["fictitious"] is True


def test_policy_digest_is_the_one_verdicts_cite(client):
    body = client.get("/v1/policies?home_region=25&on=2022-03-01").get_json()
    assert body["digest"] == rules.evaluate(examples.NORRBOTTEN_VIDEO).to_dict()["policy"]["digest"]
    contracted = rules.evaluate(examples.CONTRACTED_CHAT).to_dict()["policy"]["digest"]
    assert body["contracts"][0]["policy_digest"] == contracted


def test_policy_for_2018_uses_the_2017_tariff_and_no_regional_layer(client):
    body = client.get("/v1/policies?home_region=25&on=2018-06-01").get_json()
    assert [layer["id"] for layer in body["layers"]] == ["national-2017-05-01"]
    assert "assumption" in body["layers"][0]["parameters"]["digital_tariff_sek"]
    assert body["layers"][0]["parameters"]["digital_tariff_sek"]["assumption"]
    assert body["contracts"] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("home_region=02&on=2022-03-01", "home_region"),
        ("home_region=25&on=2022-02-30", "on"),
        ("home_region=25&on=01/03/2022", "on"),
        ("home_region=25&on=2017-04-30", "on"),
        ("home_region=25", "on"),
        ("on=2022-03-01", "home_region"),
        ("home_region=25&on=2022-03-01&verbose=1", "verbose"),
    ],
)
def test_bad_policy_query_is_422_on_the_field(client, query, field):
    response = client.get(f"/v1/policies?{query}")
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"]
