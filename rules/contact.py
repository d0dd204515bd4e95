"""A validated contact (vårdkontakt): one invoice line, ready for the rules."""

from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from .money import format_sek


@dataclass(frozen=True, slots=True)
class DigitalRequirements:
    qualified_care: bool
    strong_authentication: bool
    journaled: bool
    triaged: bool

    @property
    def all_met(self) -> bool:
        return self.qualified_care and self.strong_authentication and self.journaled and self.triaged

    def unmet(self) -> tuple[str, ...]:
        return tuple(name for name in self.__slots__ if not getattr(self, name))

    def to_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass(frozen=True, slots=True)
class Patient:
    age: int | None = None
    sex: str | None = None

    def to_dict(self) -> dict:
        out = {}
        if self.age is not None:
            out["age"] = self.age
        if self.sex is not None:
            out["sex"] = self.sex
        return out


class Contact(NamedTuple):
    """Immutable; a NamedTuple because a frozen dataclass costs twice as much to build, and one is
    built per invoice line."""

    contact_id: str
    contact_date: date
    home_region: str
    care_region: str
    provider_id: str
    mode: str
    care_category: str
    profession: str
    claimed_ore: int
    setting: str = "outpatient"
    specialty: str | None = None
    referral: str = "none"
    prior_approval: bool = False
    digital_requirements: DigitalRequirements | None = None
    patient_fee_ore: int = 0
    invoice_date: date | None = None
    patient: Patient | None = None
    needs_assessment: bool | None = None

    @property
    def digital_requirements_met(self) -> bool:
        dr = self.digital_requirements
        return dr is not None and dr.all_met

    def to_dict(self) -> dict:
        """The contact in the JSON shape of SPEC section 6, defaults made explicit."""
        out = {
            "contact_id": self.contact_id,
            "contact_date": self.contact_date.isoformat(),
            "home_region": self.home_region,
            "care_region": self.care_region,
            "provider_id": self.provider_id,
            "mode": self.mode,
            "care_category": self.care_category,
            "setting": self.setting,
            "profession": self.profession,
            "referral": self.referral,
            "prior_approval": self.prior_approval,
            "claimed_amount_sek": format_sek(self.claimed_ore),
            "patient_fee_sek": format_sek(self.patient_fee_ore),
        }
        if self.specialty is not None:
            out["specialty"] = self.specialty
        if self.digital_requirements is not None:
            out["digital_requirements"] = self.digital_requirements.to_dict()
        if self.invoice_date is not None:
            out["invoice_date"] = self.invoice_date.isoformat()
        if self.patient is not None:
            out["patient"] = self.patient.to_dict()
        if self.needs_assessment is not None:
            out["needs_assessment"] = self.needs_assessment
        return out
