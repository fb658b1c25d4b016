"""Hostile and careless articles (issue 12): each case reproduces a failure
seen before its fix, through the real CLI on a copy of tests/fixtures/kb or
through the core API."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from conftest import article_text
from errkb.cli import cli
from errkb.exitcodes import Exit

FIXTURE_IDS = {"alibaba-limit", "card-expired-e1001", "gateway-system-error", "identity-outdated",
               "phone-number-differs"}


def run(runner: CliRunner, kb: Path, index: Path, *args: str) -> Result:
    return runner.invoke(cli, ["--kb-dir", str(kb), "--index-dir", str(index), *args])


def browse_ids(runner: CliRunner, kb: Path, index: Path) -> set[str]:
    result = run(runner, kb, index, "browse", "--json")
    assert result.exit_code == Exit.OK, result.output
    return {a["id"] for a in json.loads(result.stdout)["articles"]}


def check_json(runner: CliRunner, kb: Path, index: Path) -> list[dict[str, object]]:
    result = run(runner, kb, index, "check", "--format", "json")
    assert result.exit_code in (Exit.OK, Exit.NO_MATCH), result.output
    data = json.loads(result.stdout)
    return data["findings"] if isinstance(data, dict) else data


def front(extra: str) -> str:
    """A valid article `bad` with `extra` added to its front matter (line 15 on)."""
    return article_text("bad", title="Bad one", en='"Bad"', zh='"坏"', extra_front=extra)


# --- row 2: YAML values that Python cannot construct --------------------------------------------

@pytest.mark.parametrize(("text", "line"), [
    (front("").replace("updated: 2026-11-01", "updated: 2026-02-30"), 14),
    (front("").replace("updated: 2026-11-01", "updated: 2026-13-01"), 14),
    (front("").replace("updated: 2026-11-01", "updated: !!int abc"), 14),
    (front("").replace("updated: 2026-11-01", "updated: " + "9" * 5000), 14),
    (front("").replace("codes: []", "codes: [2026-99-99]"), 11),
    (front("").replace("updated: 2026-11-01", "updated: !!timestamp abc"), 14),
    (front("").replace("updated: 2026-11-01", "updated: !!binary aGk="), 14),
])
def test_yaml_value_typos_are_a_finding_naming_the_line(runner: CliRunner, fixture_kb: Path,
                                                        index_dir: Path, text: str, line: int) -> None:
    (fixture_kb / "bad.md").write_text(text, encoding="utf-8")
    result = run(runner, fixture_kb, index_dir, "check")
    assert result.exit_code == Exit.NO_MATCH, result.output  # 1: errors found, not 70
    assert f"bad.md:{line}: E004 " in result.stdout
    assert browse_ids(runner, fixture_kb, index_dir) == FIXTURE_IDS
    searched = run(runner, fixture_kb, index_dir, "search", "daily", "limit")
    assert searched.exit_code == Exit.OK and "alibaba-limit" in searched.stdout


# --- row 3: deep nesting, bounded before YAML parses it ------------------------------------------

@pytest.mark.parametrize("nest", [
    "deep: " + "[" * 100_000 + "\n",
    "deep: " + "{a: " * 50_000 + "\n",
    "deep:\n" + "".join(" " * n + "- \n" for n in range(0, 400, 2)),
    "deep: " + "- " * 50_000 + "x\n",
    "deep: '" + "x" * 200_000 + "'\n",
])
def test_deep_or_huge_front_matter_is_a_finding_not_a_crash(runner: CliRunner, fixture_kb: Path,
                                                            index_dir: Path, nest: str) -> None:
    (fixture_kb / "bad.md").write_text(front(nest), encoding="utf-8")
    started = time.perf_counter()
    result = run(runner, fixture_kb, index_dir, "check")
    assert time.perf_counter() - started < 5
    assert result.exit_code == Exit.NO_MATCH, result.output
    assert "bad.md:" in result.stdout and " E020 " in result.stdout
    assert browse_ids(runner, fixture_kb, index_dir) == FIXTURE_IDS


# --- row 13: YAML alias bomb ---------------------------------------------------------------------

ALIAS_BOMB = "".join(
    [f"l0: &l0 [{', '.join(['x'] * 9)}]\n"]
    + [f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]\n" for n in range(1, 9)])


@pytest.mark.parametrize("extra", [ALIAS_BOMB, "a: &one x\n", "b: &one [x]\nc: *one\n"])
def test_yaml_anchors_and_aliases_are_refused(runner: CliRunner, fixture_kb: Path, index_dir: Path,
                                              extra: str) -> None:
    (fixture_kb / "bad.md").write_text(front(extra), encoding="utf-8")
    result = run(runner, fixture_kb, index_dir, "check")
    assert result.exit_code == Exit.NO_MATCH
    assert "bad.md:15: E021 " in result.stdout
    assert browse_ids(runner, fixture_kb, index_dir) == FIXTURE_IDS
    shown = run(runner, fixture_kb, index_dir, "show", "bad", "--json")
    assert shown.exit_code == Exit.NO_MATCH and len(shown.stdout) < 10_000


# --- row 4: a file name that is not UTF-8 --------------------------------------------------------

def index_leftovers(index: Path) -> set[str]:
    """What is in the index folder besides one live generation, its pointer and the lock."""
    names = {p.name for p in index.iterdir()}
    gens = {n for n in names if n.startswith("gen-")}
    assert len(gens) <= 2
    return names - gens - {"errkb-index.json", ".build.lock"}


def test_non_utf8_file_name_is_reported_escaped_and_skipped(runner: CliRunner, fixture_kb: Path,
                                                            index_dir: Path) -> None:
    import os

    bad = os.path.join(os.fsencode(fixture_kb), b"\xd6\xd0\xce\xc4.md")  # GBK for 中文
    with open(bad, "wb") as handle:
        handle.write(article_text("zhongwen", title="GBK name", en='"gbk"', zh='"中文"').encode())
    for args in (["search", "daily", "limit"], ["show", "alibaba-limit"], ["index"], ["browse"]):
        result = run(runner, fixture_kb, index_dir, *args)
        assert result.exit_code == Exit.OK, (args, result.output)
    assert browse_ids(runner, fixture_kb, index_dir) == FIXTURE_IDS
    assert index_leftovers(index_dir) == set()
    checked = run(runner, fixture_kb, index_dir, "check")
    assert checked.exit_code == Exit.OK
    assert "\\xd6\\xd0\\xce\\xc4.md:1: W112 " in checked.stdout
    checked.stdout.encode("utf-8")  # printable: no lone surrogates


# --- row 12: a FIFO or a device file named *.md ---------------------------------------------------

def test_fifo_named_md_is_skipped_without_hanging(runner: CliRunner, fixture_kb: Path, index_dir: Path) -> None:
    import os

    os.mkfifo(fixture_kb / "p.md")
    started = time.perf_counter()
    for args in (["search", "daily", "limit"], ["index"], ["show", "alibaba-limit"]):
        result = run(runner, fixture_kb, index_dir, *args)
        assert result.exit_code == Exit.OK, (args, result.output)
    checked = run(runner, fixture_kb, index_dir, "check")
    assert "p.md:1: W111 " in checked.stdout and checked.exit_code == Exit.OK
    assert time.perf_counter() - started < 20


@pytest.mark.skipif(not hasattr(__import__("os"), "geteuid") or __import__("os").geteuid() != 0,
                    reason="creating a device file needs root")
def test_device_file_named_md_is_never_read(runner: CliRunner, fixture_kb: Path, index_dir: Path) -> None:
    import os
    import stat

    os.mknod(fixture_kb / "z.md", stat.S_IFCHR | 0o644, os.makedev(1, 5))  # /dev/zero
    result = run(runner, fixture_kb, index_dir, "check")
    assert "z.md:1: W111 " in result.stdout and result.exit_code == Exit.OK
    assert browse_ids(runner, fixture_kb, index_dir) == FIXTURE_IDS


def test_a_file_swapped_for_a_fifo_after_the_scan_is_refused(tmp_path: Path) -> None:
    import os

    from errkb.validate import read_bytes

    os.mkfifo(tmp_path / "p.md")
    raw, findings = read_bytes(tmp_path / "p.md")
    assert raw is None and [f.code for f in findings] == ["E018"]


def test_a_file_that_grows_past_the_limit_while_read_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from errkb import kbfiles
    from errkb.validate import read_bytes

    (tmp_path / "big.md").write_bytes(b"x" * 2000)
    monkeypatch.setattr(kbfiles, "MAX_ARTICLE_BYTES", 1000)
    raw, findings = read_bytes(tmp_path / "big.md")
    assert raw is None and [f.code for f in findings] == ["E019"]



def _stale_fstat(monkeypatch: pytest.MonkeyPatch, size: int) -> None:
    """`os.fstat` in kbfiles reporting `size` bytes: the file grew after it."""
    import os
    from types import SimpleNamespace

    from errkb import kbfiles

    real = os.fstat
    monkeypatch.setattr(kbfiles.os, "fstat", lambda fd: SimpleNamespace(st_mode=real(fd).st_mode, st_size=size))


def test_a_file_that_grows_after_fstat_is_read_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from errkb.kbfiles import read_article_bytes

    (tmp_path / "a.md").write_bytes(b"x" * 5000)
    _stale_fstat(monkeypatch, 100)  # the first read asks for 101 bytes and gets them all: more may follow
    assert read_article_bytes(tmp_path / "a.md") == b"x" * 5000


def test_a_file_that_grows_past_the_limit_after_fstat_is_refused(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from errkb import kbfiles
    from errkb.validate import read_bytes

    (tmp_path / "big.md").write_bytes(b"x" * 2000)
    monkeypatch.setattr(kbfiles, "MAX_ARTICLE_BYTES", 1000)
    _stale_fstat(monkeypatch, 10)
    raw, findings = read_bytes(tmp_path / "big.md")
    assert raw is None and [f.code for f in findings] == ["E019"]


def test_an_article_file_takes_one_read_of_its_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from errkb import kbfiles

    (tmp_path / "a.md").write_bytes(b"x" * 3000)
    asked: list[int] = []
    real = os.read
    monkeypatch.setattr(kbfiles.os, "read", lambda fd, n: asked.append(n) or real(fd, n))
    assert kbfiles.read_article_bytes(tmp_path / "a.md") == b"x" * 3000
    assert asked == [3001]  # not 1 MB: os.read allocates what it is asked for

# --- row 6: linear-time parsing and plain-text conversion ----------------------------------------

PATHOLOGICAL = {
    "brackets": "[" * 200_000,
    "bracket-link": "[a](" * 50_000,
    "backticks": "`" * 200_000,
    "blank-lines": "\n" * 200_000 + "x",
    "spaces": " " * 200_000 + "x",
    "label-spaces": "1. **" + " " * 200_000 + "x:** fix",
    "heading-spaces": "## x" + " " * 200_000 + "y",
    "heading-hashes": "## x" + "#" * 200_000 + "y",
}


@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_parsing_and_plain_text_are_linear(name: str, tmp_path: Path) -> None:
    from errkb.article import parse_text, section_plain_text

    body = PATHOLOGICAL[name]
    raw = article_text("slow", fixes="1. **Alipay:** ok\n" + body, what=body).encode()
    started = time.perf_counter()
    article = parse_text(tmp_path / "slow.md", raw)
    for section in article.sections:
        section_plain_text(section.text)
    assert time.perf_counter() - started < 1.0


def test_a_section_of_brackets_does_not_stall_the_build_search_triggers(runner: CliRunner, fixture_kb: Path,
                                                                        index_dir: Path) -> None:
    (fixture_kb / "slow.md").write_text(article_text("slow", title="Slow", en='"s"', zh='"慢"',
                                                     what="[" * 200_000), encoding="utf-8")
    started = time.perf_counter()
    result = run(runner, fixture_kb, index_dir, "search", "daily", "limit")
    assert result.exit_code == Exit.OK
    assert time.perf_counter() - started < 10


# --- row 16: `kb new --title` goes through the YAML emitter; `make clean` keeps users' files ----

@pytest.mark.parametrize("title", ["a\\", 'say "hi"\\', "a: b # c", "x\ny", "中文 'q' \\n", "- [a] &b *c !d"])
def test_new_writes_valid_yaml_for_any_title(runner: CliRunner, fixture_kb: Path, index_dir: Path,
                                             title: str) -> None:
    from errkb.article import parse_file

    result = run(runner, fixture_kb, index_dir, "new", "odd-title", "-p", "alipay", "-c", "limits",
                 "--title", title)
    assert result.exit_code == Exit.OK, result.output
    article = parse_file(fixture_kb / "odd-title.md")
    assert article.title == title
    (fixture_kb / "odd-title.md").unlink()


def test_make_clean_removes_only_errkbs_own_outputs(tmp_path: Path) -> None:
    import shutil
    import subprocess

    from conftest import ROOT

    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    own = ["index/gen-000001/manifest.json", "index/gen-000012/_MAIN_1.toc", "index/errkb-index.json",
           "index/.errkb-index.json.123.tmp", "index/.build.lock", "build/bench/bench.json",
           ".pytest_cache/x", ".mypy_cache/x", ".ruff_cache/x", ".hypothesis/x",
           "src/errkb/__pycache__/a.pyc", "tests/__pycache__/b.pyc", "scripts/__pycache__/c.pyc"]
    users = ["index/README.txt", "index/.gitignore", "index/my-notes.txt", "index/gen-notes/keep.txt",
             "index/gen-1x/keep", "kb/__pycache__/mine.py", "kb/a.md", "notes/__pycache__/x.pyc",
             ".venv/lib/__pycache__/v.pyc"]
    for name in own + users:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    subprocess.run(["make", "-s", "clean"], cwd=tmp_path, check=True, capture_output=True)
    assert [name for name in own if (tmp_path / name).exists()] == []
    assert [name for name in users if not (tmp_path / name).exists()] == []
    assert not (tmp_path / "index" / "gen-000001").exists() and not (tmp_path / "build").exists()


# --- a dangling related id: a warning, the link dropped, the article still searchable -----------

def test_deleting_a_related_target_keeps_the_others_searchable(runner: CliRunner, fixture_kb: Path,
                                                               index_dir: Path) -> None:
    text = (fixture_kb / "phone-number-differs.md").read_text(encoding="utf-8")
    (fixture_kb / "phone-number-differs.md").write_text(
        text.replace("## Related\n", "## Related\n\n- `identity-outdated`: identity expired\n"
                     "- `alibaba-limit`: the daily limit\n"), encoding="utf-8")
    assert run(runner, fixture_kb, index_dir, "index").exit_code == Exit.OK
    (fixture_kb / "identity-outdated.md").unlink()
    result = run(runner, fixture_kb, index_dir, "index")
    assert result.exit_code == Exit.OK, result.output
    assert browse_ids(runner, fixture_kb, index_dir) == FIXTURE_IDS - {"identity-outdated"}
    checked = run(runner, fixture_kb, index_dir, "check")
    assert checked.exit_code == Exit.OK
    assert "phone-number-differs.md:12: W110 " in checked.stdout
    found = run(runner, fixture_kb, index_dir, "search", "--json", "手机号与银行预留手机号不一致")
    assert json.loads(found.stdout)["results"][0]["id"] == "phone-number-differs"
    for fmt in ([], ["--json"], ["--html"]):
        shown = run(runner, fixture_kb, index_dir, "show", "phone-number-differs", *fmt)
        assert shown.exit_code == Exit.OK
        assert "identity-outdated" not in shown.stdout, fmt
        assert "alibaba-limit" in shown.stdout or not fmt, fmt  # the terminal view lists `related` only


# --- issue 13 §2/§3: sources, URLs for codes, placeholders, raw HTML, control characters --------

def findings_of(kb_dir: Path) -> set[tuple[str, int, str]]:
    from errkb.validate import check_kb

    return {(Path(f.path).name, f.line, f.code) for f in check_kb(kb_dir).findings}


GUIDE = "000_ad49c72d41dfeb65.txt"
URL = "https://global.alipay.com/docs/ac/ams/api_fund"


@pytest.mark.parametrize(("sources", "codes", "expected"), [
    (f"[{GUIDE}, {URL}]", "[E1001]", set()),
    (f"[{GUIDE}]", "[]", set()),
    ("[005_0000000000000000.txt]", "[]", {("a.md", 13, "E022")}),
    ("[guide.txt]", "[]", {("a.md", 13, "E022")}),
    (f"[{GUIDE}, http://global.alipay.com/docs]", "[]", {("a.md", 13, "E022")}),
    (f"[{GUIDE}, 'https://']", "[]", {("a.md", 13, "E022")}),
    (f"[{GUIDE}, 'https://exa mple.com/x']", "[]", {("a.md", 13, "E022")}),
    (f"[{GUIDE}]", "[E1001]", {("a.md", 11, "E023")}),
    (f"[{GUIDE}, http://x.com/codes]", "[E1001]", {("a.md", 13, "E022"), ("a.md", 11, "E023")}),
])
def test_sources_are_known_guides_or_https_urls(kb_dir: Path, sources: str, codes: str,
                                                expected: set[tuple[str, int, str]]) -> None:
    text = article_text("a", codes=codes).replace(f"sources: [{GUIDE}]", f"sources: {sources}")
    (kb_dir / "a.md").write_text(text, encoding="utf-8")
    assert findings_of(kb_dir) == expected


@pytest.mark.parametrize(("change", "line"), [
    ({"what": "TODO: write this"}, 19),
    ({"why": "The bank refuses. TODO"}, 23),
    ({"title": "TODO: the symptom in the user's words"}, 3),
    ({"en": '"the English message exactly as the app shows it"'}, 8),
    ({"zh": '"应用中显示的中文提示"'}, 10),
    ({"what": "What the screen or SMS shows, in both languages where it helps."}, 19),
    ({"fixes": "1. **Alipay:** The most likely and cheapest fix first, and where to tap."}, 27),
])
def test_template_placeholders_left_in_an_article_are_an_error(kb_dir: Path, change: dict[str, str],
                                                               line: int) -> None:
    (kb_dir / "a.md").write_text(article_text("a", **change), encoding="utf-8")
    assert ("a.md", line, "E024") in findings_of(kb_dir)


def test_an_untouched_kb_new_article_fails_check(runner: CliRunner, fixture_kb: Path, index_dir: Path) -> None:
    assert run(runner, fixture_kb, index_dir, "new", "fresh", "-p", "alipay", "-c", "limits").exit_code == 0
    result = run(runner, fixture_kb, index_dir, "check")
    assert result.exit_code == Exit.NO_MATCH and "fresh.md:3: E024 " in result.stdout


@pytest.mark.parametrize("html", [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[click](javascript:alert(1))",
    "<a href=\"JavaScript:alert(1)\">x</a>", "<iframe src=//evil>", "<svg/onload=alert(1)>", "<!-- hidden -->",
    "[x](vbscript:msgbox)", "<div>ok</div>",
])
def test_raw_html_in_the_body_is_an_error(kb_dir: Path, html: str) -> None:
    (kb_dir / "a.md").write_text(article_text("a", why="The bank refuses.\n" + html), encoding="utf-8")
    assert ("a.md", 24, "E025") in findings_of(kb_dir)


@pytest.mark.parametrize("text", [
    "Limits are < 5000 and > 100 yuan.", "Use `<br>` in code only.", "Mail <help@example.com>",
    "See <https://global.alipay.com/docs>.", "1<2 and 3>2",
])
def test_text_that_only_looks_like_html_is_fine(kb_dir: Path, text: str) -> None:
    (kb_dir / "a.md").write_text(article_text("a", why=text), encoding="utf-8")
    assert findings_of(kb_dir) == set()


@pytest.mark.parametrize(("change", "line"), [
    ({"what": "Screen \x1b]52;c;Zm9v\x07 clipboard"}, 19),
    ({"why": "Clear \x1b[2J screen"}, 23),
    ({"why": "carriage\rreturn"}, 23),
    ({"why": "C1 \x9b31m"}, 23),
    ({"why": "NUL \x00 byte"}, 23),
    ({"title": "Title \\e[31m escaped in YAML"}, 3),
    ({"en": '"Message \\x9b in YAML"'}, 6),  # the field's line
])
def test_control_characters_are_an_error(kb_dir: Path, change: dict[str, str], line: int) -> None:
    (kb_dir / "a.md").write_text(article_text("a", **change), encoding="utf-8")
    assert ("a.md", line, "E026") in findings_of(kb_dir)


def test_tabs_stay_a_warning_not_a_control_character(kb_dir: Path) -> None:
    (kb_dir / "a.md").write_text(article_text("a", why="a\ttab"), encoding="utf-8")
    assert findings_of(kb_dir) == {("a.md", 23, "W103")}


def test_control_character_findings_are_capped_per_file(kb_dir: Path) -> None:
    from errkb.validate import check_kb

    (kb_dir / "a.md").write_text(article_text("a", why="\x1b\n" * 5000), encoding="utf-8")
    found = [f for f in check_kb(kb_dir).findings if f.code == "E026"]
    assert len(found) == 11 and "4990 more line(s)" in found[-1].message


@pytest.mark.parametrize("html", [
    '<img src=x\nonerror="alert(1)">',  # a tag split over two lines
    "[help](jav&#97;script:alert(1))",  # an entity-encoded script URL
    "<script\n>alert(1)</script>",
])
def test_html_that_hides_from_a_line_reader_is_an_error(kb_dir: Path, html: str) -> None:
    (kb_dir / "a.md").write_text(article_text("a", why="The bank refuses.\n" + html), encoding="utf-8")
    assert ("a.md", 24, "E025") in findings_of(kb_dir)
