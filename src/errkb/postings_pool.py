"""Where a Whoosh segment writer keeps postings until it writes them.

Whoosh's own pool appends every posting as a tuple to one list, sorts the
whole list at commit, and spills sorted runs to temporary files past its
memory limit: on 10,000 articles (two million postings) that sort and the
spilled runs cost more than the rest of the commit. Postings arrive grouped
by document, so here they are grouped by term as they come: at commit only
the distinct terms are sorted, and each term's list is already in document
order.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from whoosh.system import pack_uint


class CountedPostings(list[int]):
    """A term's postings in a field of counted terms (Whoosh's `Frequency`
    format), flat: [document, count, document, count, ...] in document
    order. Weight = count and value = the count packed, made per block when
    written: no tuple or bytes object per posting while a build runs."""


#: A term's postings: (document number, weight, value bytes) in document
#: order, or counted ones.
Postings = list[tuple[int, float, bytes]] | CountedPostings
#: (field name, term bytes, document number, weight, value bytes), as Whoosh passes them.
Posting = tuple[str, bytes, int, float, bytes]


class TermPool:
    """Postings grouped by (field, term); a drop-in for Whoosh's `PostingPool`
    in a `SegmentWriter` (the methods it calls: add, iter_postings, cleanup),
    plus a path for terms already counted (`add_counts`, kept flat) and
    each term's postings in one list (`sorted_terms`, for
    `whoosh_seam.write_terms`)."""

    def __init__(self) -> None:
        self._lists: dict[tuple[str, bytes], list[tuple[int, float, bytes]]] = {}
        # Counted terms by field, then term (a `str` until written: encoded
        # once per distinct term instead of once per posting).
        self._counted: dict[str, dict[str, CountedPostings]] = {}
        self._unordered: set[tuple[str, bytes]] = set()

    def add(self, item: Posting) -> None:
        fieldname, tbytes, docnum, weight, vbytes = item
        key = (fieldname, tbytes)
        postings = self._lists.get(key)
        if postings is None:
            self._lists[key] = [(docnum, weight, vbytes)]
            return
        if docnum < postings[-1][0]:  # a merge may add an older segment's documents later
            self._unordered.add(key)
        postings.append((docnum, weight, vbytes))

    def add_counts(self, fieldname: str, docnum: int, counts: Mapping[str, int]) -> int:
        """One document's counted terms in a field with Whoosh's `Frequency`
        format (weight = count, value = the count packed); returns the field's
        length. Documents come in order: no ordering check is needed."""
        lists = self._counted.get(fieldname)
        if lists is None:
            lists = self._counted[fieldname] = {}
        get = lists.get
        for term, count in counts.items():
            postings = get(term)
            if postings is None:
                lists[term] = CountedPostings((docnum, count))
            else:
                postings += (docnum, count)
        return sum(counts.values())

    def sorted_terms(self) -> Iterator[tuple[str, bytes, Postings]]:
        """(field, term, postings in document order), ordered by field and term."""
        merged: dict[tuple[str, bytes], Postings] = dict(self._lists)
        for fieldname, terms in self._counted.items():
            for term, counted in terms.items():
                key = (fieldname, term.encode("utf-8"))
                earlier = self._lists.get(key)
                if earlier is None:
                    merged[key] = counted
                else:  # the same term from a merged segment too: one kind of list
                    earlier.extend(_expanded(counted))
                    self._unordered.add(key)
        self._counted.clear()
        for key in sorted(merged):
            postings = merged[key]
            if key in self._unordered and not isinstance(postings, CountedPostings):
                postings.sort()
            yield key[0], key[1], postings

    def iter_postings(self) -> Iterator[Posting]:
        """Every posting, ordered by field, term and document (what the codec needs)."""
        for fieldname, tbytes, postings in self.sorted_terms():
            for docnum, weight, vbytes in _expanded(postings):
                yield fieldname, tbytes, docnum, weight, vbytes

    def cleanup(self) -> None:
        self._lists.clear()
        self._counted.clear()
        self._unordered.clear()


def _expanded(postings: Postings) -> list[tuple[int, float, bytes]]:
    """(document, weight, value) per posting, whichever kind of list."""
    if isinstance(postings, CountedPostings):
        return [(doc, float(count), pack_uint(count)) for doc, count in zip(postings[::2], postings[1::2], strict=True)]
    return postings


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a pool fills: millions
    of posting tuples (none of them in a cycle) would otherwise trigger
    full collections that walk every one of them, again and again."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if not gc.get_freeze_count():  # no one else's frozen objects to release
                # What the pause allocated (millions of objects, nearly all
                # alive) is still in the youngest generation, and the first
                # collection after enabling would walk all of it (~0.35 s on
                # 10,000 articles). Frozen and unfrozen, it moves to the oldest
                # generation uncollected, where a full collection finds it.
                gc.freeze()
                gc.unfreeze()
            gc.enable()
