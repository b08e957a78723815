"""pytest wiring only: plugins, options and session fixtures. Logic lives in the libraries."""

pytest_plugins = ["tests.fixtures.minio_local"]
