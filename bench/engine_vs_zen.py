"""rules.evaluate per contact, validation included, against GoRules ZEN in the same run.

Goal: rules.evaluate(dict) at least 3x faster per contact than ZEN's ZenEngine.evaluate (the faster
of its two context forms, a dict or a JSON string) deciding the same 14 rules and the amount as a
decision graph (bench/zen/eligibility.json). What ZEN cannot compute itself is precomputed in Python
outside the timing (bench/zen_context.py lists each fact): ZEN is given the easier task.

Seeded synthetic contacts (bench/synthetic_contacts.py). Before timing, ZEN's reason, decision,
amount, cap and flags are checked against rules.evaluate on every contact; a disagreement fails the
run, since then the two would not be doing the same work.

    .venv/bin/python bench/engine_vs_zen.py [--count 10000] [--repeat 5] [--seed 2021]
"""

import argparse
import json
import platform
import statistics
import sys
import time
from importlib.metadata import version
from pathlib import Path

import zen

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]  # the repository (rules) and bench/, however it is run

from synthetic_contacts import contacts  # noqa: E402
from zen_context import zen_context  # noqa: E402

import rules  # noqa: E402

GRAPH = HERE / "zen" / "eligibility.json"
GOAL_RATIO = 3
COMPARED_FLAGS = {"CLAIM_EXCEEDS_TARIFF", "PATIENTLAG_CONFLICT", "DIGITAL_STOP_ADVISORY"}


def timed(label, fn, items, repeat):
    """Best and median µs per item over `repeat` passes of fn over all items."""
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(items)
        runs.append((time.perf_counter() - start) / len(items) * 1e6)
    best, median = min(runs), statistics.median(runs)
    print(f"  {label:50} best {best:8.2f} µs   median {median:8.2f} µs")
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2021)
    args = parser.parse_args(argv)

    policy = rules.default_policy()
    dicts = list(contacts(args.count, args.seed))
    verdicts = [rules.evaluate(d, policy) for d in dicts]
    contexts = [zen_context(v.contact, policy) for v in verdicts]
    contexts_json = [json.dumps(ctx) for ctx in contexts]
    graph = json.loads(GRAPH.read_text())
    engine = zen.ZenEngine({"loader": {"type": "static", "content": {"eligibility": graph}}})

    want = [expected(v) for v in verdicts]
    got = [from_zen(engine.evaluate("eligibility", ctx)["result"]) for ctx in contexts]
    agree = sum(w == g for w, g in zip(want, got, strict=True))
    reasons = {v.reason for v in verdicts}
    print(f"engine_vs_zen: {len(dicts):,} contacts (seed {args.seed}), {len(reasons)} of 14 reasons occur")
    print(f"  ZEN agrees with rules.evaluate (reason, decision, amount, cap, flags): {agree}/{len(dicts)}")
    for w, g in zip(want, got, strict=True):
        if w != g:
            print(f"  first disagreement: rules.evaluate {w}, ZEN {g}")
            break

    def run_evaluate(items):
        evaluate = rules.evaluate
        for d in items:
            evaluate(d, policy)

    def run_zen(items):
        evaluate = engine.evaluate
        for ctx in items:
            evaluate("eligibility", ctx)

    print(f"µs per contact, best and median of {args.repeat} passes:")
    ours = timed("rules.evaluate(dict), validation included", run_evaluate, dicts, args.repeat)
    zen_dict = timed("ZEN ZenEngine.evaluate(key, dict context)", run_zen, contexts, args.repeat)
    zen_text = timed("ZEN ZenEngine.evaluate(key, JSON string context)", run_zen, contexts_json, args.repeat)
    zen_best = min(zen_dict, zen_text)
    ratio = zen_best[0] / ours[0]
    met = ratio >= GOAL_RATIO
    print(
        f"  ZEN / rules.evaluate: {ratio:.2f}x best, {zen_best[1] / ours[1]:.2f}x median "
        f"(goal >= {GOAL_RATIO}x, on best: {'met' if met else 'MISSED'})"
    )
    print(
        f"  {platform.python_implementation()} {platform.python_version()} on {platform.machine()}, "
        f"zen-engine {version('zen-engine')}"
    )
    ok = met and agree == len(dicts)
    print("PASS" if ok else "FAIL: a goal was missed" if agree == len(dicts) else "FAIL: ZEN disagrees")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
