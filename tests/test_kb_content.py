"""The shipped knowledge base: valid, and covering every required topic."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import REAL_KB, SHARED, requires_shared
from errkb.validate import check_kb


def test_shipped_articles_pass_check_without_errors() -> None:
    result = check_kb(REAL_KB)
    assert [str(f) for f in result.errors] == []
    assert len(result.articles) >= 20


def test_every_fix_section_has_platform_labels() -> None:
    for article in check_kb(REAL_KB).articles:
        assert all(fix.label for fix in article.fixes), article.path


@requires_shared()
def test_every_coverage_topic_has_exactly_one_article() -> None:
    topics = yaml.safe_load((SHARED / "coverage.yaml").read_text(encoding="utf-8"))["topics"]
    articles = check_kb(REAL_KB).articles
    by_id: dict[str, list[Path]] = {}
    for article in articles:
        by_id.setdefault(article.id, []).append(article.path)
    for topic in topics:
        assert len(by_id.get(topic["id"], [])) == 1, topic["id"]
        article = next(a for a in articles if a.id == topic["id"])
        assert set(topic["platforms"]) <= set(article.platforms), topic["id"]
        assert set(topic["sources"]) <= set(article.sources), topic["id"]


@requires_shared()
def test_sources_name_real_guides_or_https_pages() -> None:
    guides = {p.name for p in (SHARED / "guides").iterdir()}
    for article in check_kb(REAL_KB).articles:
        pages = {s for s in article.sources if s.startswith("https://")}
        assert set(article.sources) - pages <= guides, article.path
        assert not article.codes or pages, f"{article.path}: codes without the page that documents them"


@pytest.mark.parametrize("query,expected", [
    ("支付宝 身份信息过期", "identity-verification-expired"),
])
def test_readme_example_query_finds_its_article(query: str, expected: str, tmp_path: Path) -> None:
    from errkb.kb import KnowledgeBase

    result = KnowledgeBase(REAL_KB, tmp_path / "index").search(query)
    assert result.hits[0].id == expected
