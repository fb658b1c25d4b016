"""What templates show that is not in the core's answers: the highlighted
snippet, platform names, the plain-text reply. Everything returned as
`Markup` is escaped here piece by piece."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from markupsafe import Markup, escape

from ..article import section_plain_text

if TYPE_CHECKING:
    from ..article import Article
    from ..model import Fix

#: Fixes shown under each confident result (as `kb search` shows).
SHOWN_FIXES = 3


def highlight(text: str, spans: Sequence[Sequence[int]]) -> Markup:
    """The snippet with its matched spans in <mark>, everything escaped."""
    out, last = [], 0
    for start, end in spans:
        if start < last or end > len(text):
            continue
        out.append(escape(text[last:start]))
        out.append(Markup("<mark>%s</mark>") % text[start:end])
        last = end
    out.append(escape(text[last:]))
    return Markup("").join(out)


def is_url(source: str) -> bool:
    return source.startswith("https://")


def reply_text(article: Article, fixes: Sequence[Fix]) -> str:
    """The article as plain text for a help-desk reply: the title, what the
    user sees and why, the fixes numbered with their platform, prevention."""
    parts = [article.title]
    for title in ("What you see", "Why it happens"):
        section = article.section(title)
        if section is not None and section.text:
            parts.append(_plain(section.text))
    if fixes:
        lines = ["What to try:"]
        for number, fix in enumerate(fixes, start=1):
            label = fix.shown_label
            text = _plain(fix.text)
            lines.append(f"{number}. {label}: {text}" if label else f"{number}. {text}")
        parts.append("\n".join(lines))
    prevention = article.section("Prevention")
    if prevention is not None and prevention.text:
        parts.append("To avoid it next time:\n" + "\n".join(
            f"- {_plain(line.lstrip('-*+ ').strip())}" for line in prevention.text.split("\n") if line.strip()))
    return "\n\n".join(parts) + "\n"


def _plain(markdown_text: str) -> str:
    return " ".join(section_plain_text(markdown_text).split())
