"""What a search answers with: an article's card, its fixes, a search hit
and a search result, as small typed immutable records (`reports` has what
`kb browse` and `kb info` answer with).

Each has one `as_json()`: the shape of the `--json` output (and, for the
card, of what the index stores), which `versions.JSON_SCHEMA_VERSION` names.

They are NamedTuples rather than frozen dataclasses because every `kb`
process builds them: a frozen dataclass compiles six methods from source at
import (~5 million instructions each, measured with callgrind), which for
these four was 4% of a search's whole start-up. A change is `_replace`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .tags import platform_names


class Fix(NamedTuple):
    """One numbered fix: its text (label removed), the platforms it applies
    to, its label as written, and its line in the file (0 when read from
    the index)."""

    text: str
    platforms: tuple[str, ...]
    label: str
    line: int = 0

    @property
    def shown_label(self) -> str:
        """The label as written, else the names of its platforms."""
        return self.label or platform_names(self.platforms)

    def as_json(self) -> dict[str, Any]:
        return {"text": self.text, "platforms": list(self.platforms), "label": self.label}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fix:
        return cls(str(data["text"]), tuple(data.get("platforms", ())), str(data.get("label", "")))


class ArticleCard(NamedTuple):
    """What result lists and snippets need of an article, stored in the index
    so that answering a query never re-reads article files."""

    id: str
    title: str
    platforms: tuple[str, ...]
    causes: tuple[str, ...]
    codes: tuple[str, ...]
    path: str
    messages: tuple[str, ...]
    summary: str  # "What you see", as plain text
    why: str  # "Why it happens", as plain text
    fixes: tuple[Fix, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "platforms": list(self.platforms),
            "causes": list(self.causes),
            "codes": list(self.codes),
            "path": self.path,
            "messages": list(self.messages),
            "summary": self.summary,
            "why": self.why,
            "fixes": [fix.as_json() for fix in self.fixes],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ArticleCard:
        return cls(
            id=str(data["id"]),
            title=str(data["title"]),
            platforms=tuple(data["platforms"]),
            causes=tuple(data["causes"]),
            codes=tuple(data.get("codes", ())),
            path=str(data["path"]),
            messages=tuple(data.get("messages", ())),
            summary=str(data.get("summary", "")),
            why=str(data.get("why", "")),
            fixes=tuple(Fix.from_json(f) for f in data.get("fixes", ())),
        )


class SearchHit(NamedTuple):
    """One ranked article, with what the CLI shows for it."""

    id: str
    title: str
    score: float
    platforms: tuple[str, ...]
    causes: tuple[str, ...]
    path: str
    snippet: str
    snippet_spans: tuple[tuple[int, int], ...]
    fixes: tuple[Fix, ...]
    matched: tuple[str, ...]
    exact_message: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "score": round(self.score, 4),
            "platforms": list(self.platforms),
            "causes": list(self.causes),
            "path": self.path,
            "snippet": self.snippet,
            "snippet_spans": [list(span) for span in self.snippet_spans],
            "fixes": [fix.as_json() for fix in self.fixes],
            "matched_terms": list(self.matched),
            "exact_message": self.exact_message,
        }


class SearchResult(NamedTuple):
    """The answer to one query."""

    query: str
    platforms_named: tuple[str, ...] = ()
    truncated: bool = False
    hits: tuple[SearchHit, ...] = ()
    confident: bool = False
    coverage: float = 0.0
    suggestion: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "confident": self.confident,
            "coverage": round(self.coverage, 3),
            "suggestion": self.suggestion,
            "platforms_named": list(self.platforms_named),
            "truncated": self.truncated,
            "results": [hit.as_json() for hit in self.hits],
        }
