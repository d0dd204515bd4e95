"""The HTML report of a simulation: one self-contained file (Chart.js 4.6.1, MIT, inlined from
assets/; no network at render time), titles in English with the Swedish terms.

Input is the JSON result (Simulation.to_dict()), so the API and the CLI render the same report.
"""

import html
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import orjson

from ..money import parse_sek
from .seed_facts import AGE_TABLE, CONTACTS, COST_SEK, SOURCE

HERE = Path(__file__).resolve().parent
STOP_SCENARIO = "stop_from_2020"


@lru_cache(maxsize=1)
def _chart_js() -> str:
    text = (HERE / "assets" / "chart.umd.min.js").read_text(encoding="utf-8")
    # The source map is not shipped; drop the reference so nothing is ever fetched.
    return "\n".join(line for line in text.splitlines() if not line.startswith("//# sourceMappingURL"))


@lru_cache(maxsize=1)
def _template() -> str:
    return (HERE / "report_template.html").read_text(encoding="utf-8")


def _ore(text: str) -> int:
    """Öre from an amount string of the result, signed ('-12.50', '+3.00', '7.00')."""
    sign = -1 if text.startswith("-") else 1
    return sign * parse_sek(text.lstrip("+-"))


def money(ore: int) -> str:
    """12,345.50 (English report typography; the sign kept)."""
    sign = "-" if ore < 0 else ""
    ore = abs(ore)
    return f"{sign}{ore // 100:,}.{ore % 100:02d}"


def _signed_class(value: int) -> str:
    return "neg" if value < 0 else "pos" if value > 0 else ""


def _table(head: list[str], rows: list[list], classes: list[list[str]] | None = None) -> str:
    out = ["<table><thead><tr>"]
    out.extend(f"<th>{html.escape(str(cell))}</th>" for cell in head)
    out.append("</tr></thead><tbody>")
    for r, row in enumerate(rows):
        out.append("<tr>")
        for c, cell in enumerate(row):
            css = classes[r][c] if classes else ""
            attr = f' class="{css}"' if css else ""
            out.append(f"<td{attr}>{html.escape(str(cell))}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _scenario_table(result: dict) -> str:
    rows = []
    for s in result["scenarios"]:
        overrides = ", ".join(f"{k} = {v}" for k, v in s["overrides"].items()) or "–"
        rows.append(
            [
                s["name"],
                s["title"],
                f"{s['count']:,}",
                f"{s['paid']:,}",
                f"{s['no_pay']:,}",
                money(_ore(s["amount_sek"])),
                overrides,
            ]
        )
    return _table(["scenario", "title", "contacts", "paid", "not paid", "amount SEK", "overrides"], rows)


def _delta_table(result: dict) -> str:
    if not result["deltas"]:
        return "<p>Only one scenario: nothing to compare.</p>"
    rows, classes = [], []
    for d in result["deltas"]:
        amount = _ore(d["amount_sek"])
        female = _ore(d["by_sex"].get("female", {}).get("amount_sek", "0.00"))
        male = _ore(d["by_sex"].get("male", {}).get("amount_sek", "0.00"))
        rows.append([d["scenario"], f"{d['paid']:+,}", money(amount), money(female), money(male)])
        classes.append(
            ["", _signed_class(d["paid"]), _signed_class(amount), _signed_class(female), _signed_class(male)]
        )
    head = ["scenario", "paid contacts", "amount SEK", "of which women (kvinnor)", "of which men (män)"]
    return _table(head, rows, classes) + (
        f'<p class="note">Each scenario against the baseline {html.escape(result["baseline"])}; '
        "a negative amount is money the home region would not pay (saved).</p>"
    )


def _changes_table(result: dict) -> str:
    rows = []
    for d in result["deltas"]:
        for change in d.get("changed", []):
            rows.append(
                [
                    d["scenario"],
                    change["from"],
                    change["to"],
                    f"{change['count']:,}",
                    money(_ore(change["amount_sek"])),
                ]
            )
    if not rows:
        return ""
    return "<h3>Changed verdicts (ändrade beslut)</h3>" + _table(
        ["scenario", "reason under the baseline", "reason under the scenario", "contacts", "amount SEK"], rows
    )


def _stop_note(result: dict) -> str:
    delta = next((d for d in result["deltas"] if d["scenario"] == STOP_SCENARIO), None)
    if delta is None:
        return ""
    if delta["paid"] == 0 and _ore(delta["amount_sek"]) == 0:
        return (
            '<p class="note" id="stop-saving">Scenario <code>stop_from_2020</code> changes nothing here: '
            "the stop (Dnr 347-2021) is already in force for these contacts under the baseline. "
            "Compare with <code>national_only</code> for what it saves.</p>"
        )
    saved = -_ore(delta["amount_sek"])
    women = -_ore(delta["by_sex"].get("female", {}).get("amount_sek", "0.00"))
    men = -_ore(delta["by_sex"].get("male", {}).get("amount_sek", "0.00"))
    return (
        '<p class="label" id="stop-saving">'
        "<strong>What the 2022 stop would have saved on these volumes:</strong> "
        f'<span id="stop-saving-sek">{money(saved)}</span> SEK, {-delta["paid"]:,} contacts no longer paid '
        f"(women {money(women)} SEK, men {money(men)} SEK). "
        "Region Norrbotten's stop on digital out-of-county contacts with uncontracted providers "
        "(Dnr 347-2021) starts on 2022-01-01, after these contacts; scenario "
        f"<code>{STOP_SCENARIO}</code> moves the stop back to 2020-01-01 rather than moving the "
        "contacts forward, because moving the dates would also change which tariff and referral "
        "rules apply. The moved date is a what-if: those verdicts carry ASSUMED_EFFECTIVE_DATE, and "
        "every stopped contact carries PATIENTLAG_CONFLICT: a regional stop conflicts with "
        "Patientlagen (2014:821) 9 kap. 1 § and HSL 8 kap. 3 §.</p>"
    )


def _equality_tables(result: dict) -> str:
    parts = []
    for dim, title in (("sex", "sex (kön)"), ("age_group", "age group (åldersgrupp)")):
        keys: list[str] = []
        for s in result["scenarios"]:
            keys.extend(k for k in s[f"by_{dim}"] if k not in keys)
        head = [title, "contacts"]
        for s in result["scenarios"]:
            head.extend([f"{s['name']} paid", f"{s['name']} SEK"])
        rows = []
        for key in keys:
            first = result["scenarios"][0][f"by_{dim}"].get(key, {"count": 0})
            row = [key, f"{first['count']:,}"]
            for s in result["scenarios"]:
                cell = s[f"by_{dim}"].get(key, {"paid": 0, "amount_sek": "0.00"})
                row.extend([f"{cell['paid']:,}", money(_ore(cell["amount_sek"]))])
            rows.append(row)
        parts.append(_table(head, rows))
    return "".join(parts)


def _reason_table(result: dict) -> str:
    reasons: list[str] = []
    for s in result["scenarios"]:
        reasons.extend(r for r in s["by_reason"] if r not in reasons)
    head = ["reason"] + [f"{s['name']} contacts / SEK" for s in result["scenarios"]]
    rows = []
    for reason in reasons:
        row = [reason]
        for s in result["scenarios"]:
            cell = s["by_reason"].get(reason)
            row.append(f"{cell['count']:,} / {money(_ore(cell['amount_sek']))}" if cell else "–")
        rows.append(row)
    return _table(head, rows)


def _seed_table() -> str:
    rows = [
        ["contacts (vårdkontakter)"] + [f"{CONTACTS[y]:,}" for y in (2019, 2020)],
        ["cost SEK (kostnad)"] + [f"{COST_SEK[y]:,}" for y in (2019, 2020)],
    ]
    for group in AGE_TABLE[2019]:
        rows.append(
            [f"age {group}"]
            + [
                f"{AGE_TABLE[y][group]:,}" if group in AGE_TABLE[y] else "blank in the source"
                for y in (2019, 2020)
            ]
        )
    return _table(["", "2019", "2020"], rows) + (
        f'<p class="note">{html.escape(SOURCE)}. The 2020 age groups sum to 25,797, 15 short of the '
        "stated 25,812; the generated data keeps those 15 contacts without an age (age group "
        "unknown).</p>"
    )


def _rejected(result: dict) -> str:
    rejected = result["rejected"]
    if not rejected["count"]:
        return "<p>None: every line was decided.</p>"
    rows = [
        [item["index"], "; ".join(f"{k}: {' '.join(v)}" for k, v in item["errors"].items())]
        for item in rejected["lines"][:50]
    ]
    more = rejected["count"] - len(rows)
    return (
        f"<p>{rejected['count']:,} lines were rejected and are not in the figures above.</p>"
        + _table(["line / index", "errors"], rows)
        + (f'<p class="note">{more:,} more not listed here.</p>' if more > 0 else "")
    )


def render_report(result: dict, data_label: str = "contacts given to the simulation") -> str:
    """The report as one HTML string."""
    data = orjson.dumps(result).decode("utf-8").replace("</", "<\\/")
    values = {
        "GENERATED": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "DATA_LABEL": html.escape(f"{data_label}; {result['count']:,} contacts decided"),
        "BASELINE": html.escape(result["baseline"]),
        "SCENARIO_TABLE": _scenario_table(result),
        "STOP_NOTE": _stop_note(result),
        "DELTA_TABLE": _delta_table(result) + _changes_table(result),
        "EQUALITY_TABLES": _equality_tables(result),
        "REASON_TABLE": _reason_table(result),
        "SEED_TABLE": _seed_table(),
        "REJECTED": _rejected(result),
        "DATA_JSON": data,
    }
    page = _template()
    for key, value in values.items():
        page = page.replace("{{" + key + "}}", value)
    return page.replace("{{CHART_JS}}", _chart_js())
