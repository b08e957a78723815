"""Locust workers as pods: Locust's own ``--worker`` mode in the cluster
under test, reaching the stack through cluster DNS and the master next to
the harness.

The workers' whole environment (the load's shape, the app contract and the
S3 credentials) goes into a per-run Secret read with ``envFrom``: nothing of
it appears in the Deployment, a command line or a log. Their ledger entries
travel to the master as Locust messages (loadtests/locustfiles/link.py), so
nothing needs to be collected from a pod before it is deleted; their logs are
copied into the run folder when they stop.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from deployer import kind as kind_clusters
from deployer import namespaces, podsecurity
from deployer.kubectl import Kubectl
from deployer.labels import MANAGED_LABELS
from deployer.providers import HELPER_NAMESPACE, ClusterOptions, helper_image
from deployer.up import Environment
from kernel.errors import BadInputError, InfraError, WaitTimeout
from kernel.progress import say
from kernel.wait import Deadline, Seen, wait_until
from loadtests.runner import WorkerPool

NAME = "chaosgate-loadgen"
SELECTOR: Mapping[str, str] = {"app.kubernetes.io/name": NAME}
LABELS: Mapping[str, str] = {**SELECTOR, **MANAGED_LABELS}
LABEL_SELECTOR = ",".join(f"{k}={v}" for k, v in LABELS.items())
LOCUSTFILES = "/srv/chaosgate/loadtests/locustfiles"
STOP_TIMEOUT_S = 120.0


def manifests(
    namespace: str, image: str, count: int, locustfile: str, *, master: tuple[str, int], env: Mapping[str, str]
) -> list[dict[str, Any]]:
    """The per-run Secret with the workers' environment, and their Deployment."""
    host, port = master
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": NAME, "namespace": namespace, "labels": dict(LABELS)},
        "type": "Opaque",
        "stringData": dict(env),
    }
    container = {
        "name": "worker",
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "args": [
            "-f",
            f"{LOCUSTFILES}/{locustfile}.py",
            "--worker",
            "--master-host",
            host,
            "--master-port",
            str(port),
            "--loglevel",
            "WARNING",
        ],
        "envFrom": [{"secretRef": {"name": NAME}}],
        # Locust reports CPU use; a worker over 90 % warns in its log. One core
        # each at most, so two workers never starve the stack of a 2-core machine.
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "1", "memory": "768Mi"}},
        "securityContext": podsecurity.container(),
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": NAME, "namespace": namespace, "labels": dict(LABELS)},
        "spec": {
            "replicas": count,
            "selector": {"matchLabels": dict(SELECTOR)},
            "template": {
                "metadata": {"labels": dict(LABELS)},
                "spec": {
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "terminationGracePeriodSeconds": 30,
                    "securityContext": podsecurity.pod(),
                    "containers": [container],
                },
            },
        },
    }
    return [secret, deployment]


class ClusterWorkers:
    """``count`` worker pods in ``namespace`` (chaosgate's own), dialing the
    master at ``dial``; the master listens on ``bind`` on this machine."""

    def __init__(self, kubectl: Kubectl, namespace: str, image: str, count: int, *, bind: str, dial: str) -> None:
        self.kubectl = kubectl
        self.namespace = namespace
        self.image = image
        self.count = count
        self._bind = bind
        self._dial = dial
        self.out_dir: Path | None = None
        self.started = False

    def bind_host(self) -> str:
        return self._bind

    def dial_host(self) -> str:
        return self._dial

    def start(self, locustfile: str, master_port: int, env: Mapping[str, str], out_dir: Path) -> None:
        self.out_dir = out_dir
        self.started = True
        for obj in manifests(
            self.namespace, self.image, self.count, locustfile, master=(self._dial, master_port), env=env
        ):
            self.kubectl.apply(obj)
        say(f"{self.count} Locust worker pod(s) in namespace {self.namespace}, master at {self._dial}:{master_port}")

    def stop(self) -> None:
        """Copy the workers' logs, delete them and their Secret, wait until gone."""
        if not self.started:
            return
        self.started = False
        if self.out_dir is not None:
            try:
                logs = self.kubectl.run(
                    ["logs", "--namespace", self.namespace, "-l", LABEL_SELECTOR, "--prefix", "--tail", "-1"],
                    timeout=60,
                )
                (self.out_dir / "locust-workers.log").write_text(logs)
            except InfraError as exc:
                say(f"could not copy the Locust workers' logs: {str(exc).splitlines()[0]}")
        for kind in ("deployment", "secret"):
            self.kubectl.run(
                ["delete", kind, NAME, "--namespace", self.namespace, "--ignore-not-found", "--wait=false"], timeout=60
            )
        try:
            wait_until(self._gone, what="the Locust worker pods gone", timeout=Deadline(STOP_TIMEOUT_S), interval=2.0)
        except WaitTimeout as exc:
            raise InfraError(f"Locust worker pods outlived their run: {exc}") from exc

    def _gone(self) -> Seen:
        pods = self.kubectl.json(["get", "pods", "--namespace", self.namespace, "-l", LABEL_SELECTOR])["items"]
        return Seen(not pods, f"{len(pods)} worker pod(s) left")


class InClusterLoad:
    """Locust workers as pods (--load-workers): their image built or pulled
    and, on kind, loaded into the nodes; chaosgate's helper namespace made.
    ``workers()`` gives the pool for one load run."""

    def __init__(self, env: Environment, settings: ClusterOptions, run_id: str) -> None:
        self.env = env
        self.settings = settings
        self.run_id = run_id
        self.image = ""
        self.master = ""
        self.made_namespace = False

    def setup(self) -> None:
        kubectl = self.env.kubectl()
        kind_name = kind_clusters.cluster_of_nodes(kubectl.json(["get", "nodes"])["items"])
        self.master = self.settings.load_master_host or (kind_clusters.network_gateway() if kind_name else "")
        if not self.master:
            raise BadInputError(
                "--load-workers on a cluster that is not kind needs --load-master-host "
                "(CHAOSGATE_LOAD_MASTER_HOST): an address of this machine the cluster's pods can reach"
            )
        self.image = helper_image(self.settings, kind_name)
        self.made_namespace = namespaces.claim(
            kubectl, HELPER_NAMESPACE, self.run_id, pick=f"delete namespace {HELPER_NAMESPACE} (not chaosgate's)"
        )

    def workers(self) -> WorkerPool:
        return ClusterWorkers(
            self.env.kubectl(),
            HELPER_NAMESPACE,
            self.image,
            self.settings.load_workers,
            bind=self.master,
            dial=self.master,
        )

    def close(self) -> None:
        # Only a namespace this pool made: on an existing cluster the relay
        # lives there too, and the cluster's own cleanup removes it last.
        if self.made_namespace:
            namespaces.release(self.env.kubectl(), HELPER_NAMESPACE, timeout=180)
