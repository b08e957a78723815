"""The GitHub workflows run the suite the way README.md says, and keep what a gate needs.

Each check is a function returning the problems it finds; the real workflows
must have none, and every check is shown failing on a crafted bad workflow.
"""

import re
import shlex
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"

# Words that may stand before a command in a shell line.
PREFIX_WORDS = {"if", "then", "else", "elif", "do", "while", "until", "!", "time", "{", "(", "exec"}
OPERATORS = {";", "&&", "||", "|", "&", "(", ")", ";;", "|&"}


def readme_commands() -> list[list[str]]:
    """The commands of README.md's first bash block, comments stripped: `tox -e chaos`, `tox`."""
    block = re.search(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert block, "README.md has no bash command block"
    return [shlex.split(line, comments=True) for line in block.group(1).splitlines() if line.split("#")[0].strip()]


def load(text: str) -> dict[str, Any]:
    data = yaml.safe_load(text)
    # YAML 1.1 reads the key `on` as True.
    if True in data:
        data["on"] = data.pop(True)
    return data


def steps(workflow: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(job_id, step) for job_id, job in workflow.get("jobs", {}).items() for step in job.get("steps", [])]


def commands(script: str) -> list[list[str]]:
    """Simple commands of a `run:` script: split at operators, leading keywords
    and VAR=value assignments dropped, so `if x; then tox; fi` yields `tox`."""
    out: list[list[str]] = []
    for line in script.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        lexer.commenters = "#"
        try:
            tokens = list(lexer)
        except ValueError:  # an unbalanced quote: not a line we can judge
            continue
        current: list[str] = []
        for token in [*tokens, ";"]:
            if token in OPERATORS:
                while current and (current[0] in PREFIX_WORDS or re.match(r"^[A-Za-z_]\w*=", current[0])):
                    current.pop(0)
                if current:
                    out.append(current)
                current = []
            else:
                current.append(token)
    return out


def _python_module(cmd: list[str]) -> str | None:
    if cmd[0].split("/")[-1] in ("python", "python3") and len(cmd) > 2 and cmd[1] == "-m":
        return cmd[2]
    return None


def runs_suite(cmd: list[str]) -> bool:
    if cmd[:2] == ["tox", "exec"]:
        return False  # a command inside a tox environment, not the suite
    return cmd[0].split("/")[-1] in ("tox", "pytest", "py.test") or _python_module(cmd) in ("tox", "pytest")


PROJECT_MODULES = {"deployer", "reports", "scenarios", "chaos"}
TOX_PYTHON = re.compile(r"^(\./)?\.tox/[\w.-]+/bin/python3?$")


def interpreter_problems(workflow: dict[str, Any]) -> list[str]:
    """chaosgate's modules run with an interpreter that has its dependencies:
    a tox environment's (``.tox/ENV/bin/python``, or ``tox exec -e ENV --``).
    The runner's own Python has only what the workflow installed (tox), so
    ``python -m deployer ...`` there stops at ModuleNotFoundError."""
    problems = []
    for job_id, step in steps(workflow):
        for written in commands(step.get("run", "")):
            cmd = written[1:] if written[0] == "sudo" else written
            module = _python_module(cmd) if cmd else None
            if module in PROJECT_MODULES and not TOX_PYTHON.match(cmd[0]):
                problems.append(
                    f"{job_id}: `{' '.join(cmd)}` runs chaosgate with the runner's Python, which lacks its "
                    "dependencies; use .tox/chaos/bin/python or `tox exec -e chaos --`"
                )
    return problems


def _chaos_jobs(
    workflow: dict[str, Any], runs: Callable[[list[str]], bool]
) -> Iterator[tuple[str, list, int, list[int]]]:
    """Each job that runs `tox -e chaos`: its id, its steps, the index of the
    first chaos step, and the indexes of the steps with a command ``runs`` matches."""
    for job_id, job in workflow.get("jobs", {}).items():
        job_steps = job.get("steps", [])
        chaos_at = [i for i, s in enumerate(job_steps) if _runs_chaos(s)]
        if chaos_at:
            found = [i for i, s in enumerate(job_steps) if any(runs(c) for c in commands(s.get("run", "")))]
            yield job_id, job_steps, chaos_at[0], found


def host_setup_problems(workflow: dict[str, Any]) -> list[str]:
    """A job that runs `tox -e chaos` runs the host setup through sudo first:
    GitHub runs jobs as a non-root user, and the setup needs root."""
    problems = []
    for job_id, _, chaos_at, setups in _chaos_jobs(
        workflow, lambda c: c[0] == "sudo" and c[2:5] == ["-m", "deployer", "host-setup"]
    ):
        if not any(i < chaos_at for i in setups):
            problems.append(f"{job_id}: no `sudo ... -m deployer host-setup` step before `tox -e chaos`")
    return problems


def suite_problems(workflow: dict[str, Any], readme: list[list[str]]) -> list[str]:
    """Every suite run is a README command (`tox`, `tox -e chaos`), options after `--`."""
    problems = []
    for job_id, step in steps(workflow):
        for cmd in commands(step.get("run", "")):
            if not runs_suite(cmd):
                continue
            base = cmd[: cmd.index("--")] if "--" in cmd else cmd
            if base not in readme:
                written = " or ".join(f"`{' '.join(c)}`" for c in readme)
                problems.append(
                    f"{job_id}: `{' '.join(cmd)}` is not how README.md runs the suite ({written}, options after `--`)"
                )
    return problems


def _always(step: dict[str, Any]) -> bool:
    return "always()" in str(step.get("if", ""))


def upload_problems(workflow: dict[str, Any]) -> list[str]:
    """Artifacts are uploaded also when the run failed: that is when they matter."""
    return [
        f"{job_id}: upload step {step.get('name', step['uses'])!r} lacks `if: always()`"
        for job_id, step in steps(workflow)
        if str(step.get("uses", "")).startswith("actions/upload-artifact") and not _always(step)
    ]


def _runs_chaos(step: dict[str, Any]) -> bool:
    return any(cmd[:3] == ["tox", "-e", "chaos"] for cmd in commands(step.get("run", "")))


def exit_code_problems(workflow: dict[str, Any]) -> list[str]:
    """Exit codes 1 (the stack failed) and 2 (not proven) must both fail the job."""
    problems = []
    for job_id, job in workflow.get("jobs", {}).items():
        for step in job.get("steps", []):
            if not any(runs_suite(c) for c in commands(step.get("run", ""))):
                continue
            script = step.get("run", "")
            if job.get("continue-on-error") or step.get("continue-on-error"):
                problems.append(f"{job_id}: the suite's step may fail without failing the job (continue-on-error)")
            if re.search(r"\|\|\s*(true|:|exit 0)\b|set \+e|\|\| *echo", script):
                problems.append(f"{job_id}: the suite's exit code is swallowed in {script!r}")
    return problems


def cleanup_problems(workflow: dict[str, Any]) -> list[str]:
    """A job that creates a cluster deletes it afterwards, also after a failure or cancel."""
    problems = []
    for job_id, job_steps, chaos_at, cleanups in _chaos_jobs(workflow, lambda c: c[1:4] == ["-m", "deployer", "down"]):
        if not any(i > chaos_at and _always(job_steps[i]) for i in cleanups):
            problems.append(f"{job_id}: no `if: always()` step `python -m deployer down` after `tox -e chaos`")
    return problems


def nightly_problems(workflow: dict[str, Any]) -> list[str]:
    problems = []
    on = workflow.get("on") or {}
    if not any("cron" in s for s in on.get("schedule") or []):
        problems.append("the nightly has no schedule cron")
    dispatch = on.get("workflow_dispatch") or {}
    missing = {"profile", "target", "scenarios"} - set((dispatch or {}).get("inputs") or {})
    if "workflow_dispatch" not in on or missing:
        problems.append(f"workflow_dispatch lacks inputs {sorted(missing) or '(no workflow_dispatch)'}")
    chaos = [c for _, s in steps(workflow) for c in commands(s.get("run", "")) if c[:3] == ["tox", "-e", "chaos"]]
    if not any("--profile" in c[c.index("--") :] for c in chaos if "--" in c):
        problems.append("the nightly does not pass --profile to `tox -e chaos --`")
    return problems


def gate_problems(workflow: dict[str, Any], gate_job: str = "chaos-gate") -> list[str]:
    problems = []
    on = workflow.get("on") or {}
    if "v*" not in ((on.get("push") or {}).get("tags") or []):
        problems.append("the gate does not run on v* tags")
    call_inputs = set(((on.get("workflow_call") or {}).get("inputs")) or {})
    missing = {"target", "profile", "slo-file"} - call_inputs
    if "workflow_call" not in on or missing:
        problems.append(f"workflow_call lacks inputs {sorted(missing)}")
    jobs = workflow.get("jobs", {})
    gate = jobs.get(gate_job)
    if gate is None or gate.get("name", gate_job) != gate_job or "strategy" in gate:
        problems.append(f"no single job with the stable id and name {gate_job!r} (a required check needs one name)")
    publish = jobs.get("publish") or {}
    needs = publish.get("needs", [])
    if gate_job not in ([needs] if isinstance(needs, str) else needs):
        problems.append(f"the publish job does not need {gate_job!r}")
    runs = [str(step.get("run", "")) for step in publish.get("steps", [])]
    if not any("reports publish" in run and "--tag" in run for run in runs):
        problems.append("the publish job does not attach the run's files to the release (reports publish --tag)")
    gate_runs = [step for step in (gate or {}).get("steps", []) if "reports publish" in str(step.get("run", ""))]
    if not gate_runs or not all("GH_TOKEN" in (step.get("env") or {}) for step in gate_runs):
        problems.append(f"{gate_job!r} sets no commit status (reports publish with GH_TOKEN)")
    return problems


def _all(path: Path) -> list[str]:
    workflow = load(path.read_text())
    return (
        suite_problems(workflow, readme_commands())
        + upload_problems(workflow)
        + exit_code_problems(workflow)
        + cleanup_problems(workflow)
        + interpreter_problems(workflow)
        + host_setup_problems(workflow)
    )


# -- the real workflows ----------------------------------------------------------


def test_readme_block_is_what_the_checks_compare_with():
    assert readme_commands() == [["tox", "-e", "chaos"], ["tox"]]


@pytest.mark.parametrize("path", sorted(WORKFLOWS.glob("*.yml")), ids=lambda p: p.name)
def test_workflow_runs_the_suite_as_the_readme_says(path):
    assert _all(path) == []


def test_there_are_the_three_workflows():
    assert sorted(p.name for p in WORKFLOWS.glob("*.y*ml")) == ["chaos-nightly.yml", "ci.yml", "release-gate.yml"]


def test_nightly_schedule_dispatch_and_profile():
    assert nightly_problems(load((WORKFLOWS / "chaos-nightly.yml").read_text())) == []


def test_gate_stable_job_and_publish_needs_it():
    assert gate_problems(load((WORKFLOWS / "release-gate.yml").read_text())) == []


def test_ci_runs_both_readme_commands_on_pull_requests():
    workflow = load((WORKFLOWS / "ci.yml").read_text())
    assert "pull_request" in workflow["on"]
    ran = [c for _, s in steps(workflow) for c in commands(s.get("run", "")) if runs_suite(c)]
    assert ran == [["tox"], ["tox", "-e", "chaos", "--", "-m", "smoke"]]


# -- every check fails on a crafted bad workflow ------------------------------------

GOOD_JOB = """
    runs-on: ubuntu-latest
    steps:
      - run: |
          tox exec -e chaos -- python -c "import deployer"
          sudo .tox/chaos/bin/python -m deployer host-setup
      - run: tox -e chaos -- --profile standard
      - if: always()
        run: if [ -x .tox/chaos/bin/python ]; then .tox/chaos/bin/python -m deployer down; fi
      - if: always()
        uses: actions/upload-artifact@v4
        with: {name: run, path: runs/}
"""


def _job(text: str) -> dict[str, Any]:
    return load(f"on: push\njobs:\n  chaos:{text}")


def test_crafted_good_job_passes_every_check():
    assert _all_text(GOOD_JOB) == []


def _all_text(job: str) -> list[str]:
    workflow = _job(job)
    return (
        suite_problems(workflow, readme_commands())
        + upload_problems(workflow)
        + exit_code_problems(workflow)
        + cleanup_problems(workflow)
        + interpreter_problems(workflow)
        + host_setup_problems(workflow)
    )


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        ("tox -e chaos -- --profile standard", "python -m pytest -m 'smoke or chaos' scenarios"),
        ("tox -e chaos -- --profile standard", "pytest scenarios -k pod_kill"),
        ("tox -e chaos -- --profile standard", "tox -e chaos --profile standard"),  # tox's options, not pytest's
        ("tox -e chaos -- --profile standard", "tox -e gate"),
        ("tox -e chaos -- --profile standard", "cd app && python3 -m tox -e chaos"),
        ("tox -e chaos -- --profile standard", 'if [ -n "$X" ]; then .tox/chaos/bin/pytest scenarios; fi'),
    ],
)
def test_suite_check_fails_on_commands_not_in_the_readme(bad, problem):
    found = suite_problems(_job(GOOD_JOB.replace(bad, problem)), readme_commands())
    assert len(found) == 1 and "README" in found[0], found


def test_suite_check_ignores_commands_that_only_mention_tox():
    job = GOOD_JOB.replace("- run: tox", "- run: python -m pip install tox pytest\n      - run: tox")
    assert suite_problems(_job(job), readme_commands()) == []


def test_upload_check_fails_without_always():
    bad = GOOD_JOB.replace("      - if: always()\n        uses: actions/upload", "      - uses: actions/upload")
    assert upload_problems(_job(bad)) == ["chaos: upload step 'actions/upload-artifact@v4' lacks `if: always()`"]
    bad = GOOD_JOB.replace("      - if: always()\n        uses", "      - if: success()\n        uses")
    assert len(upload_problems(_job(bad))) == 1


@pytest.mark.parametrize(
    "swallow",
    [
        "- run: tox -e chaos -- --profile standard || true",
        "- run: |\n          set +e\n          tox -e chaos -- --profile standard",
        "- continue-on-error: true\n        run: tox -e chaos -- --profile standard",
    ],
)
def test_exit_code_check_fails_when_a_failure_is_swallowed(swallow):
    bad = GOOD_JOB.replace("- run: tox -e chaos -- --profile standard", swallow)
    assert len(exit_code_problems(_job(bad))) == 1


def test_cleanup_check_fails_without_always_or_before_the_run():
    bad = GOOD_JOB.replace("      - if: always()\n        run: if [ -x", "      - run: if [ -x")
    assert cleanup_problems(_job(bad)) == [
        "chaos: no `if: always()` step `python -m deployer down` after `tox -e chaos`"
    ]
    missing = GOOD_JOB.replace(".tox/chaos/bin/python -m deployer down", "echo done")
    assert len(cleanup_problems(_job(missing))) == 1


SETUP = GOOD_JOB[GOOD_JOB.index("      - run: |") : GOOD_JOB.index("      - run: tox -e chaos")]


@pytest.mark.parametrize(
    "bare",
    [
        "python -m deployer down",  # what the workflows ran: ModuleNotFoundError with only tox installed
        "python3 -m reports summary runs",
        "sudo python3 -m deployer host-setup",
    ],
)
def test_interpreter_check_fails_on_the_runners_own_python(bare):
    bad = GOOD_JOB.replace("- run: tox -e chaos -- --profile standard", f"- run: {bare}\n      - run: tox -e chaos")
    found = interpreter_problems(_job(bad))
    assert len(found) == 1 and "lacks its dependencies" in found[0], found


def test_host_setup_check_fails_without_sudo_or_after_the_run():
    no_sudo = GOOD_JOB.replace("sudo .tox/chaos/bin/python", ".tox/chaos/bin/python")
    assert host_setup_problems(_job(no_sudo)) == [
        "chaos: no `sudo ... -m deployer host-setup` step before `tox -e chaos`"
    ]
    after = GOOD_JOB.replace(SETUP, "").replace("      - if: always()\n", SETUP + "      - if: always()\n", 1)
    assert len(host_setup_problems(_job(after))) == 1


NIGHTLY = """
on:
  schedule:
    - cron: "17 2 * * *"
  workflow_dispatch:
    inputs:
      profile: {type: string}
      target: {type: string}
      scenarios: {type: string}
jobs:
  chaos:
    runs-on: ubuntu-latest
    steps:
      - run: tox -e chaos -- --profile "$PROFILE"
"""


def test_crafted_nightly_passes():
    assert nightly_problems(load(NIGHTLY)) == []


@pytest.mark.parametrize(
    ("good", "bad", "problem"),
    [
        ('  schedule:\n    - cron: "17 2 * * *"\n', "", "no schedule cron"),
        ("      scenarios: {type: string}\n", "", "lacks inputs ['scenarios']"),
        ("  workflow_dispatch:\n    inputs:\n      profile: {type: string}\n", "  push:\n    inputs:\n", "lacks"),
        ('-- --profile "$PROFILE"', "", "does not pass --profile"),
    ],
)
def test_nightly_check_fails(good, bad, problem):
    assert good in NIGHTLY
    found = nightly_problems(load(NIGHTLY.replace(good, bad)))
    assert len(found) == 1 and problem in found[0], found


GATE = """
on:
  push:
    tags: ["v*"]
  workflow_call:
    inputs:
      target: {type: string}
      profile: {type: string}
      slo-file: {type: string}
jobs:
  chaos-gate:
    name: chaos-gate
    runs-on: ubuntu-latest
    steps:
      - run: tox -e chaos
      - run: python -m reports publish runs --repo r --sha s --target-url u
        env: {GH_TOKEN: t}
  publish:
    needs: chaos-gate
    runs-on: ubuntu-latest
    steps:
      - name: Publish
        run: python -m reports publish runs --repo r --sha s --target-url u --tag v1
"""


def test_crafted_gate_passes():
    assert gate_problems(load(GATE)) == []


@pytest.mark.parametrize(
    ("good", "bad", "problem"),
    [
        ('tags: ["v*"]', 'branches: ["main"]', "v* tags"),
        ("      slo-file: {type: string}\n", "", "lacks inputs ['slo-file']"),
        ("    name: chaos-gate\n", "    name: chaos gate (${{ matrix.k8s }})\n", "stable id and name"),
        ("  chaos-gate:\n", "  chaos:\n", "stable id and name"),
        ("    needs: chaos-gate\n", "", "does not need"),
        ("--target-url u --tag v1", "--target-url u", "attach the run's files"),
        ("        env: {GH_TOKEN: t}\n", "", "sets no commit status"),
    ],
)
def test_gate_check_fails(good, bad, problem):
    assert good in GATE
    found = gate_problems(load(GATE.replace(good, bad)))
    assert any(problem in p for p in found), found
