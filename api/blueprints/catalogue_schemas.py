"""Schemas of the catalogue endpoints: reasons, regions and the policy in force."""

from marshmallow import Schema, fields

from rules.schema import RegionCode, StrictDate, TextSchema

from .query_schema import QuerySchema


class SourceSchema(Schema):
    id = fields.String(required=True, metadata={"example": "skr-2019-06-14"})
    ref = fields.String(required=True)
    url = fields.String(required=True, allow_none=True)


class PeriodSourceSchema(Schema):
    period = fields.String(required=True, metadata={"example": "national-2017-05-01"})
    home_region = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "The region of a regional period; null: national"},
    )
    valid_from = fields.String(required=True, metadata={"example": "2017-05-01"})
    valid_to = fields.String(
        required=True, allow_none=True, metadata={"description": "inclusive; null: open"}
    )
    value = fields.Raw(
        required=True,
        metadata={"description": "The parameter's value in the period, as written in the policy data"},
    )
    source = fields.Nested(SourceSchema, required=True)


class CitedParameterSchema(Schema):
    layer = fields.String(required=True, metadata={"example": "national"})
    parameter = fields.String(
        required=True,
        metadata={
            "description": "The parameter whose source is cited; `contract` (layer contracts): the contract "
            "found for the provider, cited by its own source",
            "example": "telephone_reimbursed",
        },
    )
    fact = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "The fact of the rule's condition that reads it; null when the amount does"},
    )
    only_with_flag = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "Cited only when the verdict raises this flag"},
    )
    only_with_amount = fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "Cited only when the amount is of this kind (digital_tariff: a remote "
            "contact capped by the national digital tariff)"
        },
    )
    sources = fields.List(
        fields.Nested(PeriodSourceSchema),
        required=True,
        allow_none=True,
        metadata={
            "description": "The parameter's source in each period; a verdict cites the one in force on its "
            "contact date (for its home region). Null for contracts: each cites its own source "
            "(GET /v1/policies lists the contracts in force)."
        },
    )


class ReasonSchema(Schema):
    code = fields.String(required=True, metadata={"example": "DIGITAL_NOT_CONTRACTED"})
    rule = fields.Integer(
        required=True, metadata={"description": "Position in the rule order (SPEC section 4)"}
    )
    decision = fields.String(required=True, metadata={"example": "no_pay"})
    title = fields.Nested(TextSchema, required=True)
    explanation_template = fields.Nested(
        TextSchema, required=True, metadata={"description": "Filled in per verdict with its numbers"}
    )
    legal_basis = fields.List(
        fields.Nested(SourceSchema),
        required=True,
        metadata={
            "description": "The rule's own legal basis (eligibility.yaml), cited by every verdict with it"
        },
    )
    cited_parameters = fields.List(
        fields.Nested(CitedParameterSchema),
        required=True,
        metadata={
            "description": "Dated parameters whose source for the period in force a verdict also cites"
        },
    )


class FlagSchema(Schema):
    code = fields.String(required=True, metadata={"example": "PATIENTLAG_CONFLICT"})
    title = fields.Nested(TextSchema, required=True)
    explanation_template = fields.Nested(TextSchema, required=True)
    legal_basis = fields.List(fields.Nested(SourceSchema), required=True)


class CatalogueSchema(Schema):
    reasons = fields.List(fields.Nested(ReasonSchema), required=True)
    flags = fields.List(fields.Nested(FlagSchema), required=True)


class RegionSchema(Schema):
    code = fields.String(required=True, metadata={"example": "25"})
    name = fields.String(required=True, metadata={"example": "Region Norrbotten"})
    regional_policy = fields.Boolean(
        required=True, metadata={"description": "Whether the region has its own policy layer in the data"}
    )


class RegionListSchema(Schema):
    regions = fields.List(fields.Nested(RegionSchema), required=True)


class PolicyQuerySchema(QuerySchema):
    home_region = RegionCode(required=True)
    on = StrictDate(
        required=True,
        metadata={
            "description": "The day to look at (a contact date), from 2017-05-01",
            "example": "2022-03-01",
        },
    )


class ParameterSchema(Schema):
    value = fields.Raw(required=True, metadata={"description": "As written in the policy data"})
    source = fields.Nested(SourceSchema, required=True)
    assumption = fields.String(allow_none=True, required=True)


class LayerSchema(Schema):
    id = fields.String(required=True, metadata={"example": "region-25-2022-01-01"})
    layer = fields.String(required=True, metadata={"example": "regional"})
    valid_from = fields.String(required=True, metadata={"example": "2022-01-01"})
    valid_to = fields.String(required=True, allow_none=True)
    file = fields.String(required=True, metadata={"example": "policy/regions/25-norrbotten.yaml"})
    digest = fields.String(required=True)
    parameters = fields.Dict(keys=fields.String(), values=fields.Nested(ParameterSchema), required=True)


class ContractInForceSchema(Schema):
    id = fields.String(required=True)
    home_region = fields.String(required=True)
    provider_id = fields.String(required=True)
    valid_from = fields.String(required=True)
    valid_to = fields.String(required=True, allow_none=True)
    tariff_sek = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    source = fields.String(required=True)
    fictitious = fields.Boolean(required=True, metadata={"description": "Sample data, not a real agreement"})
    policy_digest = fields.String(
        required=True, metadata={"description": "The policy digest of verdicts decided under this contract"}
    )


class PolicyInForceSchema(Schema):
    class Meta:
        ordered = True

    home_region = fields.String(required=True)
    on = fields.String(required=True)
    layers = fields.List(fields.Nested(LayerSchema), required=True)
    contracts = fields.List(fields.Nested(ContractInForceSchema), required=True)
    digest = fields.String(
        required=True,
        metadata={
            "description": "The policy digest of verdicts on this day for this home region without a contract"
        },
    )
