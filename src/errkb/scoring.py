"""Term-at-a-time BM25F over a Whoosh index: the retrieval step of a search.

Whoosh's matcher tree costs a Python method call per posting per tree level,
and its block-max pruning cannot skip much under a disjunction of 40 terms
on four fields. Here each term's postings are read a decoded block at a
time (`whoosh_seam.TermTable`) and scores are accumulated in lists
indexed by document: a few list operations per posting, nothing per level.

The scores are Whoosh's own `BM25F` (its idf, its byte-encoded field
lengths, per-field BM25 times the clause boost), combined by errkb's rules:
a clause is a disjunction-max over its alternatives (the best counts fully,
the others `tiebreak` times), and a document's score is the sum of its
clauses. Whoosh stays the index: postings, statistics and stored fields are
all read through it.
"""

from __future__ import annotations

import heapq
import math
from array import array
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from whoosh.util.numeric import byte_to_length

from .whoosh_seam import TermTable, length_bytes

#: BM25F parameters. Articles are short and alike in length; K1 and B
#: matter little (measured with `make eval`).
BM25_B = 0.75
BM25_K1 = 1.2

#: Scored postings a scorer keeps between queries, at most (12 bytes each:
#: ~6 MB). A server answers the same common words again and again; decoding
#: a term's posting blocks costs more than scoring them. Terms with fewer
#: postings than `CACHE_MIN_POSTINGS` are cheap to read again and not kept.
CACHE_POSTINGS = 500_000
CACHE_MIN_POSTINGS = 64
#: (field, term) document frequencies a scorer keeps, at most: queries bring
#: words no article has, and a server must not keep every one it was sent.
CACHE_FREQUENCIES = 200_000


class Alternative(NamedTuple):
    """One (field, term) a clause may match, and its boost."""

    field: str
    term: str
    boost: float


class Clause(NamedTuple):
    """Alternatives scored as one: max + tiebreak * (sum of the others)."""

    alternatives: Sequence[Alternative]
    tiebreak: float = 0.0


class Segment(NamedTuple):
    """One segment of the reader: where its documents start, those deleted
    since it was written (still in its postings), its term table, and its
    field lengths as they are read."""

    reader: Any
    base: int
    deleted: frozenset[int]
    terms: TermTable
    lengths: dict[str, bytes]

    @classmethod
    def of(cls, segment: Any, base: int) -> Segment:
        deleted = frozenset(segment.deleted_docs_set) if segment.has_deletions() else frozenset()
        return cls(segment, base, deleted, TermTable(segment), {})


class Scorer:
    """Scores clauses against one open reader. Per-field statistics are
    computed once and kept: a process answering many queries reuses them."""

    def __init__(self, reader: Any) -> None:
        self.reader = reader
        self.segments = [Segment.of(segment, base) for segment, base in reader.leaf_readers()]
        self.doc_count_all = max(int(reader.doc_count_all()), 1)
        self._norms: dict[str, list[float]] = {}
        self._frequencies: dict[tuple[str, str], list[int]] = {}
        # (field, term) -> live documents and tf / (tf + norm): the boost and
        # the idf are applied per query. Least recently used first.
        self._scored: dict[tuple[str, str], tuple[array[int], array[float]]] = {}
        self._scored_size = 0

    def close(self) -> None:
        """Release the reader and the term tables' memory maps."""
        for segment in self.segments:
            segment.terms.close()
        self.reader.close()

    def _norm_table(self, field: str) -> list[float]:
        """K1 * (1 - B + B * length / average length), for each length byte."""
        table = self._norms.get(field)
        if table is None:
            average = (self.reader.field_length(field) / self.doc_count_all) or 1.0
            table = [BM25_K1 * ((1 - BM25_B) + BM25_B * byte_to_length(b) / average) for b in range(256)]
            self._norms[field] = table
        return table

    def frequencies(self, field: str, term: str) -> list[int]:
        """The term's document frequency in each segment; remembered, since
        planning and scoring ask repeatedly."""
        key = (field, term)
        found = self._frequencies.get(key)
        if found is None:
            if len(self._frequencies) >= CACHE_FREQUENCIES:
                self._frequencies.clear()
            found = self._frequencies[key] = [segment.terms.doc_frequency(field, term)
                                              for segment in self.segments]
        return found

    def doc_frequency(self, field: str, term: str) -> int:
        """Documents holding `term` in `field` (deleted ones too, as Whoosh counts them)."""
        return sum(self.frequencies(field, term))

    def idf(self, field: str, term: str) -> float:
        """Whoosh's idf."""
        return math.log(self.doc_count_all / (self.doc_frequency(field, term) + 1)) + 1

    def scores(self, alternative: Alternative) -> tuple[Sequence[int], list[float]]:
        """Live documents holding a (field, term), and their BM25 scores."""
        field, term, boost = alternative
        if not self.doc_frequency(field, term):
            return [], []
        factor = self.idf(field, term) * boost * (BM25_K1 + 1)
        docs, parts = self._saturated(field, term)
        return docs, [factor * part for part in parts]

    def _saturated(self, field: str, term: str) -> tuple[Sequence[int], Sequence[float]]:
        """Live documents holding a (field, term) and tf / (tf + norm) for
        each: BM25's per-document part, the same for every query."""
        key = (field, term)
        kept = self._scored.pop(key, None)
        if kept is not None:
            self._scored[key] = kept  # most recently used now
            return kept
        docs: list[int] = []
        parts: list[float] = []
        norms = self._norm_table(field)
        for (segment, base, deleted, table, lengths), df in zip(self.segments, self.frequencies(field, term),
                                                                strict=True):
            if not df:
                continue
            length = lengths.get(field)
            if length is None:
                length = lengths[field] = length_bytes(segment, field)
            for ids, weights in table.posting_blocks(field, term):
                if deleted:
                    pairs = [(d, tf) for d, tf in zip(ids, weights, strict=True) if d not in deleted]
                    ids, weights = [d for d, _ in pairs], [tf for _, tf in pairs]
                docs.extend([base + d for d in ids] if base else ids)
                parts.extend([tf / (tf + norms[length[d]]) for d, tf in zip(ids, weights, strict=True)])
        if CACHE_MIN_POSTINGS <= len(docs) <= CACHE_POSTINGS:
            self._keep(key, (array("i", docs), array("d", parts)))
        return docs, parts

    def _keep(self, key: tuple[str, str], scored: tuple[array[int], array[float]]) -> None:
        self._scored[key] = scored
        self._scored_size += len(scored[0])
        while self._scored_size > CACHE_POSTINGS:
            oldest = next(iter(self._scored))
            self._scored_size -= len(self._scored.pop(oldest)[0])

    def docs_with(self, field: str, values: Iterable[str]) -> set[int]:
        """Live documents holding any of `values` in `field` (a tag filter)."""
        found: set[int] = set()
        for value in values:
            for segment, df in zip(self.segments, self.frequencies(field, value), strict=True):
                if not df:
                    continue
                base, deleted = segment.base, segment.deleted
                for ids, _ in segment.terms.posting_blocks(field, value):
                    found.update(base + d for d in ids if d not in deleted)
        return found

    def top(self, clauses: Iterable[Clause], limit: int, allowed: set[int] | None = None) -> list[tuple[int, float]]:
        """The `limit` best (document number, score) for the sum of the
        clauses; ties go to the lower document number, as in Whoosh.

        A clause scores max + tiebreak * (sum of the others), which is
        tiebreak * sum + (1 - tiebreak) * max: the sum goes straight into the
        accumulator, the max is kept per clause for the documents it touched.
        Accumulators are lists indexed by document number (cheaper than dicts).
        """
        size = self.doc_count_all
        total = [0.0] * size
        best = [0.0] * size
        touched: set[int] = set()
        for clause in clauses:
            parts = [part for part in map(self.scores, clause.alternatives) if part[0]]
            if len(parts) == 1:
                docs, scores = parts[0]
                for d, score in zip(docs, scores, strict=True):
                    total[d] += score
                touched.update(docs)
                continue
            share = clause.tiebreak
            rest = 1.0 - share
            in_clause: set[int] = set()
            for docs, scores in parts:
                for d, score in zip(docs, scores, strict=True):
                    total[d] += share * score
                    if score > best[d]:
                        best[d] = score
                in_clause.update(docs)
            for d in in_clause:
                total[d] += rest * best[d]
                best[d] = 0.0
            touched |= in_clause
        pool = touched if allowed is None else touched & allowed
        ranked = heapq.nlargest(limit, sorted(pool), key=total.__getitem__)
        return [(d, total[d]) for d in ranked]
