"""Kept thin on purpose: the chaos tier wires itself in scenarios/conftest.py and
the fast tier in tests/conftest.py, so neither loads the other. The gateway's
tests (app/tests) use the fast tier's MinIO fixtures."""

pytest_plugins = ["tests.fixtures.minio_local"]
