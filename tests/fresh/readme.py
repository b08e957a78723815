"""The commands a newcomer types, read from README.md as written: the install
block (```sh under "## Install") and the two commands (the first ```bash block)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
CLONE = re.compile(r"^git clone \S+")


def _block(text: str, lang: str, after: str = "") -> list[str]:
    start = text.index(after) if after else 0
    match = re.search(rf"^```{lang}\n(.*?)^```", text[start:], re.S | re.M)
    if match is None:
        raise LookupError(f"README.md has no ```{lang} block{' after ' + after if after else ''}")
    lines = [line.split("  #", 1)[0].rstrip() for line in match[1].splitlines()]
    return [line for line in lines if line.strip() and not line.lstrip().startswith("#")]


def install_lines(text: str) -> list[str]:
    return _block(text, "sh", "## Install")


def run_lines(text: str) -> list[str]:
    return _block(text, "bash")


def script(text: str, source: str, run: tuple[str, ...]) -> str:
    """A bash script of the README's lines: the install block with its clone's
    URL replaced by ``source`` (a bundle of the commit under test, cloned into
    the folder the README's clone makes), then those of the two commands
    named in ``run``."""
    out = ["set -euxo pipefail"]
    for line in install_lines(text):
        out.append(_clone_of(line, source) if CLONE.match(line) else line)
    commands = run_lines(text)
    missing = [c for c in run if c not in commands]
    if missing:
        raise LookupError(f"README.md's commands block lacks {missing}")
    out += [c for c in commands if c in run]
    return "\n".join(out) + "\n"


def _clone_of(clone: str, source: str) -> str:
    words = clone.split()
    folder = words[3] if len(words) > 3 else words[2].rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")
    return f"git clone {source} {folder}"
