"""On a real pseudo-terminal and real processes: the pager and LESS, TERM=dumb,
the stdin hint, list views cut to the width; and issue 12's rows 7 (terminal
injection), 14 (argv bytes, the echoed query) and 15 (Ctrl-C, /dev/full)."""

from __future__ import annotations

import json
import os
import pty
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import FIXTURE_KB, article_text, read_all
from errkb.article import parse_text
from errkb.cli import cli
from errkb.exitcodes import Exit
from errkb.model import ArticleCard, Fix, SearchHit, SearchResult
from errkb.render import Painter, render_article, render_browse, render_list, render_search
from errkb.reports import BrowseResult

SGR = re.compile(r"\x1b\[[0-9;]*m")
#: What must never reach a terminal from an article or a paste.
RAW_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def base_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ERRKB_", "NO_COLOR", "FORCE_COLOR", "PAGER", "LESS"))}
    env.update({"COLUMNS": "100", "LINES": "8", "TERM": "xterm", **extra})
    return env


def run_on_tty(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    """`python -m errkb ARGS` with stdin, stdout and stderr on a pseudo-terminal."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "errkb", *args], cwd=cwd, env=base_env(env),
                            stdin=follower, stdout=follower, stderr=follower)
    os.close(follower)
    out = read_all(leader, proc)
    code = proc.wait(timeout=60)
    os.close(leader)
    return code, out.decode("utf-8", "replace")


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURE_KB, tmp_path / "kb")
    return tmp_path


@pytest.fixture
def fake_less(tmp_path: Path) -> Path:
    """A pager named `less` that shows what LESS it was given, then the text."""
    folder = tmp_path / "pager"
    folder.mkdir()
    script = folder / "less"
    script.write_text('#!/bin/sh\necho "LESS=[$LESS]"\nsed "s/^/PAGED:/"\n')
    script.chmod(0o755)
    return script


def test_pager_less_gets_less_frx_when_less_is_unset(workdir: Path, fake_less: Path) -> None:
    _, out = run_on_tty(["show", "identity-outdated"], workdir, {"PAGER": str(fake_less)})
    assert "LESS=[FRX]" in out and "PAGED:" in out and "\x1b[" in out  # colour kept, for less -R


def test_a_users_own_less_setting_is_kept(workdir: Path, fake_less: Path) -> None:
    _, out = run_on_tty(["show", "identity-outdated"], workdir, {"PAGER": str(fake_less), "LESS": "-i"})
    assert "LESS=[-i]" in out


def test_term_dumb_means_no_colour(workdir: Path) -> None:
    _, dumb = run_on_tty(["search", "--no-pager", "daily limit"], workdir, {"TERM": "dumb"})
    assert "\x1b[" not in dumb and "alibaba-limit" in dumb
    _, smart = run_on_tty(["search", "--no-pager", "daily limit"], workdir, {})
    assert "\x1b[" in smart
    _, forced = run_on_tty(["--color", "always", "search", "--no-pager", "daily limit"], workdir, {"TERM": "dumb"})
    assert "\x1b[" in forced


def test_search_dash_on_a_terminal_hints_how_to_end_the_paste(workdir: Path) -> None:
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "errkb", "search", "--no-pager", "-"], cwd=workdir,
                            env=base_env({"NO_COLOR": "1"}), stdin=follower, stdout=follower, stderr=follower)
    os.close(follower)
    hint = read_all(leader, proc, until=b"Ctrl-D")
    assert b"kb: paste the message, then press Ctrl-D on a line of its own" in hint
    os.write(leader, "身份信息已过期\n".encode() + b"\x04")
    rest = read_all(leader, proc)
    assert proc.wait(timeout=60) == Exit.OK
    os.close(leader)
    assert b"identity-outdated" in rest
    piped = subprocess.run([sys.executable, "-m", "errkb", "search", "-"], cwd=workdir, input="daily limit",
                           capture_output=True, text=True, env=base_env({}), timeout=120)
    assert "Ctrl-D" not in piped.stderr  # only on a terminal


def test_list_views_cut_titles_to_the_terminal_and_keep_whole_lines_in_a_pipe(workdir: Path) -> None:
    long_title = "Identity verification expired and every payment in Alipay and Taobao now fails at checkout"
    (workdir / "kb" / "zz-long.md").write_text(article_text("zz-long", title=long_title), encoding="utf-8")
    env = {"COLUMNS": "60", "NO_COLOR": "1"}
    for command in (["list"], ["browse"]):
        _, on_tty = run_on_tty(["-q", *command, "--no-pager"], workdir, env)
        line = next(x for x in on_tty.splitlines() if x.startswith("zz-long"))
        assert line.rstrip().endswith(("…", "[taobao, alipay]")) and "…" in line
        assert len(line.rstrip()) <= 60
        piped = subprocess.run([sys.executable, "-m", "errkb", "-q", *command], cwd=workdir, env=base_env(env),
                               capture_output=True, text=True, timeout=120)
        assert long_title in piped.stdout


# -- issue 12, row 7: terminal injection --------------------------------------------------------

PLANTED = "\x1b]52;c;cHduZWQ=\x07\x1b[2J\x1b]0;owned\x07\r\x9b31m\x7f"


def visible_controls(text: str) -> list[str]:
    """Control characters left once errkb's own colour codes are removed."""
    return RAW_CONTROLS.findall(SGR.sub("", text).replace("\n", ""))


def planted_result() -> SearchResult:
    fix = Fix(f"Re-add the card{PLANTED}.", ("alipay",), f"Alipay{PLANTED}")
    hits = tuple(SearchHit(f"id-{n}{PLANTED}", f"Title {n}{PLANTED}", 20.0 - n, ("alipay",), ("limits",),
                           f"kb/x{PLANTED}.md", f"snippet{PLANTED} daily limit", ((0, 7),), (fix, fix),
                           ("daily",)) for n in range(3))
    return SearchResult(f"q{PLANTED}", hits=hits, confident=True, suggestion=f"daily{PLANTED} limit")


@pytest.mark.parametrize("color", [False, True])
@pytest.mark.parametrize("full", [False, True])
def test_search_output_escapes_control_characters_everywhere(color: bool, full: bool) -> None:
    text = render_search(planted_result(), Painter(color), 100, full=full)
    assert visible_controls(text) == []
    assert "\\x1b]52;c;cHduZWQ=\\x07" in text  # shown as text, not obeyed
    not_confident = render_search(planted_result()._replace(confident=False),
                                  Painter(color), 100, full=full)
    assert visible_controls(not_confident) == []


def test_show_list_and_browse_escape_control_characters(tmp_path: Path) -> None:
    raw = article_text("planted", title="Planted \\e]52;c;x\\a\\e[2J title", what=f"What{PLANTED} you see",
                       fixes=f"1. **Alipay:** Fix{PLANTED} it.").encode()
    article = parse_text(tmp_path / f"planted{PLANTED}.md", raw)
    assert "\x1b" in article.title  # the YAML escape really is an ESC
    for color in (False, True):
        assert visible_controls(render_article(article, Painter(color), 80)) == []
    card = ArticleCard(f"id{PLANTED}", f"Title{PLANTED}", ("alipay",), ("limits",), (), "p", (), "", "", ())
    assert visible_controls(render_list([card], Painter(True), 80)) == []
    assert visible_controls(render_browse(BrowseResult((card,), {"alipay": 1}, {"limits": 1}), Painter(True),
                                          None)) == []


def test_the_users_paste_echoed_in_did_you_mean_is_escaped_piped_too(runner: CliRunner, workdir: Path) -> None:
    args = ["--kb-dir", str(workdir / "kb"), "--index-dir", str(workdir / "index"), "-q"]
    result = runner.invoke(cli, [*args, "search", f"{PLANTED} dailly limmit"])
    assert "Did you mean:" in result.stdout
    assert visible_controls(result.stdout) == [] and visible_controls(result.stderr) == []
    nothing = runner.invoke(cli, [*args, "search", f"{PLANTED} zzzqqq"])
    assert visible_controls(nothing.stderr) == []


def test_file_names_with_control_characters_are_escaped_in_check_and_errors(runner: CliRunner,
                                                                            workdir: Path) -> None:
    name = "bad\x1b]0;owned\x07.md"
    (workdir / "kb" / name).write_text(article_text("bad"), encoding="utf-8")
    args = ["--kb-dir", str(workdir / "kb"), "--index-dir", str(workdir / "index")]
    checked = runner.invoke(cli, [*args, "check"])
    assert "bad\\x1b]0;owned\\x07.md" in checked.stdout
    assert visible_controls(checked.stdout + checked.stderr) == []
    indexed = runner.invoke(cli, [*args, "index"])
    assert visible_controls(indexed.stderr) == []


def test_json_escapes_del_and_c1_controls_and_keeps_the_values(runner: CliRunner, workdir: Path) -> None:
    args = ["--kb-dir", str(workdir / "kb"), "--index-dir", str(workdir / "index"), "-q"]
    result = runner.invoke(cli, [*args, "search", "--json", f"daily limit {PLANTED}"])
    assert visible_controls(result.stdout) == []
    assert json.loads(result.stdout)["query"] == f"daily limit {PLANTED}"


# -- issue 12, row 14: argv bytes and the echoed query ---------------------------------------------

def test_non_utf8_bytes_in_argv_give_valid_utf8_json(workdir: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "errkb", "-q", "search", "--json", b"daily \xff\xfe limit"],
                            cwd=workdir, capture_output=True, timeout=120, env=base_env({}))
    assert result.returncode == Exit.OK, result.stderr
    data = json.loads(result.stdout.decode("utf-8"))  # strict: invalid UTF-8 would raise
    assert data["query"] == "daily \ufffd\ufffd limit" and data["results"][0]["id"] == "alibaba-limit"


def test_the_echoed_query_is_capped_and_says_truncated(runner: CliRunner, workdir: Path) -> None:
    args = ["--kb-dir", str(workdir / "kb"), "--index-dir", str(workdir / "index"), "-q"]
    paste = "daily limit " + "x" * 300_000
    result = runner.invoke(cli, [*args, "search", "--json", "-"], input=paste)
    data = json.loads(result.stdout)
    assert len(data["query"]) == 64 * 1024 and data["truncated"] is True
    assert len(result.stdout) < 100_000
    short = json.loads(runner.invoke(cli, [*args, "search", "--json", "daily limit"]).stdout)
    assert short["query"] == "daily limit" and short["truncated"] is False


# -- issue 12, row 15: Ctrl-C and a full disk ------------------------------------------------------

def test_ctrl_c_exits_130_as_documented(workdir: Path) -> None:
    leader, follower = pty.openpty()
    # As at a shell prompt: SIGINT not ignored (a background job, as CI may
    # run us, inherits it ignored, and Python then installs no handler).
    proc = subprocess.Popen([sys.executable, "-m", "errkb", "search", "-"], cwd=workdir, env=base_env({}),
                            stdin=follower, stdout=follower, stderr=follower,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    os.close(follower)
    assert b"Ctrl-D" in read_all(leader, proc, until=b"Ctrl-D")  # it is waiting for the paste now
    proc.send_signal(signal.SIGINT)
    rest = read_all(leader, proc).decode("utf-8", "replace")
    assert proc.wait(timeout=60) == Exit.INTERRUPTED == 130
    os.close(leader)
    assert "kb: interrupted" in rest and "Traceback" not in rest and "Aborted" not in rest


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("command", [["browse"], ["search", "daily limit"], ["search", "--json", "daily limit"],
                                     ["show", "identity-outdated"], ["list"]])
def test_output_to_a_full_disk_is_one_line_and_exit_74(workdir: Path, command: list[str]) -> None:
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "errkb", "-q", *command], cwd=workdir, stdout=full,
                                stderr=subprocess.PIPE, text=True, timeout=120, env=base_env({}))
    assert result.returncode == Exit.OUTPUT == 74
    assert result.stderr == "kb: error: cannot write the output: No space left on device\n"


def test_a_closed_pipe_is_not_an_error(workdir: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "errkb", "-q", "browse"], cwd=workdir, env=base_env({}),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == Exit.OK and err == ""
