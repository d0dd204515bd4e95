"""The 14 eligibility rules and the amount (SPEC sections 4 and 5) written by hand as one Python
if-chain: the yardstick for the compiled rules in engine_vs_zen.py.

Same inputs as the compiled `policy.decide`: a validated Contact, the national and regional periods
in force, and the contract lookup. Returns (reason, decision, amount_ore, cap_ore, flags).
"""

from rules.calendar import add_months

CLAIM_EXCEEDS_TARIFF = ("CLAIM_EXCEEDS_TARIFF",)


def _capped(reason, claimed, tariff, fee, flags=()):
    cap = tariff - fee
    if cap < 0:
        cap = 0
    if cap < claimed:
        return reason, "pay", cap, cap, flags + CLAIM_EXCEEDS_TARIFF
    return reason, "pay", claimed, cap, flags


def _standard(reason, c, nat, flags=()):
    if c.mode == "physical":
        return reason, "pay", c.claimed_ore, None, flags
    return _capped(reason, c.claimed_ore, nat.digital_tariff_ore[c.profession], c.patient_fee_ore, flags)


def decide(c, nat, reg, find_contract):
    if c.home_region == c.care_region:
        return "IN_REGION", "no_pay", 0, None, ()
    if c.invoice_date is not None and c.invoice_date > add_months(c.contact_date, nat.invoice_limit_months):
        return "INVOICE_TIME_BARRED", "no_pay", 0, None, ()
    contract = find_contract(c.home_region, c.provider_id, c.contact_date)
    if contract is not None:
        tariff = contract.tariff_ore.get(c.profession)
        if tariff is None:
            return "CONTRACTED_PROVIDER", "pay", c.claimed_ore, None, ()
        return _capped("CONTRACTED_PROVIDER", c.claimed_ore, tariff, c.patient_fee_ore)
    category = c.care_category
    if category == "acute":
        return _standard("ACUTE_CARE", c, nat)
    if category == "maternity":
        return _standard("MATERNITY_CARE", c, nat)
    if c.setting == "inpatient":
        if c.prior_approval:
            return _standard("INPATIENT_APPROVED", c, nat)
        return "INPATIENT_NOT_APPROVED", "no_pay", 0, None, ()
    if reg is not None and c.referral == "none" and c.specialty in reg.referral_specialties:
        return "REFERRAL_MISSING", "no_pay", 0, None, ()
    mode = c.mode
    if mode == "physical":
        return "OUTPATIENT_FREE_CHOICE", "pay", c.claimed_ore, None, ()
    if mode == "telephone" and not nat.telephone_reimbursed:
        return "TELEPHONE_NOT_REIMBURSED", "no_pay", 0, None, ()
    dr = c.digital_requirements
    if not (dr.qualified_care and dr.strong_authentication and dr.journaled and dr.triaged):
        return "DIGITAL_REQUIREMENTS_NOT_MET", "no_pay", 0, None, ()
    if c.referral == "home_region_referral":
        return _standard("DIGITAL_REFERRED", c, nat)
    stop = reg.digital_stop if reg is not None else "none"
    if stop == "enforce":
        return "DIGITAL_NOT_CONTRACTED", "no_pay", 0, None, ("PATIENTLAG_CONFLICT",)
    if stop == "advisory":
        return _standard("DIGITAL_TARIFF", c, nat, ("DIGITAL_STOP_ADVISORY",))
    return _standard("DIGITAL_TARIFF", c, nat)
