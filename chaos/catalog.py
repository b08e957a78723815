"""The scenario names a target file may list under ``scenarios:``.

The scenarios themselves live in scenarios/ (one test file each, named by its
``scenario`` marker); the names are restated here so a target file is checked
before anything is built, and a misspelt name is bad input rather than a
scenario silently "not applicable". tests/unit/test_catalog.py ties this list
to the markers.
"""

from __future__ import annotations

from collections.abc import Iterable

from kernel.errors import BadInputError

SCENARIOS = (
    "hpa-under-load",
    "pod-kill",
    "beyond-write-quorum",
    "full-outage",
    "negative-ephemeral",
    "negative-unsafe-app",
    "rolling-restart",
    "node-loss",
    "partition",
    "partition-one-way",
    "partition-not-applied",
    "full-drive",
    "pool-expansion",
    "delete-resurrection",
    "negative-unversioned",
    "negative-unrepaired",
    "delete-after-restart",
)
"""Every fault scenario, in the order the suite runs them."""

ALWAYS_RUN = ("smoke",)
"""Rows that run for every target; listing them is allowed and changes nothing."""


def check_names(names: Iterable[str], where: str) -> None:
    """BadInputError naming the unknown names and the known ones."""
    known = (*ALWAYS_RUN, *SCENARIOS)
    unknown = [name for name in names if name not in known]
    if unknown:
        raise BadInputError(
            f"{where}: unknown scenario name(s) {unknown}; fix: use the known names: {', '.join(known)}"
        )
