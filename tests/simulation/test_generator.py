"""The synthetic year reproduces the seed's figures (SPEC section 8) and is valid and reproducible."""

from collections import Counter
from itertools import islice

import pytest

import rules
from rules.simulation.generator import GeneratorSpec, describe, generate
from rules.simulation.seed_facts import AGE_TABLE, CONTACTS, COST_SEK
from rules.vocabulary import age_group


def _age_groups(contacts):
    return Counter(age_group(c["patient"]["age"]) if "age" in c["patient"] else "unknown" for c in contacts)


def test_2020_age_groups_equal_the_seed_table_and_the_15_unstated_have_no_age(year_2020):
    assert len(year_2020) == CONTACTS[2020] == 25_812
    groups = _age_groups(year_2020)
    assert {g: n for g, n in groups.items() if g != "unknown"} == AGE_TABLE[2020]
    # the source's 85+ cell is blank and its groups sum to 25,797: 15 contacts carry no age
    assert sum(AGE_TABLE[2020].values()) == 25_797
    assert groups["unknown"] == 15
    assert groups["85+"] == 0
    assert "15 contacts have no age" in describe(GeneratorSpec(2020))


def test_2019_age_groups_equal_the_seed_table():
    contacts = list(generate(GeneratorSpec(2019)))
    assert len(contacts) == 15_130
    groups = _age_groups(contacts)
    assert dict(groups) == {g: n for g, n in AGE_TABLE[2019].items() if n}
    assert all(c["contact_date"].startswith("2019-") for c in contacts)


def test_women_twice_men_and_the_national_profession_mix(year_2020):
    sexes = Counter(c["patient"]["sex"] for c in year_2020)
    assert sexes == {"female": 17_208, "male": 8_604}
    professions = Counter(c["profession"] for c in year_2020)
    shares = {p: round(100 * n / len(year_2020)) for p, n in professions.items()}
    assert shares == {"physician": 67, "nurse": 18, "physiotherapist": 10, "psychologist": 5}
    assert {c["mode"] for c in year_2020} == {"chat", "video", "telephone"}
    assert {c["care_region"] for c in year_2020} == {"06", "04"}


def test_every_contact_is_valid_synthetic_and_labelled(year_2020):
    for contact in year_2020:
        rules.parse_contact(contact)  # raises on any invalid line
        assert contact["contact_id"].startswith("SYN-2020-25-")
        assert contact["provider_id"].startswith("SYN-HSA-")
    assert len({c["contact_id"] for c in year_2020}) == len(year_2020)


def test_same_seed_same_data_other_seed_other_data(year_2020):
    again = list(islice(generate(GeneratorSpec(2020)), 200))
    assert again == year_2020[:200]
    other = list(islice(generate(GeneratorSpec(2020, seed=1)), 200))
    assert other != year_2020[:200]


def test_in_force_amount_reproduces_the_seed_cost_within_3_percent(year_2020, policy):
    total = sum(v.amount_ore for v in rules.evaluate_many(year_2020, policy))
    seed = COST_SEK[2020] * 100
    assert abs(total - seed) <= seed * 3 // 100, (total, seed)


def test_2019_amount_is_within_10_percent_of_the_seed_cost(policy):
    total = sum(v.amount_ore for v in rules.evaluate_many(generate(GeneratorSpec(2019)), policy))
    seed = COST_SEK[2019] * 100
    assert abs(total - seed) <= seed // 10, (total, seed)


def test_count_for_other_regions_is_required_and_split_exactly():
    with pytest.raises(ValueError) as info:
        GeneratorSpec.from_dict({"year": 2020, "home_region": "14"})
    assert "generate.count" in info.value.args[0]
    contacts = list(generate(GeneratorSpec.from_dict({"year": 2021, "home_region": "14", "count": 1000})))
    assert len(contacts) == 1000
    assert {c["home_region"] for c in contacts} == {"14"}


@pytest.mark.parametrize(
    "body, field",
    [
        ({"year": 2016}, "generate.year"),
        ({"year": "2020"}, "generate.year"),
        ({"year": 2020, "home_region": "02"}, "generate.home_region"),
        ({"year": 2020, "count": 0}, "generate.count"),
        ({"year": 2020, "count": True}, "generate.count"),
        ({"year": 2020, "seed": 1.5}, "generate.seed"),
        ({"year": 2020, "colour": "red"}, "generate.colour"),
    ],
)
def test_bad_generator_specs_say_which_field(body, field):
    with pytest.raises(ValueError) as info:
        GeneratorSpec.from_dict(body)
    assert field in info.value.args[0]
