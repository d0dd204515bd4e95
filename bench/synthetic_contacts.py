"""Seeded synthetic contacts for the benchmarks: valid SPEC section 6 dicts shaped like the real data
(mostly digital out-of-county contacts billed by Jönköping and Sörmland providers, many with
Norrbotten as home region), with enough of every other case that each of the 14 rules decides some.

Benchmarks only: the project's data generator is `python -m rules generate`; this one stays
independent of it so the benchmarks measure the engine alone.
"""

import random
from datetime import date, timedelta

from rules.regions import REGIONS
from rules.vocabulary import PROFESSIONS

REGION_CODES = tuple(REGIONS)
DIGITAL_HUBS = ("06", "04")  # Jönköping and Sörmland: where the digital providers are established
CONTRACTED_PROVIDER = "SE2321000230-SAMPLE1"  # the fictitious sample contract, home region 25
FIRST_DAY = date(2017, 5, 1)  # the national policy starts here; earlier contacts are rejected
# Contacts and their invoices (at most 400 days later) stay before 2026-11-29, when a date after
# today began to be refused: the same contacts are valid on any day the benchmarks run.
LAST_DAY = date(2025, 10, 1)
PROFESSION_WEIGHTS = {  # SKR 2020: 67 % physician, 18 % nurse, 10 % physiotherapist, 5 % psychologist
    "physician": 60,
    "nurse": 17,
    "physiotherapist": 9,
    "psychologist": 5,
}
_REST = [p for p in PROFESSIONS if p not in PROFESSION_WEIGHTS]
_PROFESSIONS = list(PROFESSION_WEIGHTS) + _REST
_PROFESSION_W = list(PROFESSION_WEIGHTS.values()) + [9 / len(_REST)] * len(_REST)
ALL_MET = ("qualified_care", "strong_authentication", "journaled", "triaged")


def contacts(count: int, seed: int = 2021):
    """Yield `count` contact dicts; the same seed gives the same contacts."""
    rng = random.Random(seed)
    span = (LAST_DAY - FIRST_DAY).days
    for n in range(count):
        yield _contact(rng, f"bench-{seed}-{n:08d}", FIRST_DAY + timedelta(days=rng.randrange(span + 1)))


def _contact(rng: random.Random, contact_id: str, day: date) -> dict:
    home = "25" if rng.random() < 0.55 else rng.choice(REGION_CODES)
    digital = rng.random() < 0.85
    if rng.random() < 0.05:
        care = home  # in-region
    elif digital:
        care = rng.choice(DIGITAL_HUBS)
    else:
        care = rng.choice(REGION_CODES)
    mode = rng.choices(("video", "chat", "telephone"), (55, 40, 5))[0] if digital else "physical"
    category = rng.choices(("planned", "acute", "maternity"), (90, 7, 3))[0]
    profession = rng.choices(_PROFESSIONS, _PROFESSION_W)[0]
    provider = (
        CONTRACTED_PROVIDER
        if rng.random() < 0.04
        else f"SE16232100{rng.randrange(100, 400)}-K{rng.randrange(1, 60):03d}"
    )
    data = {
        "contact_id": contact_id,  # new per seed: a batch of first decisions, not corrections
        "contact_date": day.isoformat(),
        "home_region": home,
        "care_region": care,
        "provider_id": provider,
        "mode": mode,
        "care_category": category,
        "profession": profession,
        "claimed_amount_sek": _amount(rng, digital),
    }
    if rng.random() < 0.3:
        data["patient_fee_sek"] = rng.choice(("0.00", "100.00", "150", "200.00"))
    if not digital and rng.random() < 0.15:
        data["setting"] = "inpatient"
        data["prior_approval"] = rng.random() < 0.6
    if rng.random() < 0.08:
        data["specialty"] = "neuropsychiatric_assessment"
    elif rng.random() < 0.7:
        data["specialty"] = "primary_care"
    if rng.random() < 0.12:
        data["referral"] = "home_region_referral"
    if digital:
        requirements = dict.fromkeys(ALL_MET, True)
        if rng.random() < 0.06:
            requirements[rng.choice(ALL_MET)] = False
        data["digital_requirements"] = requirements
    if rng.random() < 0.9:
        late = rng.random() < 0.04
        data["invoice_date"] = (
            day + timedelta(days=rng.randrange(190, 400) if late else rng.randrange(0, 120))
        ).isoformat()
    if rng.random() < 0.8:
        data["patient"] = {
            "age": rng.randrange(0, 96),
            "sex": rng.choice(("female", "female", "male", "other")),
        }
    return data


def _amount(rng: random.Random, digital: bool) -> str:
    if digital:
        return rng.choice(("500.00", "650.00", "425.00", "300.00", "275.00", "550.00", "1000.00"))
    return f"{rng.randrange(300, 40000)}.{rng.randrange(100):02d}"
