"""Habits people bring from other CLIs: options anywhere, the default command
taking search's options, `--`, "did you mean" for a mistyped command, platform
names, `kb list`, `--jsonl`, `--strict`, `kb edit`, `kb new --edit`, and
`make search Q=...` passing the query untouched."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from conftest import ROOT, article_text
from errkb.cli import cli
from errkb.exitcodes import Exit


@pytest.fixture
def kb_args(fixture_kb: Path, index_dir: Path) -> list[str]:
    return ["--kb-dir", str(fixture_kb), "--index-dir", str(index_dir)]


def run(runner: CliRunner, args: list[str], **kwargs: object) -> Result:
    return runner.invoke(cli, args, catch_exceptions=False, **kwargs)  # type: ignore[arg-type]


def ids(result: Result) -> list[str]:
    return [r["id"] for r in json.loads(result.stdout)["results"]]


def test_shared_options_work_before_or_after_the_command(runner: CliRunner, fixture_kb: Path,
                                                         index_dir: Path) -> None:
    where = ["--kb-dir", str(fixture_kb), "--index-dir", str(index_dir)]
    before = run(runner, [*where, "-q", "--color", "always", "search", "daily limit"])
    after = run(runner, ["search", "daily limit", *where, "-q", "--color", "always"])
    assert before.exit_code == after.exit_code == Exit.OK
    assert before.stdout == after.stdout and "\x1b[" in after.stdout
    assert after.stderr == ""  # -q after the command silenced the build note
    assert run(runner, ["browse", "--json", "--kb-dir", str(fixture_kb), "--index-dir", str(index_dir)]
               ).exit_code == Exit.OK
    assert run(runner, ["info", "--json", *where]).exit_code == Exit.OK


def test_default_command_takes_search_options(runner: CliRunner, kb_args: list[str]) -> None:
    limited = run(runner, [*kb_args, "-n", "1", "--json", "identity card limit"])
    assert len(json.loads(limited.stdout)["results"]) == 1
    filtered = run(runner, [*kb_args, "-p", "taobao", "--json", "card"])
    assert filtered.exit_code == Exit.OK and "alibaba-limit" not in ids(filtered)


def test_double_dash_searches_text_that_looks_like_an_option(runner: CliRunner, kb_args: list[str]) -> None:
    result = run(runner, [*kb_args, "--json", "--", "-1.00 USD charged daily limit"])
    assert result.exit_code == Exit.OK
    assert json.loads(result.stdout)["query"] == "-1.00 USD charged daily limit"
    plain = run(runner, [*kb_args, "-q", "--", "-1.00 USD charged daily limit"])
    assert plain.exit_code == Exit.OK and "alibaba-limit" in plain.stdout


@pytest.mark.parametrize(("typed", "meant"), [("brwose", "browse"), ("serach", "search"), ("lsit", "list"),
                                              ("shwo", "show"), ("indx", "index")])
def test_a_mistyped_command_gets_did_you_mean_and_exit_2(runner: CliRunner, kb_args: list[str], typed: str,
                                                        meant: str) -> None:
    result = run(runner, [*kb_args, typed])
    assert result.exit_code == Exit.USAGE
    assert result.stderr == (f"kb: error: no command {typed!r}; did you mean `kb {meant}`? "
                             f"(to search for the word: kb search {typed})\n")


@pytest.mark.parametrize("word", ["declined", "limit", "shop", "expired", "E1001", "支付宝"])
def test_real_one_word_queries_still_search(runner: CliRunner, kb_args: list[str], word: str) -> None:
    result = run(runner, [*kb_args, "--json", word])
    assert result.exit_code in (Exit.OK, Exit.NO_MATCH)
    assert json.loads(result.stdout)["query"] == word


@pytest.mark.parametrize("name", ["alipay", "Alipay", "ALIPAY", "支付宝"])
def test_platform_by_name_or_chinese_name(runner: CliRunner, kb_args: list[str], name: str) -> None:
    result = run(runner, [*kb_args, "browse", "--json", "-p", name])
    assert result.exit_code == Exit.OK
    assert all("alipay" in a["platforms"] for a in json.loads(result.stdout)["articles"])


def test_alibaba_com_and_taobao_in_chinese_map_to_their_ids(runner: CliRunner, kb_args: list[str]) -> None:
    assert [a["id"] for a in json.loads(run(runner, [*kb_args, "browse", "--json", "-p", "Alibaba.com"]).stdout)[
        "articles"]] == ["alibaba-limit"]
    assert "card-expired-e1001" in run(runner, [*kb_args, "browse", "-p", "淘宝"]).stdout
    bad = runner.invoke(cli, [*kb_args, "browse", "-p", "wechat"])
    assert bad.exit_code == Exit.USAGE and "'wechat' is not one of" in bad.stderr


def test_list_prints_every_id_with_its_title(runner: CliRunner, kb_args: list[str]) -> None:
    result = run(runner, [*kb_args, "-q", "list"])
    assert result.exit_code == Exit.OK
    lines = result.stdout.splitlines()
    assert len(lines) == 5
    assert lines[0].split()[0] == "alibaba-limit" and lines[0].endswith("Payment exceeds the daily limit")
    assert "identity-outdated     Identity verification expired" in result.stdout


def test_search_jsonl_prints_one_result_a_line(runner: CliRunner, kb_args: list[str]) -> None:
    result = run(runner, [*kb_args, "search", "--jsonl", "-n", "3", "identity card limit"])
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert 1 < len(rows) <= 3 and {"id", "title", "score", "fixes"} <= set(rows[0])
    assert run(runner, [*kb_args, "search", "--jsonl", "zzzqqq"]).exit_code == Exit.NO_MATCH


def test_strict_exit_status_tells_answered_from_closest_guesses(runner: CliRunner, kb_args: list[str]) -> None:
    assert run(runner, [*kb_args, "search", "--strict", "身份信息已过期"]).exit_code == Exit.OK
    guess = run(runner, [*kb_args, "search", "--strict", "payment"])
    assert guess.exit_code == Exit.NOT_CONFIDENT == 5
    assert guess.stdout.startswith("No confident match.")
    assert run(runner, [*kb_args, "search", "payment"]).exit_code == Exit.OK  # without --strict: 0
    assert run(runner, [*kb_args, "search", "--strict", "zzzqqq"]).exit_code == Exit.NO_MATCH


def test_show_on_an_invalid_article_names_the_file_and_the_finding(runner: CliRunner, kb_args: list[str],
                                                                    fixture_kb: Path) -> None:
    path = fixture_kb / "wombat.md"
    path.write_text(article_text("wombat", causes="[bad-luck]"), encoding="utf-8")
    result = run(runner, [*kb_args, "-q", "show", "wombat"])
    assert result.exit_code == Exit.NO_MATCH
    assert result.stderr == (f"kb: error: {path}:5: E009 unknown cause 'bad-luck' (see `kb browse` or the "
                             "README for the list) (the article is invalid, so it is not indexed; "
                             "`kb check` lists every finding)\n")


def test_info_outside_a_knowledge_base_never_prints_none(runner: CliRunner, tmp_path: Path) -> None:
    result = run(runner, ["--kb-dir", str(tmp_path / "nope"), "--index-dir", str(tmp_path / "ix"), "info"])
    assert result.exit_code == Exit.OK
    assert "None" not in result.stdout
    assert "folder not found" in result.stdout and "not built yet" in result.stdout


def test_edit_opens_the_editor_then_checks_the_article(runner: CliRunner, kb_args: list[str],
                                                       fixture_kb: Path) -> None:
    path = fixture_kb / "alibaba-limit.md"
    fine = run(runner, [*kb_args, "edit", "alibaba-limit"], env={"EDITOR": "sed -i s/smaller/tiny/"})
    assert fine.exit_code == Exit.OK, fine.stderr
    assert "Split the order into tiny payments." in path.read_text(encoding="utf-8")
    assert f"kb: {path}: 0 error(s), 0 warning(s)" in fine.stderr
    broken = run(runner, [*kb_args, "edit", "alibaba-limit"],
                 env={"EDITOR": "sed -i s/causes:.*/causes:\\ [bad-luck]/"})
    assert broken.exit_code == Exit.NO_MATCH
    assert broken.stdout.startswith(f"{path}:5: E009 unknown cause 'bad-luck'")
    # An invalid article is edited by its file name: it is not in the index.
    again = run(runner, [*kb_args, "edit", "alibaba-limit"], env={"EDITOR": "sed -i s/bad-luck/limits/"})
    assert again.exit_code == Exit.OK


def test_edit_by_error_code_and_unknown_ids(runner: CliRunner, kb_args: list[str], fixture_kb: Path) -> None:
    result = run(runner, [*kb_args, "-q", "edit", "E1001"], env={"EDITOR": "sed -i s/expired/EXPIRED/"})
    assert result.exit_code in (Exit.OK, Exit.NO_MATCH)
    assert "EXPIRED" in (fixture_kb / "card-expired-e1001.md").read_text(encoding="utf-8")
    missing = run(runner, [*kb_args, "-q", "edit", "nothing-like-it"], env={"EDITOR": "true"})
    assert missing.exit_code == Exit.NO_MATCH and "no article with id 'nothing-like-it'" in missing.stderr


def test_new_with_edit_opens_the_template_then_checks_it(runner: CliRunner, kb_args: list[str],
                                                         fixture_kb: Path, tmp_path: Path) -> None:
    untouched = run(runner, [*kb_args, "new", "card-stolen", "-p", "支付宝", "-c", "card-settings", "--edit"],
                    env={"EDITOR": "true"})
    assert untouched.exit_code == Exit.NO_MATCH and "E024" in untouched.stdout  # the template's TODOs
    filled = tmp_path / "filled.md"
    filled.write_text(article_text("card-lost"), encoding="utf-8")
    done = run(runner, [*kb_args, "new", "card-lost", "-p", "alipay", "-c", "card-settings", "--edit"],
               env={"EDITOR": f"cp {filled}"})
    assert done.exit_code == Exit.OK, done.stdout + done.stderr
    assert done.stdout == f"{fixture_kb / 'card-lost.md'}\n"


def test_new_and_edit_refuse_the_installed_articles(runner: CliRunner, tmp_path: Path) -> None:
    os.chdir(tmp_path)
    result = run(runner, ["new", "x-y", "-p", "alipay", "-c", "limits"])
    assert result.exit_code == Exit.USAGE and "installed with errkb" in result.stderr
    assert run(runner, ["edit", "x-y"], env={"EDITOR": "true"}).exit_code == Exit.USAGE


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_search_passes_the_query_without_expanding_it(tmp_path: Path) -> None:
    """make and the shell leave `$`, `$(...)` and backticks in Q alone (a fake kb prints its argv)."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").write_text("")
    (venv / "bin" / "kb").write_text('#!/bin/sh\nprintf "%s\\n" "$@"\n')
    (venv / "bin" / "kb").chmod(0o755)
    (venv / ".runtime").touch()
    query = """a $HOME `touch pwned` $(touch pwned2) $$x "q" 's' #x"""
    result = subprocess.run(["make", "-s", "-C", str(ROOT), "search", f"VENV={venv}", f"BIN={venv / 'bin'}",
                             f"Q={query}"], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["index", "search", "--", query]
    assert not (ROOT / "pwned").exists() and not (ROOT / "pwned2").exists()


def test_python_dash_m_searches_from_any_folder_with_a_kb_option(tmp_path: Path, fixture_kb: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "errkb", "-q", "--json", "daily limit", "--kb-dir",
                             str(fixture_kb)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and ids_of(result.stdout)[0] == "alibaba-limit"
    assert not (tmp_path / "index").exists()  # the index of an explicit kb is in the cache folder


def ids_of(stdout: str) -> list[str]:
    return [r["id"] for r in json.loads(stdout)["results"]]
