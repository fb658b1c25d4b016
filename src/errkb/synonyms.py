"""Query-time synonyms: the words users type for what the articles call otherwise.

The groups live in `data/synonyms.txt` (one group a line). Each entry is
analysed with the index analyzer, so "Rejected" and "rejects" both meet the
group of "declined", and a Chinese entry is matched by its bigrams.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .analysis import terms

SYNONYMS_FILE = Path(__file__).with_name("data") / "synonyms.txt"


@dataclass(frozen=True)
class Synonyms:
    """Groups of entries; an entry is the tuple of its analysed terms."""

    groups: tuple[tuple[tuple[str, ...], ...], ...]

    def expand(self, query_terms: set[str]) -> dict[str, tuple[float, frozenset[str]]]:
        """Terms to add to a query: each with its share of one synonym's weight
        and the query terms it stands in for.

        An entry fires when all its terms are in the query; every other entry
        of its group is then added, its weight split across its terms.
        """
        extra: dict[str, tuple[float, frozenset[str]]] = {}
        for group in self.groups:
            fired = [entry for entry in group if set(entry) <= query_terms]
            if not fired:
                continue
            origin = frozenset(t for entry in fired for t in entry)
            for entry in group:
                if set(entry) <= query_terms:
                    continue
                share = 1.0 / len(entry)
                for term in entry:
                    if term in query_terms:
                        continue
                    old_share, old_origin = extra.get(term, (0.0, frozenset()))
                    extra[term] = (max(old_share, share), old_origin | origin)
        return extra


def parse(text: str) -> Synonyms:
    """Read the synonym file format: comma-separated groups, `#` comments."""
    groups = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        entries = tuple(dict.fromkeys(tuple(terms(e)) for e in line.split(",") if e.strip()))
        entries = tuple(e for e in entries if e)
        if len(entries) > 1:
            groups.append(entries)
    return Synonyms(tuple(groups))


@lru_cache(maxsize=1)
def load(path: Path = SYNONYMS_FILE) -> Synonyms:
    """The shipped synonym groups (read once per process)."""
    return parse(path.read_text(encoding="utf-8"))
