"""Term-at-a-time BM25F over a Whoosh index: the retrieval step of a search.

Whoosh's matcher tree costs a Python method call per posting per tree level,
and its block-max pruning cannot skip much under a disjunction of 40 terms
on four fields: a 2 KB paste on 10,000 articles took seconds. Here each
term is looked up once in the term table and its posting blocks are decoded
straight from the (memory-mapped) postings file, a block at a time; scores
are accumulated in lists indexed by document, so the cost is a few list
operations per posting and nothing per tree level. Segments of another
codec are read through Whoosh's matcher.

The scores are Whoosh's own `BM25F` (its idf, its byte-encoded field
lengths, per-field BM25 times the clause boost), combined by errkb's rules:
a clause is a disjunction-max over its alternatives (the best counts fully,
the others `tiebreak` times), and a document's score is the sum of its
clauses. Whoosh stays the index: postings, statistics and stored fields are
all read through it.
"""

from __future__ import annotations

import heapq
import io
import math
import pickle
import struct
import zlib
from collections.abc import Iterable, Iterator, Sequence
from itertools import accumulate
from typing import Any, NamedTuple

from .w3_format import BLOCK_LENGTH, EXTENT, MAGIC, TERM_INFO

#: BM25F parameters. Articles are short and alike in length; K1 and B
#: matter little (measured with `make eval`).
BM25_B = 0.75
BM25_K1 = 1.2


class Alternative(NamedTuple):
    """One (field, term) a clause may match, and its boost."""

    field: str
    term: str
    boost: float


class Clause(NamedTuple):
    """Alternatives scored as one: max + tiebreak * (sum of the others)."""

    alternatives: Sequence[Alternative]
    tiebreak: float = 0.0


def _blocks(segment: Any, field: str, term: str) -> Iterator[tuple[Sequence[int], Sequence[float]]]:
    """(ids, weights) of one segment's postings for a term, a block at a time.

    Whoosh's on-disk matcher keeps a decoded block as two arrays; reading them
    directly skips a method call per posting. Other matchers (postings inlined
    in the term table, an index in memory) go posting by posting.
    """
    from whoosh.codec.whoosh3 import W3LeafMatcher
    from whoosh.matching.wrappers import FilterMatcher

    try:
        matcher = segment.postings(field, term)
    except Exception:  # TermNotFound, or a field this index lacks
        return
    if isinstance(matcher, FilterMatcher):  # deleted documents: filtered by the caller
        matcher = matcher.child
        matcher.reset()  # the filter has moved it past leading deleted ones
    if isinstance(matcher, W3LeafMatcher):
        while matcher.is_active():
            if matcher._data is None:
                matcher._read_data()
            ids = matcher._data[0]
            matcher._read_weights()
            # Ids are stored as gaps: a C-level running sum decodes them.
            yield (ids if matcher._byteids else list(accumulate(ids))), matcher._weights
            matcher._next_block()
        return
    one_by_one: tuple[list[int], list[float]] = ([], [])
    while matcher.is_active():
        one_by_one[0].append(matcher.id())
        one_by_one[1].append(matcher.weight())
        matcher.next()
    yield one_by_one




class Extent(NamedTuple):
    """A term in one segment: its document frequency and where its postings
    are in the postings file (offset -1: read them through Whoosh)."""

    df: int
    offset: int
    length: int


def _extent(segment: Any, field: str, term: str) -> Extent:
    """One look-up in a segment's term table (Whoosh's own path takes one for
    the frequency and another, plus a matcher object, for the postings)."""
    terms: Any = getattr(segment, "_terms", None)
    try:
        key = terms._keycoder(field, term.encode("utf-8"))
        position, length = terms._tindex.range_for_key(key)
        flags, _, df = TERM_INFO.unpack_from(terms._dbfile.get(position, length))[:3]
    except KeyError:  # no such term, or a field this segment lacks
        return Extent(0, -1, 0)
    except (AttributeError, struct.error):  # not a W3 segment: ask Whoosh
        return Extent(int(segment.doc_frequency(field, term)), -1, 0)
    if flags:  # postings kept inside the term table
        return Extent(df, -1, 0)
    offset, size = EXTENT.unpack_from(terms._dbfile.get(position + TERM_INFO.size, EXTENT.size))
    return Extent(df, offset, size)


def _postings(segment: Any, extent: Extent) -> Iterator[tuple[Sequence[int], Sequence[float]]]:
    """(ids, weights) of a term's W3 posting blocks, decoded from the bytes:
    a block is its length (negative for the last), a pickled info tuple
    (count, last id, top weight, compression, two length bytes) and pickled
    data (id gaps, weights: None when all 1 or one number when all equal,
    values)."""
    data = segment._terms._postfile.get(extent.offset, extent.length)
    position = len(MAGIC)
    last = False
    while not last:
        length = BLOCK_LENGTH.unpack_from(data, position)[0]
        last = length < 0
        position += BLOCK_LENGTH.size
        block = io.BytesIO(data[position:position + abs(length)])
        count, _, _, compression, _, _ = pickle.load(block)
        rest = block.read()
        gaps, weights, _ = pickle.loads(zlib.decompress(rest) if compression else rest)
        if weights is None or isinstance(weights, float):
            weights = [1.0 if weights is None else weights] * count
        yield list(accumulate(gaps)), weights
        position += abs(length)


def _read(segment: Any, extent: Extent, field: str, term: str) -> Iterator[tuple[Sequence[int], Sequence[float]]]:
    """A term's posting blocks in a segment: from the bytes where `extent`
    says where they are, else through Whoosh's matcher."""
    if not extent.df:
        return iter(())
    return _postings(segment, extent) if extent.offset >= 0 else _blocks(segment, field, term)


def _length_bytes(segment: Any, field: str) -> bytes:
    """The byte-encoded length of `field` in each document of a segment."""
    count = segment.doc_count_all()
    try:  # the whole column at once
        from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield

        column = segment._perdoc._cached_reader(_lenfield(field), LENGTHS_COLUMN)
        raw = bytes(column._dbfile.get(column._basepos, column._count)) if column is not None else b""
    except AttributeError:  # another codec: ask document by document
        from whoosh.util.numeric import length_to_byte

        raw = bytes(length_to_byte(segment.doc_field_length(d, field, 0) or 0) for d in range(count))
    return raw[:count] + bytes(max(count - len(raw), 0))


def _deleted(segment: Any) -> frozenset[int]:
    """Documents of a segment deleted since it was written (still in its postings)."""
    return frozenset(segment.deleted_docs_set) if segment.has_deletions() else frozenset()


class Scorer:
    """Scores clauses against one open reader. Per-field statistics are
    computed once and kept: a process answering many queries reuses them."""

    def __init__(self, reader: Any) -> None:
        self.reader = reader
        self.segments: list[tuple[Any, int, frozenset[int], dict[str, bytes]]] = [
            (segment, base, _deleted(segment), {}) for segment, base in reader.leaf_readers()
        ]
        self.doc_count_all = max(int(reader.doc_count_all()), 1)
        self._norms: dict[str, list[float]] = {}
        self._extents: dict[tuple[str, str], list[Extent]] = {}

    def _norm_table(self, field: str) -> list[float]:
        """K1 * (1 - B + B * length / average length), for each length byte."""
        table = self._norms.get(field)
        if table is None:
            from whoosh.util.numeric import byte_to_length

            average = (self.reader.field_length(field) / self.doc_count_all) or 1.0
            table = [BM25_K1 * ((1 - BM25_B) + BM25_B * byte_to_length(b) / average) for b in range(256)]
            self._norms[field] = table
        return table

    def extents(self, field: str, term: str) -> list[Extent]:
        """The term in each segment; remembered, since planning and scoring ask repeatedly."""
        key = (field, term)
        found = self._extents.get(key)
        if found is None:
            found = self._extents[key] = [_extent(segment, field, term) for segment, _, _, _ in self.segments]
        return found

    def doc_frequency(self, field: str, term: str) -> int:
        """Documents holding `term` in `field` (deleted ones too, as Whoosh counts them)."""
        return sum(extent.df for extent in self.extents(field, term))

    def idf(self, field: str, term: str) -> float:
        """Whoosh's idf."""
        return math.log(self.doc_count_all / (self.doc_frequency(field, term) + 1)) + 1

    def scores(self, alternative: Alternative) -> tuple[list[int], list[float]]:
        """Live documents holding a (field, term), and their BM25 scores."""
        field, term, boost = alternative
        docs: list[int] = []
        scores: list[float] = []
        if not self.doc_frequency(field, term):
            return docs, scores
        factor = self.idf(field, term) * boost * (BM25_K1 + 1)
        norms = self._norm_table(field)
        for (segment, base, deleted, lengths), extent in zip(self.segments, self.extents(field, term), strict=True):
            if not extent.df:
                continue
            length = lengths.get(field)
            if length is None:
                length = lengths[field] = _length_bytes(segment, field)
            for ids, weights in _read(segment, extent, field, term):
                if deleted:
                    pairs = [(d, tf) for d, tf in zip(ids, weights, strict=True) if d not in deleted]
                    ids, weights = [d for d, _ in pairs], [tf for _, tf in pairs]
                docs.extend([base + d for d in ids] if base else ids)
                scores.extend([factor * tf / (tf + norms[length[d]]) for d, tf in zip(ids, weights, strict=True)])
        return docs, scores

    def docs_with(self, field: str, values: Iterable[str]) -> set[int]:
        """Live documents holding any of `values` in `field` (a tag filter)."""
        found: set[int] = set()
        for value in values:
            for (segment, base, deleted, _), extent in zip(self.segments, self.extents(field, value), strict=True):
                for ids, _ in _read(segment, extent, field, value):
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
