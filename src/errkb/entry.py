"""The `kb` console script: answers `kb --version` before loading the CLI.

`kb --version` is what scripts and bug reports run; it should cost no more
than starting Python. Everything else goes to `errkb.cli.main`.
"""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] in (["--version"], ["-V"]):
        from . import __version__
        from .versions import ARTICLE_FORMAT, INDEX_FORMAT

        print(f"kb (errkb) {__version__}, article format {ARTICLE_FORMAT}, index format {INDEX_FORMAT}")
        return
    from .cli import main as cli_main

    cli_main()
