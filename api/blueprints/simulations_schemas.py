"""Request and response schemas of the simulation endpoints, for the OpenAPI document.

The views parse the body themselves (rules.simulation validates scenarios and generator specs and
says what is wrong per key); these schemas document the shapes.
"""

from marshmallow import Schema, fields, validate

from rules.identity_numbers import IDENTITY_NUMBER_MESSAGE
from rules.schema import StrictDate

from ..config import DEFAULT_BATCH_MAX_LINES
from .verdicts_schemas import contact_line

SCENARIO_DESCRIPTION = (
    "A scenario name (in_force, national_only, ds_2023_27, stop_from_2020: rules/scenarios/, each laid on "
    "the policy version in force, so in_force is what the service decides with now) or a "
    "what-if {name, base, overrides}. Override keys: regions.<code>.digital_stop.valid_from (date), "
    "regions.<code>.digital_stop.enforcement (none | advisory | enforce), "
    "regions.<code>.referral_required_specialties (list), national.telephone_reimbursed (bool), "
    "national.invoice_limit_months (int), national.digital_tariff_sek.<profession> (amount string). "
    "A what-if's name and title are free text. " + IDENTITY_NUMBER_MESSAGE
)


def scenario(description: str = SCENARIO_DESCRIPTION, **kwargs) -> fields.Raw:
    """A scenario: its name or a what-if object (rules.simulation.scenarios checks which)."""
    return fields.Raw(
        metadata={"description": description, "anyOf": [{"type": "string"}, {"type": "object"}]}, **kwargs
    )


class GeneratorSpecSchema(Schema):
    year = fields.Integer(required=True, validate=validate.Range(2018, 2030), metadata={"example": 2020})
    home_region = fields.String(metadata={"example": "25"})
    count = fields.Integer(
        validate=validate.Range(1, DEFAULT_BATCH_MAX_LINES),
        metadata={
            "description": "Default: the seed's count (Norrbotten 2019 and 2020 only). At most as many "
            "as a batch may carry (UTOMLANS_BATCH_MAX_LINES)"
        },
    )
    seed = fields.Integer(metadata={"example": 347})


class SimulationRequestSchema(Schema):
    contacts = fields.List(
        contact_line(),
        metadata={
            "description": "The contacts to simulate (or give `generate` instead). A line that is not a "
            "valid contact is listed under `rejected`."
        },
    )
    generate = fields.Nested(
        GeneratorSpecSchema,
        metadata={"description": "Simulate a generated synthetic year instead of sending contacts"},
    )
    scenarios = fields.List(
        scenario(),
        validate=validate.Length(min=1, max=8),
        metadata={
            "description": "The first is the baseline. "
            "Default: in_force, national_only, stop_from_2020, ds_2023_27"
        },
    )
    format = fields.String(
        validate=validate.OneOf(["json", "html"]),
        metadata={"description": "html: the self-contained report (also with Accept: text/html)"},
    )


class CellSchema(Schema):
    count = fields.Integer(required=True)
    paid = fields.Integer(required=True)
    amount_sek = fields.String(required=True)


class ReasonCellSchema(Schema):
    decision = fields.String(required=True)
    count = fields.Integer(required=True)
    amount_sek = fields.String(required=True)


class ScenarioResultSchema(Schema):
    name = fields.String(required=True)
    title = fields.String(required=True)
    overrides = fields.Dict(required=True)
    count = fields.Integer(required=True)
    paid = fields.Integer(required=True)
    no_pay = fields.Integer(required=True)
    amount_sek = fields.String(required=True, metadata={"example": "10607625.00"})
    by_reason = fields.Dict(keys=fields.String(), values=fields.Nested(ReasonCellSchema), required=True)
    by_age_group = fields.Dict(keys=fields.String(), values=fields.Nested(CellSchema), required=True)
    by_sex = fields.Dict(keys=fields.String(), values=fields.Nested(CellSchema), required=True)
    by_profession = fields.Dict(keys=fields.String(), values=fields.Nested(CellSchema), required=True)
    by_month = fields.Dict(keys=fields.String(), values=fields.Nested(CellSchema), required=True)


class DeltaCellSchema(Schema):
    paid = fields.Integer(required=True)
    amount_sek = fields.String(required=True, metadata={"example": "-1250.00"})


class ChangeSchema(Schema):
    from_ = fields.String(required=True, data_key="from")
    to = fields.String(required=True)
    count = fields.Integer(required=True)
    amount_sek = fields.String(required=True)


class DeltaSchema(Schema):
    scenario = fields.String(required=True)
    against = fields.String(required=True)
    paid = fields.Integer(required=True)
    amount_sek = fields.String(required=True)
    by_age_group = fields.Dict(keys=fields.String(), values=fields.Nested(DeltaCellSchema), required=True)
    by_sex = fields.Dict(keys=fields.String(), values=fields.Nested(DeltaCellSchema), required=True)
    by_profession = fields.Dict(keys=fields.String(), values=fields.Nested(DeltaCellSchema), required=True)
    by_month = fields.Dict(keys=fields.String(), values=fields.Nested(DeltaCellSchema), required=True)
    changed = fields.List(fields.Nested(ChangeSchema), required=True)


class RejectedItemSchema(Schema):
    index = fields.Integer(required=True)
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), required=True)


class RejectedSchema(Schema):
    count = fields.Integer(required=True)
    lines = fields.List(fields.Nested(RejectedItemSchema), required=True)


class DataSchema(Schema):
    source = fields.String(required=True, validate=validate.OneOf(["contacts", "generated"]))
    label = fields.String(required=True)


class SimulationResultSchema(Schema):
    count = fields.Integer(required=True, metadata={"description": "Contacts decided"})
    baseline = fields.String(required=True)
    scenarios = fields.List(fields.Nested(ScenarioResultSchema), required=True)
    deltas = fields.List(fields.Nested(DeltaSchema), required=True)
    rejected = fields.Nested(RejectedSchema, required=True)
    data = fields.Nested(DataSchema, required=True)


class ReadjudicationRequestSchema(Schema):
    scenario = scenario("The candidate policy. " + SCENARIO_DESCRIPTION, required=True)
    home_region = fields.String(metadata={"example": "25"})
    contact_date_from = StrictDate()
    contact_date_to = StrictDate()
    limit = fields.Integer(validate=validate.Range(1, 100_000), metadata={"description": "Decisions read"})


class VerdictBriefSchema(Schema):
    decision = fields.String(required=True)
    reason = fields.String(required=True)
    amount_sek = fields.String(required=True)


class ChangedVerdictSchema(Schema):
    index = fields.Integer(required=True)
    decision_id = fields.String(allow_none=True, required=True)
    contact_id = fields.String(required=True)
    home_region = fields.String(required=True)
    contact_date = fields.String(required=True)
    before = fields.Nested(VerdictBriefSchema, required=True)
    after = fields.Nested(VerdictBriefSchema, required=True)
    amount_delta_sek = fields.String(required=True)


class ChangedSchema(Schema):
    count = fields.Integer(required=True)
    items = fields.List(fields.Nested(ChangedVerdictSchema), required=True)


class RegionDeltaSchema(Schema):
    decisions = fields.Integer(required=True)
    changed = fields.Integer(required=True)
    amount_before_sek = fields.String(required=True)
    amount_after_sek = fields.String(required=True)
    amount_delta_sek = fields.String(required=True)


class ReadjudicationRejectedSchema(Schema):
    count = fields.Integer(required=True)
    items = fields.List(fields.Nested(RejectedItemSchema), required=True)


class ReadjudicationResultSchema(Schema):
    policy = fields.String(required=True)
    decisions = fields.Integer(
        required=True, metadata={"description": "Contacts re-decided (latest decision each)"}
    )
    superseded = fields.Integer(required=True)
    truncated = fields.Boolean(required=True, metadata={"description": "More decisions matched than `limit`"})
    changed = fields.Nested(ChangedSchema, required=True)
    by_home_region = fields.Dict(keys=fields.String(), values=fields.Nested(RegionDeltaSchema), required=True)
    rejected = fields.Nested(ReadjudicationRejectedSchema, required=True)
