"""Probe sources for the sampler. Each returns a flat dict of one reading."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chaos.clients import Credentials, http_pool
from chaos.kube import REQUEST_TIMEOUT, Kube
from chaos.minio_health import HealthPath, admin_info, check
from chaos.observe import Source


def minio_source(url: str, credentials: Credentials) -> Source:
    """Servers and drives as MinIO's admin API sees them, plus cluster health."""
    http = http_pool()

    def read() -> Mapping[str, Any]:
        health = check(url, HealthPath.CLUSTER, http=http)
        reading: dict[str, Any] = {
            "health": health.status,
            "write_quorum": health.write_quorum,
            "healing_drives": health.healing_drives,
        }
        info = admin_info(url, credentials, http=http)
        reading.update(
            servers=len(info.servers),
            servers_online=len(info.servers_online),
            drives=len(info.drives),
            drives_ok=len(info.drives_ok),
            drives_healing=len(info.drives_healing),
            offline_disks=info.offline_disks,
        )
        return reading

    return read


def pods_source(kube: Kube, namespace: str, selectors: Mapping[str, str]) -> Source:
    """Per component (e.g. minio, app): pods, how many are Ready, restarts."""

    def read() -> Mapping[str, Any]:
        reading: dict[str, Any] = {}
        for component, selector in selectors.items():
            pods = kube.core.list_namespaced_pod(
                namespace, label_selector=selector, _request_timeout=REQUEST_TIMEOUT
            ).items
            statuses = [s for p in pods for s in (p.status.container_statuses or [])]
            reading[f"{component}_pods"] = len(pods)
            reading[f"{component}_ready"] = sum(
                1 for p in pods if any(c.type == "Ready" and c.status == "True" for c in (p.status.conditions or []))
            )
            reading[f"{component}_restarts"] = sum(s.restart_count for s in statuses)
        return reading

    return read


def hpa_source(kube: Kube, namespace: str, name: str) -> Source:
    """The HPA's replica counts and the CPU utilisation it acts on."""

    def read() -> Mapping[str, Any]:
        hpa = kube.autoscaling.read_namespaced_horizontal_pod_autoscaler_status(
            name, namespace, _request_timeout=REQUEST_TIMEOUT
        )
        cpu = None
        for metric in hpa.status.current_metrics or []:
            resource = getattr(metric, "resource", None)
            if resource is not None and resource.name == "cpu":
                cpu = resource.current.average_utilization
        return {
            "current": hpa.status.current_replicas,
            "desired": hpa.status.desired_replicas,
            "cpu_percent": cpu,
            "min": hpa.spec.min_replicas,
            "max": hpa.spec.max_replicas,
        }

    return read
