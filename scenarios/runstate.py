"""What the chaos tier's plugin keeps for one run, in one place (one stash key)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from chaos.rollback import Rollbacks
from chaos.settings import Settings
from chaos.slo import Slo
from chaos.timeline import Timeline
from chaos.verdict import ScenarioResult
from deployer import runlock
from deployer.providers import ExistingProvider
from deployer.target import Target


@dataclass
class RunState:
    results: dict[str, ScenarioResult] = field(default_factory=dict)
    """Every row of the report by test node id, in run order."""
    problems: list[str] = field(default_factory=list)
    """Cleanup trouble outside any scenario."""
    settings: Settings | None = None
    slo: Slo | None = None
    target: Target | None = None
    run_dir: Path | None = None
    timeline: Timeline | None = None
    lock: runlock.RunLock | None = None
    rollbacks: Rollbacks | None = None
    existing: ExistingProvider | None = None
    """An existing cluster, checked at configure before anything changed."""
    left_out: list[str] = field(default_factory=list)
    """Scenarios the profile leaves out."""
    infra_failed: bool = False
    """A fixture or a cleanup failed: harness trouble, never a pass."""
    kind_touched: bool = False
    """This run began making a kind cluster."""
    existing_used: bool = False
    """This run began using an existing cluster (it may leave something there)."""
    interrupted: list[str] = field(default_factory=list)
    """Signals received, first one first."""
    stopped: str = ""
    """Why the run ended early on purpose (--stop-on-preflight); rows it never reached say so."""
    cleaning: bool = False
    """The session's cleanup and report have begun: signals no longer interrupt."""
