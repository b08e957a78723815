"""One finding of the preflight: what is wrong, where, why it matters, the fix."""

from __future__ import annotations

from dataclasses import asdict, dataclass

ERROR = "error"
"""Loses data or availability in an event the stack must survive (a restart,
a node loss, an upgrade, a scale event)."""
WARNING = "warning"
"""Raises the odds of a loss, or cannot be judged from the manifests alone."""


@dataclass(frozen=True)
class Finding:
    check: str
    """Stable id users can reference, e.g. "CG001-literal-credentials"."""
    severity: str
    """ERROR or WARNING."""
    object: str
    """kind/name, with the namespace in front when the manifest has one."""
    field: str
    """JSON-path-like place in the object, e.g. spec.template.spec.containers[minio].env[X].value."""
    why: str
    fix: str

    @property
    def code(self) -> str:
        """The short id ("CG001") of the check."""
        return self.check.split("-", 1)[0]

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    def text(self) -> str:
        return f"[{self.code}] {self.object} {self.field}: {self.why.rstrip('.')}. Fix: {self.fix}"
