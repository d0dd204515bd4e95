"""`python -m rules generate --year 2020 --home-region 25`: a synthetic, reproducible year of
digital out-of-county contacts as JSON Lines (rules/simulation/generator.py says how it is made).
SYNTHETIC DATA: the command says so on stderr, and every id starts with SYN-."""

import sys

import orjson

from ..simulation.generator import DEFAULT_SEED, GeneratorSpec, describe, generate


def add_arguments(parser) -> None:
    parser.add_argument("--year", type=int, required=True, help="calendar year of the contacts")
    parser.add_argument("--home-region", default="25", help="home region code (default 25, Norrbotten)")
    parser.add_argument(
        "--count",
        type=int,
        default=None,
        help="number of contacts (default: the seed's count, Norrbotten 2019 and 2020 only)",
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})"
    )
    parser.add_argument("--output", "-o", default="-", help="file to write (default: stdout)")


def run(args) -> int:
    body = {"year": args.year, "home_region": args.home_region, "seed": args.seed}
    if args.count is not None:
        body["count"] = args.count
    try:
        spec = GeneratorSpec.from_dict(body)
    except ValueError as exc:
        for field, messages in exc.args[0].items():
            print(f"generate: {field.removeprefix('generate.')}: {' '.join(messages)}", file=sys.stderr)
        return 2
    out = sys.stdout.buffer if args.output == "-" else open(args.output, "wb")  # noqa: SIM115
    try:
        buffer = []
        for contact in generate(spec):
            buffer.append(orjson.dumps(contact))
            if len(buffer) >= 10_000:
                out.write(b"\n".join(buffer) + b"\n")
                buffer.clear()
        if buffer:
            out.write(b"\n".join(buffer) + b"\n")
    finally:
        if out is not sys.stdout.buffer:
            out.close()
        else:
            out.flush()
    print(describe(spec), file=sys.stderr)
    return 0
