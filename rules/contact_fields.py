"""The contact (SPEC section 6: one invoice line, as a billing system sends it), declared once.

Everything else about its shape is derived from CONTACT: the engine's validator (rules/validation.py,
`rules.parse_contact`), the marshmallow ContactSchema that the OpenAPI document describes
(rules/schema.py) and the CSV columns of the command line (rules/io_formats.py). Defaults are those
of the built objects (rules/contact.py).
"""

from .contact import Contact, DigitalRequirements, Patient
from .field_kinds import (
    Boolean,
    Choice,
    Date,
    Field,
    Integer,
    Money,
    NotAfterToday,
    NotBefore,
    ObjectKind,
    Region,
    RequiredWhen,
    Slug,
    Text,
)
from .vocabulary import (
    CARE_CATEGORIES,
    DIGITAL_REQUIREMENTS,
    MODES,
    PROFESSIONS,
    REFERRALS,
    REMOTE_MODES,
    SETTINGS,
    SEXES,
)

DIGITAL_REQUIREMENTS_OBJECT = ObjectKind(
    "DigitalRequirements",
    DigitalRequirements,
    fields=tuple(Field(name, Boolean(), required=True) for name in DIGITAL_REQUIREMENTS),
    description="The requirements on digital care, each met or not: all four for the digital tariff.",
    memo=True,
)

PATIENT_OBJECT = ObjectKind(
    "Patient",
    Patient,
    fields=(
        Field("age", Integer(0, 130), example=40),
        Field("sex", Choice(SEXES)),
    ),
    description="Statistics only: never used in a decision.",
    memo=True,
)

CONTACT = ObjectKind(
    "Contact",
    Contact,
    fields=(
        Field(
            "contact_id",
            Text(1, 64),
            required=True,
            description="The caller's id of the line",
            example="L-2022-0001",
        ),
        Field(
            "contact_date", Date(), required=True, description="The day care was given", example="2022-06-01"
        ),
        Field(
            "home_region",
            Region(),
            required=True,
            description="Region code (länskod) of the patient's home region, which pays",
            example="25",
        ),
        Field(
            "care_region",
            Region(),
            required=True,
            description="Region code (länskod) of the region that gave the care",
            example="06",
        ),
        Field(
            "provider_id",
            Text(1, 64, repeats=True),
            required=True,
            description="HSA-id of the care unit",
            example="SE162321000255-K001",
        ),
        Field("mode", Choice(MODES), required=True),
        Field("care_category", Choice(CARE_CATEGORIES), required=True),
        Field("setting", Choice(SETTINGS)),
        Field("profession", Choice(PROFESSIONS), required=True),
        Field(
            "specialty",
            Slug(),
            description="A slug, e.g. primary_care, neuropsychiatric_assessment",
            example="primary_care",
        ),
        Field("referral", Choice(REFERRALS)),
        Field("prior_approval", Boolean(), description="The home region approved the care beforehand"),
        Field("digital_requirements", DIGITAL_REQUIREMENTS_OBJECT),
        Field("claimed_amount_sek", Money(), required=True, attribute="claimed_ore", example="450.00"),
        Field(
            "patient_fee_sek",
            Money(),
            description="The patient fee paid at the provider",
            attribute="patient_fee_ore",
            example="0.00",
        ),
        Field("invoice_date", Date(), example="2022-06-15"),
        Field("patient", PATIENT_OBJECT),
        Field(
            "needs_assessment",
            Boolean(),
            description="A documented assessment of need and suitability (Ds 2023:27)",
        ),
    ),
    rules=(
        RequiredWhen("digital_requirements", "mode", tuple(mode for mode in MODES if mode in REMOTE_MODES)),
        NotBefore("invoice_date", "contact_date"),
        NotAfterToday("contact_date", "care not yet given is not billed"),
        NotAfterToday("invoice_date", "an invoice is not dated ahead"),
    ),
    description="One invoice line (vårdkontakt).",
)
