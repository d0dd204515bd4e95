"""A seeded, reproducible synthetic year of digital out-of-county contacts. SYNTHETIC DATA.

Calibrated to the seed decision (SPEC section 8, rules/simulation/seed_facts.py) so that analysts
and tests have a realistic year to simulate policies on; no real patient or provider is in it.
Everything is labelled: contact ids start with `SYN-`, provider ids with `SYN-HSA-`.

What is exact and what is drawn (all draws from one random.Random(seed)):
- count: the seed's contacts for the year when the home region is 25 (2019: 15,130; 2020: 25,812),
  else `count` (required).
- age groups: EXACT per the seed table (a shuffled list with exact group counts); for 2020 the 15
  contacts the table leaves out get no age ("unknown", see seed_facts). Age uniform in the group.
- sex: exact 2 : 1 female to male (the seed: women almost twice as often as men).
- profession: exact national 2020 mix 67/18/10/5 % physician, nurse, physiotherapist, psychologist.
- mode: chat 55 %, video 42 %, telephone 3 % (telephone is not reimbursed: those are no_pay).
- care region: providers in Jönköping (06, 60 %) and Sörmland (04, 40 %), three fictitious each.
- date: uniform day within a month; months weighted by a linear rise over the year (volumes grew
  71 % from 2019 to 2020), December twice January.
- claimed amount: the national digital tariff in force on the day for the profession, less the
  patient fee; 2 % of claims are 10 % above the tariff (capped by the rules).
- patient fee: none for patients under 20 or without age; 100 SEK on 5 % of adult contacts.
- digital requirements: all met on 99 %; on 1 % one requirement is not met.
- referral: 3 % on a home-region referral; 0.5 % are neuropsychiatric assessments (half referred).
- invoice date: 5-45 days after the contact; 0.3 % arrive 7-9 months later (time-barred).
- needs_assessment (Ds 2023:27): true on 70 %, false on 10 %, absent on 20 %. An assumption: no
  such documentation was required in 2019-2020, the shares are there to make the Ds scenario bite.

Calibration: the 2020 tariff weighted by the profession mix is 433.25 SEK per contact; with the
~4.5 % of contacts that are not payable (telephone, unmet requirements, late invoices, missing
referral) and the few patient fees, the in-force amount for the generated 2020 Norrbotten year
(seed 347) is 10,607,625.00 SEK against the seed's 10,706,294 SEK (-0.9 %; tests pin it within
3 %). For 2019 it is 7,366,525.00 SEK against 6,917,456 SEK (+6.5 %): the SKL 2017 tariff (650 SEK
per physician contact) applies at face value until 2019-09-30, and Norrbotten evidently paid less
per contact; the 2019 data reproduces the counts, not the cost (tests pin it within 10 %).
"""

import random
from calendar import monthrange
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from ..money import format_sek
from ..regions import REGIONS
from ..vocabulary import AGE_GROUPS
from .seed_facts import CONTACTS, HOME_REGION, PROFESSION_MIX, SEX_MIX, UNKNOWN_AGE, age_counts, split_exact

DEFAULT_SEED = 347  # Dnr 347-2021
FIRST_YEAR = 2018  # the first full year under the national digital tariff (from 2017-05-01)
LAST_YEAR = 2030
MAX_COUNT = 10_000_000

PROVIDERS = {
    "06": ("SYN-HSA-06-0001", "SYN-HSA-06-0002", "SYN-HSA-06-0003"),
    "04": ("SYN-HSA-04-0001", "SYN-HSA-04-0002", "SYN-HSA-04-0003"),
}
CARE_REGION_WEIGHTS = (("06", 60), ("04", 40))
MODE_WEIGHTS = (("chat", 55), ("video", 42), ("telephone", 3))
SPECIALTY = {
    "physician": "primary_care",
    "nurse": "primary_care",
    "physiotherapist": "physiotherapy",
    "psychologist": "psychology",
}
AGE_RANGE = {label: (low, min(high, 100)) for label, low, high in AGE_GROUPS}
REQUIREMENTS = ("qualified_care", "strong_authentication", "journaled", "triaged")
PATIENT_FEE_ORE = 100_00


@dataclass(frozen=True)
class GeneratorSpec:
    """What to generate. `count` None means the seed's count (home region 25, 2019 or 2020)."""

    year: int
    home_region: str = HOME_REGION
    count: int | None = None
    seed: int = DEFAULT_SEED

    @classmethod
    def from_dict(cls, body, max_count: int = MAX_COUNT) -> "GeneratorSpec":
        """Build from the API/CLI form {"year", "home_region", "count", "seed"}; raises
        ValueError whose args[0] is a dict of field -> [messages]."""
        errors: dict[str, list[str]] = {}
        if not isinstance(body, dict):
            raise ValueError({"generate": ["Not a valid object."]})
        for key in set(body) - {"year", "home_region", "count", "seed"}:
            errors[f"generate.{key}"] = ["Unknown field."]
        year = body.get("year")
        if not _is_int(year) or not FIRST_YEAR <= year <= LAST_YEAR:
            errors["generate.year"] = [f"Must be an integer from {FIRST_YEAR} to {LAST_YEAR}."]
        region = body.get("home_region", HOME_REGION)
        if not isinstance(region, str) or region not in REGIONS:
            errors["generate.home_region"] = ["Not a region code in use (01, 03-10, 12-14, 17-25)."]
        count = body.get("count")
        if count is not None and (not _is_int(count) or not 1 <= count <= max_count):
            errors["generate.count"] = [f"Must be an integer from 1 to {max_count}."]
        seed = body.get("seed", DEFAULT_SEED)
        if not _is_int(seed):
            errors["generate.seed"] = ["Must be an integer."]
        if not errors:
            spec = cls(year, region, count, seed)
            try:
                spec.resolved_count()
            except ValueError as exc:
                errors["generate.count"] = [str(exc)]
            else:
                if spec.resolved_count() > max_count:
                    errors["generate.count"] = [f"Must be at most {max_count}."]
        if errors:
            raise ValueError(errors)
        return spec

    def resolved_count(self) -> int:
        if self.count is not None:
            return self.count
        if self.home_region == HOME_REGION and self.year in CONTACTS:
            return CONTACTS[self.year]
        raise ValueError("Required: the seed gives counts only for Region Norrbotten (25) in 2019 and 2020.")


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _exact_labels(rng: random.Random, counts: dict[str, int]) -> list[str]:
    labels = [label for label, n in counts.items() for _ in range(n)]
    rng.shuffle(labels)
    return labels


def _month_days(year: int) -> list[tuple[int, int]]:
    return [(month, monthrange(year, month)[1]) for month in range(1, 13)]


def generate(spec: GeneratorSpec) -> Iterator[dict]:
    """Yield the contacts (dicts in the JSON shape of SPEC section 6), in contact-id order."""
    from .. import default_policy  # the tariff in force on each day sets the claim

    policy = default_policy()
    count = spec.resolved_count()
    rng = random.Random(f"{spec.seed}/{spec.year}/{spec.home_region}/{count}")
    ages = _exact_labels(rng, age_counts(spec.year, count))
    sexes = _exact_labels(rng, split_exact(count, SEX_MIX))
    professions = _exact_labels(rng, split_exact(count, PROFESSION_MIX))
    months = _month_days(spec.year)
    month_weights = [11 + i for i in range(12)]  # December twice January
    month_cum = [sum(month_weights[: i + 1]) for i in range(12)]
    regions = [r for r, _ in CARE_REGION_WEIGHTS]
    region_cum = _cumulative(CARE_REGION_WEIGHTS)
    modes = [m for m, _ in MODE_WEIGHTS]
    mode_cum = _cumulative(MODE_WEIGHTS)
    tariff_cache: dict[tuple[date, str], int] = {}
    prefix = f"SYN-{spec.year}-{spec.home_region}-"
    width = max(6, len(str(count)))
    for i in range(count):
        month, days = months[rng.choices(range(12), cum_weights=month_cum)[0]]
        day = date(spec.year, month, rng.randint(1, days))
        care_region = rng.choices(regions, cum_weights=region_cum)[0]
        mode = rng.choices(modes, cum_weights=mode_cum)[0]
        profession = professions[i]
        group = ages[i]
        age = None if group == UNKNOWN_AGE else rng.randint(*AGE_RANGE[group])
        contact = {
            "contact_id": f"{prefix}{i + 1:0{width}d}",
            "contact_date": day.isoformat(),
            "home_region": spec.home_region,
            "care_region": care_region,
            "provider_id": rng.choice(PROVIDERS[care_region]),
            "mode": mode,
            "care_category": "planned",
            "profession": profession,
            "specialty": SPECIALTY[profession],
        }
        if rng.random() < 0.005:
            contact["specialty"] = "neuropsychiatric_assessment"
            if rng.random() < 0.5:
                contact["referral"] = "home_region_referral"
        elif rng.random() < 0.03:
            contact["referral"] = "home_region_referral"
        met = {name: True for name in REQUIREMENTS}
        if rng.random() < 0.01:
            met[rng.choice(REQUIREMENTS)] = False
        contact["digital_requirements"] = met
        fee = PATIENT_FEE_ORE if age is not None and age >= 20 and rng.random() < 0.05 else 0
        key = (day, profession)
        tariff = tariff_cache.get(key)
        if tariff is None:
            tariff = tariff_cache[key] = policy.national_on(day).digital_tariff_ore[profession]
        claim = max(tariff - fee, 0)
        if rng.random() < 0.02:
            claim += claim // 10
        contact["claimed_amount_sek"] = format_sek(claim)
        if fee:
            contact["patient_fee_sek"] = format_sek(fee)
        late = rng.random() < 0.003
        delay = rng.randint(213, 275) if late else rng.randint(5, 45)
        contact["invoice_date"] = (day + timedelta(days=delay)).isoformat()
        patient = {"sex": sexes[i]}
        if age is not None:
            patient["age"] = age
        contact["patient"] = patient
        draw = rng.random()
        if draw < 0.70:
            contact["needs_assessment"] = True
        elif draw < 0.80:
            contact["needs_assessment"] = False
        yield contact


def _cumulative(weights) -> list[int]:
    out, total = [], 0
    for _, weight in weights:
        total += weight
        out.append(total)
    return out


def describe(spec: GeneratorSpec) -> str:
    """The one-line label the CLI prints to stderr and the report shows."""
    unknown = age_counts(spec.year, spec.resolved_count()).get(UNKNOWN_AGE, 0)
    note = (
        f"; {unknown} contacts have no age: the source's age table is {unknown} short of its total"
        if unknown
        else ""
    )
    return (
        f"SYNTHETIC DATA: {spec.resolved_count():,} generated digital out-of-county contacts, "
        f"home region {spec.home_region}, {spec.year}, seed {spec.seed} "
        f"(calibrated to Region Norrbotten Dnr 347-2021; not real patients or providers{note})"
    )
