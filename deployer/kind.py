"""kind clusters: create (idempotently), reuse, delete, and load images.

The kubeconfig goes to a project-local folder, never the user's
~/.kube/config, so a run can neither break nor be broken by the user's own
contexts.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deployer import engine, tools
from kernel.errors import BadInputError, InfraError
from kernel.procs import run
from kernel.progress import phase, say
from kernel.wait import Deadline, Seen, wait_until

STATE_DIR = Path(".chaosgate")
CREATE_TIMEOUT_S = 900.0
DELETE_TIMEOUT_S = 120.0
"""Seconds until ``kind get clusters`` stops listing a deleted cluster: kind may
return from ``delete`` before its node containers are removed."""
# NodePorts of the Services chaosgate adds next to the target's MinIO, app
# and Prometheus Services (deployer/stack.py, expose), mapped to ports on
# 127.0.0.1: the harness and Locust talk to loopback only, and kube-proxy
# follows the pods through restarts. The host ports are chosen free per cluster
# (kept in .chaosgate/<name>/ports.json), so clusters of different names run
# side by side.
NODE_PORTS = {"minio": 30900, "app": 30080, "prometheus": 30090}
# kind's defaults, set explicitly because the host guard below names them.
POD_SUBNET = "10.244.0.0/16"
SERVICE_SUBNET = "10.96.0.0/16"


def kubeconfig_path(name: str, root: Path | None = None) -> Path:
    return (root or Path.cwd()) / STATE_DIR / name / "kubeconfig"


@dataclass
class KindCluster:
    name: str
    node_image: str
    workers: int = 2
    kubeconfig: Path = field(default_factory=Path)
    # TOML snippets merged into every node's containerd config.
    containerd_patches: Sequence[str] = ()
    disable_default_cni: bool = False
    # Service name -> port on 127.0.0.1 (see NODE_PORTS); chosen at create.
    host_ports: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kubeconfig == Path():
            self.kubeconfig = kubeconfig_path(self.name)

    @property
    def context(self) -> str:
        return f"kind-{self.name}"

    def _kind(self) -> Path:
        return tools.resolve("kind").path

    def exists(self) -> bool:
        out = run([self._kind(), "get", "clusters"], timeout=60)
        return self.name in out.stdout.split()

    def nodes(self) -> list[str]:
        """Node container names (also the Kubernetes node names)."""
        out = run([self._kind(), "get", "nodes", "--name", self.name], timeout=60)
        return sorted(line for line in out.stdout.split() if line)

    def config_yaml(self) -> str:
        """kind's cluster config. JSON is valid YAML, and needs no YAML library."""
        config: dict[str, object] = {
            "kind": "Cluster",
            "apiVersion": "kind.x-k8s.io/v1alpha4",
            "nodes": [
                {
                    # On the control plane: node-loss faults stop workers only,
                    # so the host's way in survives them.
                    "role": "control-plane",
                    "extraPortMappings": [
                        {
                            "containerPort": port,
                            "hostPort": self.host_ports.get(service, port),
                            "listenAddress": "127.0.0.1",
                            "protocol": "TCP",
                        }
                        for service, port in NODE_PORTS.items()
                    ],
                }
            ]
            + [{"role": "worker"}] * self.workers,
            "networking": {
                "disableDefaultCNI": self.disable_default_cni,
                "podSubnet": POD_SUBNET,
                "serviceSubnet": SERVICE_SUBNET,
            },
        }
        if self.containerd_patches:
            config["containerdConfigPatches"] = list(self.containerd_patches)
        return json.dumps(config, indent=2)

    def create(self, *, reuse: bool) -> bool:
        """Create the cluster; with ``reuse``, keep one that exists. Returns True when created."""
        engine.require_docker()
        if self.exists():
            if reuse:
                say(f"reusing kind cluster {self.name}")
                self._export_kubeconfig()
                self.host_ports = host_ports(self.name)
                return False
            say(f"kind cluster {self.name} exists from an earlier run; deleting it (use --reuse-cluster to keep it)")
            self.delete()
        self._require_image()
        for rule in guard_cluster_networks():
            say(f"host rule added: iptables -I DOCKER-USER {rule}")
        config = self.kubeconfig.parent / "kind-config.yaml"
        config.parent.mkdir(parents=True, exist_ok=True)
        self.host_ports = {service: free_port() for service in NODE_PORTS}
        _ports_file(self.name).write_text(json.dumps(self.host_ports) + "\n")
        config.write_text(self.config_yaml())
        with phase(f"create kind cluster {self.name} (1 control plane + {self.workers} workers)"):
            try:
                run(
                    [
                        self._kind(), "create", "cluster",
                        "--name", self.name,
                        "--image", self.node_image,
                        "--config", str(config),
                        "--kubeconfig", str(self.kubeconfig),
                        "--retain=false",
                        "--wait", "0s",
                    ],
                    timeout=CREATE_TIMEOUT_S,
                )  # fmt: skip
            except BaseException:
                # Nothing half-made is left behind, also on Ctrl-C: kind usually
                # cleans up, but not when it was killed mid-way.
                self.delete()
                raise
        return True

    def _require_image(self) -> None:
        try:
            run(["docker", "image", "inspect", self.node_image], timeout=60)
        except InfraError:
            raise BadInputError(
                f"node image {self.node_image} is not in the local Docker image store; "
                "build it with `python -m deployer images build` or pull it"
            ) from None

    def _export_kubeconfig(self) -> None:
        self.kubeconfig.parent.mkdir(parents=True, exist_ok=True)
        run(
            [self._kind(), "export", "kubeconfig", "--name", self.name, "--kubeconfig", str(self.kubeconfig)],
            timeout=60,
        )

    def delete(self) -> None:
        """Delete the cluster and wait until its node containers are gone."""
        with phase(f"delete kind cluster {self.name}"):
            run([self._kind(), "delete", "cluster", "--name", self.name], timeout=300)
            wait_until(
                lambda: Seen(not self.exists(), "still listed by `kind get clusters`"),
                what=f"kind cluster {self.name} to be gone after delete",
                timeout=Deadline(DELETE_TIMEOUT_S),
                interval=1.0,
            )
        self.kubeconfig.unlink(missing_ok=True)

    def load_images(self, images: Sequence[str]) -> None:
        """Copy locally present images into every node's containerd."""
        if not images:
            return
        with phase(f"load {len(images)} image(s) into kind"):
            run([self._kind(), "load", "docker-image", "--name", self.name, *images], timeout=1800)


NETWORK = "kind"
"""The Docker network kind puts every cluster's nodes on."""


def network_gateway(network: str = NETWORK) -> str:
    """This machine's IPv4 address on kind's Docker network: where pods reach a
    process on the host (the Locust master), without listening anywhere else."""
    out = run(["docker", "network", "inspect", network], timeout=60).stdout
    for config in json.loads(out)[0].get("IPAM", {}).get("Config", []) or []:
        gateway = str(config.get("Gateway", ""))
        if gateway and ":" not in gateway:
            return gateway
    raise InfraError(f"Docker network {network} has no IPv4 gateway: pods cannot reach this machine through it")


def cluster_of_nodes(nodes: Sequence[Mapping[str, Any]]) -> str | None:
    """The kind cluster these nodes belong to (providerID ``kind://docker/<cluster>/<node>``),
    or None for nodes that are not kind's."""
    for node in nodes:
        provider = str(node.get("spec", {}).get("providerID", ""))
        parts = provider.removeprefix("kind://").split("/")
        if provider.startswith("kind://") and len(parts) == 3:
            return parts[1]
    return None


def leftover_clusters() -> list[str]:
    """kind clusters that exist right now (for the leak audit)."""
    out = run([tools.resolve("kind").path, "get", "clusters"], timeout=60)
    return out.stdout.split()


def _ports_file(name: str) -> Path:
    return kubeconfig_path(name).parent / "ports.json"


def host_ports(name: str) -> dict[str, int]:
    """The loopback ports of cluster ``name``'s services, as chosen at create.
    A cluster made from another checkout has no ports file here: then the
    control plane's published ports say (``docker port``); the NodePorts
    themselves for a cluster made before ports were chosen."""
    try:
        chosen = json.loads(_ports_file(name).read_text())
    except (OSError, json.JSONDecodeError):
        chosen = published_ports(name)
    return {service: int(chosen.get(service, port)) for service, port in NODE_PORTS.items()}


def published_ports(name: str) -> dict[str, int]:
    """Service -> loopback port that Docker publishes for its NodePort on the
    control-plane container; empty when Docker cannot say."""
    try:
        out = run(["docker", "port", f"{name}-control-plane"], timeout=30).stdout
    except InfraError:
        return {}
    return parse_published(out)


def parse_published(text: str) -> dict[str, int]:
    """Lines of ``docker port``, e.g. ``30900/tcp -> 127.0.0.1:52109``."""
    by_node_port = {port: service for service, port in NODE_PORTS.items()}
    found: dict[str, int] = {}
    for line in text.splitlines():
        inner, _, outer = line.partition(" -> ")
        node_port = inner.split("/", 1)[0].strip()
        host, _, host_port = outer.strip().rpartition(":")
        # The harness dials 127.0.0.1; a mapping on another address is not its way in.
        if host != "127.0.0.1" or not (node_port.isdigit() and host_port.isdigit()):
            continue
        if int(node_port) in by_node_port:
            found[by_node_port[int(node_port)]] = int(host_port)
    return found


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def node_containers(name: str) -> dict[str, bool]:
    """The Docker containers of kind cluster ``name``, running or not (for the
    leak audit: a stopped node or a container kind failed to remove)."""
    out = run(
        ["docker", "ps", "-a", "--filter", f"label=io.x-k8s.kind.cluster={name}", "--format", "{{.Names}} {{.State}}"],
        timeout=60,
    )
    return {
        name: state == "running" for name, _, state in (line.partition(" ") for line in out.stdout.split("\n") if line)
    }


def guard_cluster_networks() -> list[str]:
    """Keep pod and Service addresses inside this machine.

    A node sends a packet for a Service address to its default gateway (the
    host) when kube-proxy has not programmed that Service yet, and the host
    would forward it to the real network. Seen here: the API server's first
    connection to a new APIService went out, an outside box answered 404 over
    TLS, and the kept-alive connection made the metrics API unavailable for
    good. Rejecting those packets at the host's uplink keeps the traffic home
    and makes such clients fail fast and retry through kube-proxy.
    Returns the rules added (none when present; a warning without root)."""
    route = run(["ip", "route", "show", "default"], timeout=10).stdout.split()
    if "dev" not in route:
        return []
    uplink = route[route.index("dev") + 1]
    added: list[str] = []
    for cidr in (POD_SUBNET, SERVICE_SUBNET):
        # Inserted at the top in this order, so the TCP reset rule ends up first.
        for rule in (
            ["-d", cidr, "-o", uplink, "-j", "REJECT"],
            ["-d", cidr, "-o", uplink, "-p", "tcp", "-j", "REJECT", "--reject-with", "tcp-reset"],
        ):
            try:
                run(["iptables", "-C", "DOCKER-USER", *rule], timeout=10)
                continue
            except InfraError:
                pass
            try:
                run(["iptables", "-I", "DOCKER-USER", *rule], timeout=10)
            except InfraError as exc:
                say(f"warning: cannot add host rule keeping {cidr} local (needs root): {exc}")
                return added
            added.append(" ".join(rule))
    return added
