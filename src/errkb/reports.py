"""What `kb browse` and `kb info` answer with, as small frozen dataclasses,
each with one `as_json()` (the `--json` shapes).

Apart from `model` because a search needs none of them: Python builds a
dataclass's methods from source when its module is imported (~1 ms each),
and every `kb search` would pay for these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .model import ArticleCard

#: The keys of an article in `kb browse` listings.
LISTING_KEYS = ("id", "title", "platforms", "causes", "path")


@dataclass(frozen=True)
class BrowseResult:
    """Articles with the requested tags, and counts per tag among them."""

    articles: tuple[ArticleCard, ...]
    platform_counts: dict[str, int]
    cause_counts: dict[str, int]

    def listing(self) -> list[dict[str, Any]]:
        """Each article as `kb browse --jsonl` prints it."""
        return [{key: card.as_json()[key] for key in LISTING_KEYS} for card in self.articles]

    def as_json(self) -> dict[str, Any]:
        return {
            "articles": self.listing(),
            "counts": {"platforms": self.platform_counts, "causes": self.cause_counts},
        }


@dataclass(frozen=True)
class IndexStatus:
    """The published index, as its pointer describes it."""

    generation: str
    articles: int
    built_at: str  # UTC, ISO 8601
    age_seconds: int
    errkb_version: str
    index_format: str

    def as_json(self) -> dict[str, Any]:
        return {"generation": self.generation, "articles": self.articles, "built_at": self.built_at,
                "age_seconds": self.age_seconds, "errkb_version": self.errkb_version,
                "index_format": self.index_format}


@dataclass(frozen=True)
class KnowledgeBaseInfo:
    """Where the articles and the index are, the index's state, versions
    (what `kb info` prints)."""

    errkb_version: str
    article_format: int
    index_format: str
    kb_dir: str
    index_dir: str
    articles_on_disk: int | None  # None: the folder is missing
    index: IndexStatus | None  # None: not built yet, or unreadable (`index_problem`)
    index_problem: str | None

    def as_json(self) -> dict[str, Any]:
        return {"errkb_version": self.errkb_version, "article_format": self.article_format,
                "index_format": self.index_format, "kb_dir": self.kb_dir, "index_dir": self.index_dir,
                "articles_on_disk": self.articles_on_disk,
                "index": None if self.index is None else self.index.as_json(),
                "index_problem": self.index_problem}
