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
from typing import Any

from whoosh.system import pack_uint

#: (field name, term bytes, document number, weight, value bytes), as Whoosh passes them.
Posting = tuple[str, bytes, int, float, bytes]


class TermPool:
    """Postings grouped by (field, term); a drop-in for Whoosh's `PostingPool`
    in a `SegmentWriter` (the methods it calls: add, iter_postings, cleanup),
    plus a path for terms already counted (`add_counts`) and one that writes
    a term's postings a block at a time (`write`)."""

    def __init__(self) -> None:
        self._lists: dict[tuple[str, bytes], list[tuple[int, float, bytes]]] = {}
        # Counted terms stay `str` until written: encoding once per distinct
        # term instead of once per posting.
        self._counted: dict[tuple[str, str], list[tuple[int, float, bytes]]] = {}
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

    def add_counts(self, fieldname: str, docnum: int, counts: Mapping[str, int]) -> int:
        """One document's counted terms in a field with Whoosh's `Frequency`
        format (weight = count, value = the count packed); returns the field's
        length. Documents come in order: no ordering check is needed."""
        lists = self._counted
        for term, count in counts.items():
            posting = (docnum, float(count), pack_uint(count))
            postings = lists.get((fieldname, term))
            if postings is None:
                lists[(fieldname, term)] = [posting]
            else:
                postings.append(posting)
        if counts:
            self.fieldnames.add(fieldname)
        return sum(counts.values())

    def _sorted(self) -> Iterator[tuple[str, bytes, list[tuple[int, float, bytes]]]]:
        """(field, term, postings in document order), ordered by field and term."""
        lists = self._lists
        for (fieldname, term), postings in self._counted.items():
            key = (fieldname, term.encode("utf-8"))
            earlier = lists.get(key)
            if earlier is None:
                lists[key] = postings
            else:  # the same term from a merged segment too
                earlier.extend(postings)
                self._unordered.add(key)
        self._counted.clear()
        for key in sorted(lists):
            postings = lists[key]
            if key in self._unordered:
                postings.sort()
            yield key[0], key[1], postings

    def iter_postings(self) -> Iterator[Posting]:
        """Every posting, ordered by field, term and document (what the codec needs)."""
        for fieldname, tbytes, postings in self._sorted():
            for docnum, weight, vbytes in postings:
                yield fieldname, tbytes, docnum, weight, vbytes

    def write(self, fieldwriter: Any, schema: Any) -> None:
        """Write every term's postings: through `term_writer` (a term at a
        time) for the codec errkb uses, else through Whoosh's own loop."""
        from .term_writer import can_write, write_terms

        if can_write(fieldwriter):
            write_terms(fieldwriter, schema, self._sorted())
        else:
            fieldwriter.add_postings(schema, None, self.iter_postings())

    def cleanup(self) -> None:
        self._lists.clear()
        self._counted.clear()
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
