"""Policy impact simulation: synthetic data, scenario policies, streaming aggregation, the HTML
report and re-adjudication of stored decisions (issue 5). No Flask here."""
