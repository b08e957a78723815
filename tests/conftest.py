"""The fast tier: real MinIO server processes on loopback (tests.fixtures)."""

pytest_plugins = ["tests.fixtures.minio_local"]
