"""The terminal's width as `shutil.get_terminal_size` finds it, without
importing shutil (which loads the archive modules: ~5 ms of a `--help`)."""

from __future__ import annotations

import os
import sys


def terminal_columns() -> int:
    """COLUMNS if set, else the width of the terminal on stdout, else 80."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80
