"""The HTML report: self-contained, and its charts really render in headless Chromium."""

import re
import subprocess

import pytest
from browser import CHROMIUM, FLAGS

from rules.simulation.report import render_report
from rules.simulation.simulate import simulate_contacts


@pytest.fixture(scope="module")
def report(year_2020):
    result = simulate_contacts(
        year_2020, ["in_force", "national_only", "stop_from_2020", "ds_2023_27"]
    ).to_dict()
    return render_report(result, data_label="generated 2020 (SYNTHETIC DATA)")


def test_report_is_self_contained(report):
    assert not re.search(r"<script[^>]+src=", report)
    assert not re.search(r"<link[^>]+href=", report)
    assert "sourceMappingURL" not in report
    assert "Chart.js v4" in report


def test_report_shows_what_the_2022_stop_would_have_saved_on_2020_volumes(report):
    assert 'id="stop-saving-sek">10,274,825.00</span>' in report
    assert "23,932 contacts no longer paid" in report
    assert "SYNTHETIC DATA" in report


@pytest.mark.slow
@pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (scripts/test-services.sh installs it)"
)
def test_charts_render_in_headless_chromium(report, tmp_path):
    page = tmp_path / "report.html"
    page.write_text(report, encoding="utf-8")
    dom = subprocess.run(
        [CHROMIUM, *FLAGS, "--virtual-time-budget=10000", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert 'data-charts-rendered="5"' in dom
    canvases = re.findall(r"<canvas[^>]*>", dom)
    assert len(canvases) == 5
    for canvas in canvases:
        assert 'data-rendered="4"' in canvas  # one dataset per scenario
        width = int(re.search(r'data-width="(\d+)"', canvas).group(1))
        height = int(re.search(r'data-height="(\d+)"', canvas).group(1))
        assert width > 0 and height > 0


def test_on_data_after_the_stop_the_report_says_the_moved_stop_changes_nothing():
    from rules.simulation.generator import GeneratorSpec, generate

    contacts = generate(GeneratorSpec(2022, count=200))
    result = simulate_contacts(contacts, ["in_force", "stop_from_2020", "national_only"]).to_dict()
    page = render_report(result)
    assert "already in force for these contacts" in page
    assert 'id="stop-saving-sek"' not in page
