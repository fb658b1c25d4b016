"""Query-time synonyms: the words users type for what the articles call otherwise.

The groups live in `data/synonyms.txt` (one group a line). Each entry is
analysed with the index analyzer, so "Rejected" and "rejects" both meet the
group of "declined". A Chinese entry fires when it appears anywhere in the
pasted text (封 in 封了 or 解封, which bigrams would split differently); an
English entry fires when all its terms are in the query.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from .analysis import all_han, fold, terms

SYNONYMS_FILE = Path(__file__).with_name("data") / "synonyms.txt"


class Entry(NamedTuple):
    """One way of saying it: the text as written and its analysed terms."""

    text: str
    terms: tuple[str, ...]

    def fires(self, query_terms: set[str], query_text: str) -> bool:
        if all_han(self.text):
            return self.text in query_text
        return bool(self.terms) and set(self.terms) <= query_terms


class Expansion(NamedTuple):
    """What one group adds to a query: the query terms it stands in for,
    and its other entries' terms, each with its share of one synonym's weight."""

    origin: frozenset[str]
    alternatives: dict[str, float]


class Synonyms(NamedTuple):
    groups: tuple[tuple[Entry, ...], ...]

    def expand(self, query_terms: set[str], query_text: str) -> list[Expansion]:
        """One expansion per group that fires on the query."""
        found = []
        folded = fold(query_text)
        for group in self.groups:
            fired = [entry for entry in group if entry.fires(query_terms, folded)]
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
        entries = tuple(dict.fromkeys(Entry(e.strip(), tuple(terms(e))) for e in line.split(",") if e.strip()))
        if len(entries) > 1:
            groups.append(entries)
    return Synonyms(tuple(groups))


@lru_cache(maxsize=1)
def load(path: Path = SYNONYMS_FILE) -> Synonyms:
    """The shipped synonym groups (read once per process)."""
    return parse(path.read_text(encoding="utf-8"))
