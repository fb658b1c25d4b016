"""A segment's terms and postings, written in Whoosh's W3 format a term at a time.

Whoosh writes each term through four objects (field writer, postings writer,
term info, hash table), with a dozen method calls, a `tell()` per write and
a statistics update per block: ~38 µs per term, and a knowledge base of
10,000 articles has ~200,000 terms. This module makes the same bytes with
one write per term to each file. It relies on Whoosh's W3 internals (the
pinned whoosh-reloaded 2.7.5); `tests/test_segment_writer.py` checks the
files byte for byte against Whoosh's own writer.
"""

from __future__ import annotations

import struct
import zlib
from array import array
from collections.abc import Iterable
from itertools import pairwise
from pickle import dumps
from typing import Any

from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC
from whoosh.system import pack_ushort
from whoosh.util.numeric import length_to_byte

#: A term's postings: (document number, weight, value bytes), in document order.
Postings = list[tuple[int, float, bytes]]

_BLOCK_LENGTH = struct.Struct("!i")
_TERM_INFO = struct.Struct("!BfIBBfII")  # W3TermInfo._struct
_EXTENT = struct.Struct("!qi")  # pack_long(offset) + pack_int(length)
_KEY_VALUE_LENGTHS = struct.Struct("!ii")  # filetables._lengths
#: Block statistics W3 keeps for pruning; errkb's codec keeps no lengths.
_NO_LENGTH = length_to_byte(None)
_ZERO_LENGTH = length_to_byte(0)


def can_write(fieldwriter: Any) -> bool:
    """Whether `write_terms` handles this field writer's codec: Whoosh's W3
    field writer, no postings inlined in the term table, no length statistics."""
    codec = getattr(fieldwriter, "_codec", None)
    return (
        type(fieldwriter).__name__ == "W3FieldWriter"
        and getattr(codec, "_inlinelimit", None) == 1
        and getattr(codec, "length_stats", True) is False
    )


def write_terms(fieldwriter: Any, schema: Any, terms: Iterable[tuple[str, bytes, Postings]]) -> None:
    """Write `terms` ((field, term, postings), sorted by field and term) as
    `W3FieldWriter.add_postings` would."""
    codec = fieldwriter._codec
    limit, compression = codec._blocklimit, codec._compression
    postfile, tindex = fieldwriter._postfile.file, fieldwriter._tindex
    termfile = tindex.dbfile.file
    buckets, positions, hash_key = tindex.buckets, tindex.index, tindex.hashfn
    lastfield: str | None = None
    fieldkey = b""
    fixedsize: int | None = None
    lastkey = tindex.lastkey
    for fieldname, tbytes, postings in terms:
        if fieldname != lastfield:
            fieldwriter.start_field(fieldname, schema[fieldname])  # registers the field's number
            fieldkey = pack_ushort(fieldwriter._fieldid)
            fixedsize = schema[fieldname].format.fixed_value_size()
            lastfield = fieldname

        # The postings, a block of up to `limit` at a time.
        start = postfile.tell()
        chunks = [WHOOSH3_HEADER_MAGIC]
        total_weight = 0.0
        top_weight: float = 0
        count = len(postings)
        for first in range(0, count, limit):
            if count == 1:  # most terms: one posting, without the general case's loops
                docnum, weight, value = postings[0]
                ids, values = (docnum,), (value,)
                stored = array("f", (weight,))
                block_top = max(0, weight)
                mini_weights: Any = None if stored[0] == 1.0 else stored[0]
                gaps: tuple[int, ...] = ids
            else:
                ids, weights, values = zip(*postings[first:first + limit], strict=True)
                stored = array("f", weights)
                block_top = max(0, *weights)
                if all(w == 1.0 for w in stored):
                    mini_weights = None
                elif all(w == stored[0] for w in stored):
                    mini_weights = stored[0]
                else:
                    mini_weights = tuple(stored)
                gaps = (ids[0], *(b - a for a, b in pairwise(ids)))
            if fixedsize is None or fixedsize < 0:
                mini_values: Any = values
            elif fixedsize == 0:
                mini_values = None
            else:
                mini_values = b"".join(values)
            data = dumps((gaps, mini_weights, mini_values), 2)
            if compression:
                data = zlib.compress(data, compression)
            info = dumps((len(ids), ids[-1], block_top, compression, _NO_LENGTH, _ZERO_LENGTH), 2)
            length = len(info) + len(data)
            chunks += (_BLOCK_LENGTH.pack(-length if first + limit >= count else length), info, data)
            total_weight += sum(stored)
            top_weight = max(top_weight, block_top)
        block_bytes = b"".join(chunks)
        postfile.write(block_bytes)

        # The term's row in the term table, and its place in the hash index.
        key = fieldkey + tbytes
        if key <= lastkey:
            raise ValueError(f"Keys must increase: {lastkey!r}..{key!r}")
        value = _TERM_INFO.pack(False, total_weight, count, _NO_LENGTH, _ZERO_LENGTH, top_weight,
                                postings[0][0], postings[-1][0]) + _EXTENT.pack(start, len(block_bytes))
        position = termfile.tell()
        positions.append(position)
        termfile.write(_KEY_VALUE_LENGTHS.pack(len(key), len(value)) + key + value)
        hashed = hash_key(key)
        buckets[hashed & 255].append((hashed, position))
        lastkey = key
    tindex.lastkey = lastkey
    if lastfield is not None:
        fieldwriter.finish_field()
