"""What the generated pages read from source text: attribute docstrings (a
dataclass field's string under it), scenario markers and runbooks, and the
env var names the code uses."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_ENV = re.compile(r"\b(CHAOSGATE_[A-Z0-9_]*[A-Z0-9])\b")
ENV_SCANNED = ("kernel", "deployer", "chaos", "reports", "scenarios", "tests", "conftest.py")


def attribute_docs(path: Path, class_name: str) -> dict[str, str]:
    """Field name -> the string literal right under it, in ``class_name``."""
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            docs: dict[str, str] = {}
            body = node.body
            for stmt, after in zip(body, [*body[1:], None], strict=True):
                if (
                    isinstance(stmt, ast.AnnAssign)
                    and isinstance(stmt.target, ast.Name)
                    and isinstance(after, ast.Expr)
                    and isinstance(after.value, ast.Constant)
                    and isinstance(after.value.value, str)
                ):
                    docs[stmt.target.id] = after.value.value
            return docs
    raise LookupError(f"no class {class_name} in {path}")


def scenario_files() -> dict[Path, list[str]]:
    """Each scenario test file with the scenario names its markers give."""
    found: dict[Path, list[str]] = {}
    for path in sorted((ROOT / "scenarios").glob("test_*.py")):
        names = []
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "scenario"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                names.append(str(node.args[0].value))
        if names:
            found[path] = names
    return found


def runbook(path: Path) -> str:
    return ast.get_docstring(ast.parse(path.read_text())) or ""


def env_vars_in_code() -> set[str]:
    """Every CHAOSGATE_* name written in the code (prefixes like CHAOSGATE_APP_ excluded)."""
    names: set[str] = set()
    for entry in ENV_SCANNED:
        base = ROOT / entry
        files = [base] if base.is_file() else base.rglob("*.py")
        for path in files:
            if path.name == "test_refdocs.py":  # names made up to prove the check
                continue
            names.update(m for m in _ENV.findall(path.read_text()) if not m.endswith("_"))
    return names


def reads(key: str) -> list[str]:
    """Who reads SLO key ``key``: the scenarios whose files name it, and
    "every fault scenario" when the shared harness does."""
    pattern = re.compile(rf"\b{re.escape(key)}\b")
    readers = [name for path, names in scenario_files().items() if pattern.search(path.read_text()) for name in names]
    # The harness and the modules it delegates to (alerting, load, read-back)
    # serve every fault scenario.
    shared = sorted(p for p in (ROOT / "scenarios").glob("*.py") if not p.name.startswith(("test_", "refdocs")))
    for path in shared:
        if pattern.search(path.read_text()):
            readers.insert(0, f"every fault scenario (scenarios/{path.name})")
            break
    return readers
