"""The closed vocabularies of the contract (SPEC section 6), shared by validation, schema and checks."""

MODES = ("physical", "video", "chat", "telephone")
REMOTE_MODES = frozenset({"video", "chat", "telephone"})
CARE_CATEGORIES = ("acute", "maternity", "planned")
SETTINGS = ("outpatient", "inpatient")
PROFESSIONS = (
    "physician",
    "nurse",
    "psychologist",
    "counsellor",
    "psychotherapist",
    "physiotherapist",
    "midwife",
    "occupational_therapist",
    "dietitian",
    "other_licensed",
)
REFERRALS = ("none", "home_region_referral")
SEXES = ("female", "male", "other", "unknown")
DIGITAL_REQUIREMENTS = ("qualified_care", "strong_authentication", "journaled", "triaged")
DECISIONS = ("pay", "no_pay")

# Age groups of the seed's statistics (SPEC section 8): label, lowest age, highest age.
AGE_GROUPS = (
    ("0-6", 0, 6),
    ("7-18", 7, 18),
    ("19-39", 19, 39),
    ("40-64", 40, 64),
    ("65-74", 65, 74),
    ("75-84", 75, 84),
    ("85+", 85, 130),
)


def age_group(age: int) -> str:
    for label, low, high in AGE_GROUPS:
        if low <= age <= high:
            return label
    raise ValueError(f"age {age} is outside 0-130")
