import rules


def test_policy_check_passes():
    from rules.__main__ import main

    assert main(["check"]) == 0


def test_uncontracted_digital_contact_in_norrbotten_2022_is_not_paid():
    verdict = rules.evaluate(
        {
            "contact_id": "smoke-1",
            "contact_date": "2022-03-01",
            "home_region": "25",
            "care_region": "06",
            "provider_id": "SE162321000255-K001",
            "mode": "video",
            "care_category": "planned",
            "profession": "physician",
            "digital_requirements": {
                "qualified_care": True,
                "strong_authentication": True,
                "journaled": True,
                "triaged": True,
            },
            "claimed_amount_sek": "500.00",
        }
    )
    assert (verdict.decision, verdict.reason, verdict.amount_sek) == (
        "no_pay",
        "DIGITAL_NOT_CONTRACTED",
        "0.00",
    )
    assert "PATIENTLAG_CONFLICT" in verdict.flags
