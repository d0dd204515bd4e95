"""The helper decides with the worker's policy: the same files, and the worker's contracts.

The helper loads and compiles the policy files itself (a compiled policy holds generated code and
is not picklable); `fingerprint` proves both loaded the same ones. The contract registry lives in
the database and changes while the service runs: the worker sends the contracts in force whenever
their digest differs from what the helper holds, and the helper checks the digest it rebuilds.
"""

import orjson

from rules.contracts import ContractBook
from rules.digest import digest_of
from rules.loader import contract_from_dict
from rules.policy import Policy


def fingerprint(policy: Policy) -> str:
    """Everything a verdict depends on except the contracts: rules, catalogue, layers, sources."""
    return digest_of(
        {
            "rules": policy.rules_digest,
            "national": [(p.id, p.digest) for p in policy.national],
            "regional": {
                region: [(p.id, p.digest) for p in periods] for region, periods in policy.regional.items()
            },
            "sources": {key: source.to_dict() for key, source in policy.sources.items()},
            "name": policy.name,
        }
    )


def contracts_payload(book: ContractBook) -> bytes:
    return orjson.dumps([contract.to_dict() for contract in book.contracts])


def contracts_from_payload(payload: bytes, digest: str) -> ContractBook:
    def fail(key, message):
        raise ValueError(f"contract from the worker: {key}: {message}")

    book = ContractBook(contract_from_dict(body, fail) for body in orjson.loads(payload))
    if book.digest != digest:
        raise ValueError(f"contracts rebuilt with digest {book.digest}, the worker's is {digest}")
    return book
