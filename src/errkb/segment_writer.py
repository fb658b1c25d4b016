"""The Whoosh segment writer errkb builds with: Whoosh's own, minus the
per-posting work errkb does not need.

Whoosh's `SegmentWriter` runs a Python loop, a tuple and a pool call for
every posting as a document is added, and four method calls with type
checks for every posting at commit: with ~200 postings per article that was
most of a build. Here a field given already-counted terms (`AnalysedText`
with a {term: count} mapping) goes to the pool in one call, and the pool
has each term's postings written in one go (`term_writer`). The files are
Whoosh's W3 format, byte for byte what Whoosh's writer makes of the same
postings (tests build both and compare).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from whoosh.writing import SegmentWriter

from .postings_pool import TermPool
from .schema import AnalysedText


def make_codec() -> Any:
    """Whoosh's W3 codec, with two settings changed.

    No per-block length statistics: they serve Whoosh's block-max pruning,
    which errkb's scorer does not use, and cost a length look-up per posting
    (a third of the commit). No zlib compression of posting blocks: most
    blocks hold a posting or two, compression cost a fifth of a build and
    every block read pays to decompress; the index is ~25% larger.
    """
    from whoosh.codec.whoosh3 import W3Codec

    codec = W3Codec(compression=0)
    codec.length_stats = False
    return codec


class CountedWriter(SegmentWriter):  # type: ignore[misc]
    """A `SegmentWriter` with errkb's pool, codec and separate segment files
    (not one compound file: Whoosh copies a compound file's parts into
    memory when it reads them; see `mapped_storage`)."""

    def __init__(self, ix: Any, **kwargs: Any) -> None:
        super().__init__(ix, codec=make_codec(), compound=False, **kwargs)
        self.pool = TermPool()
        # The short path below skips what no errkb field has (term vectors,
        # separate spelling, sort columns); any schema with them takes Whoosh's.
        self._plain = all(not field.vector and not field.separate_spelling() and not field.column_type
                          for _, field in self.schema.items())

    def add_document(self, **fields: Any) -> None:
        if not self._plain or any(name.startswith("_") for name in fields):  # boosts, custom stored values
            super().add_document(**fields)
            return
        self._check_state()
        names = sorted(fields)
        self._check_fields(self.schema, names)
        perdoc, pool, docnum = self.perdocwriter, self.pool, self.docnum
        perdoc.start_doc(docnum)
        try:
            for name in names:
                value = fields[name]
                if value is None:
                    continue
                field = self.schema[name]
                length = 0
                if field.indexed:
                    if isinstance(value, Mapping) and isinstance(field, AnalysedText):
                        length = pool.add_counts(name, docnum, value)
                    else:
                        for tbytes, freq, weight, vbytes in field.index(value):
                            length += freq
                            pool.add((name, tbytes, docnum, weight * 1.0, vbytes))  # a float, as Whoosh's
                    if not field.scorable:
                        length = 0
                perdoc.add_field(name, field, value if field.stored else None, length)
        except Exception:
            perdoc.cancel_doc()
            raise
        perdoc.finish_doc()
        self._added = True
        self.docnum += 1

    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        self.pool.write(self.fieldwriter, self.schema)
        self.fieldwriter.close()
