"""Out-of-county reimbursement rules (utomlänsersättning) as a library.

    import rules
    verdict = rules.evaluate({...contact in the JSON shape of SPEC section 6...})
    verdict.to_dict()

No Flask here: the HTTP service in api/ and the command line (`python -m rules`) both sit on top.
"""

from collections.abc import Iterable, Iterator
from datetime import date
from functools import lru_cache

from . import evaluator
from .contact import Contact
from .contracts import Contract, ContractBook
from .errors import InvalidContact, PolicyError
from .loader import POLICY_DIR, load_policy
from .policy import Policy
from .summary import Summary
from .validation import parse_contact
from .verdict import Verdict

__all__ = [
    "Contact",
    "Contract",
    "ContractBook",
    "InvalidContact",
    "POLICY_DIR",
    "Policy",
    "PolicyError",
    "Summary",
    "Verdict",
    "default_policy",
    "evaluate",
    "evaluate_many",
    "load_policy",
    "parse_contact",
]


@lru_cache(maxsize=1)
def default_policy() -> Policy:
    """The policy shipped under rules/policy/, loaded and compiled once per process."""
    return load_policy()


def evaluate(contact: dict, policy: Policy | None = None, today: date | None = None) -> Verdict:
    """Validate one contact (a dict in the JSON shape of SPEC section 6) and decide it.

    Raises InvalidContact (a ValueError with `.errors`, per field) for bad input, a contact_date or
    invoice_date after `today` included (None: today's date in Stockholm; give a date to judge as
    of another day, e.g. in a test)."""
    return evaluator.decide(parse_contact(contact, today), policy or default_policy())


def evaluate_many(
    contacts: Iterable[dict], policy: Policy | None = None, today: date | None = None
) -> Iterator[Verdict | InvalidContact]:
    """Decide many contacts lazily: one Verdict or InvalidContact per input, in input order."""
    return evaluator.evaluate_many(contacts, policy or default_policy(), today)
