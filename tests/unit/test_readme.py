"""The README stays true: its two commands, and every option documented in the reference."""

import re
from pathlib import Path

from chaos import settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
# The two ways to run chaosgate, each its own line in a shell code block.
COMMANDS = ("tox", "tox -e chaos")
_SHELL_BLOCK = re.compile(r"^```(?:bash|sh|shell|console)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def shell_commands(markdown: str) -> list[str]:
    """Each line of the shell code blocks, without its ``# comment`` and blanks."""
    return [
        " ".join(line.split("#", 1)[0].split())
        for block in _SHELL_BLOCK.findall(markdown)
        for line in block.splitlines()
        if line.split("#", 1)[0].strip()
    ]


def missing_commands(markdown: str) -> list[str]:
    found = shell_commands(markdown)
    return [command for command in COMMANDS if command not in found]


def test_readme_shows_both_commands():
    assert missing_commands(README) == []


def test_a_readme_without_the_plain_tox_line_is_caught():
    # "tox" is a substring of "tox -e chaos"; only a line of its own counts.
    crafted = "Run it:\n\n```bash\ntox -e chaos     # the main job\ntox -e lint\n```\n\nor `tox` in prose.\n"
    assert shell_commands(crafted) == ["tox -e chaos", "tox -e lint"]
    assert missing_commands(crafted) == ["tox"]
    with_both = crafted.replace("tox -e lint\n", "tox              # the tests\n")
    assert missing_commands(with_both) == []


def test_every_chaos_option_is_in_the_options_reference():
    options = (Path(__file__).resolve().parents[2] / "docs" / "reference" / "options.md").read_text()
    for field in settings.fields():
        assert f"`{field.metadata['flag']}`" in options, field.name
        assert f"`{field.metadata['env']}`" in options, field.name
