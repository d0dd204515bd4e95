"""The vocabulary of facts that eligibility rules (policy/eligibility.yaml) may test.

Each fact is a Python expression over the names the compiled rules see:
  c         the validated Contact
  nat       the national period in force on the contact date
  reg       the home region's regional period in force, or None
  contract  the contract found for the provider (bound on first use)
`domain` lists every value the fact can take; the analysis enumerates it to find rules that
can never apply and cases no rule decides. `parameter` names the policy value the fact reads,
so a verdict can cite its source and say when that value's date is an assumption.
Adding a fact is an engine change; using facts in new rules is a data change.
"""

from dataclasses import dataclass

from .vocabulary import CARE_CATEGORIES, MODES, REFERRALS, SETTINGS

BOOL = (True, False)
DIGITAL_STOPS = ("none", "advisory", "enforce")


@dataclass(frozen=True)
class Fact:
    name: str
    domain: tuple
    expr: str
    layer: str | None = None  # "national" or "regional" when it reads a parameter
    parameter: str | None = None
    needs_contract: bool = False


_ALL = (
    Fact("same_region", BOOL, "c.home_region == c.care_region"),
    Fact(
        "invoice_time_barred",
        BOOL,
        "(c.invoice_date is not None and "
        "c.invoice_date > add_months(c.contact_date, nat.invoice_limit_months))",
        layer="national",
        parameter="invoice_limit_months",
    ),
    Fact("contracted", BOOL, "contract is not None", needs_contract=True),
    Fact("care_category", CARE_CATEGORIES, "c.care_category"),
    Fact("setting", SETTINGS, "c.setting"),
    Fact("prior_approval", BOOL, "c.prior_approval"),
    Fact(
        "referral_required",
        BOOL,
        "(reg is not None and c.specialty in reg.referral_specialties)",
        layer="regional",
        parameter="referral_required_specialties",
    ),
    Fact("referral", REFERRALS, "c.referral"),
    Fact("mode", MODES, "c.mode"),
    Fact(
        "telephone_reimbursed",
        BOOL,
        "nat.telephone_reimbursed",
        layer="national",
        parameter="telephone_reimbursed",
    ),
    Fact("digital_requirements_met", BOOL, "c.digital_requirements_met"),
    Fact(
        "digital_stop",
        DIGITAL_STOPS,
        "(reg.digital_stop if reg is not None else 'none')",
        layer="regional",
        parameter="digital_stop",
    ),
    # Ds 2023:27: a documented assessment of need and suitability (None: not stated).
    Fact("needs_assessment", (True, False, None), "c.needs_assessment"),
)

FACTS = {fact.name: fact for fact in _ALL}
