"""/v1/contracts: the contract registry (contracts layer), kept in the database and audited.

A change takes effect within a second on every worker and instance (api/storage/live_policy.py).
Overlapping contracts for the same provider and home region: 409. An API key administers the
contracts whose home_region is one of its regions: it neither reads (404, as for no contract) nor
changes (403) another region's.
"""

import uuid

from flask import Response
from flask_smorest import Blueprint

from rules.loader import contract_from_dict
from rules.money import format_sek
from rules.text import has_control_characters

from .. import examples
from ..auth import current_client, current_regions
from ..json_io import json_body_errors, json_request_body, json_response, read_body
from ..key_regions import covers, named
from ..openapi_security import forbidden_for_regions
from ..problem import PROBLEM_JSON, ProblemError
from ..storage import ContractConflict, ContractNotFound, ContractOutOfRegion
from ..storage.service import current_storage
from .contracts_schemas import (
    AuditListSchema,
    ContractBodySchema,
    ContractListSchema,
    ContractQuerySchema,
    ContractSchema,
)

blp = Blueprint(
    "contracts",
    __name__,
    url_prefix="/v1/contracts",
    description="The home regions' contracts with providers: effective-dated, tariffs per profession.",
)
INVALID = "The contract is not valid: see errors."
COVERED = "`contracts:admin` covers the contracts whose home_region is one of the key's regions"
WRITE_REFUSED = "the contract's home_region (before or after the change) is not one of the API key's regions"


def _body() -> dict:
    """The contract in the request body: 415, 413 or 400 as for every JSON body (read as the
    engine reads JSON, so an amount is checked as written), 422 per field."""
    return read_body(ContractBodySchema(), INVALID)


def _contract(body: dict, contract_id: str):
    """The domain Contract for a validated body (rules.loader's checks, so the YAML and the API agree)."""
    data = dict(body, id=contract_id)
    data["tariff_sek"] = {prof: format_sek(ore) for prof, ore in body.get("tariff_sek", {}).items()}

    def fail(key, message):
        raise ProblemError(422, INVALID, errors={key: [message]})

    return contract_from_dict(data, fail)


def _conflict(exc: ContractConflict):
    return ProblemError(409, str(exc), errors={"conflicts_with": [exc.other_id]} if exc.other_id else None)


def _unknown_id(contract_id: str) -> None:
    """404 for an id no contract can have (control characters are refused in every id, and
    PostgreSQL cannot even compare a NUL): not looked up."""
    if has_control_characters(contract_id):
        raise _not_found()


def _not_found():
    return ProblemError(404, "No contract with this id (or not one of the API key's regions).")


def _out_of_region(exc: ContractOutOfRegion):
    detail = f"The API key acts for {named(current_regions())}, and {exc}: {COVERED}."
    return ProblemError(403, detail, errors={"home_region": [detail]})


def _not_found_doc(hidden: bool):
    """The 404 of an operation on one contract; `hidden`: another region's contract answers it too."""
    description = "No contract with this id"
    if hidden:
        description += ", or one whose home_region is not one of the API key's regions (not revealed)"
    return blp.alt_response(404, description=description + ".", schema="Problem", content_type=PROBLEM_JSON)


@blp.route("", methods=["GET"])
@blp.doc(summary="List contracts", description="The contracts of the API key's regions.")
@blp.arguments(ContractQuerySchema, location="query", as_kwargs=True, unknown=None)  # None: the schema RAISEs
@blp.response(200, ContractListSchema)
@forbidden_for_regions(blp, "the `home_region` filter is not one of the API key's regions")
def list_contracts(**filters):
    regions = current_regions()
    home_region = filters.get("home_region")
    if home_region is not None and not covers(regions, home_region):
        detail = f"The API key acts for {named(regions)}, not for home_region {home_region}: {COVERED}."
        raise ProblemError(403, detail, errors={"home_region": [detail]})
    return json_response({"items": current_storage().contracts.find(**filters, regions=regions)})


@blp.route("", methods=["POST"])
@blp.doc(
    summary="Add a contract",
    description="409 when it overlaps a contract for the same provider and region.",
    **json_request_body(ContractBodySchema, example=examples.contract_example()),
)
@blp.response(201, ContractSchema)
@json_body_errors(blp, "The contract is not valid; `errors` says what is wrong, per field.")
@blp.alt_response(409, response="CONFLICT")
@forbidden_for_regions(blp, "the contract's home_region is not one of the API key's regions")
def create_contract():
    body = _body()
    contract = _contract(body, body.get("id") or f"contract-{uuid.uuid4()}")
    try:
        record = current_storage().contracts.create(contract, current_client(), regions=current_regions())
    except ContractOutOfRegion as exc:
        raise _out_of_region(exc) from None
    except ContractConflict as exc:
        raise _conflict(exc) from None
    response = json_response(record, status=201)
    response.headers["Location"] = f"/v1/contracts/{contract.id}"
    return response


@blp.route("/<string:contract_id>", methods=["GET"])
@blp.doc(summary="One contract")
@blp.response(200, ContractSchema)
@_not_found_doc(hidden=True)
def get_contract(contract_id):
    _unknown_id(contract_id)
    try:
        return json_response(current_storage().contracts.get(contract_id, regions=current_regions()))
    except ContractNotFound:
        raise _not_found() from None


@blp.route("/<string:contract_id>", methods=["PUT"])
@blp.doc(
    summary="Replace a contract",
    description="The whole contract; its id is the path's. Its home_region may change when the API key "
    "acts for both the old and the new one.",
    **json_request_body(ContractBodySchema, example=examples.contract_replacement_example()),
)
@blp.response(200, ContractSchema)
@json_body_errors(blp, "The contract is not valid; `errors` says what is wrong, per field.")
@_not_found_doc(hidden=False)
@blp.alt_response(409, response="CONFLICT")
@forbidden_for_regions(blp, WRITE_REFUSED)
def replace_contract(contract_id):
    body = _body()
    _unknown_id(contract_id)
    if body.get("id", contract_id) != contract_id:
        raise ProblemError(
            422,
            "The contract is not valid: see errors.",
            errors={"id": ["Must be the id in the path (ids cannot be changed)."]},
        )
    contract = _contract(body, contract_id)
    try:
        record = current_storage().contracts.replace(contract, current_client(), regions=current_regions())
    except ContractNotFound:
        raise _not_found() from None
    except ContractOutOfRegion as exc:
        raise _out_of_region(exc) from None
    except ContractConflict as exc:
        raise _conflict(exc) from None
    return json_response(record)


@blp.route("/<string:contract_id>", methods=["DELETE"])
@blp.doc(summary="Remove a contract", description="The audit keeps what it was.")
@blp.response(204)
@_not_found_doc(hidden=False)
@forbidden_for_regions(blp, "the contract's home_region is not one of the API key's regions")
def delete_contract(contract_id):
    _unknown_id(contract_id)
    try:
        current_storage().contracts.delete(contract_id, current_client(), regions=current_regions())
    except ContractNotFound:
        raise _not_found() from None
    except ContractOutOfRegion as exc:
        raise _out_of_region(exc) from None
    response = Response(status=204)
    del response.headers["Content-Type"]  # no body, so no content type
    return response


@blp.route("/<string:contract_id>/audit", methods=["GET"])
@blp.doc(
    summary="Audit trail of a contract", description="Who changed it, when, before and after; oldest first."
)
@blp.response(200, AuditListSchema)
@_not_found_doc(hidden=True)
def contract_audit(contract_id):
    _unknown_id(contract_id)
    items = current_storage().contracts.audit(contract_id, regions=current_regions())
    if not items:
        raise _not_found()
    return json_response({"items": items})
