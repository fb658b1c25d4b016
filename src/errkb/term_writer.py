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

import zlib
from array import array
from collections.abc import Iterable, Iterator, Sequence
from itertools import pairwise
from pickle import dumps
from typing import Any

from whoosh.system import pack_uint, pack_ushort
from whoosh.util.numeric import length_to_byte

from .w3_format import BLOCK_LENGTH, EXTENT, KEY_VALUE_LENGTHS, MAGIC, TERM_INFO


class CountedPostings(list[int]):
    """A term's postings in a field of counted terms (Whoosh's `Frequency`
    format), flat: [document, count, document, count, ...] in document
    order. Weight = count and value = the count packed, made per block when
    written: no tuple or bytes object per posting while a build runs."""


#: A term's postings: (document number, weight, value bytes) in document
#: order, or counted ones.
Postings = list[tuple[int, float, bytes]] | CountedPostings

#: One block as W3 writes it: ids, weights (as stored: float32), the highest
#: weight, the weights minified, the values.
Block = tuple[Sequence[int], array, float, Any, Sequence[bytes]]

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


def _minified(stored: array) -> Any:
    """W3's block weights: None when all 1, one number when all equal."""
    if all(w == 1.0 for w in stored):
        return None
    return stored[0] if all(w == stored[0] for w in stored) else tuple(stored)


def _blocks(postings: Postings, limit: int) -> Iterator[Block]:
    """A term's postings, `limit` at a time."""
    if isinstance(postings, CountedPostings):
        for first in range(0, len(postings), 2 * limit):
            ids = postings[first:first + 2 * limit:2]
            counts = postings[first + 1:first + 2 * limit:2]
            stored = array("f", counts)
            top = max(counts)
            yield ids, stored, (float(top) if top > 0 else 0), _minified(stored), list(map(pack_uint, counts))
    elif len(postings) == 1:  # most terms: one posting, without the loops below
        docnum, weight, value = postings[0]
        stored = array("f", (weight,))
        yield (docnum,), stored, max(0, weight), (None if stored[0] == 1.0 else stored[0]), (value,)
    else:
        for first in range(0, len(postings), limit):
            docs, weights, values = zip(*postings[first:first + limit], strict=True)
            stored = array("f", weights)
            yield docs, stored, max(0, *weights), _minified(stored), values


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
        chunks = [MAGIC]
        total_weight = 0.0
        top_weight: float = 0
        first_id = last_id = count = 0
        for ids, stored, block_top, mini_weights, values in _blocks(postings, limit):
            if fixedsize is None or fixedsize < 0:
                mini_values: Any = tuple(values)
            elif fixedsize == 0:
                mini_values = None
            else:
                mini_values = b"".join(values)
            gaps = (ids[0], *(b - a for a, b in pairwise(ids))) if len(ids) > 1 else (ids[0],)
            data = dumps((gaps, mini_weights, mini_values), 2)
            if compression:
                data = zlib.compress(data, compression)
            info = dumps((len(ids), ids[-1], block_top, compression, _NO_LENGTH, _ZERO_LENGTH), 2)
            chunks += (BLOCK_LENGTH.pack(len(info) + len(data)), info, data)
            total_weight += sum(stored)
            top_weight = max(top_weight, block_top)
            first_id = ids[0] if not count else first_id
            last_id = ids[-1]
            count += len(ids)
        chunks[-3] = BLOCK_LENGTH.pack(-(len(chunks[-2]) + len(chunks[-1])))  # the last block's length is negative
        block_bytes = b"".join(chunks)
        postfile.write(block_bytes)

        # The term's row in the term table, and its place in the hash index.
        key = fieldkey + tbytes
        if key <= lastkey:
            raise ValueError(f"Keys must increase: {lastkey!r}..{key!r}")
        value = TERM_INFO.pack(False, total_weight, count, _NO_LENGTH, _ZERO_LENGTH, top_weight,
                                first_id, last_id) + EXTENT.pack(start, len(block_bytes))
        position = termfile.tell()
        positions.append(position)
        termfile.write(KEY_VALUE_LENGTHS.pack(len(key), len(value)) + key + value)
        hashed = hash_key(key)
        buckets[hashed & 255].append((hashed, position))
        lastkey = key
    tindex.lastkey = lastkey
    if lastfield is not None:
        fieldwriter.finish_field()
