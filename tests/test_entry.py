"""`kb --version` answers without loading the CLI, and says the same as Click."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from errkb.cli import cli


def test_fast_version_matches_the_cli_version() -> None:
    fast = subprocess.run([sys.executable, "-m", "errkb", "--version"], capture_output=True, text=True)
    slow = CliRunner().invoke(cli, ["--version"])
    assert fast.returncode == 0 and fast.stdout == slow.stdout


def test_fast_version_imports_neither_click_nor_whoosh() -> None:
    code = ("import sys; sys.argv=['kb','--version']; from errkb.entry import main; main(); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('click', 'whoosh', 'yaml')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    assert out.splitlines()[-1] == "[]"
