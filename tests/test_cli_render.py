"""Output that fits the terminal: display widths, wrapping, one Markdown
renderer, the short default answer, and golden files of `kb show` and
`kb search` at 80 and 120 columns, with and without colour."""

from __future__ import annotations

import os
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from errkb.cli import cli
from errkb.exitcodes import Exit
from errkb.render import COVERAGE, Painter, blocks, inline
from errkb.terminal import display_width, truncate, wrap

RENDERED = Path(__file__).with_name("golden") / "rendered"
GOLDEN_KB = RENDERED / "kb"
SGR = re.compile(r"\x1b\[[0-9;]*m")

#: Each golden file and the command that prints it (COLUMNS set per case).
CASES = {
    "show": ["show", "--no-pager", "alipay-real-name-expired"],
    "search": ["search", "--no-pager", "支付宝 身份信息已过期 card declined"],
    "search-full": ["search", "--no-pager", "--full", "支付宝 身份信息已过期 card declined"],
    "not-confident": ["search", "--no-pager", "付款"],
}
GOLDEN = [(name, columns, color) for name in CASES for columns in (80, 120) for color in (False, True)]


def golden_path(name: str, columns: int, color: bool) -> Path:
    return RENDERED / f"{name}-{columns}{'-color' if color else ''}.txt"


@pytest.mark.parametrize(("name", "columns", "color"), GOLDEN)
def test_rendered_output_matches_its_golden_file(runner: CliRunner, tmp_path: Path, name: str, columns: int,
                                                 color: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Regenerate with ERRKB_UPDATE_GOLDEN=1 after a deliberate change."""
    # The articles named relative to the repository, as the output shows
    # them: an absolute path would wrap by where the clone happens to be.
    monkeypatch.chdir(RENDERED.parents[2])
    args = ["--kb-dir", str(GOLDEN_KB.relative_to(RENDERED.parents[2])), "--index-dir", str(tmp_path / "index"),
            "-q", "--color", "always" if color else "never"]
    result = runner.invoke(cli, [*args, *CASES[name]], env={"COLUMNS": str(columns)}, catch_exceptions=False)
    assert result.exit_code == Exit.OK, result.stderr
    text = result.stdout
    golden = golden_path(name, columns, color)
    if os.environ.get("ERRKB_UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")
    # Every golden line fits its width, counted in display columns.
    assert max(display_width(line) for line in text.splitlines()) <= columns
    assert ("\x1b[" in text) is color


def test_golden_files_hold_chinese_text_and_use_the_width() -> None:
    for name, columns, color in GOLDEN:
        text = golden_path(name, columns, color).read_text(encoding="utf-8")
        assert re.search(r"[\u4e00-\u9fff]", text), name
    wide = golden_path("show", 120, False).read_text(encoding="utf-8")
    assert max(display_width(line) for line in wide.splitlines()) > 100  # 120 columns are used


def test_cjk_counts_two_columns_and_colour_codes_none() -> None:
    assert display_width("支付宝") == 6
    assert display_width(click.style("card", bold=True, fg="yellow")) == 4
    text = "身份信息已过期，请重新认证" * 4
    for line in wrap(text, 30, "  ").splitlines():
        assert display_width(line) <= 30
    assert wrap("ab，cd", 3) != "ab\n，cd"  # closing punctuation never starts a line


def test_highlighted_text_wraps_at_the_full_width_not_at_its_byte_length() -> None:
    paint = Painter(True)
    words = " ".join(paint(w, fg="yellow", bold=True) for w in ["payment"] * 30)
    lines = wrap(words, 120, "     ", first="   > ").splitlines()
    assert all(display_width(line) <= 120 for line in lines)
    assert display_width(lines[0]) > 110  # not ~40, as when escape codes counted as text


def test_a_style_open_at_a_line_end_is_closed_there_and_reopened_after_the_indent() -> None:
    styled = click.style("one two three four five six", underline=True)
    lines = wrap("x " + styled, 12, "    ").splitlines()
    assert all(line.endswith("\x1b[0m") for line in lines)
    assert all(line.startswith("    \x1b[4m") for line in lines[1:])  # the indent itself is not underlined


def test_titles_wrap_at_word_boundaries_and_are_cut_with_an_ellipsis() -> None:
    title = "Payments fail because Alipay identity verification has expired or needs updating"
    lines = wrap(title, 30).splitlines()
    assert all(line.split()[-1] in title.split() for line in lines)  # no word broken
    assert " ".join(lines) == title
    cut = truncate(title, 40)
    assert cut.endswith("…") and display_width(cut) <= 40 and cut[:-1] in title
    assert title.split()[len(cut[:-1].split()) - 1] == cut[:-1].split()[-1]  # whole words only
    assert display_width(truncate("支付宝实名认证已过期请重新认证", 9)) <= 9


def test_one_markdown_renderer_for_inline_code_bold_and_links() -> None:
    paint = Painter(False)
    assert inline("Open **Me › Settings** and `clear cache`", paint) == "Open Me › Settings and clear cache"
    assert inline("see [the guide](https://example.com/x)", paint) == "see the guide <https://example.com/x>"
    coloured = inline("`code` and **bold**", Painter(True))
    assert click.style("code", fg="cyan") in coloured and click.style("bold", bold=True) in coloured


def test_show_keeps_paragraph_breaks_and_list_items_together() -> None:
    kinds = [kind for kind, _ in blocks("First line\ncontinued.\n\nSecond paragraph.\n\n- one\n- two\n")]
    assert kinds == ["p", "break", "p", "break", "li", "li"]
    text = golden_path("show", 80, False).read_text(encoding="utf-8")
    assert "checkout fails with the same message.\n\n  支付宝提示" in text
    assert "  - A red banner on the Alipay home screen\n  - The ALIPAY" in text


def test_search_and_show_render_a_fix_the_same_way(runner: CliRunner, tmp_path: Path) -> None:
    args = ["--kb-dir", str(GOLDEN_KB), "--index-dir", str(tmp_path / "ix"), "-q", "--color", "always"]
    env = {"COLUMNS": "200"}
    shown = runner.invoke(cli, [*args, "show", "alipay-real-name-expired"], env=env).stdout
    found = runner.invoke(cli, [*args, "search", "支付宝 身份信息已过期"], env=env).stdout
    fix = next(line for line in shown.splitlines() if "Retry the order" in line).split(". ", 1)[1]
    assert fix in found
    assert "`" not in found and "**" not in found


def test_confident_answer_is_short_first_in_full_others_one_line(runner: CliRunner, tmp_path: Path) -> None:
    text = golden_path("search", 80, False).read_text(encoding="utf-8")
    first, _, others = text.partition("\nAlso:\n")
    assert first.startswith("1. 支付宝实名认证已过期")
    assert "4. All platforms: Contact support" in first or "4. Taobao:" in first  # every fix
    assert others.strip().splitlines() == [
        "2. Taobao checkout declines a foreign card: 银行卡支付失…  taobao-card-declined"]
    full = golden_path("search-full", 80, False).read_text(encoding="utf-8")
    assert "2. Taobao checkout declines a foreign card:" in full and "Pay with Alipay balance" in full


def test_not_confident_says_so_first_with_what_errkb_covers(runner: CliRunner, tmp_path: Path) -> None:
    text = golden_path("not-confident", 120, False).read_text(encoding="utf-8")
    assert text.startswith("No confident match. Closest articles:\n" + COVERAGE + "\n\n")
    body = text.split(COVERAGE + "\n\n", 1)[1].splitlines()
    assert all(re.match(r"\d\. .+  [a-z-]+$", line) for line in body)  # one line each


def test_n_shows_more_results_still_one_line_each(runner: CliRunner, fixture_kb: Path, tmp_path: Path) -> None:
    args = ["--kb-dir", str(fixture_kb), "--index-dir", str(tmp_path / "ix"), "-q"]
    one = runner.invoke(cli, [*args, "-n", "1", "identity expired verification card"]).stdout
    three = runner.invoke(cli, [*args, "-n", "3", "identity expired verification card"]).stdout
    assert "Also:" not in one
    assert re.search(r"^3\. ", three, re.M) and len(three.splitlines()) < 20
