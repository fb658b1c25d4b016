"""Why a result matched: the passage of an article that best covers the query.

Candidates are the article's messages, then the sentences of "What you see"
and "Why it happens". Spans are character offsets into the snippet, so the
CLI can colour them and JSON consumers can mark them however they like.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from .analysis import iter_tokens, terms
from .model import ArticleCard

MAX_SNIPPET_CHARS = 220
_SENTENCE = re.compile(r"(?<=[.!?。！？])\s+|\n+")


class Snippet(NamedTuple):
    text: str
    spans: tuple[tuple[int, int], ...]


def _spans(text: str, wanted: set[str]) -> list[tuple[int, int]]:
    """Matched character ranges, overlapping ones (Chinese bigrams) merged."""
    merged: list[tuple[int, int]] = []
    for term, start, end in iter_tokens(text):
        if term not in wanted:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def best_snippet(card: ArticleCard, query_terms: set[str]) -> Snippet:
    """Pick the candidate passage matching the most distinct query terms."""
    messages = list(card.messages)
    prose = f"{card.summary} {card.why}"
    candidates = messages + [s.strip() for s in _SENTENCE.split(prose) if s.strip()]
    best: tuple[int, int, str] | None = None
    for order, text in enumerate(candidates):
        matched = query_terms.intersection(terms(text))
        key = (len(matched), -order)
        if best is None or key > best[:2]:
            best = (key[0], key[1], text)
    text = best[2] if best else card.title
    if len(text) > MAX_SNIPPET_CHARS:
        text = text[: MAX_SNIPPET_CHARS - 1].rstrip() + "…"
    return Snippet(text, tuple(_spans(text, query_terms)))
