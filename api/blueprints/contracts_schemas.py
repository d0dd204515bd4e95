"""The contract body of /v1/contracts (the contracts layer of SPEC section 3) and its answers."""

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from rules.schema import Money, RegionCode, StrictBoolean, StrictDate
from rules.vocabulary import PROFESSIONS

from .query_schema import QuerySchema
from .text_field import Text

CONTRACT_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"

# A tariff per profession: a property per profession, so that the document names the professions
# (OpenAPI 3.0 cannot constrain a map's keys) and any other key is refused.
TariffSchema = Schema.from_dict({profession: Money() for profession in PROFESSIONS}, name="Tariff")


class ContractBodySchema(Schema):
    """A home region's contract with one provider, effective-dated, with tariffs per profession."""

    class Meta:
        unknown = RAISE
        ordered = True

    id = Text(
        validate=validate.Regexp(CONTRACT_ID),
        metadata={
            "description": "Chosen by the client on POST (or made by the server); the path's on PUT",
            "example": "contract-25-kry-2025",
        },
    )
    home_region = RegionCode(required=True)
    provider_id = Text(
        required=True, validate=validate.Length(1, 64), metadata={"example": "SE2321000230-KRY"}
    )
    valid_from = StrictDate(required=True)
    valid_to = StrictDate(
        allow_none=True, load_default=None, metadata={"description": "inclusive; null: open"}
    )
    tariff_sek = fields.Nested(
        TariffSchema(unknown=RAISE),
        load_default=dict,
        metadata={
            "description": "Tariff per profession, patient fee included. A profession without one is "
            "paid the claimed amount.",
            "example": {"physician": "450.00"},
        },
    )
    source = Text(required=True, validate=validate.Length(1, 200), metadata={"example": "Avtal Dnr 123-2024"})
    fictitious = StrictBoolean(required=True, metadata={"description": "Say whether the contract is real"})

    @validates_schema
    def _period(self, data, **kwargs):
        start, end = data.get("valid_from"), data.get("valid_to")
        if start is not None and end is not None and end < start:
            raise ValidationError(f"{end.isoformat()} is before valid_from {start.isoformat()}.", "valid_to")


class ContractSchema(Schema):
    class Meta:
        ordered = True

    id = fields.String(required=True)
    home_region = fields.String(required=True)
    provider_id = fields.String(required=True)
    valid_from = fields.Date(required=True)
    valid_to = fields.Date(allow_none=True, required=True)
    tariff_sek = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    source = fields.String(required=True)
    fictitious = fields.Boolean(required=True)
    revision = fields.Integer(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class ContractListSchema(Schema):
    items = fields.List(fields.Nested(ContractSchema), required=True)


class ContractQuerySchema(QuerySchema):
    home_region = RegionCode()
    provider_id = Text(validate=validate.Length(1, 64))


class AuditEntrySchema(Schema):
    contract_id = fields.String(required=True)
    action = fields.String(required=True, validate=validate.OneOf(("seed", "create", "update", "delete")))
    actor = fields.String(required=True, metadata={"description": "API key id, anonymous, or seed"})
    at = fields.DateTime(required=True)
    before = fields.Nested(ContractSchema, allow_none=True, required=True)
    after = fields.Nested(ContractSchema, allow_none=True, required=True)


class AuditListSchema(Schema):
    items = fields.List(fields.Nested(AuditEntrySchema), required=True)
