"""The deployed stack as the scenarios see it, and what makes a scenario not apply to it."""

from __future__ import annotations

from dataclasses import dataclass, field

from chaos.clients import Credentials
from chaos.kube import Kube
from chaos.minio_health import Topology
from deployer.target import Target
from deployer.up import Environment


class NotApplicable(Exception):
    """The scenario does not fit the target (a part it lacks, a topology too
    small for the fault): reported as not applicable, never a pass."""


@dataclass
class Stack:
    """The deployed stack as the scenarios see it: names from the target
    file, shape from MinIO itself."""

    env: Environment
    kube: Kube
    credentials: Credentials = field(repr=False)
    variant: str
    topology: Topology
    target: Target

    @property
    def servers(self) -> int:
        return self.topology.servers

    @property
    def drives(self) -> int:
        return self.topology.drives

    @property
    def minio_url(self) -> str:
        return self.env.urls["minio"]

    @property
    def app_url(self) -> str:
        if self.target.app is None:
            raise NotApplicable(f"target {self.target.name} has no app")
        return self.env.urls["app"]

    @property
    def prometheus_url(self) -> str | None:
        """The target's Prometheus, or None when it names none (alerts unchecked)."""
        return self.env.urls.get("prometheus") if self.target.prometheus is not None else None

    def alert_names(self, roles: tuple[str, ...]) -> tuple[str, ...]:
        """The target's rule names for those alert roles it names."""
        return tuple(self.target.alerts[role] for role in roles if role in self.target.alerts)

    @property
    def minio_selector(self) -> str:
        return self.target.minio.selector

    @property
    def statefulsets(self) -> tuple[str, ...]:
        return self.target.minio.statefulsets

    @property
    def bucket(self) -> str:
        return self.target.minio.bucket

    def need_hpa(self) -> str:
        if not self.target.hpa:
            raise NotApplicable(f"target {self.target.name} names no HPA (hpa:)")
        return self.target.hpa

    @property
    def namespace(self) -> str:
        return self.env.namespace
