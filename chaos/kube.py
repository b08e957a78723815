"""Kubernetes API access for the chaos library.

Clients are built from an explicit kubeconfig file and context, never from the
user's default configuration, so a run cannot touch a cluster it was not given.
Requests carry short timeouts: a probe that hangs would stall the sampler and
hide the very outage it should record.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubernetes import client, config

from deployer.labels import MANAGED_LABEL, MANAGED_VALUE
from kernel.errors import BadInputError, InfraError

# (connect, read) seconds for every API call made through Kube.
REQUEST_TIMEOUT = (3.0, 10.0)


class Timed:
    """An API group whose every call carries REQUEST_TIMEOUT unless it names
    its own: a call site cannot forget it, and a hung API server stalls
    nothing for longer than that."""

    def __init__(self, api: Any) -> None:
        self._api = api

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._api, name)
        if name.startswith("_") or not callable(attr):
            return attr
        return _with_timeout(attr)


def _with_timeout(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)  # the client reads a method's docstring for its return type
    def call(*args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("_request_timeout", REQUEST_TIMEOUT)
        return method(*args, **kwargs)

    return call


@dataclass
class Kube:
    api: client.ApiClient
    context: str
    # Namespaces the user named for faults although chaosgate did not create
    # them: a stack used as deployed on an allowlisted context (--cluster existing).
    granted: frozenset[str] = frozenset()

    @property
    def core(self) -> Any:
        return Timed(client.CoreV1Api(self.api))

    @property
    def apps(self) -> Any:
        return Timed(client.AppsV1Api(self.api))

    @property
    def autoscaling(self) -> Any:
        return Timed(client.AutoscalingV2Api(self.api))

    @property
    def custom(self) -> Any:
        return Timed(client.CustomObjectsApi(self.api))


def connect(kubeconfig: Path, context: str | None = None, granted: frozenset[str] = frozenset()) -> Kube:
    if not kubeconfig.is_file():
        raise BadInputError(f"kubeconfig {kubeconfig} does not exist")
    try:
        api = config.new_client_from_config(config_file=str(kubeconfig), context=context)  # type: ignore[no-untyped-call]
    except config.ConfigException as exc:
        raise BadInputError(f"cannot use kubeconfig {kubeconfig} (context {context}): {exc}") from exc
    kube = Kube(api, context or "", granted)
    try:
        client.VersionApi(api).get_code(_request_timeout=REQUEST_TIMEOUT)
    except Exception as exc:  # any failure here means the cluster is unreachable
        raise InfraError(f"cluster of {kubeconfig} (context {context}) does not answer: {exc}") from exc
    return kube


def require_managed_namespace(kube: Kube, namespace: str) -> None:
    """Refuse to act in a namespace chaosgate did not create and label: the
    blast radius of a fault is the stack under test, nothing else. A
    namespace the user granted (a target used as deployed on an allowlisted
    context) is the stack under test by their word."""
    if namespace in kube.granted:
        return
    ns = kube.core.read_namespace(namespace, _request_timeout=REQUEST_TIMEOUT)
    labels = ns.metadata.labels or {}
    if labels.get(MANAGED_LABEL) != MANAGED_VALUE:
        raise BadInputError(
            f"namespace {namespace} is not labelled {MANAGED_LABEL}={MANAGED_VALUE}; "
            "chaosgate injects faults only into namespaces it created, or the namespace of a target used as "
            "deployed on an allowlisted context (--cluster existing)"
        )
