"""Hypothesis strategies for contacts in the JSON shape of SPEC section 6.

`valid_contacts()` spans every enum, region, the policy's dates (2017-05-01 to today: a date
after today is refused, SPEC section 6) and amounts; `mangled_contacts()` breaks valid ones in the
ways clients do; `json_values()` is any JSON value. Shared by the invariant, explanation and
contact contract tests.
"""

from datetime import date, timedelta

from hypothesis import strategies as st

from rules.calendar import stockholm_today
from rules.identity_numbers import holds_identity_number
from rules.regions import REGIONS
from rules.vocabulary import (
    CARE_CATEGORIES,
    DIGITAL_REQUIREMENTS,
    MODES,
    PROFESSIONS,
    REFERRALS,
    SETTINGS,
    SEXES,
)

FIRST_DAY = date(2017, 5, 1)
LAST_DAY = stockholm_today()  # the tests run after this is worked out: it stays in the past
REGION_CODES = sorted(REGIONS)
# Providers: the sample contract's (so rule 3 is reached), and two without a contract.
PROVIDERS = ("SE2321000230-SAMPLE1", "SE162321000255-K001", "SE2321000016-VC01")
SPECIALTIES = ("neuropsychiatric_assessment", "primary_care", "psychiatry")
CONTROL_CHARACTERS = "".join(map(chr, [*range(0x20), 0x7F]))
# Any text a contact_id may hold: everything but control characters (SPEC section 6) and identity
# numbers (rules/identity_numbers.py; drawn by chance about never, but a valid contact stays valid).
ID_TEXT = st.text(st.characters(exclude_characters=CONTROL_CHARACTERS), min_size=1, max_size=64).filter(
    lambda text: not holds_identity_number(text)
)


def _money() -> st.SearchStrategy:
    ore = st.integers(min_value=0, max_value=2_000_000)  # up to 20,000 SEK, the interesting range
    as_text = ore.map(lambda v: f"{v // 100}.{v % 100:02d}")
    as_int = st.integers(min_value=0, max_value=20_000)
    as_float = st.integers(min_value=0, max_value=2_000_000).map(lambda v: float(f"{v // 100}.{v % 100:02d}"))
    return st.one_of(as_text, as_int, as_float)


def _digital() -> st.SearchStrategy:
    return st.fixed_dictionaries({name: st.booleans() for name in DIGITAL_REQUIREMENTS})


def _patient() -> st.SearchStrategy:
    return st.fixed_dictionaries(
        {}, optional={"age": st.integers(min_value=0, max_value=130), "sex": st.sampled_from(SEXES)}
    )


@st.composite
def valid_contacts(draw) -> dict:
    contact_day = draw(st.dates(min_value=FIRST_DAY, max_value=LAST_DAY))
    home = draw(st.sampled_from(REGION_CODES))
    # Weight towards Norrbotten (the only regional layer) and towards out-of-county care.
    home = draw(st.sampled_from(("25", "25", home)))
    care = draw(st.sampled_from(REGION_CODES))
    mode = draw(st.sampled_from(MODES))
    contact = {
        "contact_id": draw(ID_TEXT),
        "contact_date": contact_day.isoformat(),
        "home_region": home,
        "care_region": care,
        "provider_id": draw(st.sampled_from(PROVIDERS)),
        "mode": mode,
        "care_category": draw(st.sampled_from(CARE_CATEGORIES)),
        "profession": draw(st.sampled_from(PROFESSIONS)),
        "claimed_amount_sek": draw(_money()),
    }
    optional = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "setting": st.sampled_from(SETTINGS),
                "specialty": st.sampled_from(SPECIALTIES),
                "referral": st.sampled_from(REFERRALS),
                "prior_approval": st.booleans(),
                "patient_fee_sek": _money(),
                "invoice_date": st.dates(
                    min_value=contact_day, max_value=min(contact_day + timedelta(days=400), LAST_DAY)
                ).map(date.isoformat),
                "patient": _patient(),
                "needs_assessment": st.booleans(),
            },
        )
    )
    contact.update(optional)
    if mode != "physical" or draw(st.booleans()):
        contact["digital_requirements"] = draw(_digital())
    return contact


def json_values(max_leaves: int = 6) -> st.SearchStrategy:
    """Any value json.loads can return."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**20), max_value=10**20),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=20),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=10), inner, max_size=3)
        ),
        max_leaves=max_leaves,
    )


# Values that sit on the edges of the contract, for any field.
TRICKY = (
    None,
    True,
    False,
    0,
    -1,
    1.5,
    0.125,
    -0.5,
    25,
    "",
    " ",
    "25",
    "02",
    "11",
    "15",
    "16",
    "26",
    "1",
    "2022-01-01",
    "20220101",
    "2022-13-01",
    "2022-02-29",
    "2024-02-29",
    "2017-04-30",
    "2022-01-01T00:00:00",
    "2022-01-01\n",
    "450.00",
    "450.005",
    "-1.00",
    "450,00",
    "1e3",
    "100000000.01",
    "video",
    "Video",
    "physician",
    "acute",
    "inpatient",
    "home_region_referral",
    "primary_care",
    "primary_care\n",
    "Primary Care",
    "x" * 64,
    "x" * 65,
    "a\x00b",
    "tab\there",
    "line\n",
    "\x7f",
    "SE162321000255-K001\r",
    [],
    {},
    {"qualified_care": True},
    dict.fromkeys(DIGITAL_REQUIREMENTS, True),
    {**dict.fromkeys(DIGITAL_REQUIREMENTS, True), "extra": True},
    {"age": 131},
    {"age": True},
    {"age": 40, "sex": "female"},
    {"sex": "f"},
)
FIELD_NAMES = (
    "contact_id",
    "contact_date",
    "home_region",
    "care_region",
    "provider_id",
    "mode",
    "care_category",
    "setting",
    "profession",
    "specialty",
    "referral",
    "prior_approval",
    "digital_requirements",
    "claimed_amount_sek",
    "patient_fee_sek",
    "invoice_date",
    "patient",
    "needs_assessment",
    "unknown_field",
)


@st.composite
def mangled_contacts(draw) -> dict:
    """A valid contact with one to three fields replaced, removed or added."""
    contact = draw(valid_contacts())
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        field = draw(st.sampled_from(FIELD_NAMES))
        action = draw(st.sampled_from(("tricky", "json", "delete")))
        if action == "delete":
            contact.pop(field, None)
        elif action == "tricky":
            contact[field] = draw(st.sampled_from(TRICKY))
        else:
            contact[field] = draw(json_values())
    return contact
