"""The figures of the seed decision (Region Norrbotten, Dnr 347-2021; SPEC section 8) that the
synthetic data is calibrated to and the report compares against.

The 2020 age table in the source leaves the 85+ cell blank and its groups sum to 25,797, while the
table's own total (and the cost table) says 25,812 contacts: 15 contacts have no age group in the
source. We do not invent an age for them: the generator writes those 15 contacts without an age
(they count as age group "unknown"), so every stated group count and the stated total both hold.
The blank is most likely the 85+ cell lost in the PDF, but the source does not say so.
"""

SOURCE = "Region Norrbotten, regionstyrelsen, Dnr 347-2021 (initiativärende 5-2021)"
HOME_REGION = "25"

CONTACTS = {2019: 15_130, 2020: 25_812}
COST_SEK = {2019: 6_917_456, 2020: 10_706_294}

# Contacts by age group (SPEC section 8 groups). 2020 85+ is blank in the source: not stated.
AGE_TABLE = {
    2019: {"0-6": 1_535, "7-18": 2_355, "19-39": 7_398, "40-64": 3_417, "65-74": 359, "75-84": 66, "85+": 0},
    2020: {"0-6": 1_597, "7-18": 3_245, "19-39": 12_927, "40-64": 6_764, "65-74": 1_050, "75-84": 214},
}
UNKNOWN_AGE = "unknown"

# Nationally in 2020 (SKR): share of digital out-of-county contacts by profession, percent.
PROFESSION_MIX = {"physician": 67, "nurse": 18, "physiotherapist": 10, "psychologist": 5}

# "Women used digital care almost twice as often as men": female to male 2 : 1.
SEX_MIX = {"female": 2, "male": 1}


def age_counts(year: int, count: int | None = None) -> dict[str, int]:
    """Exact contacts per age group for a year of Norrbotten data.

    For a seed year with the seed's own count, the seed table itself, with the contacts the table
    leaves out under "unknown". For another year or count, the nearest seed year's shares, split
    by largest remainder so the groups sum to `count` exactly."""
    seed_year = year if year in AGE_TABLE else (2019 if year < 2020 else 2020)
    table = AGE_TABLE[seed_year]
    stated = sum(table.values())
    total = CONTACTS[seed_year]
    if count is None or (year == seed_year and count == total):
        counts = dict(table)
        if total > stated:
            counts[UNKNOWN_AGE] = total - stated
        return counts
    return split_exact(count, table)


def split_exact(count: int, weights: dict[str, int]) -> dict[str, int]:
    """Split `count` over the keys in proportion to `weights`, summing exactly (largest remainder)."""
    total = sum(weights.values())
    if total <= 0:
        raise ValueError("weights must sum to more than zero")
    out, remainders = {}, {}
    for key, weight in weights.items():
        out[key], remainders[key] = divmod(count * weight, total)
    short = count - sum(out.values())
    for key in sorted(remainders, key=lambda k: (-remainders[k], k))[:short]:
        out[key] += 1
    return out
