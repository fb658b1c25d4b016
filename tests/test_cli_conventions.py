"""Terminal conventions: paging and colour on a real pseudo-terminal, completion,
info, environment variables for every option, JSON everywhere."""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import FIXTURE_KB, read_all
from errkb.cli import cli
from errkb.exitcodes import Exit


def run_on_tty(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    """Run `python -m errkb ARGS` with stdout and stderr on a pseudo-terminal."""
    leader, follower = pty.openpty()
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("ERRKB_", "NO_COLOR", "FORCE_COLOR"))}
    full_env.update({"COLUMNS": "100", "LINES": "8", **env})
    proc = subprocess.Popen([sys.executable, "-m", "errkb", *args], cwd=cwd, env=full_env,
                            stdin=subprocess.DEVNULL, stdout=follower, stderr=follower)
    os.close(follower)
    output = read_all(leader, proc)
    proc.wait(timeout=60)
    os.close(leader)
    return output.decode("utf-8", "replace")


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURE_KB, tmp_path / "kb")
    return tmp_path


def test_long_output_goes_through_the_pager_on_a_terminal(workdir: Path) -> None:
    out = run_on_tty(["show", "identity-outdated"], workdir, {"ERRKB_PAGER": "sed s/^/PAGED:/", "NO_COLOR": "1"})
    assert "PAGED:Identity verification expired" in out
    assert "PAGED:  1. Alipay: Open Me › Settings" in out


def test_no_pager_flag_and_pipes_never_page(workdir: Path) -> None:
    out = run_on_tty(["show", "--no-pager", "identity-outdated"], workdir, {"ERRKB_PAGER": "sed s/^/PAGED:/"})
    assert "PAGED:" not in out and "Identity verification expired" in out
    piped = subprocess.run([sys.executable, "-m", "errkb", "show", "identity-outdated"], cwd=workdir,
                           env={**os.environ, "ERRKB_PAGER": "sed s/^/PAGED:/"}, capture_output=True, text=True)
    assert "PAGED:" not in piped.stdout and "\x1b[" not in piped.stdout


def test_colour_on_a_terminal_unless_no_color(workdir: Path) -> None:
    coloured = run_on_tty(["search", "--no-pager", "daily limit"], workdir, {})
    assert "\x1b[" in coloured
    plain = run_on_tty(["search", "--no-pager", "daily limit"], workdir, {"NO_COLOR": "1"})
    assert "\x1b[" not in plain


def test_progress_bar_only_on_a_terminal(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    kb.mkdir()
    from conftest import article_text

    for n in range(250):
        (kb / f"a{n}.md").write_text(article_text(f"a{n}", title=f"T{n}", en=f'"m{n}"', zh='"中"'), encoding="utf-8")
    on_tty = run_on_tty(["index"], tmp_path, {})
    assert "indexing" in on_tty
    piped = subprocess.run([sys.executable, "-m", "errkb", "index", "--full"], cwd=tmp_path, capture_output=True,
                           text=True)
    assert "indexing" not in piped.stderr and "250 articles indexed" in piped.stderr
    quiet = run_on_tty(["-q", "index", "--full"], tmp_path, {})
    assert "indexing" not in quiet


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_script_for_each_shell(shell: str) -> None:
    result = CliRunner().invoke(cli, ["completion", shell])
    assert result.exit_code == 0 and "_KB_COMPLETE" in result.stdout


def test_completion_offers_ids_platforms_and_commands(workdir: Path) -> None:
    def complete(words: str, cword: int) -> str:
        env = {**os.environ, "_KB_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
        return subprocess.run([sys.executable, "-m", "errkb"], cwd=workdir, env=env, capture_output=True,
                              text=True).stdout

    assert "plain,identity-outdated" in complete("kb show ident", 2)
    assert "plain,alibaba" in complete("kb browse -p al", 3)
    assert "plain,phone-mismatch" in complete("kb search -c phone", 3)
    assert "plain,browse" in complete("kb bro", 1)


def test_info_reports_paths_index_and_versions(workdir: Path) -> None:
    runner = CliRunner()
    args = ["--kb-dir", str(workdir / "kb"), "--index-dir", str(workdir / "index")]
    before = json.loads(runner.invoke(cli, [*args, "info", "--json"]).stdout)
    assert before["index"] is None and before["articles_on_disk"] == 5 and before["schema_version"] == 1
    runner.invoke(cli, [*args, "index"])
    after = json.loads(runner.invoke(cli, [*args, "info", "--json"]).stdout)
    assert after["index"]["articles"] == 5 and after["index"]["age_seconds"] >= 0
    text = runner.invoke(cli, [*args, "info"]).stdout
    assert text.startswith("kb (errkb) ") and "5 articles, built" in text


def test_every_option_can_come_from_the_environment(workdir: Path) -> None:
    env = {"ERRKB_KB_DIR": str(workdir / "kb"), "ERRKB_INDEX_DIR": str(workdir / "index"),
           "ERRKB_SEARCH_LIMIT": "1", "ERRKB_QUIET": "1"}
    result = CliRunner().invoke(cli, ["search", "--json", "card limit identity"], env=env)
    assert len(json.loads(result.stdout)["results"]) == 1
    assert result.stderr == ""


def test_json_output_carries_a_schema_version(workdir: Path) -> None:
    runner = CliRunner()
    args = ["--kb-dir", str(workdir / "kb"), "--index-dir", str(workdir / "index")]
    for command in (["search", "--json", "E1001"], ["browse", "--json"], ["show", "--json", "E1001"],
                    ["index", "--json"], ["check", "--format", "json"], ["info", "--json"]):
        result = runner.invoke(cli, [*args, *command])
        assert json.loads(result.stdout)["schema_version"] == 1, command


def test_show_html_renders_the_body(workdir: Path) -> None:
    result = CliRunner().invoke(cli, ["--kb-dir", str(workdir / "kb"), "--index-dir", str(workdir / "index"),
                                      "show", "--html", "alibaba-limit"])
    assert result.exit_code == Exit.OK
    assert result.stdout.startswith("<h1>Payment exceeds the daily limit</h1>")
    assert "<h2>Fixes</h2>" in result.stdout and "<ol>" in result.stdout
