"""The harness's way into a cluster it did not create: loopback URLs that
lead, through one `kubectl port-forward` to chaosgate's relay pod
(deployer/relay.py), to the target's Services.

No NodePort opens on the user's nodes and no path dies with a MinIO pod: the
relay dials the Service for every connection. A port-forward can still end
(the API server restarts, the relay pod is rescheduled); a watcher re-opens
it on the same local ports, so the URLs handed out stay valid for the run.
"""

from __future__ import annotations

import socket
import subprocess
import threading
from collections.abc import Mapping
from types import TracebackType

from deployer import relay
from deployer.forward import port_forward
from deployer.kind import free_port
from deployer.kubectl import Kubectl
from kernel import procs
from kernel.errors import InfraError, WaitTimeout
from kernel.progress import say
from kernel.wait import Deadline, Seen, wait_until

LISTEN_PORTS = {"minio": 10000, "app": 10080, "prometheus": 10090}
"""The relay's port per role (inside its pod; nothing else listens there)."""

WATCH_INTERVAL_S = 0.2


class RelayReach:
    """``services``: role -> (Service, namespace, port)."""

    def __init__(
        self, kubectl: Kubectl, namespace: str, image: str, services: Mapping[str, tuple[str, str, int]]
    ) -> None:
        self.kubectl = kubectl
        self.namespace = namespace
        self.image = image
        self.routes = {
            role: relay.service_route(LISTEN_PORTS[role], svc, ns, port) for role, (svc, ns, port) in services.items()
        }
        self.local = {role: free_port() for role in self.routes}
        self._proc: subprocess.Popen[bytes] | None = None
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self.reopened = 0

    def open(self) -> dict[str, str]:
        """Deploy the relay, forward to it; returns role -> loopback URL."""
        relay.deploy(self.kubectl, self.namespace, self.image, list(self.routes.values()))
        self._start()
        self._watcher = threading.Thread(target=self._watch, name="relay-forward", daemon=True)
        self._watcher.start()
        urls = {role: f"http://127.0.0.1:{port}" for role, port in self.local.items()}
        say(f"reaching the stack through the relay pod: {urls}")
        return urls

    def _start(self) -> None:
        pod = relay.pod_name(self.kubectl, self.namespace)
        pairs = [f"{self.local[role]}:{route.listen_port}" for role, route in self.routes.items()]
        self._proc = port_forward(self.kubectl, self.namespace, pod, pairs)
        try:
            wait_until(self._listening, what=f"a port-forward to {pod}", timeout=Deadline(20), interval=0.2)
        except WaitTimeout as exc:
            self._kill()
            raise InfraError(f"could not forward to the relay pod {pod}: {exc}") from exc

    def _listening(self) -> Seen:
        if self._proc is None or self._proc.poll() is not None:
            raise InfraError("kubectl port-forward exited")
        for port in self.local.values():
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    pass
            except OSError as exc:
                return Seen(False, f"127.0.0.1:{port} not listening yet: {exc}")
        return Seen(True, "every port listening")

    def _watch(self) -> None:
        while not self._stop.wait(WATCH_INTERVAL_S):
            if self._proc is not None and self._proc.poll() is None:
                continue
            try:
                self._start()
                self.reopened += 1
            except InfraError as exc:
                say(f"relay port-forward down, retrying: {str(exc).splitlines()[0]}")

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            procs.kill([proc.pid])
            proc.wait(timeout=10)

    def close(self) -> None:
        """Stop forwarding and delete the relay."""
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=10)
        self._kill()
        relay.delete(self.kubectl, self.namespace)

    def __enter__(self) -> RelayReach:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
