"""What the service decides with: reason and flag codes, regions, and the policy in force on a day."""

from flask_smorest import Blueprint

from rules.citations import CitedParameter, cited_parameters, periods_of
from rules.policy import Period
from rules.regions import REGIONS
from rules.verdict import policy_ref

from ..json_io import json_response
from ..policy_source import current_policy
from ..problem import ProblemError
from .catalogue_schemas import CatalogueSchema, PolicyInForceSchema, PolicyQuerySchema, RegionListSchema

blp = Blueprint(
    "catalogue", __name__, url_prefix="/v1", description="Reason codes, regions and policy layers."
)


def _sources(policy, ids) -> list[dict]:
    return [{"id": sid, **policy.sources[sid].to_dict()} for sid in ids]


@blp.route("/reasons", methods=["GET"])
@blp.doc(
    operationId="list_reasons",
    summary="Reason and flag codes",
    description="Every reason a verdict can give, in rule order, and every flag. A reason's "
    "`legal_basis` is its rule's own, cited by every verdict with that reason; `cited_parameters` are "
    "the dated parameters (and contracts) whose source a verdict also cites for the period in force, "
    "listed with their source per period, so the same reason can cite different sources on different dates.",
)
@blp.response(200, CatalogueSchema)
def get_reasons():
    policy = current_policy()
    catalogue = policy.catalogue
    reasons = [
        {
            "code": rule.reason,
            "rule": rule.number,
            "decision": rule.decision,
            "title": dict(catalogue.reasons[rule.reason]["title"]),
            "explanation_template": dict(catalogue.reasons[rule.reason]["explanation"]),
            "legal_basis": _sources(policy, rule.legal_basis),
            "cited_parameters": [_cited(policy, cited) for cited in cited_parameters(rule)],
        }
        for rule in policy.rules
    ]
    flags = [
        {
            "code": code,
            "title": dict(entry["title"]),
            "explanation_template": dict(entry["explanation"]),
            "legal_basis": _sources(policy, entry["legal_basis"]),
        }
        for code, entry in catalogue.flags.items()
    ]
    return json_response({"reasons": reasons, "flags": flags})


def _cited(policy, cited: CitedParameter) -> dict:
    periods = periods_of(policy, cited)
    return {
        "layer": cited.layer,
        "parameter": cited.parameter,
        "fact": cited.fact,
        "only_with_flag": cited.flag,
        "only_with_amount": cited.amount,
        "sources": None
        if periods is None
        else [
            {
                "period": period.id,
                "home_region": getattr(period, "home_region", None),
                "valid_from": period.valid_from.isoformat(),
                "valid_to": period.valid_to.isoformat() if period.valid_to else None,
                "value": param.value,
                "source": _sources(policy, [param.source])[0],
            }
            for period, param in periods
        ],
    }


@blp.route("/regions", methods=["GET"])
@blp.doc(
    operationId="list_regions",
    summary="Region codes",
    description="The 21 region codes (länskod) in use; 02, 11, 15 and 16 are not.",
)
@blp.response(200, RegionListSchema)
def get_regions():
    policy = current_policy()
    regions = [
        {"code": code, "name": name, "regional_policy": bool(policy.regional.get(code))}
        for code, name in REGIONS.items()
    ]
    return json_response({"regions": regions})


@blp.route("/policies", methods=["GET"])
@blp.doc(
    operationId="get_policy_in_force",
    summary="Policy in force",
    description="The national and regional layers in force for a home region on a day, with every parameter, "
    "its source and any assumption about it; the contracts in force; and the policy digest verdicts cite.",
)
@blp.arguments(PolicyQuerySchema, location="query", as_kwargs=True, unknown=None)  # None: the schema RAISEs
@blp.response(200, PolicyInForceSchema)
def get_policies(home_region, on):
    policy = current_policy()
    nat = policy.national_on(on)
    if nat is None:
        raise ProblemError(
            422,
            "No policy covers that day.",
            errors={"on": [f"No reimbursement policy before {policy.national_from.isoformat()}."]},
        )
    reg = policy.regional_on(home_region, on)
    contracts = [
        {**contract.to_dict(), "policy_digest": policy_ref(policy, home_region, nat, reg, contract)["digest"]}
        for contract in policy.contracts.contracts
        if contract.home_region == home_region and contract.covers(on)
    ]
    body = {
        "home_region": home_region,
        "on": on.isoformat(),
        "layers": [_layer(policy, period) for period in (nat, reg) if period is not None],
        "contracts": contracts,
        "digest": policy_ref(policy, home_region, nat, reg, None)["digest"],
    }
    return json_response(body)


def _layer(policy, period: Period) -> dict:
    return {
        "id": period.id,
        "layer": period.layer,
        "valid_from": period.valid_from.isoformat(),
        "valid_to": period.valid_to.isoformat() if period.valid_to else None,
        "file": period.file,
        "digest": period.digest,
        "parameters": {
            name: {
                "value": param.value,
                "source": _sources(policy, [param.source])[0],
                "assumption": param.assumption.strip() if param.assumption else None,
            }
            for name, param in period.parameters.items()
        },
    }
