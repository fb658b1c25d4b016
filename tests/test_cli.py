"""Every command through Click's CliRunner: output, JSON contract, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from conftest import article_text
from errkb.cli import cli
from errkb.exitcodes import Exit


@pytest.fixture
def kb_args(fixture_kb: Path, index_dir: Path) -> list[str]:
    return ["--kb-dir", str(fixture_kb), "--index-dir", str(index_dir)]


def run(runner: CliRunner, args: list[str], **kwargs: object) -> Result:
    return runner.invoke(cli, args, catch_exceptions=False, **kwargs)  # type: ignore[arg-type]


def test_search_prints_ranked_articles_with_snippet_and_fixes(runner: CliRunner, kb_args: list[str]) -> None:
    result = run(runner, [*kb_args, "search", "daily", "limit", "exceeded"])
    assert result.exit_code == Exit.OK
    first = result.stdout.splitlines()[0]
    assert first == "1. Payment exceeds the daily limit"
    assert "alibaba-limit · Alibaba.com, Alipay" in result.stdout
    assert "> Payment [exceeds] the [daily] [limit]" in result.stdout
    assert "1. Alibaba.com: Split the order into smaller payments." in result.stdout
    assert "kb: no index yet" in result.stderr


def test_search_json_keeps_the_contract(runner: CliRunner, kb_args: list[str]) -> None:
    result = run(runner, [*kb_args, "search", "--json", "-n", "2", "身份信息已过期"])
    data = json.loads(result.stdout)
    assert data["query"] == "身份信息已过期" and data["confident"] is True
    first = data["results"][0]
    assert {"id", "title", "score", "platforms", "causes", "path", "snippet", "fixes"} <= set(first)
    assert first["id"] == "identity-outdated"
    assert first["path"].endswith("identity-outdated.md")
    assert len(data["results"]) <= 2


def test_no_match_says_so_suggests_browse_and_exits_1(runner: CliRunner, kb_args: list[str]) -> None:
    result = run(runner, [*kb_args, "search", "zzzqqq"])
    assert result.exit_code == Exit.NO_MATCH
    assert result.stdout == ""
    assert "no article matches" in result.stderr and "kb browse" in result.stderr
    as_json = run(runner, [*kb_args, "search", "--json", "zzzqqq"])
    assert as_json.exit_code == Exit.NO_MATCH
    assert json.loads(as_json.stdout)["results"] == []


def test_not_confident_lists_closest_below_the_warning(runner: CliRunner, kb_args: list[str]) -> None:
    result = run(runner, [*kb_args, "search", "payment"])
    assert result.exit_code == Exit.OK
    assert result.stdout.startswith("No confident match. Closest articles:")


def test_query_from_stdin_with_dash_or_pipe(runner: CliRunner, kb_args: list[str]) -> None:
    paste = "Order 123456789\n系统繁忙，请稍后再试\n12:03:44"
    for args in (["search", "-"], ["search"], []):
        result = run(runner, [*kb_args, *args, "--json"] if args else [*kb_args], input=paste)
        assert result.exit_code == Exit.OK, result.stderr
        if args:
            assert json.loads(result.stdout)["results"][0]["id"] == "gateway-system-error"
        else:
            assert "gateway-system-error" in result.stdout


def test_invalid_utf8_on_stdin_is_answered(runner: CliRunner, kb_args: list[str]) -> None:
    result = run(runner, [*kb_args, "search", "--json", "-"], input=b"\xff\xfe daily limit \x00")
    assert result.exit_code == Exit.OK
    assert json.loads(result.stdout)["results"][0]["id"] == "alibaba-limit"


def test_default_command_is_search(runner: CliRunner, kb_args: list[str]) -> None:
    result = run(runner, [*kb_args, "E1001"])
    assert result.exit_code == Exit.OK
    assert "card-expired-e1001" in result.stdout


def test_platform_filters_on_the_command_line(runner: CliRunner, kb_args: list[str]) -> None:
    result = run(runner, [*kb_args, "search", "--json", "-p", "alibaba", "-n", "10", "payment limit card number"])
    assert [r["id"] for r in json.loads(result.stdout)["results"]] == ["alibaba-limit"]
    bad = runner.invoke(cli, [*kb_args, "search", "-p", "wechat", "x"])
    assert bad.exit_code == Exit.USAGE and "'wechat' is not one of" in bad.stderr


def test_browse_lists_articles_with_counts(runner: CliRunner, kb_args: list[str]) -> None:
    result = run(runner, [*kb_args, "browse", "--json", "-p", "alibaba"])
    data = json.loads(result.stdout)
    assert [a["id"] for a in data["articles"]] == ["alibaba-limit"]
    assert data["counts"] == {"platforms": {"alibaba": 1, "alipay": 1}, "causes": {"limits": 1}}
    everything = json.loads(run(runner, [*kb_args, "browse", "--json"]).stdout)
    assert len(everything["articles"]) == 5 and everything["counts"]["platforms"]["alipay"] == 4
    text = run(runner, [*kb_args, "browse", "-p", "taobao"]).stdout
    assert "card-expired-e1001" in text and "platforms: " in text


def test_browse_platform_and_cause_narrow(runner: CliRunner, kb_args: list[str]) -> None:
    data = json.loads(run(runner, [*kb_args, "browse", "--json", "-p", "alipay", "-c", "phone-mismatch"]).stdout)
    assert [a["id"] for a in data["articles"]] == ["phone-number-differs"]
    lines = run(runner, [*kb_args, "browse", "--jsonl", "-c", "limits", "-c", "app-glitch"]).stdout.splitlines()
    assert sorted(json.loads(line)["id"] for line in lines) == ["alibaba-limit", "gateway-system-error"]


def test_show_by_id_prefix_and_code(runner: CliRunner, kb_args: list[str]) -> None:
    for wanted in ("identity-outdated", "identity", "E1001"):
        result = run(runner, [*kb_args, "show", wanted])
        assert result.exit_code == Exit.OK
    text = run(runner, [*kb_args, "show", "identity-outdated"]).stdout
    assert text.startswith("Identity verification expired\n")
    assert "  1. Alipay: Open Me › Settings › Identity Information" in text
    assert "zh  身份信息已过期，请重新认证" in text
    data = json.loads(run(runner, [*kb_args, "show", "--json", "e1001"]).stdout)
    assert data["id"] == "card-expired-e1001" and data["codes"] == ["E1001"]
    assert [s["title"] for s in data["sections"]][0] == "What you see"
    raw = run(runner, [*kb_args, "show", "--raw", "alibaba-limit"]).stdout
    assert raw.startswith("---\nid: alibaba-limit\n")


def test_show_unknown_id_names_the_closest(runner: CliRunner, kb_args: list[str]) -> None:
    result = run(runner, [*kb_args, "show", "identity-outdate"])
    assert result.exit_code == Exit.OK  # a unique prefix
    missing = run(runner, [*kb_args, "show", "idenitty-outdated"])
    assert missing.exit_code == Exit.NO_MATCH
    assert missing.stderr.strip().splitlines()[-1] == \
        "kb: error: no article with id 'idenitty-outdated'; closest: identity-outdated"


def test_index_reports_counts_and_exits_3_on_invalid_articles(runner: CliRunner, kb_args: list[str],
                                                              fixture_kb: Path) -> None:
    result = run(runner, [*kb_args, "index"])
    assert result.exit_code == Exit.OK
    assert "full build: 5 added, 0 updated, 0 removed, 0 unchanged; 5 articles indexed" in result.stderr
    (fixture_kb / "broken.md").write_text("---\ntitle: x\n")
    broken = run(runner, [*kb_args, "index"])
    assert broken.exit_code == Exit.INVALID_KB
    assert f"kb: {fixture_kb / 'broken.md'}:1: E003 front matter is not closed" in broken.stderr
    assert run(runner, [*kb_args, "search", "--json", "daily limit"]).exit_code == Exit.OK


def test_index_json_report(runner: CliRunner, kb_args: list[str]) -> None:
    data = json.loads(run(runner, [*kb_args, "index", "--json", "--full"]).stdout)
    assert data["full"] is True and data["total"] == 5 and data["invalid"] == []


def test_check_passes_clean_kb_and_fails_a_broken_copy(runner: CliRunner, kb_args: list[str],
                                                       fixture_kb: Path) -> None:
    ok = run(runner, [*kb_args, "check"])
    assert ok.exit_code == Exit.OK and ok.stdout == ""
    path = fixture_kb / "alibaba-limit.md"
    path.write_text(path.read_text().replace("causes: [limits]", "causes: [limits, bad-luck]"))
    bad = run(runner, [*kb_args, "check"])
    assert bad.exit_code == 1
    assert bad.stdout == (f"{path}:5: E009 unknown cause 'bad-luck' "
                          "(see `kb browse` or the README for the list)\n")
    data = json.loads(run(runner, [*kb_args, "check", "--format", "json"]).stdout)
    assert data["errors"] == 1 and data["findings"][0]["code"] == "E009"


def test_check_warnings_alone_exit_0(runner: CliRunner, kb_args: list[str], fixture_kb: Path) -> None:
    path = fixture_kb / "alibaba-limit.md"
    path.write_text(path.read_text().replace("smaller payments.", "smaller payments.   "))
    result = run(runner, [*kb_args, "check"])
    assert result.exit_code == Exit.OK and ": W104 trailing whitespace" in result.stdout


def test_new_writes_a_template_and_refuses_to_overwrite(runner: CliRunner, kb_args: list[str],
                                                        fixture_kb: Path) -> None:
    result = run(runner, [*kb_args, "new", "card-stolen", "-p", "alipay", "-c", "card-settings"])
    assert result.exit_code == Exit.OK
    text = (fixture_kb / "card-stolen.md").read_text()
    assert text.startswith("---\nid: card-stolen\n") and "## Related" in text
    again = run(runner, [*kb_args, "new", "card-stolen", "-p", "alipay", "-c", "card-settings"])
    assert again.exit_code == Exit.USAGE and "already exists" in again.stderr
    assert (fixture_kb / "card-stolen.md").read_text() == text


def test_dirs_come_from_environment_variables(runner: CliRunner, fixture_kb: Path, index_dir: Path) -> None:
    env = {"ERRKB_KB_DIR": str(fixture_kb), "ERRKB_INDEX_DIR": str(index_dir)}
    result = run(runner, ["search", "--json", "E1001"], env=env)
    assert json.loads(result.stdout)["results"][0]["id"] == "card-expired-e1001"
    assert (index_dir / "errkb-index.json").exists()


def test_missing_kb_folder_is_one_line_and_exit_3(runner: CliRunner, tmp_path: Path) -> None:
    result = run(runner, ["--kb-dir", str(tmp_path / "nope"), "--index-dir", str(tmp_path / "ix"), "search", "x"])
    assert result.exit_code == Exit.INVALID_KB
    assert result.stderr == f"kb: error: knowledge base folder not found: {tmp_path / 'nope'}\n"


def test_unusable_index_dir_falls_back_to_memory(runner: CliRunner, fixture_kb: Path, tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    result = run(runner, ["--kb-dir", str(fixture_kb), "--index-dir", str(not_a_dir), "search", "--json", "E1001"])
    assert result.exit_code == Exit.OK
    assert "index built in memory" in result.stderr
    assert json.loads(result.stdout)["results"][0]["id"] == "card-expired-e1001"
    index = run(runner, ["--kb-dir", str(fixture_kb), "--index-dir", str(not_a_dir), "index"])
    assert index.exit_code == Exit.INDEX and str(not_a_dir) in index.stderr


def test_colour_only_when_asked_and_never_with_no_color(runner: CliRunner, kb_args: list[str]) -> None:
    plain = run(runner, [*kb_args, "search", "daily limit"])
    assert "\x1b[" not in plain.stdout
    forced = run(runner, [*kb_args, "--color", "always", "search", "daily limit"])
    assert "\x1b[" in forced.stdout
    no_color = run(runner, [*kb_args, "search", "daily limit"], env={"NO_COLOR": "1", "FORCE_COLOR": "1"})
    assert "\x1b[" not in no_color.stdout
    forced_env = run(runner, [*kb_args, "search", "daily limit"], env={"FORCE_COLOR": "1"})
    assert "\x1b[" in forced_env.stdout


def test_every_command_has_help_with_an_example(runner: CliRunner) -> None:
    assert isinstance(cli, click.Group)
    for name in [None, *cli.commands]:
        args = [name, "--help"] if name else ["--help"]
        result = run(runner, args)  # type: ignore[list-item]
        assert result.exit_code == 0
        assert "Example" in result.stdout and "  kb " in result.stdout, name


def test_version_names_the_formats(runner: CliRunner) -> None:
    result = run(runner, ["--version"])
    assert result.stdout.startswith("kb (errkb) ") and "article format 1" in result.stdout


def test_query_of_only_punctuation_is_answered_with_no_match(runner: CliRunner, kb_args: list[str]) -> None:
    result = run(runner, [*kb_args, "search", "--json", "?!", "..."])
    assert result.exit_code == Exit.NO_MATCH and json.loads(result.stdout)["results"] == []


def test_edit_an_article_then_search_shows_the_edit(runner: CliRunner, kb_args: list[str],
                                                    fixture_kb: Path) -> None:
    run(runner, [*kb_args, "index"])
    (fixture_kb / "wombat.md").write_text(article_text("wombat", title="Wombat ate the card",
                                                       en='"wombat"', zh='"袋熊"'))
    result = run(runner, [*kb_args, "search", "--json", "wombat"])
    assert json.loads(result.stdout)["results"][0]["id"] == "wombat"
    assert "articles changed since the last build" in result.stderr
