"""A reused kind cluster's loopback ports, when this checkout did not create it."""

from __future__ import annotations

from deployer.kind import NODE_PORTS, parse_published


def test_published_node_ports_map_to_services() -> None:
    text = (
        "6443/tcp -> 127.0.0.1:45311\n"
        "30080/tcp -> 127.0.0.1:47879\n"
        "30090/tcp -> 127.0.0.1:58273\n"
        "30900/tcp -> 127.0.0.1:52109\n"
        "30900/tcp -> [::1]:52110\n"
    )
    # Only the IPv4 loopback mapping counts: the harness dials 127.0.0.1.
    assert parse_published(text) == {"app": 47879, "prometheus": 58273, "minio": 52109}
    assert set(parse_published(text)) == set(NODE_PORTS)


def test_nothing_published_gives_nothing() -> None:
    assert parse_published("") == {}
    assert parse_published("6443/tcp -> 127.0.0.1:45311\n") == {}
