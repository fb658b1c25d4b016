"""Text for people: search results, article pages and lists, laid out for a
terminal and (optionally) coloured. Part of the CLI layer; the core never prints.

One Markdown renderer (`inline`, `blocks`) serves search and show alike.
Everything that came from an article, a file name or the user goes through
`terminal.clean` before it is styled (control characters become visible
escapes); widths are display columns (`terminal.wrap`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import click

from .model import ArticleCard, Fix, SearchHit, SearchResult
from .tags import platform_names
from .terminal import clean, clean_line, display_width, truncate, wrap

if TYPE_CHECKING:
    from .article import Article
    from .reports import BrowseResult

#: Fixes shown per result in `kb search --full` before "N more fixes".
SHOWN_FIXES = 3
#: Said first when the answer is only the closest guesses.
NOT_CONFIDENT = "No confident match."
COVERAGE = ("errkb covers payment errors on Taobao, Alipay and Alibaba.com; "
            "for delivery or refunds, ask the seller.")


class Painter(NamedTuple):
    """Applies ANSI styles only when colour is on."""

    color: bool

    def __call__(self, text: str, **style: Any) -> str:
        return click.style(text, **style) if self.color else text


def paint_lines(text: str, paint: Painter, **style: Any) -> str:
    """Style each line on its own, so that no indent is underlined."""
    return "\n".join(paint(line, **style) for line in text.split("\n"))


# -- Markdown ---------------------------------------------------------------

#: The inline Markdown errkb's articles use: `code`, **bold**, [text](url), <url>.
_INLINE = re.compile(r"`([^`]+)`|\*\*(.+?)\*\*|\[([^\]]+)\]\(([^)\s]+)\)|<(https?://[^>\s]+)>")


def inline(text: str, paint: Painter) -> str:
    """Inline Markdown as terminal text: code in cyan, bold as bold, a link
    as its text and address. Input is cleaned first."""

    def one(m: re.Match[str]) -> str:
        code, bold, label, url, bare = m.groups()
        if code is not None:
            return paint(code, fg="cyan")
        if bold is not None:
            return paint(bold, bold=True)
        if label is not None:
            return f"{label} " + paint(f"<{url}>", fg="blue")
        return paint(bare, fg="blue")

    return _INLINE.sub(one, clean(text))


def plain(text: str) -> str:
    """Inline Markdown with its marks removed (for one-line views)."""
    return inline(text, Painter(False))


def blocks(text: str) -> list[tuple[str, str]]:
    """A Markdown section as blocks: ("p", text), ("li", text), ("ol", text)
    or ("break", "") between paragraphs; lines of one block are joined."""
    out: list[tuple[str, list[str]]] = []
    for line in text.split("\n"):
        stripped = line.strip()
        if not stripped:
            if out and out[-1][0] != "break":
                out.append(("break", []))
            continue
        numbered = re.match(r"\d+[.)]\s+", stripped)
        if stripped.startswith(("- ", "* ", "+ ")):
            out.append(("li", [stripped[2:]]))
        elif numbered:
            out.append(("ol", [stripped]))
        elif out and out[-1][0] != "break":
            out[-1][1].append(stripped)
        else:
            out.append(("p", [stripped]))
    while out and out[-1][0] == "break":
        out.pop()
    return [(kind, " ".join(parts)) for kind, parts in out]


def render_blocks(text: str, paint: Painter, width: int, indent: str = "  ") -> list[str]:
    """A section's Markdown, wrapped; a blank line between paragraphs (and
    between a paragraph and a list), none between the items of one list."""
    lines: list[str] = []
    for kind, body in blocks(text):
        if kind == "break":
            lines.append("")
        elif kind == "li":
            lines.append(wrap(inline(body, paint), width, indent + "  ", first=indent + "- "))
        elif kind == "ol":
            number, rest = body.split(None, 1) if " " in body else (body, "")
            lines.append(wrap(inline(rest, paint), width, indent + " " * (len(number) + 1),
                              first=f"{indent}{number} "))
        else:
            lines.append(wrap(inline(body, paint), width, indent))
    return lines


# -- search -----------------------------------------------------------------

def highlight(text: str, spans: Sequence[tuple[int, int]], paint: Painter) -> str:
    """Mark matched spans: bold yellow in colour, [brackets] without."""
    out, last = [], 0
    for start, end in spans:
        out.append(clean(text[last:start]))
        piece = clean(text[start:end])
        out.append(paint(piece, fg="yellow", bold=True) if paint.color else f"[{piece}]")
        last = end
    out.append(clean(text[last:]))
    return " ".join("".join(out).split())


def fix_text(fix: Fix, paint: Painter) -> str:
    label = fix.shown_label
    body = inline(fix.text, paint)
    return f"{paint(clean(label) + ':', bold=True)} {body}" if label else body


def one_line(number: int, title: str, article_id: str, paint: Painter, width: int) -> str:
    """`N. Title…  id` in at most `width` columns: the title is cut, never the id."""
    head = f"{number}. "
    tail = "  " + clean_line(article_id)
    room = width - display_width(head) - display_width(tail)
    return head + paint(truncate(clean_line(plain(title)), max(room, 10)), bold=True) + paint(tail, dim=True)


def _hit_in_full(rank: int, hit: SearchHit, confident: bool, paint: Painter, width: int,
                 shown_fixes: int | None) -> list[str]:
    head = f"{rank}. "
    title = wrap(clean_line(plain(hit.title)), width, " " * len(head), first=head)
    lines = [paint_lines(title, paint, bold=True)]
    meta = f"{clean_line(hit.id)} · {platform_names(hit.platforms)} · score {hit.score:.1f}"
    lines.append("   " + paint(meta, dim=True))
    lines.append(wrap(highlight(hit.snippet, hit.snippet_spans, paint), width, "     ", first="   > "))
    if not confident:  # a guess: no fixes, just where to look
        lines.append("   " + paint(f"kb show {clean_line(hit.id)}", dim=True))
        return lines
    fixes = hit.fixes if shown_fixes is None else hit.fixes[:shown_fixes]
    for number, fix in enumerate(fixes, start=1):
        lines.append(wrap(fix_text(fix, paint), width, "      ", first=f"   {number}. "))
    more = len(hit.fixes) - len(fixes)
    tail = f"{more} more fix{'es' if more > 1 else ''}: " if more > 0 else "details: "
    lines.append("   " + paint(f"{tail}kb show {clean_line(hit.id)}", dim=True))
    return lines


def render_search(result: SearchResult, paint: Painter, width: int, full: bool = False) -> str:
    """The ranked results of `kb search`.

    Short by default: when the first result is confident, it is shown with
    all its fixes and the others one line each; when not, that is said first,
    with what errkb covers, and every result is one line. `full` shows every
    result with its snippet (and, when confident, its fixes)."""
    lines: list[str] = []
    if not result.confident:
        lines.append(paint(NOT_CONFIDENT, fg="yellow", bold=True) + " Closest articles:")
        lines.append(wrap(COVERAGE, width))
        lines.append("")
    for rank, hit in enumerate(result.hits, start=1):
        if full:
            lines.extend(_hit_in_full(rank, hit, result.confident, paint, width, SHOWN_FIXES))
            lines.append("")
        elif rank == 1 and result.confident:
            lines.extend(_hit_in_full(rank, hit, True, paint, width, None))
            if len(result.hits) > 1:
                lines.extend(["", "Also:"])
        else:
            lines.append(one_line(rank, hit.title, hit.id, paint, width))
    if not full and len(result.hits) > 0:
        lines.append("")
    if result.suggestion:
        lines.append(f"Did you mean: {paint(clean_line(result.suggestion), bold=True)}")
    return "\n".join(lines).rstrip() + "\n"


# -- lists --------------------------------------------------------------------

def _listing_line(card: ArticleCard, id_width: int, paint: Painter, width: int | None,
                  tags: bool) -> str:
    ident = clean_line(card.id)
    title = clean_line(card.title)
    tail = f"  [{', '.join(card.platforms)}]" if tags else ""
    if width is not None:
        room = width - id_width - 2 - display_width(tail)
        title = truncate(title, max(room, 10))
    return f"{paint(ident.ljust(id_width), bold=True)}  {title}" + (paint(tail, dim=True) if tail else "")


def render_list(cards: Sequence[ArticleCard], paint: Painter, width: int | None) -> str:
    """`kb list`: every id with its title, one a line (cut to `width` with … when given)."""
    id_width = max((display_width(clean_line(c.id)) for c in cards), default=0)
    return "".join(_listing_line(c, id_width, paint, width, tags=False) + "\n" for c in cards)


def render_codes(listed: Sequence[tuple[str, ArticleCard]], paint: Painter, width: int | None) -> str:
    """`kb codes`: every code, then the id and title of its article (cut to `width` with … when given)."""
    code_width = max((display_width(clean_line(code)) for code, _ in listed), default=0)
    lines = []
    for code, card in listed:
        ident = clean_line(card.id)
        title = clean_line(card.title)
        if width is not None:
            title = truncate(title, max(width - code_width - display_width(ident) - 4, 10))
        lines.append(f"{paint(clean_line(code).ljust(code_width), bold=True)}  {ident}  {paint(title, dim=True)}")
    return "".join(line + "\n" for line in lines)


def render_browse(result: BrowseResult, paint: Painter, width: int | None = None) -> str:
    """`kb browse`: one line per article (titles cut to `width` with … when given), then the tag counts."""
    if not result.articles:
        return ""
    id_width = max(display_width(clean_line(a.id)) for a in result.articles)
    lines = [_listing_line(a, id_width, paint, width, tags=True) for a in result.articles]
    lines.append("")
    lines.append(f"{len(result.articles)} articles")
    lines.append("platforms: " + ", ".join(f"{k} {v}" for k, v in result.platform_counts.items()))
    lines.append("causes:    " + ", ".join(f"{k} {v}" for k, v in result.cause_counts.items()))
    return "\n".join(lines) + "\n"


# -- one article ------------------------------------------------------------------

def render_article(article: Article, paint: Painter, width: int) -> str:
    """`kb show`: the article laid out for a terminal."""
    lines = [paint_lines(wrap(clean_line(plain(article.title)), width), paint, bold=True, underline=True), ""]
    lines.append(wrap(f"id: {clean_line(article.id)} · platforms: {platform_names(article.platforms)}", width))
    lines.append(wrap(f"causes: {', '.join(clean_line(c) for c in article.causes)}", width))
    if article.codes:
        lines.append(wrap(f"codes: {', '.join(clean_line(c) for c in article.codes)}", width))
    lines.append("")
    lines.append(paint("Messages", bold=True))
    for lang, items in article.messages.items():
        for message in items:
            lines.append(wrap(clean_line(message), width, "      ", first=f"  {clean_line(lang)}  "))
    for section in article.sections:
        lines.append("")
        lines.append(paint(clean_line(section.title), bold=True, fg="green"))
        if section.title == "Fixes":
            for number, fix in enumerate(article.fixes, start=1):
                lines.append(wrap(fix_text(fix, paint), width, "     ", first=f"  {number}. "))
        elif section.title == "Related":
            for rid in article.related:
                lines.append(f"  - {clean_line(rid)}  " + paint(f"(kb show {clean_line(rid)})", dim=True))
        else:
            lines.extend(render_blocks(section.text, paint, width))
    lines.append("")
    sources = wrap("Sources: " + ", ".join(clean_line(s) for s in article.sources), width, "  ")
    lines.append(paint_lines(sources, paint, dim=True))
    lines.append(paint_lines(wrap(f"File: {clean_line(str(article.path))}", width, "  "), paint, dim=True))
    return "\n".join(lines) + "\n"
