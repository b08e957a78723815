"""Waivers: findings a team accepts knowingly, each with its reason.

A target file lists them under ``preflight.waive`` as {check, object, reason}.
A waived finding stays in the report and in preflight.json, marked with the
reason, and no longer fails the preflight row. A waiver must name a known
check and match at least one finding: one that matches nothing is a typo or
outlived its cause, and either way it would hide the next finding silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chaos.preflight.findings import Finding
from deployer.target import Waiver
from kernel.errors import BadInputError

__all__ = ["Judged", "Waiver", "apply", "canonical_check", "check_known"]


@dataclass(frozen=True)
class Judged:
    finding: Finding
    waived: str = ""
    """The waiver's reason; empty when no waiver covers the finding."""

    def to_dict(self) -> dict[str, str]:
        out = self.finding.to_dict()
        if self.waived:
            out["waived"] = self.waived
        return out


def canonical_check(check: str, known: Sequence[str]) -> str | None:
    """The full check id for "CG008" or "CG008-missing-probe"; None when unknown."""
    if check in known:
        return check
    return next((k for k in known if k.split("-", 1)[0] == check), None)


def check_known(waivers: Sequence[Waiver], known: Sequence[str]) -> None:
    """BadInputError naming the known checks when a waiver names another."""
    for i, waiver in enumerate(waivers):
        if canonical_check(waiver.check, known) is None:
            raise BadInputError(
                f"preflight.waive[{i}].check: {waiver.check!r} is not a preflight check; "
                f"fix: one of {', '.join(known)} (or its short form, e.g. CG008)"
            )


def _covers(waiver: Waiver, check: str, finding: Finding) -> bool:
    # The namespace may be left out: a target's namespace is set at install.
    without_namespace = finding.object.split("/", 1)[1] if finding.object.count("/") == 2 else finding.object
    return finding.check == check and waiver.object in (finding.object, without_namespace)


def apply(findings: Sequence[Finding], waivers: Sequence[Waiver], known: Sequence[str]) -> list[Judged]:
    """Every finding, in order, with the reason of the first waiver that
    covers it; BadInputError for an unknown check or a waiver that covers nothing."""
    check_known(waivers, known)
    used = [False] * len(waivers)
    judged = []
    for finding in findings:
        reason = ""
        for i, waiver in enumerate(waivers):
            if _covers(waiver, canonical_check(waiver.check, known) or "", finding):
                used[i] = True
                reason = reason or waiver.reason
        judged.append(Judged(finding, reason))
    for i, waiver in enumerate(waivers):
        if not used[i]:
            check = canonical_check(waiver.check, known)
            same = sorted({f.object for f in findings if f.check == check})
            listed = ", ".join(same) if same else f"none (no {check} finding at all)"
            raise BadInputError(
                f"preflight.waive[{i}]: no {check} finding on {waiver.object!r}; fix: remove the waiver, "
                f"or name the object as the finding does; {check} findings are on: {listed}"
            )
    return judged
