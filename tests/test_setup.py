"""The installed program as users run it: real processes, no CliRunner."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURE_KB, ROOT

KB = Path(sys.executable).with_name("kb")


def run(args: list[str], cwd: Path, input: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ERRKB_")}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, input=input,
                          errors="replace")


@pytest.mark.skipif(not KB.exists(), reason="the `kb` console script is not installed beside this Python")
def test_installed_console_script_searches(tmp_path: Path) -> None:
    shutil.copytree(FIXTURE_KB, tmp_path / "kb")
    result = run([str(KB), "search", "--json", "acq.system_error"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["results"][0]["id"] == "gateway-system-error"
    assert "kb: no index yet" in result.stderr
    assert (tmp_path / "index" / "errkb-index.json").exists()


def test_python_dash_m_runs_the_same_cli(tmp_path: Path) -> None:
    shutil.copytree(FIXTURE_KB, tmp_path / "kb")
    result = run([sys.executable, "-m", "errkb", "browse", "--json"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["articles"]) == 5
    piped = run([sys.executable, "-m", "errkb"], cwd=tmp_path, input="银行卡已过期，请更换银行卡")
    assert piped.returncode == 0 and "card-expired-e1001" in piped.stdout


def test_bad_input_never_prints_a_traceback(tmp_path: Path) -> None:
    shutil.copytree(FIXTURE_KB, tmp_path / "kb")
    (tmp_path / "kb" / "broken.md").write_bytes(b"---\ntitle: [x\n---\n")
    cases: list[tuple[list[str], bytes]] = [
        (["search", "-"], b"\xff\xfe\x00 broken bytes"), (["index"], b""), (["show", "nope"], b""),
        (["search", "-n", "0", "x"], b""), (["--kb-dir", "/nonexistent", "search", "x"], b""),
    ]
    for args, stdin in cases:
        result = subprocess.run([sys.executable, "-m", "errkb", *args], cwd=tmp_path, input=stdin,
                                capture_output=True, timeout=120)
        stderr = result.stderr.decode("utf-8", "replace")
        assert "Traceback" not in stderr, (args, stderr)
        assert result.returncode in (0, 1, 2, 3), (args, result.returncode, stderr)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("git") is None or shutil.which("make") is None, reason="needs git and make")
def test_readme_first_command_works_from_a_fresh_clone(tmp_path: Path) -> None:
    """`make search Q=...` on a clean clone: makes .venv, installs, indexes, answers."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    clone = tmp_path / "errkb"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, timeout=120)
    result = run(["make", "search", "Q=支付宝 身份信息过期", f"PYTHON={sys.executable}"], cwd=clone)
    assert result.returncode == 0, result.stdout + result.stderr
    first = next(line for line in result.stdout.splitlines() if line.startswith("1. "))
    assert "identity" in first.lower() or "实名" in first
    assert (clone / ".venv" / "bin" / "kb").exists()
