"""`kb --version` answers without loading the CLI, and says the same as Click;
`--help` and searches load only what they need."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
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


def run_kb(argv: list[str], columns: int = 100, entry: str = "errkb.entry") -> subprocess.CompletedProcess[str]:
    """A real `kb` process (`entry.main`, or `cli.main`: Click alone), COLUMNS wide,
    which reports on stderr the top-level modules it imported."""
    code = (f"import sys\nfrom {entry} import main\n"
            f"sys.argv = {['kb', *argv]!r}\n"
            "try:\n    main()\nexcept SystemExit as exit:\n    code = exit.code\nelse:\n    code = 0\n"
            "sys.stderr.write('\\nMODULES ' + ' '.join(sorted({m.split('.')[0] for m in sys.modules})))\n"
            "sys.exit(code)")
    env = {**os.environ, "COLUMNS": str(columns)}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)


def _modules_after(argv: list[str], columns: int = 100) -> set[str]:
    """Top-level modules a real `kb` process has imported once it is done."""
    return set(run_kb(argv, columns).stderr.rsplit("MODULES ", 1)[1].split())


def test_help_on_a_wide_terminal_or_a_pipe_loads_no_click() -> None:
    loaded = _modules_after(["search", "--help"])
    assert not loaded & {"click", "whoosh", "yaml", "markdown", "json", "pathlib", "shutil"}


def test_help_on_a_narrow_terminal_imports_only_click_of_the_heavy_modules() -> None:
    loaded = _modules_after(["search", "--help"], columns=60)
    assert "click" in loaded
    assert not loaded & {"whoosh", "yaml", "markdown", "json", "pathlib", "shutil"}


@pytest.mark.parametrize("argv", [["--help"], ["-h"], ["search", "--help"], ["index", "-h"], ["check", "--help"]])
def test_cached_help_is_what_click_prints(argv: list[str]) -> None:
    fast, click_alone = run_kb(argv), run_kb(argv, entry="errkb.cli")
    assert fast.returncode == click_alone.returncode == 0
    assert fast.stdout == click_alone.stdout and fast.stdout.startswith("Usage: kb ")
    assert "click" not in fast.stderr.rsplit("MODULES ", 1)[1].split()


@pytest.mark.parametrize(("argv", "columns"), [(["search", "--help"], 60), (["nosuch", "--help"], 100),
                                               (["search", "--help", "x"], 100), (["--color", "--help"], 100)])
def test_other_help_requests_are_answered_by_click(argv: list[str], columns: int) -> None:
    fast, click_alone = run_kb(argv, columns), run_kb(argv, columns, entry="errkb.cli")
    assert (fast.returncode, fast.stdout) == (click_alone.returncode, click_alone.stdout)
    assert "click" in fast.stderr.rsplit("MODULES ", 1)[1].split()


def test_cached_help_is_regenerated_with_the_commands() -> None:
    from errkb.clidoc import help_texts
    from errkb.helptext import HELP

    assert help_texts() == HELP, "run `python -m errkb.clidoc` to regenerate"


def test_a_search_on_a_built_index_does_not_load_yaml_or_markdown(tmp_path: Path) -> None:
    kb_dir = Path(__file__).parent / "fixtures" / "kb"
    common = ["--kb-dir", str(kb_dir), "--index-dir", str(tmp_path / "index")]
    subprocess.run([sys.executable, "-m", "errkb", *common, "index"], check=True, capture_output=True)
    loaded = _modules_after([*common, "search", "--json", "card declined"])
    assert "whoosh" in loaded
    assert not loaded & {"yaml", "markdown"}
