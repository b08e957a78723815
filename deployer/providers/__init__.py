"""Cluster providers: where the scenarios run, behind one interface.

* :class:`KindProvider`: a kind cluster chaosgate creates and deletes;
* :class:`ExistingProvider`: a cluster the user runs, only read until the
  run begins, and only chaosgate's own objects changed there.

Both answer ``check()`` (read-only, BadInputError before anything changes),
``needs_images()``, ``open()`` (the Environment the stack goes into) and
``close()``; ``leftovers`` of each module is its part of the leak audit.
"""

from __future__ import annotations

from typing import Protocol

from deployer.providers.existing import HELPER_NAMESPACE, ClusterOptions, ExistingProvider, helper_image
from deployer.providers.kind import KindProvider
from deployer.up import Environment

__all__ = [
    "HELPER_NAMESPACE",
    "ClusterOptions",
    "ExistingProvider",
    "KindProvider",
    "Provider",
    "helper_image",
]


class Provider(Protocol):
    name: str

    def check(self) -> None: ...

    def needs_images(self) -> bool: ...

    def open(self) -> Environment: ...

    def close(self) -> None: ...
