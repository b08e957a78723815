"""Pages from the argparse parsers of ``python -m deployer`` and ``python -m reports``."""

from __future__ import annotations

import argparse
from pathlib import Path

from deployer.cli import build_parser
from reports.__main__ import _parser as reports_parser
from scenarios.refdocs.markdown import HEADER, need, table
from scenarios.refdocs.source import ROOT


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:  # argparse keeps its subcommands only here
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _helps(parser: argparse.ArgumentParser) -> dict[str, str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return {a.dest: a.help or "" for a in action._choices_actions}
    return {}


def _page(prog: str, parser: argparse.ArgumentParser, intro: str, source: str) -> str:
    out = HEADER.format(source=source) + f"# `{prog}`\n\n{intro}\n"
    helps = _helps(parser)
    for name, sub in _subparsers(parser).items():
        rows = []
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            spelled = ", ".join(action.option_strings) or action.dest.upper()
            choices = f" ({'/'.join(map(str, action.choices))})" if action.choices else ""
            default = _default(action)
            rows.append((f"`{spelled}`{choices}", need(action.help, f"{prog} {name} {spelled}"), default))
        out += f"\n## `{prog} {name}`\n\n{need(helps.get(name), f'{prog} {name}')}\n\n"
        out += table(("argument", "what", "default"), rows)
    return out


def _default(action: argparse.Action) -> object:
    if action.default in (None, False, argparse.SUPPRESS) or not action.option_strings:
        return ""
    if isinstance(action.default, Path) and action.default.is_relative_to(ROOT):
        # As the checkout names it: the page must not depend on where it lies.
        return action.default.relative_to(ROOT)
    return action.default


def deployer() -> str:
    return _page(
        "python -m deployer",
        build_parser(),
        "The deployer on its own: tools, host setup, images, a cluster with the stack. Run it from the environment "
        "tox made (`.tox/chaos/bin/python -m deployer ...`, or after `. .tox/chaos/bin/activate`), and as root "
        "with that same interpreter: `sudo .tox/chaos/bin/python -m deployer host-setup`. Exit codes: 0 done, "
        "1 the stack misbehaved, 2 bad input or the harness could not do its job.",
        "deployer/cli.py",
    )


def reports() -> str:
    return _page(
        "python -m reports",
        reports_parser(),
        "Read finished run folders again, without a cluster. RUN is a run folder, its summary.json, or a folder of "
        "runs (the newest is used). Exit codes: 0 done (compare: no regression), 1 compare found a regression or "
        "data loss, 2 bad input.",
        "reports/__main__.py",
    )
