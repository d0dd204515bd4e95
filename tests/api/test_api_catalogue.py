"""GET /v1/reasons, /v1/regions and /v1/policies."""

import pytest

import rules
from api import examples


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
