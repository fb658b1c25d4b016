"""The help centre in a real browser: Debian's headless Chromium, driven by
Playwright (its Python package, pointed at /usr/bin/chromium: no browser is
downloaded). Loads the search page of a real `kb serve`, pastes a Chinese
error, follows the first result, copies the reply, and takes screenshots at
desktop and phone widths into build/screenshots/ (checked not to be blank).

Skipped with the reason when Chromium or Playwright is missing, except in CI
(CI=true), where .ci/run installs Chromium and a skip would hide a failure.
"""

from __future__ import annotations

import os
import shutil
import struct
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from test_web_serve import running_server

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "build" / "screenshots"
CHROMIUM = os.environ.get("ERRKB_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PASTE = "订单号 2026112012345\n淘宝提示：身份信息已过期，请重新认证\n12:03:44 请稍后再试"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

pytestmark = pytest.mark.slow


def _missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    missing = _missing()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the browser tests: {missing}")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="errkb-chromium-") as profile, sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=FLAGS, headless=True, viewport=DESKTOP)
        try:
            yield context
        finally:
            context.close()


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and the unfiltered rows of an 8-bit RGB/RGBA PNG (what
    Chromium writes), with the standard library only."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = chunk
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    width, height, depth, color = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and color in (2, 6), (depth, color)
    bpp = 3 if color == 2 else 4
    raw, stride = zlib.decompress(idat), width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up, corner = prev[i], prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, [bytes(r[i:i + 3]) for r in rows for i in range(0, stride, bpp)]  # type: ignore[misc]


def assert_not_blank(path: Path) -> None:
    """Many colours, and a good share of pixels that are not the background."""
    width, height, pixels = png_pixels(path.read_bytes())
    sample = pixels[::7]
    background = max(set(sample), key=sample.count)
    inked = sum(1 for p in sample if p != background) / len(sample)
    assert len(set(sample)) > 50 and inked > 0.03, (path, len(set(sample)), inked)


def shoot(page: Any, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert_not_blank(path)
    return path


def test_paste_search_follow_copy_and_screenshots(browser: Any, fixture_kb: Path, index_dir: Path) -> None:
    with running_server(fixture_kb, index_dir) as (url, _):
        browser.grant_permissions(["clipboard-read", "clipboard-write"], origin=url)
        page = browser.new_page()
        errors: list[str] = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("requestfailed", lambda request: errors.append(f"failed {request.url}"))
        outside: list[str] = []
        page.on("request", lambda request: None if request.url.startswith(url) else outside.append(request.url))
        page.goto(url + "/")
        page.fill("textarea#q", PASTE)
        page.select_option("select[name=cause]", "")
        page.click("form.search button[type=submit]")
        page.wait_for_selector("ol.hits li.hit")
        assert "q=" in page.url and "%E8%BA%AB%E4%BB%BD" in page.url  # the address holds the query
        first = page.locator("ol.hits li.hit h2 a").first
        assert first.inner_text() == "Identity verification expired"
        assert page.locator("ol.hits li.hit").first.locator("mark").first.inner_text() == "身份信息已过期"
        shoot(page, "search-desktop")
        page.set_viewport_size(PHONE)
        shoot(page, "search-phone")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scroll
        page.set_viewport_size(DESKTOP)

        first.click()
        page.wait_for_selector("article.article h1")
        assert page.url.endswith("/articles/identity-outdated?first=taobao")
        labels = page.locator("ol.fixes li .label").all_inner_texts()
        assert labels == ["Taobao", "All platforms", "Alipay"]
        assert "身份信息已过期，请重新认证" in page.locator("section.messages").inner_text()
        copy = page.locator("p.actions button.copy")
        assert copy.is_visible()  # shown by the script; hidden without it
        copy.click()
        # (a selector, not wait_for_function: the page's CSP forbids the eval that polling uses)
        page.locator("p.actions button.copy", has_text="Copied").wait_for()
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied == page.locator("#reply-text").input_value()
        assert copied.startswith("Identity verification expired\n") and "1. Taobao: Retry the order" in copied
        shoot(page, "article-desktop")
        page.set_viewport_size(PHONE)
        shoot(page, "article-phone")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.close()
        assert errors == [] and outside == []  # nothing failed, nothing fetched from elsewhere


def test_readable_without_javascript(browser: Any, fixture_kb: Path, index_dir: Path) -> None:
    with running_server(fixture_kb, index_dir) as (url, _):
        page = browser.new_page()
        page.route("**/static/help.js", lambda route: route.abort())  # as if scripts were off
        page.goto(f"{url}/?q=daily+limit+exceeded")
        assert page.locator("ol.hits li.hit h2 a").first.inner_text() == "Payment exceeds the daily limit"
        page.locator("ol.hits li.hit h2 a").first.click()
        page.wait_for_selector("article.article h1")
        assert not page.locator("p.actions button.copy").is_visible()  # no dead button
        assert "Split the order into smaller payments." in page.locator("#reply-text").input_value()
        page.goto(f"{url}/browse?platform=alibaba")
        assert "1 article" in page.locator("p.count").inner_text()
        shoot(page, "browse-nojs-desktop")
        page.close()
