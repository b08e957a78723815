"""``python -m scenarios.refdocs [--check]``: write (or check) the generated reference."""

from __future__ import annotations

import argparse
import sys

from scenarios.refdocs import ROOT, pages, stale
from scenarios.refdocs.markdown import Undocumented


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m scenarios.refdocs", description=__doc__)
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when a page is out of date")
    args = parser.parse_args()
    try:
        generated = pages()
    except Undocumented as exc:
        print(f"undocumented: {exc}", file=sys.stderr)
        return 1
    if args.check:
        problems = stale(generated)
        for problem in problems:
            print(f"{problem}; fix: python -m scenarios.refdocs", file=sys.stderr)
        return 1 if problems else 0
    for path, text in generated.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_text() != text:
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
