"""Load the policy YAML, check it, and compile it into an immutable Policy.

A broken policy never loads: every problem raises PolicyError naming the file and the key.
"""

import re
import string
from datetime import date
from pathlib import Path
from types import MappingProxyType

import yaml

from .analysis import analyse
from .citations import rule_cites_a_parameter
from .compiler import compile_rules
from .contracts import Contract, ContractBook
from .digest import digest_of
from .errors import PolicyError
from .explain import PLACEHOLDERS
from .facts import FACTS, PARAMETERS
from .field_kinds import Slug
from .identity_numbers import IDENTITY_NUMBER_MESSAGE, holds_identity_number
from .money import parse_sek
from .policy import (
    Catalogue,
    FlagRule,
    NationalPeriod,
    Parameter,
    Policy,
    RegionalPeriod,
    Rule,
    Source,
)
from .policy_version import version_digest, version_files
from .regions import REGIONS
from .text import has_control_characters
from .vocabulary import DECISIONS, DIGITAL_REQUIREMENTS, PROFESSIONS

POLICY_DIR = Path(__file__).parent / "policy"
AMOUNT_KINDS = ("contract", "standard")
DIGITAL_STOPS = FACTS["digital_stop"].domain


class _PlainLoader(yaml.SafeLoader):
    """safe_load without aliases: policy files never need them, and a few lines of nested aliases
    stand for billions of values once read (a candidate's files come from clients)."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, f"an alias (*{event.anchor}): write the value out", event.start_mark
            )
        return super().compose_node(parent, index)


class _Doc:
    """A YAML document that knows its file name, for error messages."""

    def __init__(self, name: str, data):
        self.name = name
        self.data = data
        if not isinstance(self.data, dict):
            raise PolicyError(self.name, "-", "expected a mapping at the top")

    @staticmethod
    def parse(text: str, name: str):
        try:
            data = yaml.load(text, Loader=_PlainLoader)
        except yaml.YAMLError as exc:
            raise PolicyError(name, "-", f"not valid YAML: {exc}") from None
        except ValueError as exc:  # PyYAML's own date parsing: 2020-13-01 is not a day
            raise PolicyError(name, "-", f"not valid YAML: a date that is no day ({exc})") from None
        except RecursionError:
            raise PolicyError(name, "-", "nested too deeply for a policy file") from None
        _plain_text(data, name, "")
        if holds_identity_number(text):  # a comment: stored with the version, exported with it
            raise PolicyError(name, "-", IDENTITY_NUMBER_MESSAGE)
        return data

    def fail(self, key: str, message: str):
        raise PolicyError(self.name, key, message)

    def get(self, mapping, key: str, path: str, kind=None, required=True):
        if not isinstance(mapping, dict):
            self.fail(path, "expected a mapping")
        if key not in mapping:
            if required:
                self.fail(f"{path}.{key}".lstrip("."), "missing")
            return None
        value = mapping[key]
        if kind is not None and not isinstance(value, kind):
            self.fail(f"{path}.{key}".lstrip("."), f"expected {getattr(kind, '__name__', kind)}")
        return value

    def date(self, mapping, key, path, required=True) -> date | None:
        value = self.get(mapping, key, path, required=required)
        if value is None:
            if required:
                self.fail(f"{path}.{key}", "missing")
            return None
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value)
            except ValueError:
                pass
        if not isinstance(value, date):
            self.fail(f"{path}.{key}", f"not a date: {value!r}")
        return value

    def money(self, value, path) -> int:
        if isinstance(value, float):
            self.fail(path, 'write money as a quoted string such as "500.00", never a float')
        if isinstance(value, (int, str)) and not isinstance(value, bool):
            text = str(value)
            if text.startswith("-"):
                self.fail(path, f"negative money: {value}")
            try:
                return parse_sek(text)
            except ValueError as exc:
                self.fail(path, f"not an amount ({exc}): {value!r}")
        self.fail(path, f"not an amount: {value!r}")


def _plain_text(value, name: str, path: str) -> None:
    """Policy text is text from clients too (a candidate version's files, POST /v1/policy-versions):
    it is stored, and verdicts quote it. So the contact's rules hold for every string, keys as well:
    no control characters (a line break aside: YAML's block texts end with one), no escape that is
    no character (a lone surrogate, which no store can encode), no identity number."""
    if isinstance(value, str):
        where = path or "-"
        if has_control_characters(value.replace("\n", "")):
            raise PolicyError(name, where, "a control character (other than a line break) in the text")
        try:
            value.encode()
        except UnicodeEncodeError:
            raise PolicyError(name, where, "an escape that is no character (a lone surrogate)") from None
        if holds_identity_number(value):
            raise PolicyError(name, where, IDENTITY_NUMBER_MESSAGE)
    elif isinstance(value, dict):
        for key, item in value.items():
            _plain_text(key, name, path)
            _plain_text(item, name, f"{path}.{key}".lstrip("."))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _plain_text(item, name, f"{path}[{i}]")


def _load_sources(doc: _Doc) -> dict[str, Source]:
    sources = {}
    for sid, body in doc.get(doc.data, "sources", "", dict).items():
        path = f"sources.{sid}"
        ref = doc.get(body, "ref", path, str)
        url = doc.get(body, "url", path, str)
        sources[sid] = Source(sid, ref, url)
    return sources


def _source_ref(doc, sources, value, path) -> str:
    if value not in sources:
        doc.fail(path, f"unknown source {value!r} (see policy/sources.yaml)")
    return value


def _parameters(doc, body, path, sources, allowed) -> dict[str, Parameter]:
    params = doc.get(body, "parameters", path, dict)
    out = {}
    for name, spec in params.items():
        ppath = f"{path}.parameters.{name}"
        if name not in allowed:
            doc.fail(ppath, f"unknown parameter (known: {', '.join(sorted(allowed))})")
        if not isinstance(spec, dict) or "value" not in spec:
            doc.fail(ppath, "expected a mapping with value and source")
        unknown = set(spec) - {"value", "source", "assumption"}
        if unknown:
            doc.fail(f"{ppath}.{sorted(unknown)[0]}", "unknown key")
        source = _source_ref(doc, sources, doc.get(spec, "source", ppath), f"{ppath}.source")
        assumption = doc.get(spec, "assumption", ppath, str, required=False)
        out[name] = Parameter(name, spec["value"], source, assumption)
    missing = set(allowed) - set(out)
    if missing:
        doc.fail(f"{path}.parameters.{sorted(missing)[0]}", "missing")
    return out


def _periods(doc, key_path="periods"):
    periods = doc.get(doc.data, "periods", "", list)
    if not periods:
        doc.fail(key_path, "no periods")
    seen = set()
    for i, body in enumerate(periods):
        path = f"periods[{i}]"
        pid = doc.get(body, "id", path, str)
        if pid in seen:
            doc.fail(f"{path}.id", f"duplicate period id {pid!r}")
        seen.add(pid)
        start = doc.date(body, "valid_from", path)
        end = doc.date(body, "valid_to", path, required=False)
        if end is not None and end < start:
            doc.fail(f"{path}.valid_to", f"{end} is before valid_from {start}")
        yield path, pid, start, end, body


def _no_overlap(doc, periods):
    ordered = sorted(periods, key=lambda p: p.valid_from)
    for before, after in zip(ordered, ordered[1:], strict=False):
        if before.valid_to is None or before.valid_to >= after.valid_from:
            doc.fail(
                f"periods.{after.id}.valid_from",
                f"period {after.id} overlaps {before.id} (which runs to {before.valid_to or 'open end'})",
            )
    return tuple(ordered)


def _load_national(doc, sources) -> tuple[tuple[NationalPeriod, ...], date]:
    if doc.data.get("layer") != "national":
        doc.fail("layer", "expected 'national'")
    covers_from = doc.date(doc.data, "covers_from", "")
    allowed = PARAMETERS["national"]
    periods = []
    for path, pid, start, end, body in _periods(doc):
        params = _parameters(doc, body, path, sources, allowed)
        tariff_spec = params["digital_tariff_sek"].value
        tpath = f"{path}.parameters.digital_tariff_sek.value"
        if not isinstance(tariff_spec, dict):
            doc.fail(tpath, "expected a mapping of profession to amount")
        tariff = {}
        for prof, amount in tariff_spec.items():
            if prof != "other_professions" and prof not in PROFESSIONS:
                doc.fail(f"{tpath}.{prof}", f"unknown profession (known: {', '.join(PROFESSIONS)})")
            tariff[prof] = doc.money(amount, f"{tpath}.{prof}")
        default = tariff.pop("other_professions", None)
        for prof in PROFESSIONS:
            if prof not in tariff:
                if default is None:
                    doc.fail(f"{tpath}.{prof}", "no national tariff for this profession")
                tariff[prof] = default
        phone = params["telephone_reimbursed"].value
        if not isinstance(phone, bool):
            doc.fail(f"{path}.parameters.telephone_reimbursed.value", "expected true or false")
        months = params["invoice_limit_months"].value
        if isinstance(months, bool) or not isinstance(months, int) or months <= 0:
            doc.fail(f"{path}.parameters.invoice_limit_months.value", "expected a positive integer")
        periods.append(
            NationalPeriod(
                id=pid,
                layer="national",
                valid_from=start,
                valid_to=end,
                parameters=MappingProxyType(params),
                digest=digest_of(body),
                file=doc.name,
                digital_tariff_ore=MappingProxyType(tariff),
                telephone_reimbursed=phone,
                invoice_limit_months=months,
            )
        )
    ordered = _no_overlap(doc, periods)
    # Coverage: every day from covers_from on must have a national tariff.
    if ordered[0].valid_from > covers_from:
        doc.fail(
            f"periods.{ordered[0].id}.valid_from",
            f"no national tariff from {covers_from} to {ordered[0].valid_from}",
        )
    for before, after in zip(ordered, ordered[1:], strict=False):
        if (after.valid_from - before.valid_to).days > 1:
            doc.fail(
                f"periods.{after.id}.valid_from",
                f"no national tariff between {before.valid_to} and {after.valid_from}",
            )
    if ordered[-1].valid_to is not None:
        doc.fail(
            f"periods.{ordered[-1].id}.valid_to",
            f"no national tariff after {ordered[-1].valid_to}: the last period must be open",
        )
    return ordered, covers_from


def _load_regional(doc, sources) -> tuple[str, tuple[RegionalPeriod, ...]]:
    if doc.data.get("layer") != "regional":
        doc.fail("layer", "expected 'regional'")
    region = doc.get(doc.data, "home_region", "", str)
    if region not in REGIONS:
        doc.fail("home_region", f"not a region code in use: {region!r}")
    allowed = PARAMETERS["regional"]
    periods = []
    for path, pid, start, end, body in _periods(doc):
        params = _parameters(doc, body, path, sources, allowed)
        specialties = params["referral_required_specialties"].value
        spath = f"{path}.parameters.referral_required_specialties.value"
        if not isinstance(specialties, list):
            doc.fail(spath, "expected a list of specialty slugs")
        for j, specialty in enumerate(specialties):
            try:  # a contact's specialty is a slug: anything else would never apply
                Slug.check(specialty)
            except ValueError as exc:
                doc.fail(f"{spath}[{j}]", str(exc))
        stop = params["digital_stop"].value
        if stop not in DIGITAL_STOPS:
            doc.fail(f"{path}.parameters.digital_stop.value", f"expected one of {DIGITAL_STOPS}")
        periods.append(
            RegionalPeriod(
                id=pid,
                layer="regional",
                valid_from=start,
                valid_to=end,
                parameters=MappingProxyType(params),
                digest=digest_of(body),
                file=doc.name,
                home_region=region,
                referral_specialties=frozenset(specialties),
                digital_stop=stop,
            )
        )
    return region, _no_overlap(doc, periods)


def contract_from_dict(body: dict, fail) -> Contract:
    """Build a Contract from its data form; `fail(key, message)` reports a problem."""
    region = body.get("home_region")
    if region not in REGIONS:
        fail("home_region", f"not a region code in use: {region!r}")
    tariffs = {}
    for prof, amount in (body.get("tariff_sek") or {}).items():
        if prof not in PROFESSIONS:
            fail(f"tariff_sek.{prof}", f"unknown profession (known: {', '.join(PROFESSIONS)})")
        if isinstance(amount, float) or isinstance(amount, bool):
            fail(f"tariff_sek.{prof}", 'write money as a quoted string such as "450.00"')
        if str(amount).startswith("-"):
            fail(f"tariff_sek.{prof}", f"negative money: {amount}")
        try:
            tariffs[prof] = parse_sek(str(amount))
        except ValueError as exc:
            fail(f"tariff_sek.{prof}", str(exc))
    start, end = body.get("valid_from"), body.get("valid_to")
    if isinstance(start, str):
        start = date.fromisoformat(start)
    if isinstance(end, str):
        end = date.fromisoformat(end)
    if not isinstance(start, date):
        fail("valid_from", "missing or not a date")
    if end is not None and end < start:
        fail("valid_to", f"{end} is before valid_from {start}")
    provider = body.get("provider_id")
    if not isinstance(provider, str) or not 1 <= len(provider) <= 64:
        fail("provider_id", "expected a string of 1-64 characters")
    return Contract(
        id=str(body.get("id")),
        home_region=region,
        provider_id=provider,
        valid_from=start,
        valid_to=end,
        tariff_ore=MappingProxyType(tariffs),
        source=str(body.get("source", "")),
        fictitious=bool(body.get("fictitious", False)),
    )


def _load_contracts(doc, sources) -> list[Contract]:
    if doc.data.get("layer") != "contracts":
        doc.fail("layer", "expected 'contracts'")
    contracts = []
    for i, body in enumerate(doc.get(doc.data, "contracts", "", list)):
        path = f"contracts[{i}]"
        doc.get(body, "id", path, str)
        if not isinstance(doc.get(body, "fictitious", path), bool):
            doc.fail(f"{path}.fictitious", "expected true or false: say whether the contract is real")
        _source_ref(doc, sources, doc.get(body, "source", path), f"{path}.source")

        def fail(key, message, path=path):
            doc.fail(f"{path}.{key}", message)

        contracts.append(contract_from_dict(body, fail))
    return contracts


def _when(doc, spec, path) -> tuple:
    if spec is None:
        return ()
    if not isinstance(spec, dict):
        doc.fail(path, "expected a mapping of fact to value(s)")
    tests = []
    for name, value in spec.items():
        fact = FACTS.get(name)
        if fact is None:
            doc.fail(f"{path}.{name}", f"unknown fact (known: {', '.join(FACTS)})")
        values = value if isinstance(value, list) else [value]
        for v in values:
            if v not in fact.domain or type(v) is not type(fact.domain[fact.domain.index(v)]):
                doc.fail(f"{path}.{name}", f"{v!r} is not a value of this fact {fact.domain}")
        tests.append((name, frozenset(values)))
    return tuple(tests)


def _load_rules(doc, sources, catalogue_reasons, catalogue_flags) -> tuple[Rule, ...]:
    rules = []
    seen = set()
    for i, body in enumerate(doc.get(doc.data, "rules", "", list)):
        path = f"rules[{i}]"
        reason = doc.get(body, "reason", path, str)
        if reason not in catalogue_reasons:
            doc.fail(f"{path}.reason", f"unknown reason code {reason!r} (see policy/catalogue.yaml)")
        if reason in seen:
            doc.fail(f"{path}.reason", f"reason {reason} is used by two rules")
        seen.add(reason)
        decision = doc.get(body, "decision", path, str)
        if decision not in DECISIONS:
            doc.fail(f"{path}.decision", f"expected one of {DECISIONS}")
        when = _when(doc, body.get("when"), f"{path}.when")
        amount = body.get("amount")
        if decision == "pay" and amount not in AMOUNT_KINDS:
            doc.fail(f"{path}.amount", f"a paying rule needs amount: one of {AMOUNT_KINDS}")
        if decision == "no_pay" and amount is not None:
            doc.fail(f"{path}.amount", "a no_pay rule pays nothing")
        if amount == "contract" and ("contracted", frozenset({True})) not in when:
            doc.fail(f"{path}.amount", "amount 'contract' needs `contracted: true` in when")
        flags = []
        for j, spec in enumerate(body.get("flags") or []):
            fpath = f"{path}.flags[{j}]"
            name = spec if isinstance(spec, str) else doc.get(spec, "flag", fpath, str)
            if name not in catalogue_flags:
                doc.fail(fpath, f"unknown flag code {name!r} (see policy/catalogue.yaml)")
            fwhen = () if isinstance(spec, str) else _when(doc, spec.get("when"), f"{fpath}.when")
            flags.append(FlagRule(name, fwhen))
        basis = doc.get(body, "legal_basis", path, list)
        for j, sid in enumerate(basis):
            _source_ref(doc, sources, sid, f"{path}.legal_basis[{j}]")
        if not basis and not rule_cites_a_parameter(when):
            cited = ", ".join(name for name, fact in FACTS.items() if fact.parameter)
            doc.fail(
                f"{path}.legal_basis",
                f"rule {reason} has no legal basis: cite source ids, or test a fact whose dated "
                f"parameter cites its source for the period in force ({cited}) with a value that "
                "only such a period or contract gives",
            )
        rules.append(Rule(i + 1, reason, decision, when, amount, tuple(flags), tuple(basis)))
    if not rules:
        doc.fail("rules", "no rules")
    unreachable, undecided = analyse(tuple(rules))
    if unreachable:
        rule = rules[unreachable[0]]
        doc.fail(
            f"rules[{rule.number - 1}]",
            f"rule {rule.reason} can never apply: earlier rules decide every case it covers",
        )
    if undecided is not None:
        doc.fail("rules", f"no rule decides the case {undecided}: end with a rule that always holds")
    return tuple(rules)


def _check_template(doc, text, path):
    if not isinstance(text, str):
        doc.fail(path, "expected text")
    for _, field, _, _ in string.Formatter().parse(text):
        if field is not None and field not in PLACEHOLDERS:
            doc.fail(path, f"unknown placeholder {{{field}}}")


def _texts(doc, body, key, path):
    texts = doc.get(body, key, path, dict)
    for lang in ("sv", "en"):
        _check_template(doc, doc.get(texts, lang, f"{path}.{key}"), f"{path}.{key}.{lang}")
    return MappingProxyType(dict(texts))


# A reason's legal basis is stated once, on its rule (eligibility.yaml); a flag is no rule, so the
# catalogue states its legal basis.
_CATALOGUE_KEYS = {"reasons": ("title", "explanation"), "flags": ("title", "explanation", "legal_basis")}


def _load_catalogue(doc, sources) -> Catalogue:
    sections = {}
    for section, keys in _CATALOGUE_KEYS.items():
        entries = {}
        for code, body in doc.get(doc.data, section, "", dict).items():
            path = f"{section}.{code}"
            _texts(doc, body, "title", path)
            _texts(doc, body, "explanation", path)
            for key in body:
                if key == "legal_basis" and key not in keys:
                    doc.fail(
                        f"{path}.{key}",
                        "a reason's legal basis is stated once, on its rule in eligibility.yaml",
                    )
                if key not in keys:
                    doc.fail(f"{path}.{key}", f"unknown key (known: {', '.join(keys)})")
            if "legal_basis" in keys:
                for j, sid in enumerate(doc.get(body, "legal_basis", path, list)):
                    _source_ref(doc, sources, sid, f"{path}.legal_basis[{j}]")
            entries[code] = MappingProxyType(dict(body))
        sections[section] = MappingProxyType(entries)
    amounts = {}
    for kind, body in doc.get(doc.data, "amounts", "", dict).items():
        for lang in ("sv", "en"):
            _check_template(doc, doc.get(body, lang, f"amounts.{kind}"), f"amounts.{kind}.{lang}")
        amounts[kind] = MappingProxyType(dict(body))
    terms = doc.get(doc.data, "terms", "", dict)
    for group, names in (
        ("profession", PROFESSIONS),
        ("digital_requirement", DIGITAL_REQUIREMENTS),
        ("mode", FACTS["mode"].domain),
        ("care_category", FACTS["care_category"].domain),
    ):
        for name in names:
            entry = doc.get(doc.get(terms, group, "terms", dict), name, f"terms.{group}", dict)
            for lang in ("sv", "en"):
                doc.get(entry, lang, f"terms.{group}.{name}", str)
    return Catalogue(sections["reasons"], sections["flags"], MappingProxyType(amounts), terms)


REQUIRED_DOCUMENTS = ("sources.yaml", "catalogue.yaml", "national.yaml", "eligibility.yaml")
# A regional layer's file: the name a policy version stores it under, on disk or from a client.
REGION_FILE = re.compile(r"regions/[a-z0-9][a-z0-9_-]{0,63}\.yaml")


def read_policy_files(directory: Path | str = POLICY_DIR) -> dict[str, str]:
    """The files of a policy directory as written, keyed by path relative to it
    ("national.yaml", "regions/25-norrbotten.yaml", ...). Raises PolicyError."""
    root = Path(directory)
    files = {}
    for rel in REQUIRED_DOCUMENTS:
        path = root / rel
        if not path.is_file():
            raise PolicyError(str(path), "-", "file missing")
        files[rel] = path.read_text(encoding="utf-8")
    for folder in ("regions", "contracts"):
        for path in sorted((root / folder).glob("*.yaml")):
            rel = f"{folder}/{path.name}"
            if folder == "regions" and not REGION_FILE.fullmatch(rel):
                # Stored as a version under this name: a candidate laid on it must be able to keep it.
                raise PolicyError(str(path), "-", "name it with lower-case letters, digits, - and _")
            files[rel] = path.read_text(encoding="utf-8")
    return files


def parse_policy_files(files: dict[str, str], root: str = "policy") -> dict[str, object]:
    """The parsed YAML of policy files, keyed as the files are. Raises PolicyError."""
    return {rel: _Doc.parse(text, f"{root}/{rel}") for rel, text in files.items()}


def read_policy_documents(directory: Path | str = POLICY_DIR) -> dict[str, object]:
    """The parsed YAML of a policy directory, keyed by path relative to it. Raises PolicyError."""
    return parse_policy_files(read_policy_files(directory), Path(directory).name)


def load_policy(directory: Path | str = POLICY_DIR, name: str = "in_force") -> Policy:
    """Read, check and compile the policy under `directory`. Raises PolicyError."""
    return load_policy_files(read_policy_files(directory), name, Path(directory).name)


def load_policy_files(files: dict[str, str], name: str = "in_force", root: str = "policy") -> Policy:
    """Check and compile policy files (name -> YAML text, as read_policy_files gives them, or as a
    stored version holds them). The Policy knows its version: the files and their digest."""
    kept = version_files(files)
    return load_policy_documents(
        parse_policy_files(files, root), name, root, versioned=(version_digest(kept), kept)
    )


def load_policy_documents(
    docs: dict[str, object],
    name: str = "in_force",
    root: str = "policy",
    versioned: tuple[str, dict[str, str]] | None = None,
) -> Policy:
    """Check and compile policy documents already in memory (as read_policy_documents returns
    them, possibly changed: scenario overlays in rules/simulation/scenarios.py). Every policy,
    shipped or scenario, passes the same checks here. `versioned`: (digest, files) of the version
    the documents were parsed from, if they were read from files. Raises PolicyError."""

    def doc(rel: str) -> _Doc:
        if rel not in docs:
            raise PolicyError(f"{root}/{rel}", "-", "file missing")
        return _Doc(f"{root}/{rel}", docs[rel])

    def folder(prefix: str) -> list[_Doc]:
        return [doc(rel) for rel in sorted(docs) if rel.startswith(prefix)]

    sources = _load_sources(doc("sources.yaml"))
    catalogue_doc = doc("catalogue.yaml")
    catalogue = _load_catalogue(catalogue_doc, sources)
    national, covers_from = _load_national(doc("national.yaml"), sources)

    regional = {}
    for region_doc in folder("regions/"):
        region, periods = _load_regional(region_doc, sources)
        if region in regional:
            region_doc.fail("home_region", f"a second file for region {region}")
        regional[region] = periods

    contracts = []
    contract_file = {}  # contract id -> the file it is in, for error messages
    for contracts_doc in folder("contracts/"):
        loaded = _load_contracts(contracts_doc, sources)
        contract_file.update((contract.id, contracts_doc.name) for contract in loaded)
        contracts.extend(loaded)
    book = ContractBook(contracts)
    seen_ids = set()
    for contract in book.contracts:
        if contract.id in seen_ids:
            raise PolicyError(contract_file[contract.id], contract.id, "duplicate contract id")
        seen_ids.add(contract.id)
        clash = book.overlapping(contract)
        if clash is not None:
            raise PolicyError(
                contract_file[contract.id],
                contract.id,
                f"overlaps contract {clash.id} for the same provider and home region",
            )

    rules_doc = doc("eligibility.yaml")
    rules = _load_rules(rules_doc, sources, catalogue.reasons, catalogue.flags)
    decide, source = compile_rules(rules, f"<{rules_doc.name}>")
    rules_digest = digest_of({"rules": rules_doc.data, "catalogue": catalogue_doc.data})
    return Policy(
        rules=rules,
        national=national,
        national_from=covers_from,
        regional=MappingProxyType(regional),
        contracts=book,
        sources=MappingProxyType(sources),
        catalogue=catalogue,
        rules_digest=rules_digest,
        decide=decide,
        decide_source=source,
        name=name,
        version=versioned[0] if versioned else "",
        files=MappingProxyType(versioned[1] if versioned else {}),
    )
