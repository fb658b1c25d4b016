"""`kb --version` answers without loading the CLI, and says the same as Click;
`--help` and searches load only what they need."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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


def _modules_after(argv: list[str], cwd: str | None = None) -> set[str]:
    """Top-level modules a real `kb` process has imported once it is done."""
    code = ("import sys\nfrom errkb.entry import main\n"
            f"sys.argv = {['kb', *argv]!r}\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "sys.stderr.write('\\nMODULES ' + ' '.join(sorted({m.split('.')[0] for m in sys.modules})))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd)
    return set(done.stderr.rsplit("MODULES ", 1)[1].split())


def test_search_help_imports_only_click_of_the_heavy_modules() -> None:
    loaded = _modules_after(["search", "--help"])
    assert "click" in loaded
    assert not loaded & {"whoosh", "yaml", "markdown", "json", "pathlib", "shutil"}


def test_a_search_on_a_built_index_does_not_load_yaml_or_markdown(tmp_path: Path) -> None:
    kb_dir = Path(__file__).parent / "fixtures" / "kb"
    common = ["--kb-dir", str(kb_dir), "--index-dir", str(tmp_path / "index")]
    subprocess.run([sys.executable, "-m", "errkb", *common, "index"], check=True, capture_output=True)
    loaded = _modules_after([*common, "search", "--json", "card declined"])
    assert "whoosh" in loaded
    assert not loaded & {"yaml", "markdown"}
