"""Helpers for tests that drive the chaos-tier plugin in a child pytest."""

import uuid


def own_cluster_name() -> str:
    """A cluster name no other run uses. Run locks are per machine (kind cluster
    names are global to Docker), and a real run may hold the default one."""
    return f"test-{uuid.uuid4().hex[:12]}"
