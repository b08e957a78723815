"""The chaos tier: its options, fixtures and hooks come from scenarios.plugin."""

pytest_plugins = ["scenarios.plugin"]
