"""Realistic examples for the OpenAPI document, so "Try it out" in Swagger UI works at once.

The example verdicts are computed by the engine from the example contacts (with a fixed
decision_id and evaluated_at), so the documentation can never drift from what the service says.
"""

import copy
from functools import lru_cache

import rules
from rules.policy_candidate import check_files, overlay_files
from rules.policy_diff import diff
from rules.replay import replay

from .decision_entry import stored_contact
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
def replay_example() -> dict:
    """The example verdict's decision replayed: identical (computed, like the verdict). Decided on
    the day after its invoice_date: a replay judges as of the day of the decision, and the contact
    would have been refused before that day."""
    policy = rules.default_policy()
    evaluated_at = "2022-04-01T09:30:00.000000Z"
    record = {
        "contact": stored_contact(NORRBOTTEN_VIDEO),
        "verdict": {**verdict_example(), "evaluated_at": evaluated_at},
        "evaluated_at": evaluated_at,
        "policy": {"version": policy.version, "contract_book": policy.contracts.digest},
    }
    return replay(record, policy)


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


# A candidate policy: Norrbotten's digital stop made advisory (pay, but flag it), as a board might
# decide after a legal review; the decision named here is an example, not a real one.
CANDIDATE_OVERLAY = {
    "base": "active",
    "overrides": {"regions.25.digital_stop.enforcement": "advisory"},
    "source": {
        "ref": "Region Norrbotten, regionstyrelsen: the digital stop as advisory (example decision)",
        "url": "https://www.norrbotten.se/",
    },
    "note": "Proposal: Norrbotten's digital stop as advisory, after the legal review",
}


def candidate_examples() -> dict:
    """POST /v1/policy-versions: an overlay on the version in force, and a whole policy (the
    shipped files: the same content as the version registered at start, so 200 with it)."""
    shipped = rules.default_policy()
    return {
        "overlay": {
            "summary": "Overlay: Norrbotten's stop as advisory, citing the decision",
            "value": CANDIDATE_OVERLAY,
        },
        "files": {
            "summary": "A whole policy: the shipped files (identical content: 200 with that version)",
            "value": {"files": dict(shipped.files), "note": "The shipped policy files"},
        },
    }


SHADOW_SINCE = "2026-11-23T08:00:00.000000Z"


@lru_cache(maxsize=1)
def candidate_policy() -> rules.Policy:
    """The example overlay laid on the shipped policy (the version in force on a new database)."""
    shipped = rules.default_policy()
    files = overlay_files(
        shipped.files,
        CANDIDATE_OVERLAY["overrides"],
        base=shipped.version,
        source=CANDIDATE_OVERLAY["source"],
    )
    return check_files(files)


@lru_cache(maxsize=1)
def policy_diff_example() -> dict:
    """GET /v1/policy-versions/{digest}/diff of the example candidate against the shipped policy."""
    return diff(rules.default_policy(), candidate_policy())


def shadow_request_example() -> dict:
    return {
        "digest": candidate_policy().version,
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
        "digest": candidate_policy().version,
        "since": SHADOW_SINCE,
        "verdicts": verdicts,
        "disagreements": disagreements,
        "changed": changed if disagreements else [],
    }
