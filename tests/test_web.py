"""The web help centre through Flask's test client: every route, its status
codes, the JSON contract against the CLI's own output, security headers,
errors, staleness and builds in progress. On the fixture knowledge base the
CLI tests use (a copy in tmp_path, with a real index)."""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient

from conftest import article_text
from errkb import store
from errkb.cli import cli
from errkb.kb import KnowledgeBase
from errkb.querying import MAX_QUERY_CHARS
from errkb.web import create_app
from errkb.web.app import CONTENT_SECURITY_POLICY
from test_web_html import SLIPS_PAST_CHECK, assert_harmless


@pytest.fixture
def app(fixture_kb: Path, index_dir: Path) -> Flask:
    """A help centre where every request checks the articles (`--recheck 0`,
    the CLI's rule), so the edit tests see every edit at once."""
    return create_app(fixture_kb, index_dir, recheck=0)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def page(client: FlaskClient, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code, response.get_data(as_text=True)[:300])
    return response.get_data(as_text=True)


def api(client: FlaskClient, url: str, status: int = 200) -> dict[str, Any]:
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    assert response.mimetype == "application/json"
    data: dict[str, Any] = response.get_json()
    return data


def cli_json(fixture_kb: Path, index_dir: Path, *args: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["--kb-dir", str(fixture_kb), "--index-dir", str(index_dir), "-q", *args],
                                catch_exceptions=False)
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def fixes_in(html: str) -> list[str]:
    """The labels of the first `<ol class="fixes">`, in order."""
    block = html.split('<ol class="fixes">', 1)[1].split("</ol>", 1)[0]
    return re.findall(r'<span class="label">([^<]+)</span>', block)


# -- the search page -----------------------------------------------------------------------


def test_search_page_is_a_get_form_with_a_paste_box_and_filters(client: FlaskClient) -> None:
    html = page(client, "/")
    assert re.search(r'<form class="search" action="/" method="get"', html)
    assert re.search(r'<textarea id="q" name="q"[^>]*maxlength="65536"', html)
    assert '<select name="platform">' in html and '<option value="alibaba">Alibaba.com</option>' in html
    assert '<select name="cause">' in html and '<option value="phone-mismatch">' in html
    assert "<script>" not in html and not re.search(r"<script(?![^>]*\bsrc=)", html)  # no inline script
    assert " style=" not in html  # no inline style either (the CSP forbids both)


def test_a_pasted_chinese_error_gets_its_article_snippet_and_fixes(client: FlaskClient) -> None:
    paste = "订单号 2026112012345\n淘宝提示：身份信息已过期，请重新认证\n12:03:44"
    html = page(client, "/?q=" + quote(paste))
    assert html.index("Identity verification expired") < html.index("Card refused because it has expired")
    assert "No confident match" not in html
    assert "<mark>身份信息已过期</mark>，<mark>请重新认证</mark>" in html  # highlighted, Chinese intact
    assert fixes_in(html) == ["Taobao", "All platforms", "Alipay"]  # the platform the paste names first
    assert 'href="/articles/identity-outdated?first=taobao"' in html
    assert f">{paste}</textarea>" in html  # the paste stays in the box: the address is the whole state


def test_a_weak_answer_says_no_confident_match_and_lists_the_closest(client: FlaskClient) -> None:
    html = page(client, "/?q=payment")
    assert "<strong>No confident match.</strong> Closest articles:" in html
    assert "Payment exceeds the daily limit" in html
    assert '<ol class="fixes">' not in html  # a guess shows where to look, not what to do


def test_no_match_says_so_and_points_to_browse(client: FlaskClient) -> None:
    html = page(client, "/?q=zzzqqq")
    assert "<strong>No article matches.</strong>" in html and 'href="/browse"' in html


def test_did_you_mean_is_a_link_that_keeps_the_filters(client: FlaskClient) -> None:
    html = page(client, "/?q=dialy+limit+exceded&platform=alipay")
    assert 'Did you mean <a href="/?q=daily+limit+exceeds&amp;platform=alipay">daily limit exceeds</a>?' in html


def test_filters_narrow_and_bad_values_are_400(client: FlaskClient) -> None:
    html = page(client, "/?q=expired&platform=alibaba&cause=")
    assert "Identity verification expired" not in html and '<option value="alibaba" selected>' in html
    html = page(client, "/?q=expired&platform=ebay", 400)
    assert "unknown platform &#39;ebay&#39;; choose from alibaba, alipay, taobao" in html


def test_query_text_is_escaped_everywhere(client: FlaskClient) -> None:
    html = page(client, "/?q=" + quote('<script>alert(1)</script> "daily limit'))
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# -- article pages -----------------------------------------------------------------------------


def test_article_page_renders_sections_fixes_chinese_sources_and_reply(client: FlaskClient) -> None:
    html = page(client, "/articles/identity-outdated")
    assert "<h1>Identity verification expired</h1>" in html
    for title in ("Messages", "What you see", "Why it happens", "Fixes", "Prevention", "Related", "Sources"):
        assert f"<h2>{title}</h2>" in html
    assert '<li lang="zh"><span class="lang">zh</span> 身份信息已过期，请重新认证</li>' in html
    assert fixes_in(html) == ["Alipay", "Taobao", "All platforms"]  # the editors' order
    assert "Open Me › Settings › Identity Information and upload your passport." in html
    assert "000_ad49c72d41dfeb65.txt" in html
    reply = html.split('<textarea id="reply-text"', 1)[1].split(">", 1)[1].split("</textarea>", 1)[0]
    assert reply.startswith("Identity verification expired\n\nAlipay asks you to verify your identity again")
    assert "1. Alipay: Open Me › Settings › Identity Information and upload your passport." in reply
    assert '<button type="button" class="copy" data-copy="reply-text" hidden>Copy as reply</button>' in html


def test_fixes_for_the_searched_platform_come_first(client: FlaskClient) -> None:
    html = page(client, "/articles/identity-outdated?first=taobao")
    assert fixes_in(html) == ["Taobao", "All platforms", "Alipay"]  # "All platforms" includes Taobao
    assert "Fixes for Taobao first." in html
    assert "1. Taobao: Retry the order after verification." in html  # the reply follows the page's order
    page(client, "/articles/identity-outdated?first=ebay", 400)


def test_related_and_url_sources_are_links(client: FlaskClient) -> None:
    html = page(client, "/articles/phone-number-differs")
    assert '<li><a href="/articles/identity-outdated">Identity verification expired</a></li>' in html
    html = page(client, "/articles/card-expired-e1001")
    assert re.search(r'<a href="https://example.com/error-codes" rel="noopener noreferrer nofollow">', html)


def test_a_prefix_or_an_error_code_redirects_to_the_article(client: FlaskClient) -> None:
    response = client.get("/articles/E1001?first=taobao")
    assert response.status_code == 302
    assert response.headers["Location"] == "/articles/card-expired-e1001?first=taobao"
    assert client.get("/articles/identity-out").headers["Location"] == "/articles/identity-outdated"


def test_unknown_article_is_a_404_page_with_the_closest_ids(client: FlaskClient) -> None:
    html = page(client, "/articles/identity-outdatd", 404)
    assert "No article “identity-outdatd”" in html
    assert '<a href="/articles/identity-outdated">identity-outdated</a>' in html
    assert "Closest" not in page(client, "/articles/" + "x" * 5000, 404)  # bounded, still a page


def test_article_html_on_the_page_is_sanitised(fixture_kb: Path, client: FlaskClient,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("errkb.validate.check_html", lambda article: [])  # as if a rule missed it: sanitised anyway
    (fixture_kb / "xss-demo.md").write_text(article_text("xss-demo", what=SLIPS_PAST_CHECK), encoding="utf-8")
    html = page(client, "/articles/xss-demo")
    body, reply = html.split('<textarea id="reply-text"', 1)
    assert_harmless(body.replace('<script src="/static/help.js" defer></script>', ""))
    assert "<" not in reply.split(">", 1)[1].split("</textarea>", 1)[0]  # the plain-text reply is escaped


# -- browse ------------------------------------------------------------------------------------


def test_browse_lists_articles_with_counts_and_filters(client: FlaskClient) -> None:
    html = page(client, "/browse")
    assert "<strong>5 articles</strong>" in html
    assert '<a href="/browse?platform=alipay">Alipay</a> <span class="n">4</span>' in html
    html = page(client, "/browse?platform=alibaba")
    assert "<strong>1 article</strong>" in html and "Payment exceeds the daily limit" in html
    assert re.search(r'<a href="/browse\?cause=limits&amp;platform=alibaba" title="[^"]+">limits</a> '
                     r'<span class="n">1</span>', html)
    html = page(client, "/browse?platform=taobao&cause=phone-mismatch")
    assert "<strong>1 article</strong>" in html and "/articles/phone-number-differs" in html
    assert "No article has these tags." in page(client, "/browse?platform=alibaba&cause=phone-mismatch")
    page(client, "/browse?cause=nonsense", 400)


# -- the JSON API --------------------------------------------------------------------------------


@pytest.mark.parametrize("query, extra", [
    ("身份信息已过期", []),
    ("daily limit exceeded", ["-p", "alipay", "-n", "1"]),
    ("payment", ["-c", "limits", "-c", "app-glitch"]),
    ("dialy limit exceded", []),
    ("zzzqqq", []),
])
def test_api_search_is_exactly_kb_search_json(fixture_kb: Path, index_dir: Path, client: FlaskClient,
                                              query: str, extra: list[str]) -> None:
    args = {"-p": "platform", "-c": "cause", "-n": "limit"}
    url = "/api/search?q=" + quote(query) + "".join(f"&{args[k]}={v}" for k, v in zip(extra[::2], extra[1::2],
                                                                                       strict=True))
    from_web = api(client, url)
    from_cli = cli_json(fixture_kb, index_dir, "search", "--json", *extra, query)
    assert from_web == from_cli
    assert list(from_web) == list(from_cli)  # the keys in the CLI's order too
    assert from_web["schema_version"] == 1


def test_api_article_is_exactly_kb_show_json(fixture_kb: Path, index_dir: Path, client: FlaskClient) -> None:
    for wanted in ("phone-number-differs", "E1001"):
        assert api(client, f"/api/articles/{wanted}") == cli_json(fixture_kb, index_dir, "show", "--json", wanted)


@pytest.mark.parametrize("url, status, message", [
    ("/api/search", 400, "give a query: /api/search?q=<the pasted error>"),
    ("/api/search?q=x&limit=0", 400, "limit must be a whole number from 1 to 1000, not '0'"),
    ("/api/search?q=x&limit=1001", 400, "limit must be a whole number from 1 to 1000, not '1001'"),
    ("/api/search?q=x&limit=abc", 400, "limit must be a whole number from 1 to 1000, not 'abc'"),
    ("/api/search?q=x&platform=ebay", 400, "unknown platform 'ebay'; choose from alibaba, alipay, taobao"),
    ("/api/search?q=x&cause=money", 400, "unknown cause 'money'; choose from "),
    ("/api/articles/identity-outdatd", 404, "no article with id 'identity-outdatd'"),
    ("/api/nothing", 404, "no such API endpoint; there are /api/search and /api/articles/<id>"),
])
def test_api_errors_are_json_with_the_status(client: FlaskClient, url: str, status: int, message: str) -> None:
    data = api(client, url, status)
    assert data["schema_version"] == 1 and data["status"] == status
    assert data["error"].startswith(message)
    if status == 404 and "articles" in url:
        assert data["closest"] == ["identity-outdated"]


def test_api_refuses_other_methods_as_json(client: FlaskClient) -> None:
    response = client.post("/api/search?q=x")
    assert response.status_code == 405 and response.get_json()["status"] == 405


def test_query_size_is_bounded_as_in_the_cli(client: FlaskClient) -> None:
    huge = "daily limit exceeded " * 4000  # 84,000 characters
    data = api(client, "/api/search?q=" + quote(huge))
    assert data["truncated"] is True and len(data["query"]) == MAX_QUERY_CHARS
    assert data["results"][0]["id"] == "alibaba-limit"
    assert "Only the first 64 KB of the paste were searched." in page(client, "/?q=" + quote(huge))
    too_big = client.get("/api/search?q=" + "x" * (1024 * 1024 + 1))
    assert too_big.status_code == 414 and too_big.get_json()["status"] == 414
    assert client.get("/?q=" + "x" * (1024 * 1024 + 1)).status_code == 414


# -- headers, errors, logs ---------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/", "/?q=limit", "/articles/identity-outdated", "/articles/nope", "/browse",
                                 "/api/search?q=limit", "/api/nope", "/static/style.css", "/nope"])
def test_security_headers_on_every_response(client: FlaskClient, url: str) -> None:
    headers = client.get(url).headers
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY and "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"
    if not url.startswith("/static/"):
        assert headers["Cache-Control"] == "no-store"


def test_every_asset_ships_with_errkb(client: FlaskClient) -> None:
    html = page(client, "/articles/card-expired-e1001") + page(client, "/?q=limit") + page(client, "/browse")
    for tag in re.findall(r"<(?:link|script|img)\b[^>]*>", html):
        assert re.search(r'(?:href|src)="/static/', tag), tag
    for name in ("style.css", "help.js", "favicon.svg"):
        response = client.get(f"/static/{name}")
        assert response.status_code == 200
        body = response.get_data(as_text=True)
        assert "http://" not in body.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in body
        assert "@import" not in body and "url(" not in body


def test_package_data_ships_templates_and_static() -> None:
    import fnmatch
    import tomllib

    root = Path(__file__).resolve().parents[1]
    setuptools = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    package = root / "src" / "errkb" / "web"
    found = 0
    for folder in ("templates", "static"):
        name = f"errkb.web.{folder}"
        assert name in setuptools["packages"], f"{name} is not a package"
        globs = setuptools["package-data"][name]
        for path in (package / folder).iterdir():
            found += 1
            assert any(fnmatch.fnmatch(path.name, glob) for glob in globs), f"{path} is not in package-data"
    assert found >= 9


@pytest.fixture
def broken_search(monkeypatch: pytest.MonkeyPatch) -> str:
    secret = "13800138000 card 6222021234567890"

    def boom(self: KnowledgeBase, text: str, **kwargs: Any) -> Any:
        raise RuntimeError(f"bug while reading {text}")

    monkeypatch.setattr(KnowledgeBase, "search", boom)
    monkeypatch.delenv("ERRKB_DEBUG", raising=False)
    return secret


def test_a_bug_is_a_500_without_traceback_or_query(client: FlaskClient, broken_search: str,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for url in ("/api/search?q=", "/?q="):
        response = client.get(url + quote(broken_search))
        body = response.get_data(as_text=True)
        assert response.status_code == 500
        assert "Traceback" not in body and broken_search not in body and "RuntimeError" not in body
        assert "internal error" in body
    assert "internal error on /api/search: RuntimeError" in caplog.text
    assert broken_search not in caplog.text and "Traceback" not in caplog.text


def test_access_log_names_paths_never_queries(fixture_kb: Path, index_dir: Path,
                                              caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="errkb.web")
    client = create_app(fixture_kb, index_dir, access_log=True).test_client()
    secret = "身份信息已过期 13800138000"
    client.get("/?q=" + quote(secret))
    client.get("/api/search?limit=0&q=" + quote(secret))
    assert "GET / 200" in caplog.text and "GET /api/search 400" in caplog.text
    assert "13800138000" not in caplog.text and "身份" not in caplog.text


def test_a_missing_knowledge_base_is_503_and_said_in_the_log(tmp_path: Path,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    client = create_app(tmp_path / "no-kb", tmp_path / "index").test_client()
    assert api(client, "/api/search?q=limit", 503)["error"].startswith("the knowledge base cannot be used")
    assert "cannot answer /api/search" in caplog.text and "no-kb" in caplog.text
    assert "cannot be used right now" in page(client, "/browse", 503)


# -- edits and builds ----------------------------------------------------------------------------


def test_an_edit_shows_on_the_next_request(fixture_kb: Path, client: FlaskClient) -> None:
    assert "Identity verification expired" in page(client, "/articles/identity-outdated")
    path = fixture_kb / "identity-outdated.md"
    path.write_text(path.read_text(encoding="utf-8").replace(
        'title: "Identity verification expired"', 'title: "Identity check expired (edited)"'), encoding="utf-8")
    assert "<h1>Identity check expired (edited)</h1>" in page(client, "/articles/identity-outdated")
    assert api(client, "/api/search?q=identity+check+expired")["results"][0]["title"] == \
        "Identity check expired (edited)"
    (fixture_kb / "card-stolen.md").write_text(article_text("card-stolen", title="Card reported stolen"),
                                               encoding="utf-8")
    assert "Card reported stolen" in page(client, "/browse")


def test_a_build_in_progress_never_fails_a_request(fixture_kb: Path, index_dir: Path, client: FlaskClient,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="errkb.web")
    page(client, "/browse")  # the index exists
    path = fixture_kb / "identity-outdated.md"
    with store.build_lock(index_dir, 0):  # another `kb index` holds the lock
        path.write_text(path.read_text(encoding="utf-8").replace("Identity verification expired",
                                                                 "Identity expired (edited)"), encoding="utf-8")
        # Search answers from the published index; the article page reads the file as it is now.
        assert api(client, "/api/search?q=identity")["results"][0]["title"] == "Identity verification expired"
        assert "<h1>Identity expired (edited)</h1>" in page(client, "/articles/identity-outdated")
        assert "Identity verification expired" in page(client, "/browse")
    assert "another `kb index` is running: answering from the index as it was" in caplog.text
    assert api(client, "/api/search?q=identity")["results"][0]["title"] == "Identity expired (edited)"


def test_requests_during_builds_all_answer(fixture_kb: Path, index_dir: Path, client: FlaskClient) -> None:
    page(client, "/browse")
    builder = KnowledgeBase(fixture_kb, index_dir)
    stop = threading.Event()

    def build() -> None:
        for _ in range(6):
            builder.build(full=True, wait=5)
        stop.set()

    thread = threading.Thread(target=build)
    thread.start()
    statuses = []
    while not stop.is_set() and len(statuses) < 400:
        statuses.append(client.get("/api/search?q=daily+limit").status_code)
        statuses.append(client.get("/articles/alibaba-limit").status_code)
    thread.join()
    assert len(statuses) >= 4 and set(statuses) == {200}


def test_queued_requests_share_one_staleness_check(app: Flask, client: FlaskClient) -> None:
    from errkb.web.app import shared_kb

    with app.app_context():
        shared = shared_kb()
    page(client, "/browse")
    before = shared.checks
    page(client, "/articles/phone-number-differs")  # resolve, read, related titles: one check
    assert shared.checks == before + 1
    shared.recheck = 60.0
    page(client, "/browse")
    page(client, "/browse")
    assert shared.checks == before + 1  # reused, as --recheck 60 allows


def test_unwatched_a_check_is_reused_for_ten_times_what_it_took(fixture_kb: Path, index_dir: Path) -> None:
    from errkb.web.app import shared_kb
    from errkb.web.shared import RECHECK_FACTOR

    app = create_app(fixture_kb, index_dir, watched=False)
    client = app.test_client()
    with app.app_context():
        shared = shared_kb()
    page(client, "/browse")
    checks = shared.checks
    shared._last_duration = 30.0 / RECHECK_FACTOR  # as if checking took long: reused for 30 s
    page(client, "/browse")
    assert shared.checks == checks
    shared._last_duration = 0.0  # a check that cost nothing is made again by the next request
    page(client, "/browse")
    assert shared.checks == checks + 1


@pytest.fixture
def fresh_env(monkeypatch: pytest.MonkeyPatch, fixture_kb: Path, index_dir: Path) -> Iterator[None]:
    monkeypatch.setenv("ERRKB_KB_DIR", str(fixture_kb))
    monkeypatch.setenv("ERRKB_INDEX_DIR", str(index_dir))
    yield


def test_the_factory_reads_the_cli_environment(fresh_env: None) -> None:
    client = create_app().test_client()  # what `waitress-serve --call errkb.web:create_app` does
    assert api(client, "/api/search?q=E1001")["results"][0]["id"] == "card-expired-e1001"


def test_the_core_knows_nothing_of_the_web_and_the_web_nothing_of_the_terminal() -> None:
    import ast

    src = Path(__file__).resolve().parents[1] / "src" / "errkb"

    def imports(path: Path) -> set[str]:
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                module = node.module or ""
                found.add(("." * node.level + module).split(".")[0] if node.level == 0 else
                          "." * node.level + module)
        return found

    web_packages = {"flask", "werkzeug", "jinja2", "markupsafe", "waitress"}
    for path in src.glob("*.py"):
        assert not imports(path) & web_packages, path.name
    for path in (src / "web").glob("*.py"):
        names = imports(path)
        assert "click" not in names and not names & {"..cli", "..render", ".cli", ".render"}, path.name
