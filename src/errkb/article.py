"""Reading one article file: front matter, sections and fixes, with line numbers.

Parsing is lenient where it can be (it returns what it found, and `findings`
says what is wrong) and strict only where nothing sensible can be read: a file
that is not UTF-8, or front matter that is missing, unclosed or not YAML raises
`ArticleError` with the file and line. The checker (`validate.py`) turns the
rest of the rules into findings; the indexer indexes what parses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from .errors import ArticleError
from .model import Fix
from .tags import ALL_PLATFORMS_LABEL, PLATFORMS, platform_for_label

#: The level-2 headings every article has, in this order.
SECTIONS: tuple[str, ...] = ("What you see", "Why it happens", "Fixes", "Prevention", "Related")

FENCE = "---"
_HEADING = re.compile(r"^##\s+(.+?)\s*#*\s*$")
_FIX_START = re.compile(r"^(\d+)[.)]\s+(.*)$")
_FIX_LABEL = re.compile(r"^\*\*([^*]+?):\*\*\s*")
_RELATED_ID = re.compile(r"^[-*+]\s+`([^`]+)`")


@dataclass(frozen=True)
class Section:
    """One `##` section of the body."""

    title: str
    text: str
    line: int


@dataclass
class Article:
    """A parsed article. `meta` is the front matter as written; the typed
    attributes are the same data coerced to what search needs (empty when the
    front matter has the wrong type, which the checker reports)."""

    path: Path
    meta: dict[str, Any]
    body: str
    sections: list[Section]
    fixes: list[Fix]
    key_lines: dict[str, int]
    body_line: int
    warnings: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def id(self) -> str:
        value = self.meta.get("id")
        return value if isinstance(value, str) else ""

    @property
    def title(self) -> str:
        value = self.meta.get("title")
        return value if isinstance(value, str) else ""

    @property
    def platforms(self) -> list[str]:
        return _str_list(self.meta.get("platforms"))

    @property
    def causes(self) -> list[str]:
        return _str_list(self.meta.get("causes"))

    @property
    def codes(self) -> list[str]:
        return _str_list(self.meta.get("codes"))

    @property
    def related(self) -> list[str]:
        return _str_list(self.meta.get("related"))

    @property
    def sources(self) -> list[str]:
        return _str_list(self.meta.get("sources"))

    @property
    def messages(self) -> dict[str, list[str]]:
        """Messages by language; a plain list is read as language-unknown ("any")."""
        raw = self.meta.get("messages")
        if isinstance(raw, dict):
            return {str(lang): _str_list(items) for lang, items in raw.items()}
        if isinstance(raw, list):
            return {"any": _str_list(raw)}
        return {}

    @property
    def all_messages(self) -> list[str]:
        return [m for items in self.messages.values() for m in items]

    @property
    def updated(self) -> date | None:
        value = self.meta.get("updated")
        return value if isinstance(value, date) else None

    def section(self, title: str) -> Section | None:
        for section in self.sections:
            if section.title.lower() == title.lower():
                return section
        return None

    def line_of(self, key: str) -> int:
        """The line a front-matter key is on (the opening fence when absent)."""
        return self.key_lines.get(key, 1)


def _str_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(v) for v in value if isinstance(v, (str, int, float)) and str(v).strip()]
    return []


def decode(path: Path, raw: bytes) -> tuple[str, list[tuple[int, str, str]]]:
    """Bytes to text with LF line ends; a BOM is dropped, CRLF is noted."""
    notes: list[tuple[int, str, str]] = []
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ArticleError(path, line, "E001", f"not UTF-8 (byte {exc.start})") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r\n" in text:
        line = text[: text.index("\r\n")].count("\n") + 1
        notes.append((line, "W105", "CRLF line endings"))
        text = text.replace("\r\n", "\n")
    return text, notes


def split_front_matter(path: Path, text: str) -> tuple[str, str, int]:
    """Return (front matter, body, line of the body's first line)."""
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != FENCE:
        raise ArticleError(path, 1, "E002", "no front matter: the file must start with a '---' line")
    for number, line in enumerate(lines[1:], start=2):
        if line.rstrip() == FENCE:
            return "\n".join(lines[1 : number - 1]), "\n".join(lines[number:]), number + 1
    raise ArticleError(path, 1, "E003", "front matter is not closed: no second '---' line")


def load_front_matter(path: Path, source: str) -> tuple[dict[str, Any], dict[str, int]]:
    """Parse YAML safely and note the line of each top-level key.

    Lines are file lines: the front matter starts on line 2. PyYAML is
    imported here, not at the top: searching uses this module but never
    parses YAML, and the import costs ~20 ms per process.
    """
    import yaml

    try:  # the C loader is ~10x faster; both are "safe" (no object construction)
        loader = yaml.CSafeLoader(source)
    except AttributeError:  # pragma: no cover - depends on how PyYAML was built
        loader = yaml.SafeLoader(source)  # type: ignore[assignment]
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = (mark.line + 2) if mark is not None else 2
        problem = exc.problem or exc.context or "invalid YAML"
        raise ArticleError(path, line, "E004", f"front matter is not valid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise ArticleError(path, 2, "E004", f"front matter is not valid YAML: {exc}") from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        kind = "empty" if data is None else type(data).__name__
        raise ArticleError(path, 2, "E005", f"front matter must be a mapping of fields, not {kind}")
    key_lines: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, _ in node.value:
            key_lines[str(key_node.value)] = key_node.start_mark.line + 2
    return {str(k): v for k, v in data.items()}, key_lines


def split_sections(body: str, first_line: int) -> list[Section]:
    """Split the body at `##` headings (ignoring fenced code)."""
    sections: list[Section] = []
    title: str | None = None
    start = first_line
    buf: list[str] = []
    in_code = False
    for offset, line in enumerate(body.split("\n")):
        if line.lstrip().startswith("```"):
            in_code = not in_code
        match = None if in_code else _HEADING.match(line)
        if match:
            if title is not None:
                sections.append(Section(title, "\n".join(buf).strip(), start))
            title, start, buf = match.group(1).strip(), first_line + offset, []
        elif title is not None:
            buf.append(line)
    if title is not None:
        sections.append(Section(title, "\n".join(buf).strip(), start))
    return sections


def parse_fixes(section: Section | None, article_platforms: list[str]) -> list[Fix]:
    """The numbered items of the Fixes section, with their platform labels."""
    if section is None:
        return []
    items: list[tuple[int, list[str]]] = []
    for offset, line in enumerate(section.text.split("\n"), start=1):
        match = _FIX_START.match(line)
        if match:
            items.append((section.line + 1 + offset, [match.group(2).strip()]))
        elif items and line.strip():
            items[-1][1].append(line.strip())
    return [_make_fix(" ".join(parts), line, article_platforms) for line, parts in items]


def _make_fix(text: str, line: int, article_platforms: list[str]) -> Fix:
    match = _FIX_LABEL.match(text)
    if not match:
        return Fix(text, tuple(article_platforms), "", line)
    label = match.group(1).strip()
    rest = text[match.end() :].strip()
    if label.lower() == ALL_PLATFORMS_LABEL.lower():
        return Fix(rest, tuple(article_platforms), label, line)
    slugs = [platform_for_label(part) for part in re.split(r"\s*(?:/|,|\+|&|\band\b)\s*", label)]
    if slugs and all(slugs):
        return Fix(rest, tuple(dict.fromkeys(s for s in slugs if s)), label, line)
    # Not a platform label (e.g. "**Tip:**"): keep the text whole.
    return Fix(text, tuple(article_platforms), "", line)


def related_ids(section: Section | None) -> list[tuple[str, int]]:
    """Ids named by the Related section's bullets, with their lines."""
    if section is None:
        return []
    found = []
    for offset, line in enumerate(section.text.split("\n"), start=1):
        match = _RELATED_ID.match(line.strip())
        if match:
            found.append((match.group(1), section.line + 1 + offset))
    return found


def parse_text(path: Path, raw: bytes) -> Article:
    """Parse an article from its bytes; raises ArticleError when unreadable."""
    text, notes = decode(path, raw)
    source, body, body_line = split_front_matter(path, text)
    meta, key_lines = load_front_matter(path, source)
    sections = split_sections(body, body_line)
    platforms = [p for p in _str_list(meta.get("platforms")) if p in PLATFORMS]
    article = Article(
        path=path,
        meta=meta,
        body=body,
        sections=sections,
        fixes=[],
        key_lines=key_lines,
        body_line=body_line,
        warnings=notes,
    )
    article.fixes = parse_fixes(article.section("Fixes"), platforms)
    return article


def parse_file(path: Path) -> Article:
    """Read and parse one article file."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ArticleError(path, 1, "E018", f"cannot read: {exc.strerror or exc}") from None
    return parse_text(path, raw)


def section_plain_text(markdown_text: str) -> str:
    """Markdown to plain text for indexing and snippets: drops emphasis, code
    ticks, link targets and list markers, keeps the words. (Patterns as
    strings: `re` compiles and caches them on first use, not at import.)"""
    text = re.sub(r"```.*?```", " ", markdown_text, flags=re.S)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"(\*\*|__|`)", "", text)
    text = re.sub(r"^\s*(?:[-*+]|\d+[.)])\s+", "", text, flags=re.M)
    return re.sub(r"^#+\s*", "", text, flags=re.M)
