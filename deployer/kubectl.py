"""kubectl and helm, bound to one kubeconfig and context.

Every call names the kubeconfig and context explicitly, so nothing ever falls
back to the user's ~/.kube/config or current context.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deployer import tools
from kernel.procs import run


@dataclass(frozen=True)
class Kubectl:
    kubeconfig: Path
    context: str
    binary: Path

    @classmethod
    def for_cluster(cls, kubeconfig: Path, context: str) -> Kubectl:
        return cls(kubeconfig, context, tools.resolve("kubectl").path)

    def base(self) -> list[str]:
        """The command prefix: kubectl bound to this kubeconfig and context."""
        return [str(self.binary), "--kubeconfig", str(self.kubeconfig), "--context", self.context]

    def run(self, args: Sequence[str], *, timeout: float = 120, input_text: str | None = None) -> str:
        return run([*self.base(), *args], timeout=timeout, input_text=input_text).stdout

    def json(self, args: Sequence[str], *, timeout: float = 60) -> Any:
        return json.loads(self.run([*args, "-o", "json"], timeout=timeout))

    def apply(self, manifest: str | Mapping[str, Any], *, timeout: float = 120) -> None:
        """Apply a manifest given as YAML/JSON text or as one object. Passed on
        stdin, so Secrets never appear in a command line or a file."""
        text = manifest if isinstance(manifest, str) else json.dumps(manifest)
        self.run(["apply", "-f", "-"], timeout=timeout, input_text=text)


@dataclass(frozen=True)
class Helm:
    kubeconfig: Path
    context: str
    binary: Path

    @classmethod
    def for_cluster(cls, kubeconfig: Path, context: str) -> Helm:
        return cls(kubeconfig, context, tools.resolve("helm").path)

    @classmethod
    def offline(cls) -> Helm:
        """Helm for work that needs no cluster (`helm template`)."""
        return cls(Path(), "", tools.resolve("helm").path)

    def run(self, args: Sequence[str], *, timeout: float = 600) -> str:
        base = [str(self.binary)]
        if self.context:
            base += ["--kubeconfig", str(self.kubeconfig), "--kube-context", self.context]
        return run([*base, *args], timeout=timeout).stdout
