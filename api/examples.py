"""Realistic examples for the OpenAPI document, so "Try it out" in Swagger UI works at once.

The example verdicts are computed by the engine from the example contacts (with a fixed
decision_id and evaluated_at), so the documentation can never drift from what the service says.
"""

import copy
from functools import lru_cache

import yaml

import rules
from rules.loader import POLICY_DIR, read_policy_files
from rules.policy_version import document_text, version_digest, version_files
from rules.simulation.scenarios import scenario_documents

from .key_regions import REGION_ERROR, contact_refusal

EXAMPLE_DECISION_ID = "3f1c9a52-7d4e-4b8a-9c61-2e5f0d8b7a14"
EXAMPLE_EVALUATED_AT = "2022-03-15T09:30:00.000000Z"

ALL_MET = {"qualified_care": True, "strong_authentication": True, "journaled": True, "triaged": True}

# A Norrbotten resident's video contact with a physician at a digital provider established in
# Jönköping, after Norrbotten's digital stop (Dnr 347-2021) came into force.
NORRBOTTEN_VIDEO = {
    "contact_id": "NLL-2022-000123",
    "contact_date": "2022-03-01",
    "home_region": "25",
    "care_region": "06",
    "provider_id": "SE2321000065-E0001",
    "mode": "video",
    "care_category": "planned",
    "profession": "physician",
    "specialty": "primary_care",
    "digital_requirements": dict(ALL_MET),
    "claimed_amount_sek": "500.00",
    "patient_fee_sek": "0.00",
    "invoice_date": "2022-03-31",
    "patient": {"age": 34, "sex": "female"},
}

# The same kind of contact with the provider Norrbotten has a (fictitious, sample) contract with.
CONTRACTED_CHAT = {
    **copy.deepcopy(NORRBOTTEN_VIDEO),
    "contact_id": "NLL-2022-000124",
    "provider_id": "SE2321000230-SAMPLE1",
    "mode": "chat",
    "claimed_amount_sek": "500.00",
}

# A physical outpatient visit in Region Stockholm by a Norrbotten resident: the patient's free choice.
PHYSICAL_VISIT = {
    "contact_id": "NLL-2022-000125",
    "contact_date": "2022-03-01",
    "home_region": "25",
    "care_region": "01",
    "provider_id": "SE2321000016-A1B2",
    "mode": "physical",
    "care_category": "planned",
    "profession": "physician",
    "specialty": "primary_care",
    "claimed_amount_sek": "1850.00",
    "patient_fee_sek": "200.00",
}

# A line a billing system might send by mistake: a retired region code and no required fields.
INVALID_LINE = {"contact_id": "NLL-2022-000126", "contact_date": "2022-03-01", "home_region": "02"}


def contact_examples() -> dict:
    return {
        "digital_stop": {
            "summary": "Norrbotten video contact, uncontracted provider, 2022-03-01",
            "value": NORRBOTTEN_VIDEO,
        },
        "contracted": {
            "summary": "Chat with a contracted provider (fictitious sample contract)",
            "value": CONTRACTED_CHAT,
        },
        "physical": {
            "summary": "Physical visit in Stockholm (free choice of outpatient care)",
            "value": PHYSICAL_VISIT,
        },
    }


def batch_request_example() -> dict:
    return {"contacts": [NORRBOTTEN_VIDEO, CONTRACTED_CHAT, PHYSICAL_VISIT, INVALID_LINE]}


def _record(verdict) -> dict:
    return {"decision_id": EXAMPLE_DECISION_ID, **verdict.to_dict(), "evaluated_at": EXAMPLE_EVALUATED_AT}


@lru_cache(maxsize=1)
def verdict_example() -> dict:
    return _record(rules.evaluate(NORRBOTTEN_VIDEO))


@lru_cache(maxsize=1)
def batch_response_example() -> dict:
    summary = rules.Summary()
    verdicts, rejected = [], []
    for index, contact in enumerate(batch_request_example()["contacts"]):
        try:
            verdict = rules.evaluate(contact)
        except rules.InvalidContact as exc:
            summary.add_rejected()
            rejected.append({"index": index, "contact_id": contact.get("contact_id"), "errors": exc.errors})
            continue
        summary.add(verdict)
        verdicts.append(_record(verdict))
    return {"verdicts": verdicts, "rejected": rejected, "summary": summary.to_dict()}


@lru_cache(maxsize=1)
def invalid_contact_problem_example() -> dict:
    try:
        rules.evaluate(INVALID_LINE)
    except rules.InvalidContact as exc:
        errors = exc.errors
    else:  # pragma: no cover - the example line is invalid by construction
        raise AssertionError("INVALID_LINE was accepted")
    return {
        "type": "about:blank",
        "title": "Unprocessable Content",
        "status": 422,
        "detail": "The contact is not valid: see errors.",
        "instance": "/v1/verdicts",
        "errors": errors,
    }


@lru_cache(maxsize=1)
def region_refused_problem_example() -> dict:
    """Region Stockholm's billing key (01) sending a Norrbotten resident's contact given in Jönköping."""
    refusal = contact_refusal(frozenset({"01"}), rules.parse_contact(NORRBOTTEN_VIDEO))
    return {
        "type": "about:blank",
        "title": "Forbidden",
        "status": 403,
        "detail": refusal,
        "instance": "/v1/verdicts",
        "errors": {REGION_ERROR: [refusal]},
    }


def contract_example() -> dict:
    """A fictitious contract that does not overlap the shipped sample (SE2321000230-SAMPLE1)."""
    return {
        "id": "contract-25-example-2025",
        "home_region": "25",
        "provider_id": "SE2321000230-EXAMPLE2",
        "valid_from": "2025-01-01",
        "valid_to": "2026-12-31",
        "tariff_sek": {"physician": "450.00", "nurse": "250.00"},
        "source": "Fictitious example contract for trying the API; not a real agreement",
        "fictitious": True,
    }


def contract_replacement_example() -> dict:
    """PUT body for the example contract: its id comes from the path; the tariff changes."""
    body = contract_example()
    del body["id"]
    body["tariff_sek"] = {"physician": "475.00", "nurse": "260.00"}
    return body


# The example candidate of /v1/shadow: the policy in force with Norrbotten's digital stop advisory
# (the overlay {"base": "active", "overrides": SHADOW_OVERRIDES}), stored as its changed files.
SHADOW_OVERRIDES = {"regions.25.digital_stop.enforcement": "advisory"}
SHADOW_SINCE = "2026-11-23T08:00:00.000000Z"


def shadow_candidate_files() -> dict[str, str]:
    shipped = version_files(read_policy_files(POLICY_DIR))
    docs = scenario_documents({"name": "advisory", "overrides": SHADOW_OVERRIDES})
    return {
        name: text if docs[name] == yaml.safe_load(text) else document_text(docs[name])
        for name, text in shipped.items()
    }


@lru_cache(maxsize=1)
def shadow_candidate_digest() -> str:
    return version_digest(shadow_candidate_files())


def shadow_request_example() -> dict:
    return {
        "digest": shadow_candidate_digest(),
        "note": "Region Norrbotten: what would advisory cost? (RS 2026-11)",
    }


def shadow_example(verdicts: int = 18_240) -> dict:
    """GET /v1/shadow a week on (PUT: the same, just begun): each disagreement an uncontracted
    Norrbotten video contact the candidate pays at the national tariff."""
    disagreements = verdicts * 2113 // 18_240
    changed = [
        {
            "from": "DIGITAL_NOT_CONTRACTED",
            "to": "DIGITAL_TARIFF",
            "count": disagreements,
            "amount_sek": f"+{disagreements * 500}.00",
        }
    ]
    return {
        "digest": shadow_candidate_digest(),
        "since": SHADOW_SINCE,
        "verdicts": verdicts,
        "disagreements": disagreements,
        "changed": changed if disagreements else [],
    }
