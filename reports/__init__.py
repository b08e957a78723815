"""Reports: report.html, summary.json from a run folder (plain data in, files out)."""
