"""Article HTML (issue 12 row 5): `kb show --html` and the web pages share
one renderer, and its allow-list drops scripts, event handlers and script
links, including the ones `kb check` cannot see line by line."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import WriteArticle, article_text
from errkb.article import parse_text
from errkb.article_html import article_html, inline_html, markdown_html, sanitise
from errkb.cli import cli

#: Past E025 (which reads one line at a time): a tag split over lines, an
#: entity-encoded scheme, a closing `>` on its own line.
SLIPS_PAST_CHECK = ("See [the help page](jav&#97;script:alert(1)) now.\n\n"
                    "<img\nsrc=x\nonerror=alert(2)>\n\n<script\n>alert(3)</script\n>")
#: What E025 does catch, but an article that is not checked (or a future rule
#: change) could carry: the renderer must not rely on the checker.
PLAIN_HOSTILE = ('<script>alert(4)</script>\n\n<img src="x" onerror="alert(5)">\n\n'
                 "[click](javascript:alert(6)) and <a href=\"vbscript:x\">vb</a> "
                 '<p onclick="alert(7)">para</p> <iframe src="https://evil.example"></iframe>')


def assert_harmless(html: str) -> None:
    lowered = html.lower()
    for bad in ("<script", "onerror", "onclick", "javascript:", "jav&#97;script", "vbscript:", "<img",
                "<iframe", "alert(3)", "alert(4)"):
        assert bad not in lowered, (bad, html)


def test_kb_show_html_drops_what_slips_past_kb_check(tmp_path: Path, kb_dir: Path, write_article: WriteArticle,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    write_article("xss-demo", what=SLIPS_PAST_CHECK)
    runner = CliRunner()
    args = ["--kb-dir", str(kb_dir), "--index-dir", str(tmp_path / "index")]
    assert runner.invoke(cli, [*args, "check"]).exit_code == 1  # E025 names these now ...
    monkeypatch.setattr("errkb.validate.check_html", lambda article: [])  # ... but the renderer must not rely on it
    assert runner.invoke(cli, [*args, "check"]).exit_code == 0
    result = runner.invoke(cli, [*args, "show", "--html", "xss-demo"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert_harmless(result.stdout)
    assert '<a rel="noopener noreferrer nofollow">the help page</a>' in result.stdout
    assert "<h2>Fixes</h2>" in result.stdout and "<strong>Alipay:</strong>" in result.stdout


@pytest.mark.parametrize("hostile", [SLIPS_PAST_CHECK, PLAIN_HOSTILE])
def test_renderer_drops_scripts_handlers_and_script_links(hostile: str) -> None:
    article = parse_text(Path("kb/x.md"), article_text("x", what=hostile).encode())
    assert_harmless(article_html(article))
    assert_harmless(markdown_html(hostile))


def test_renderer_keeps_what_articles_use() -> None:
    text = ("Open **Me › Bank Cards** (`我的 › 银行卡`), then see [Alipay help](https://intl.alipay.com/help).\n\n"
            "- 身份信息已过期\n- second\n\nThen:\n\n1. one\n2. two")
    html = markdown_html(text)
    assert "<strong>Me › Bank Cards</strong>" in html and "<code>我的 › 银行卡</code>" in html
    assert '<a href="https://intl.alipay.com/help" rel="noopener noreferrer nofollow">Alipay help</a>' in html
    assert "<li>身份信息已过期</li>" in html and "<ol>" in html


def test_title_is_escaped_and_inline_html_has_no_paragraph() -> None:
    article = parse_text(Path("kb/x.md"), article_text("x", title="A <b>bold</b> & title").encode())
    assert article_html(article).startswith("<h1>A &lt;b&gt;bold&lt;/b&gt; &amp; title</h1>\n")
    assert inline_html("Call the **bank** <script>x()</script>") == "Call the <strong>bank</strong> "
    assert sanitise('<a href="mailto:help@example.com">mail</a>').startswith('<a href="mailto:help@example.com"')
