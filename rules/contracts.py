"""The contracts layer: home regions' contracts with named providers, looked up by contact date."""

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cached_property

from .money import format_sek


@dataclass(frozen=True)
class Contract:
    id: str
    home_region: str
    provider_id: str
    valid_from: date
    valid_to: date | None
    tariff_ore: Mapping[str, int]
    source: str
    fictitious: bool = False

    layer = "contracts"

    def covers(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def ref(self) -> dict:
        return {"id": self.id, "valid_from": self.valid_from.isoformat()}

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "home_region": self.home_region,
            "provider_id": self.provider_id,
            "valid_from": self.valid_from.isoformat(),
            "valid_to": self.valid_to.isoformat() if self.valid_to else None,
            "tariff_sek": {p: format_sek(v) for p, v in sorted(self.tariff_ore.items())},
            "source": self.source,
            "fictitious": self.fictitious,
        }

    def __hash__(self) -> int:  # by content, like ==; the tariff mapping itself is not hashable
        return hash(self.digest)

    @cached_property
    def digest(self) -> str:
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def overlaps(self, other: "Contract") -> bool:
        far = date.max
        return self.valid_from <= (other.valid_to or far) and other.valid_from <= (self.valid_to or far)


class ContractBook:
    """An immutable snapshot of contracts, indexed by (home_region, provider_id)."""

    __slots__ = ("_index", "contracts", "digest")

    def __init__(self, contracts: Iterable[Contract] = ()):
        self.contracts = tuple(sorted(contracts, key=lambda c: (c.home_region, c.provider_id, c.valid_from)))
        index: dict[tuple[str, str], tuple[Contract, ...]] = {}
        for contract in self.contracts:
            key = (contract.home_region, contract.provider_id)
            index[key] = index.get(key, ()) + (contract,)
        self._index = index
        joined = "".join(c.digest for c in self.contracts)
        self.digest = hashlib.sha256(joined.encode()).hexdigest()

    def find(self, home_region: str, provider_id: str, day: date) -> Contract | None:
        for contract in self._index.get((home_region, provider_id), ()):
            if contract.covers(day):
                return contract
        return None

    def overlapping(self, candidate: Contract) -> Contract | None:
        """The first contract, other than the candidate itself, for the same provider and home region
        whose period overlaps the candidate's."""
        for contract in self._index.get((candidate.home_region, candidate.provider_id), ()):
            if contract.id != candidate.id and contract.overlaps(candidate):
                return contract
        return None

    def __len__(self) -> int:
        return len(self.contracts)
