"""What the ZEN decision graph (bench/zen/eligibility.json) is given for one contact.

ZEN cannot read our effective-dated policy layers, contract registry or calendar rule, so those
facts are computed here, in Python, before the timed loop (their cost is NOT counted for ZEN):
  time_barred          invoice_date later than contact_date + 6 calendar months (month-end rule)
  contracted           a contract with the home region covers the provider on the contact date
  contract_tariff_ore  that contract's tariff for the profession, or null
  referral_required    the home region's layer requires a referral for the specialty
  telephone_reimbursed the national layer's parameter
  digital_stop         the home region's stop in force: none, advisory or enforce
  digital_tariff_ore   the national digital tariff for the profession on the contact date
Everything else is the validated contact as plain JSON values (amounts in integer öre, defaults
filled in), and the graph computes the rest itself: same region, care category, setting and
prior approval, referral, mode, whether all four digital requirements are met, the first-hit
rule, the cap, the amount and the flags.
"""

from rules.calendar import add_months


def zen_context(c, policy) -> dict:
    day = c.contact_date
    nat = policy.national_on(day)
    reg = policy.regional_on(c.home_region, day)
    contract = policy.contracts.find(c.home_region, c.provider_id, day)
    dr = c.digital_requirements
    return {
        "home_region": c.home_region,
        "care_region": c.care_region,
        "care_category": c.care_category,
        "setting": c.setting,
        "prior_approval": c.prior_approval,
        "referral": c.referral,
        "mode": c.mode,
        "digital_requirements": dr.to_dict() if dr is not None else None,
        "claimed_ore": c.claimed_ore,
        "patient_fee_ore": c.patient_fee_ore,
        "time_barred": c.invoice_date is not None
        and c.invoice_date > add_months(day, nat.invoice_limit_months),
        "contracted": contract is not None,
        "contract_tariff_ore": contract.tariff_ore.get(c.profession) if contract is not None else None,
        "referral_required": reg is not None and c.specialty in reg.referral_specialties,
        "telephone_reimbursed": nat.telephone_reimbursed,
        "digital_stop": reg.digital_stop if reg is not None else "none",
        "digital_tariff_ore": nat.digital_tariff_ore[c.profession],
    }
