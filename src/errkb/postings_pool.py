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
from collections.abc import Iterator
from contextlib import contextmanager

#: (field name, term bytes, document number, weight, value bytes), as Whoosh passes them.
Posting = tuple[str, bytes, int, float, bytes]


class TermPool:
    """Postings grouped by (field, term); a drop-in for Whoosh's `PostingPool`
    in a `SegmentWriter` (the methods it calls: add, iter_postings, cleanup)."""

    def __init__(self) -> None:
        self._lists: dict[tuple[str, bytes], list[tuple[int, float, bytes]]] = {}
        self._unordered: set[tuple[str, bytes]] = set()
        self.fieldnames: set[str] = set()

    def add(self, item: Posting) -> None:
        fieldname, tbytes, docnum, weight, vbytes = item
        key = (fieldname, tbytes)
        postings = self._lists.get(key)
        if postings is None:
            self._lists[key] = [(docnum, weight, vbytes)]
            self.fieldnames.add(fieldname)
            return
        if docnum < postings[-1][0]:  # a merge may add an older segment's documents later
            self._unordered.add(key)
        postings.append((docnum, weight, vbytes))

    def iter_postings(self) -> Iterator[Posting]:
        """Every posting, ordered by field, term and document (what the codec needs)."""
        for key in sorted(self._lists):
            postings = self._lists[key]
            if key in self._unordered:
                postings.sort()
            fieldname, tbytes = key
            for docnum, weight, vbytes in postings:
                yield fieldname, tbytes, docnum, weight, vbytes

    def cleanup(self) -> None:
        self._lists.clear()
        self._unordered.clear()


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
            gc.enable()
