"""The vocabulary of facts that eligibility rules (policy/eligibility.yaml) may test.

Each fact is a Python expression over the names the compiled rules see:
  c         the validated Contact
  nat       the national period in force on the contact date
  reg       the home region's regional period in force, or None
  contract  the contract found for the provider (bound on first use)
`domain` lists every value the fact can take; the analysis enumerates it to find rules that
can never apply and cases no rule decides.

`layer` and `parameter` name the dated policy value the fact reads (one of PARAMETERS), so a
verdict that tests the fact cites that value's `source` for the period in force and says when its
date is an assumption. This is how a rule resting on a dated decision (the national telephone
rule, a regional stop, a contract) gets its citation: the policy check accepts a rule with an
empty `legal_basis` only if it tests such a fact (rules/citations.py). `uncited` lists the values
the fact takes without reading the parameter (no regional period in force, no contract): a test
that allows one of them can hold with nothing to cite.
Adding a fact is an engine change; using facts in new rules is a data change.
"""

from dataclasses import dataclass

from .vocabulary import CARE_CATEGORIES, MODES, REFERRALS, SETTINGS

BOOL = (True, False)
DIGITAL_STOPS = ("none", "advisory", "enforce")

# The dated parameters of each layer. The loader requires every one, in every period, to cite a
# source from sources.yaml; a contract always names its source (file and API both require it).
# So each of them carries a citation a verdict can give.
PARAMETERS = {
    "national": ("digital_tariff_sek", "telephone_reimbursed", "invoice_limit_months"),
    "regional": ("referral_required_specialties", "digital_stop"),
    "contracts": ("contract",),
}


@dataclass(frozen=True)
class Fact:
    name: str
    domain: tuple
    expr: str
    layer: str | None = None  # a key of PARAMETERS when the fact reads a dated parameter
    parameter: str | None = None
    needs_contract: bool = False
    uncited: tuple = ()  # values the fact takes without reading the parameter

    def cites(self, allowed) -> bool:
        """Whether a test admitting only `allowed` values holds only when the parameter was read
        from a period (or contract) in force, whose source a verdict then cites."""
        return self.parameter is not None and not set(allowed) & set(self.uncited)


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
    Fact(
        "contracted",
        BOOL,
        "contract is not None",
        layer="contracts",
        parameter="contract",
        needs_contract=True,
        uncited=(False,),
    ),
    Fact("care_category", CARE_CATEGORIES, "c.care_category"),
    Fact("setting", SETTINGS, "c.setting"),
    Fact("prior_approval", BOOL, "c.prior_approval"),
    Fact(
        "referral_required",
        BOOL,
        "(reg is not None and c.specialty in reg.referral_specialties)",
        layer="regional",
        parameter="referral_required_specialties",
        uncited=(False,),
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
        uncited=("none",),
    ),
    # Ds 2023:27: a documented assessment of need and suitability (None: not stated).
    Fact("needs_assessment", (True, False, None), "c.needs_assessment"),
)

FACTS = {fact.name: fact for fact in _ALL}

for _fact in _ALL:  # a fact may only claim a parameter that carries a citation
    if _fact.parameter is not None and _fact.parameter not in PARAMETERS.get(_fact.layer, ()):
        raise ValueError(f"fact {_fact.name}: {_fact.layer}.{_fact.parameter} is not a cited parameter")
