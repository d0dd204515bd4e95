"""Engine speed on 10,000 seeded contacts, against GoRules ZEN and against a hand-written if-chain.

  (a) rules.evaluate(dict) per contact, validation included         goal: >= 3x faster than (b)
  (b) ZEN ZenEngine(static loader).evaluate(key, context) per contact, the same 14 rules and the
      amount as a decision graph (bench/zen/eligibility.json), facts precomputed outside the
      timing (bench/zen_context.py says exactly which)
  (c) the compiled decision step on already validated Contacts: policy.decide(...) + amount
  (d) the hand-written if-chain of the same rules (bench/ifchain.py)  goal: (c) within 2x of (d)
Also rules.evaluate(...).to_dict() (the full SPEC verdict) and ZenDecision.evaluate for reference.
Before timing, every engine's answer is checked against rules.evaluate for every contact.

Run: .venv/bin/python bench/engine_vs_zen.py [--count 10000] [--repeat 5]
"""

import argparse
import json
import platform
import statistics
import sys
import time
from datetime import date
from pathlib import Path

import zen

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]  # the repository (rules) and bench/, however it is run

import ifchain  # noqa: E402
from synthetic_contacts import contacts  # noqa: E402
from zen_context import zen_context  # noqa: E402

import rules  # noqa: E402
from rules.amount import settle  # noqa: E402
from rules.evaluator import CLAIM_EXCEEDS_TARIFF  # noqa: E402

GRAPH = HERE / "zen" / "eligibility.json"
COMPARED_FLAGS = {"CLAIM_EXCEEDS_TARIFF", "PATIENTLAG_CONFLICT", "DIGITAL_STOP_ADVISORY"}


def timed(label, fn, items, repeat):
    """Best and median µs per item over `repeat` passes of fn over all items."""
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(items)
        runs.append((time.perf_counter() - start) / len(items) * 1e6)
    best, median = min(runs), statistics.median(runs)
    print(f"  {label:58} best {best:8.2f} µs   median {median:8.2f} µs")
    return best, median


def expected(verdict):
    return (
        verdict.reason,
        verdict.decision,
        verdict.amount_ore,
        verdict.cap_ore,
        frozenset(verdict.flags) & COMPARED_FLAGS,
    )


def from_zen(result):
    cap = result.get("cap_ore")
    return (
        result["reason"],
        result["decision"],
        int(result["amount_ore"]),  # ZEN hands numbers to Python as floats; öre stay exact below 2**53
        int(cap) if cap is not None else None,
        frozenset(result["flags"]),
    )


def from_ifchain(result):
    reason, decision, amount, cap, flags = result
    return reason, decision, amount, cap, frozenset(flags)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2021)
    args = parser.parse_args(argv)

    policy = rules.default_policy()
    dicts = list(contacts(args.count, args.seed))
    verdicts = [rules.evaluate(d, policy) for d in dicts]
    validated = [v.contact for v in verdicts]
    layers = [
        (c, policy.national_on(c.contact_date), policy.regional_on(c.home_region, c.contact_date))
        for c in validated
    ]
    contexts = [zen_context(c, policy) for c in validated]
    contexts_json = [json.dumps(ctx) for ctx in contexts]
    graph = json.loads(GRAPH.read_text())
    engine = zen.ZenEngine({"loader": {"type": "static", "content": {"eligibility": graph}}})
    decision = engine.get_decision("eligibility")
    find = policy.contracts.find
    rule_list = policy.rules
    compiled = policy.decide

    # --- agreement, before any timing ------------------------------------------------------
    want = [expected(v) for v in verdicts]
    zen_got = [from_zen(engine.evaluate("eligibility", ctx)["result"]) for ctx in contexts]
    chain_got = [from_ifchain(ifchain.decide(c, nat, reg, find)) for c, nat, reg in layers]
    zen_reason = sum(w[0] == g[0] for w, g in zip(want, zen_got, strict=True))
    zen_all = sum(w == g for w, g in zip(want, zen_got, strict=True))
    chain_all = sum(w == g for w, g in zip(want, chain_got, strict=True))
    reasons = {v.reason for v in verdicts}
    print(f"engine_vs_zen: {len(dicts)} contacts (seed {args.seed}), {len(reasons)} of 14 reasons occur")
    print(
        f"  ZEN agrees with rules.evaluate on reason: {zen_reason}/{len(dicts)}; "
        f"on reason, decision, amount, cap and flags: {zen_all}/{len(dicts)}"
    )
    print(f"  if-chain agrees on reason, decision, amount, cap and flags: {chain_all}/{len(dicts)}")
    for w, z in zip(want, zen_got, strict=True):
        if w != z:
            print(f"  first ZEN disagreement: ours {w} zen {z}")
            break

    # --- timing -----------------------------------------------------------------------------
    def run_evaluate(items):
        evaluate = rules.evaluate
        for d in items:
            evaluate(d, policy)

    def run_evaluate_to_dict(items):
        evaluate = rules.evaluate
        for d in items:
            evaluate(d, policy).to_dict()

    def run_zen_engine(items):
        evaluate = engine.evaluate
        for ctx in items:
            evaluate("eligibility", ctx)

    def run_zen_decision(items):
        evaluate = decision.evaluate
        for ctx in items:
            evaluate(ctx)

    def run_compiled(items):
        for c, nat, reg in items:
            index, contract, flags = compiled(c, nat, reg, find)
            settlement = settle(rule_list[index], c, nat, contract)
            if settlement.cap_ore is not None and settlement.cap_ore < c.claimed_ore:
                flags = flags + (CLAIM_EXCEEDS_TARIFF,)

    def run_ifchain(items):
        decide = ifchain.decide
        for c, nat, reg in items:
            decide(c, nat, reg, find)

    print(f"timings, µs per contact, best and median of {args.repeat} passes over {len(dicts)} contacts:")
    a = timed("(a) rules.evaluate(dict), validation included", run_evaluate, dicts, args.repeat)
    a2 = timed(
        "    rules.evaluate(dict).to_dict() (full SPEC verdict)", run_evaluate_to_dict, dicts, args.repeat
    )
    b = timed("(b) ZEN ZenEngine.evaluate(key, dict context)", run_zen_engine, contexts, args.repeat)
    b_json = timed(
        "    ZEN ZenEngine.evaluate(key, JSON string context)", run_zen_engine, contexts_json, args.repeat
    )
    b_dec = timed("    ZEN ZenDecision.evaluate(dict context)", run_zen_decision, contexts, args.repeat)
    c = timed("(c) compiled policy.decide + amount, validated Contacts", run_compiled, layers, args.repeat)
    d = timed("(d) hand-written if-chain (bench/ifchain.py)", run_ifchain, layers, args.repeat)

    zen_best = min(b[0], b_json[0], b_dec[0])
    print("ratios (best / median):")
    print(
        f"  ZEN ZenEngine.evaluate / rules.evaluate       {b[0] / a[0]:6.2f}x / {b[1] / a[1]:6.2f}x   (>= 3x)"
    )
    print(f"  fastest ZEN variant / rules.evaluate          {zen_best / a[0]:6.2f}x")
    print(f"  ZEN ZenEngine.evaluate / evaluate().to_dict() {b[0] / a2[0]:6.2f}x / {b[1] / a2[1]:6.2f}x")
    print(
        f"  compiled decide / hand-written if-chain       {c[0] / d[0]:6.2f}x / {c[1] / d[1]:6.2f}x   (<= 2x)"
    )
    print(f"  to_dict() cost per contact                    {a2[0] - a[0]:6.2f} µs (best - best)")
    print(
        f"machine: {platform.python_implementation()} {platform.python_version()} on {platform.machine()}, "
        f"zen-engine {_zen_version()}, {date.today().isoformat()}"
    )
    ok = zen_reason == len(dicts) and chain_all == len(dicts)
    return 0 if ok else 1


def _zen_version() -> str:
    from importlib.metadata import version

    return version("zen-engine")


if __name__ == "__main__":
    sys.exit(main())
