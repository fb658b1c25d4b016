"""Text for people: search results, article pages and lists, wrapped and
(optionally) coloured. Part of the CLI layer; the core never prints."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from .model import BrowseResult, Fix, SearchResult
from .tags import PLATFORMS

if TYPE_CHECKING:
    from .article import Article

SHOWN_FIXES = 3


@dataclass(frozen=True)
class Painter:
    """Applies ANSI styles only when colour is on."""

    color: bool

    def __call__(self, text: str, **style: Any) -> str:
        return click.style(text, **style) if self.color else text


def platform_names(slugs: Sequence[str]) -> str:
    return ", ".join(PLATFORMS.get(s, s) for s in slugs)


def wrap(text: str, width: int, indent: str, first: str | None = None) -> str:
    """Wrap to the terminal width; CJK text wraps by characters, which
    textwrap handles because it has no spaces to keep."""
    return textwrap.fill(
        " ".join(text.split()), width=max(width, 40), initial_indent=first if first is not None else indent,
        subsequent_indent=indent, break_long_words=True, break_on_hyphens=False,
    )


def highlight(text: str, spans: Sequence[tuple[int, int]], paint: Painter) -> str:
    """Mark matched spans: bold yellow in colour, [brackets] without."""
    out, last = [], 0
    for start, end in spans:
        out.append(text[last:start])
        piece = text[start:end]
        out.append(paint(piece, fg="yellow", bold=True) if paint.color else f"[{piece}]")
        last = end
    out.append(text[last:])
    return "".join(out)


def fix_line(fix: Fix) -> str:
    label = fix.label or platform_names(fix.platforms)
    return f"{label}: {fix.text}" if label else fix.text


def render_search(result: SearchResult, paint: Painter, width: int) -> str:
    """The ranked results of `kb search`."""
    lines: list[str] = []
    if not result.confident:
        lines.append(paint("No confident match.", fg="yellow", bold=True) + " Closest articles:")
        lines.append("")
    for rank, hit in enumerate(result.hits, start=1):
        head = f"{rank}. {paint(hit.title, bold=True)}"
        lines.append(head)
        meta = f"{hit.id} · {platform_names(hit.platforms)} · score {hit.score:.1f}"
        lines.append("   " + paint(meta, dim=True))
        snippet = highlight(hit.snippet, hit.snippet_spans, paint)
        lines.append(wrap(snippet, width, "     ", first="   > "))
        if not result.confident:  # a guess: no fixes, just where to look
            lines.extend(["   " + paint(f"kb show {hit.id}", dim=True), ""])
            continue
        for number, fix in enumerate(hit.fixes[:SHOWN_FIXES], start=1):
            lines.append(wrap(fix_line(fix), width, "      ", first=f"   {number}. "))
        more = len(hit.fixes) - SHOWN_FIXES
        tail = f"{more} more fix{'es' if more > 1 else ''}: " if more > 0 else "details: "
        lines.append("   " + paint(f"{tail}kb show {hit.id}", dim=True))
        lines.append("")
    if result.suggestion:
        lines.append(f"Did you mean: {paint(result.suggestion, bold=True)}")
    return "\n".join(lines).rstrip() + "\n"


def render_browse(result: BrowseResult, paint: Painter) -> str:
    """`kb browse`: one line per article, then the tag counts."""
    if not result.articles:
        return ""
    width = max(len(a.id) for a in result.articles)
    lines = [
        f"{paint(a.id.ljust(width), bold=True)}  {a.title}  " + paint(f"[{', '.join(a.platforms)}]", dim=True)
        for a in result.articles
    ]
    lines.append("")
    lines.append(f"{len(result.articles)} articles")
    lines.append("platforms: " + ", ".join(f"{k} {v}" for k, v in result.platform_counts.items()))
    lines.append("causes:    " + ", ".join(f"{k} {v}" for k, v in result.cause_counts.items()))
    return "\n".join(lines) + "\n"


_INLINE = re.compile(r"\*\*(.+?)\*\*|`([^`]+)`")


def _inline(text: str, paint: Painter) -> str:
    return _INLINE.sub(lambda m: paint(m.group(1), bold=True) if m.group(1) else paint(m.group(2), fg="cyan"), text)


def blocks(text: str) -> list[tuple[bool, str]]:
    """Paragraphs and bullet items of a Markdown section, each as one line of text."""
    out: list[tuple[bool, list[str]]] = []
    for line in text.split("\n"):
        stripped = line.strip()
        if not stripped:
            out.append((False, []))
        elif stripped.startswith(("- ", "* ")):
            out.append((True, [stripped[2:]]))
        elif out and out[-1][1]:
            out[-1][1].append(stripped)
        else:
            out.append((False, [stripped]))
    return [(bullet, " ".join(parts)) for bullet, parts in out if parts]


def render_article(article: Article, paint: Painter, width: int) -> str:
    """`kb show`: the article laid out for a terminal."""
    lines = [paint(article.title, bold=True, underline=True), ""]
    lines.append(f"id: {article.id}   platforms: {platform_names(article.platforms)}")
    lines.append(f"causes: {', '.join(article.causes)}")
    if article.codes:
        lines.append(f"codes: {', '.join(article.codes)}")
    lines.append("")
    lines.append(paint("Messages", bold=True))
    for lang, items in article.messages.items():
        for message in items:
            lines.append(wrap(message, width, "      ", first=f"  {lang}  "))
    for section in article.sections:
        lines.append("")
        lines.append(paint(section.title, bold=True, fg="green"))
        if section.title == "Fixes":
            for number, fix in enumerate(article.fixes, start=1):
                label = paint(fix.label + ":", bold=True) + " " if fix.label else ""
                lines.append(wrap(label + _inline(fix.text, paint), width, "     ", first=f"  {number}. "))
        elif section.title == "Related":
            for rid in article.related:
                lines.append(f"  - {rid}  " + paint(f"(kb show {rid})", dim=True))
        else:
            for bullet, text in blocks(section.text):
                lines.append(wrap(_inline(text, paint), width, "    " if bullet else "  ",
                                  first="  - " if bullet else "  "))
    lines.append("")
    lines.append(paint("Sources: " + ", ".join(article.sources), dim=True))
    lines.append(paint(f"File: {article.path}", dim=True))
    return "\n".join(lines) + "\n"
