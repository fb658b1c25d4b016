"""Query-time synonyms: the words users type for what the articles call otherwise.

The groups live in `data/synonyms.txt` (one group a line). Each entry is
analysed with the index analyzer, so "Rejected" and "rejects" both meet the
group of "declined". A Chinese entry fires when it appears anywhere in the
pasted text (封 in 封了 or 解封, which bigrams would split differently); an
English word fires when its term is in the query, and an English phrase
("blank page", "sign up") only where the query says it, words in that order:
its stop words ("up") carry meaning that its terms alone would lose.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from .analysis import all_han, terms

SYNONYMS_FILE = Path(__file__).with_name("data") / "synonyms.txt"
#: What separates words in a phrase test: anything but letters, digits and the apostrophe.
_NON_WORD = re.compile(r"[^\w']+|_+")


class Entry(NamedTuple):
    """One way of saying it: the text as written and its analysed terms."""

    text: str
    terms: tuple[str, ...]
    phrase: str  # an English entry of several words, as `_words` spaces it; else ""

    def fires(self, query_terms: set[str], query_text: str, query_words: str) -> bool:
        if all_han(self.text):
            return self.text in query_text
        if self.phrase:
            return self.phrase in query_words
        return bool(self.terms) and set(self.terms) <= query_terms


def _words(text: str) -> str:
    """Lowercased words between single spaces, with a space at each end, so
    that a phrase is found by a substring test at word boundaries."""
    return " " + " ".join(_NON_WORD.split(text.lower())).strip() + " "


def _entry(text: str) -> Entry:
    phrase = _words(text) if len(text.split()) > 1 and not all_han(text) else ""
    return Entry(text, tuple(terms(text)), phrase)


class Expansion(NamedTuple):
    """What one group adds to a query: the query terms it stands in for,
    and its other entries' terms, each with its share of one synonym's weight."""

    origin: frozenset[str]
    alternatives: dict[str, float]


class Synonyms(NamedTuple):
    groups: tuple[tuple[Entry, ...], ...]

    def expand(self, query_terms: set[str], folded: str) -> list[Expansion]:
        """One expansion per group that fires on the query (its terms, and its
        text folded by `analysis.fold`)."""
        found = []
        words = _words(folded)
        for group in self.groups:
            fired = [entry for entry in group if entry.fires(query_terms, folded, words)]
            if not fired:
                continue
            origin = frozenset(t for entry in fired for t in entry.terms if t in query_terms)
            alternatives: dict[str, float] = {}
            for entry in group:
                if entry in fired or not entry.terms:
                    continue
                share = 1.0 / len(entry.terms)
                for term in entry.terms:
                    if term not in query_terms:
                        alternatives[term] = max(alternatives.get(term, 0.0), share)
            if alternatives:
                found.append(Expansion(origin, alternatives))
        return found


def parse(text: str) -> Synonyms:
    """Read the synonym file format: comma-separated groups, `#` comments."""
    groups = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        entries = tuple(dict.fromkeys(_entry(e.strip()) for e in line.split(",") if e.strip()))
        if len(entries) > 1:
            groups.append(entries)
    return Synonyms(tuple(groups))


@lru_cache(maxsize=1)
def load(path: Path = SYNONYMS_FILE) -> Synonyms:
    """The shipped synonym groups (read once per process)."""
    return parse(path.read_text(encoding="utf-8"))
