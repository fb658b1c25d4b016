"""The `kb` console script: answers `kb --version` and `kb [COMMAND] --help`
before loading the CLI.

They are what scripts, bug reports and people finding their way run; they
should cost no more than starting Python. The help is the text Click prints,
kept in `helptext.py` (regenerated with `python -m errkb.clidoc`, checked by
a test) for the width Click uses on 80+ columns or a pipe; on a narrower
terminal, or for any other arguments, `errkb.cli.main` (Click) answers.
"""

from __future__ import annotations

import os
import sys

HELP_FLAGS = ("--help", "-h")


def print_cached_help(args: list[str]) -> bool:
    """Print `kb [COMMAND] --help` from `helptext.py` if it is what Click would
    print here; False when Click should answer."""
    if not 1 <= len(args) <= 2 or args[-1] not in HELP_FLAGS or (len(args) == 2 and args[0].startswith("-")):
        return False
    if os.path.basename(sys.argv[0]) != "kb":  # `python -m errkb`: Click names the program otherwise
        return False
    from .termsize import terminal_columns

    if terminal_columns() < 80:
        return False
    from .helptext import HELP

    text = HELP.get(args[0] if len(args) == 2 else "")
    if text is None:
        return False
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except UnicodeEncodeError:  # a terminal that cannot show the examples: Click knows what to do
        return False
    return True


def main() -> None:
    if sys.argv[1:] in (["--version"], ["-V"]):
        from . import __version__
        from .versions import ARTICLE_FORMAT, INDEX_FORMAT

        print(f"kb (errkb) {__version__}, article format {ARTICLE_FORMAT}, index format {INDEX_FORMAT}")
        return
    if print_cached_help(sys.argv[1:]):
        return
    from .cli import main as cli_main

    cli_main()
