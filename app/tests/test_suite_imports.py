"""app/tests run in chaosgate's test environment (app/README.md says so) and
take from the suite only what the README names: the kernel (wait helper,
errors) and the loopback MinIO fixtures of tests/fixtures. Nothing of chaos,
deployer, loadtests, reports or scenarios: the gateway is tested as a user
would meet it, not through the suite's own clients."""

from __future__ import annotations

import ast
from pathlib import Path

HERE = Path(__file__).resolve().parent
SUITE = {"kernel", "deployer", "chaos", "loadtests", "reports", "scenarios", "tests"}
DECLARED = ("kernel", "tests.fixtures")


def suite_imports(source: str) -> set[str]:
    """Modules of the suite that ``source`` imports (absolute imports only)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return {name for name in found if name.split(".")[0] in SUITE}


def undeclared(modules: set[str]) -> set[str]:
    return {m for m in modules if not any(m == d or m.startswith(f"{d}.") for d in DECLARED)}


def test_app_tests_import_only_the_declared_parts_of_the_suite() -> None:
    files = sorted(HERE.glob("*.py"))
    assert len(files) > 3  # the glob sees this folder
    extra = {path.name: undeclared(suite_imports(path.read_text())) for path in files}
    assert {name: mods for name, mods in extra.items() if mods} == {}


def test_an_undeclared_import_is_caught() -> None:
    source = "import deployer.tools\nfrom chaos.clients import s3_client\nfrom kernel.wait import Seen\n"
    assert undeclared(suite_imports(source)) == {"deployer.tools", "chaos.clients"}
