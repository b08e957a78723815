"""The shared kernel: errors, waits, processes, progress and file helpers.

Every layer of chaosgate (deployer, chaos, loadtests, scenarios) may import
it; it imports nothing of ours. Keep it to these five things: anything that
knows about clusters, images, MinIO or Locust belongs in a layer above.
"""

import sys

MINIMUM_PYTHON = (3, 11)


def python_too_old(version: tuple[int, ...], executable: str) -> str:
    """Why this interpreter cannot run chaosgate, naming the fix; "" when it can."""
    if tuple(version[:2]) >= MINIMUM_PYTHON:
        return ""
    return (
        f"chaosgate needs Python 3.11 or newer; {executable} is {'.'.join(map(str, version[:3]))}. "
        "fix: run it through tox (it picks python3.11 to 3.14), or install one: "
        "sudo apt-get install python3.11 python3.11-venv (Ubuntu 22.04)"
    )


# Checked here because every layer imports the kernel first: on an older
# Python the code below would fail with a syntax or import error that names
# nothing a person can act on.
if _why := python_too_old(sys.version_info[:3], sys.executable):
    raise SystemExit(_why)
