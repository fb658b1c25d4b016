"""Every use errkb makes of Whoosh's private internals, in one place.

Written against **whoosh-reloaded 2.7.5** (the exact pin in pyproject.toml);
`tests/test_whoosh_seam.py` pins that version and checks what this module
relies on: the segment files it writes are byte for byte what Whoosh's own
writer makes of the same documents, and the postings and field lengths it
reads are the ones Whoosh's public API returns. whoosh-reloaded is no longer
maintained: moving to another Whoosh distribution means re-checking this
module (and only this one) against those tests.

What is here, and why it is worth the private names:

- `CountedWriter`: Whoosh's `SegmentWriter`, taking a field's terms already
  counted in one call per field, with a pool grouped by term
  (`postings_pool.TermPool`) and each term's postings and term-table row
  written in one go (`write_terms`, W3 bytes). A 10,000-article build's
  writing step takes ~5 s this way, ~26 s through Whoosh's own loop.
- `TermTable` and `length_bytes`: the term table and the posting blocks
  (read in place: a memory map) and the length column the term-at-a-time
  scorer reads (Whoosh's matcher tree costs a method call per posting per
  level, and its readers seek and read through Python wrappers).
- `ram_index`: an index in memory that never spills to Whoosh's shared
  temporary file.
- `install_safe_unpickling` and `open_index`: Whoosh unpickles an index's
  TOC (schema, segment list) and every posting block it reads, and a pickle
  can call any function it names. Every pickle load of Whoosh's goes through
  `SafeUnpickler`, which builds only the exact classes errkb's own indexes
  hold (the allow-list below), so opening a planted index runs nothing.
"""

from __future__ import annotations

import gc
import io
import mmap
import pickle
import re
import struct
import sys
import zlib
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import partial
from hashlib import md5
from itertools import accumulate, starmap
from operator import sub
from pickle import dumps
from typing import Any

from whoosh.codec.whoosh3 import (
    LENGTHS_COLUMN,
    WHOOSH3_HEADER_MAGIC,
    W3Codec,
    _lenfield,
)
from whoosh.fields import KEYWORD, Schema
from whoosh.filedb.filestore import RamStorage
from whoosh.filedb.filetables import OrderedHashWriter, md5_hash
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import TermNotFound
from whoosh.system import pack_uint, pack_ushort
from whoosh.util.numeric import length_to_byte
from whoosh.writing import SegmentWriter

from .postings_pool import CountedPostings, Postings, TermPool
from .schema import AnalysedText

#: The distribution and version this module was written and tested against.
WHOOSH_DISTRIBUTION = "whoosh-reloaded"
WHOOSH_VERSION = "2.7.5"

# -- the W3 byte layouts ---------------------------------------------------

#: Before a term's first posting block.
MAGIC: bytes = WHOOSH3_HEADER_MAGIC
#: A block's length in bytes, negative for a term's last block.
BLOCK_LENGTH = struct.Struct("!i")
#: A term-table row: flags (1: postings inlined), total weight, document
#: frequency, min and max length bytes, max weight, first and last id
#: (`W3TermInfo._struct`), then where the postings are (offset, length).
TERM_INFO = struct.Struct("!BfIBBfII")
EXTENT = struct.Struct("!qi")
#: The two together, as one term-table value (network order: no padding between).
TERM_VALUE = struct.Struct("!" + TERM_INFO.format[1:] + EXTENT.format[1:])
#: Before each key and value of the term table (`filetables._lengths`).
KEY_VALUE_LENGTHS = struct.Struct("!ii")
#: A hash table slot: the key's hash and its row's position (`filetables._pointer`).
HASH_POINTER = struct.Struct("!Iq")
#: Block statistics W3 keeps for pruning; errkb's codec keeps no lengths.
_NO_LENGTH = length_to_byte(None)
_ZERO_LENGTH = length_to_byte(0)

# -- writing ---------------------------------------------------------------


def make_codec() -> Any:
    """Whoosh's W3 codec without per-block length statistics (they serve
    block-max pruning, which errkb's scorer does not use, and cost a length
    look-up per posting) and without zlib on posting blocks (most hold a
    posting or two; the index is ~25% larger, builds and reads faster)."""
    codec = W3Codec(compression=0)
    codec.length_stats = False
    return codec


class CountedWriter(SegmentWriter):  # type: ignore[misc]
    """A `SegmentWriter` with errkb's pool and codec, writing separate segment
    files (Whoosh copies the parts of a compound file into memory when it
    reads them)."""

    def __init__(self, ix: Any, **kwargs: Any) -> None:
        with own_garbage_collected():
            super().__init__(ix, codec=make_codec(), compound=False, **kwargs)
        self.pool = TermPool()
        # The short path below skips what no errkb field has (term vectors,
        # separate spelling, sort columns); any schema with them takes Whoosh's.
        self._plain = all(not field.vector and not field.separate_spelling() and not field.column_type
                          for _, field in self.schema.items())
        self._index_cache: dict[tuple[str, str], list[tuple[bytes, int, float, bytes]]] = {}

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
                        for tbytes, freq, weight, vbytes in self._indexed(name, field, value):
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

    def _indexed(self, name: str, field: Any, value: Any) -> Sequence[tuple[bytes, int, float, bytes]]:
        """`field.index(value)`, kept for a keyword list that recurs (the
        platforms and causes): Whoosh runs a tokenizer and filters for each."""
        if not isinstance(field, KEYWORD) or field.unique or not isinstance(value, str):
            return list(field.index(value))
        key = (name, value)
        found = self._index_cache.get(key)
        if found is None:
            if len(self._index_cache) >= 4096:  # bounded
                self._index_cache.clear()
            found = self._index_cache[key] = list(field.index(value))
        return found

    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        if can_write(self.fieldwriter):
            write_terms(self.fieldwriter, self.schema, self.pool.sorted_terms())
        else:
            self.fieldwriter.add_postings(self.schema, None, self.pool.iter_postings())
        self.fieldwriter.close()


@contextmanager
def own_garbage_collected() -> Iterator[None]:
    """Collect the cyclic garbage made inside the block, and only it.

    A segment writer opens its temporary storage twice, and the second
    `FileStorage.create` finds the folder there and ignores the
    FileExistsError, keeping it in a local (`e = sys.exc_info()[1]`): the
    exception, its traceback and that frame make a cycle, and the frame's
    callers, up to the build holding every article, stay reachable from it.
    With the collector paused for the build, all of that would live until
    the collection at exit (~0.6 s at 10,000 articles). What existed before
    the block is frozen meanwhile, so the collection walks only what the
    block made."""
    if gc.get_freeze_count():  # someone else's frozen objects: unfreezing would release them
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.collect(0)
        gc.unfreeze()


def can_write(fieldwriter: Any) -> bool:
    """Whether `write_terms` handles this field writer's codec: Whoosh's W3
    field writer, no postings inlined in the term table, no length statistics."""
    codec = getattr(fieldwriter, "_codec", None)
    return (
        type(fieldwriter).__name__ == "W3FieldWriter"
        and getattr(codec, "_inlinelimit", None) == 1
        and getattr(codec, "length_stats", True) is False
    )


#: One block as W3 writes it: ids, weights (as stored: float32), the highest
#: weight, the weights minified, the values.
Block = tuple[Sequence[int], "array[float]", float, Any, Sequence[bytes]]


def _minified(stored: array[float]) -> Any:
    """W3's block weights: None when all 1, one number when all equal."""
    size = len(stored)  # counted in C: a generator here is a Python step per posting
    if stored.count(1.0) == size:
        return None
    return stored[0] if stored.count(stored[0]) == size else tuple(stored)


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


def write_terms(fieldwriter: Any, schema: Schema, terms: Iterable[tuple[str, bytes, Postings]]) -> None:
    """Write `terms` ((field, term, postings), sorted by field and term) as
    `W3FieldWriter.add_postings` would, with one write per term to each file."""
    codec = fieldwriter._codec
    limit, compression = codec._blocklimit, codec._compression
    postfile, tindex = fieldwriter._postfile.file, fieldwriter._tindex
    termfile = tindex.dbfile.file
    buckets, positions = tindex.buckets, tindex.index
    hash_of = _hash_function(tindex.hashfn)
    # A document's one-posting terms mostly share a count (1): one block's bytes for them all.
    single_blocks: dict[tuple[int, int], bytes] = {}
    lastfield: str | None = None
    fieldkey = b""
    fixedsize: int | None = None
    lastkey = tindex.lastkey
    # Positions are counted here rather than asked of the files (a seek per call).
    start, position = postfile.tell(), termfile.tell()
    for fieldname, tbytes, postings in terms:
        if fieldname != lastfield:
            fieldwriter.start_field(fieldname, schema[fieldname])  # registers the field's number
            fieldkey = pack_ushort(fieldwriter._fieldid)
            fixedsize = schema[fieldname].format.fixed_value_size()
            lastfield = fieldname

        if isinstance(postings, CountedPostings) and len(postings) == 2 and fixedsize == 4:
            # Most terms: one counted posting, in one block (what the loop below makes of it).
            docnum, counted = postings
            weight = float(counted)
            block_bytes = single_blocks.get((docnum, counted), b"")
            if not block_bytes:
                block_bytes = single_blocks[docnum, counted] = _single_block(docnum, counted, compression)
            total_weight = top_weight = weight
            first_id = last_id = docnum
            count = 1
        else:
            block_bytes, total_weight, top_weight, first_id, last_id, count = _posting_bytes(
                postings, limit, fixedsize, compression)
        postfile.write(block_bytes)

        # The term's row in the term table, and its place in the hash index.
        key = fieldkey + tbytes
        if key <= lastkey:
            raise ValueError(f"Keys must increase: {lastkey!r}..{key!r}")
        row = KEY_VALUE_LENGTHS.pack(len(key), TERM_VALUE.size) + key + TERM_VALUE.pack(
            False, total_weight, count, _NO_LENGTH, _ZERO_LENGTH, top_weight, first_id, last_id,
            start, len(block_bytes))
        start += len(block_bytes)
        positions.append(position)
        termfile.write(row)
        hashed = hash_of(key)
        buckets[hashed & 255].append((hashed, position))
        position += len(row)
        lastkey = key
    tindex.lastkey = lastkey
    if lastfield is not None:
        fieldwriter.finish_field()
    if type(tindex) is OrderedHashWriter:  # its close() writes the hash tables: one write per table
        tindex._write_hashes = partial(_write_hash_tables_once, tindex)


def _hash_function(hashfn: Any) -> Any:
    """A term table's hash function, as `key_hash` when it is Whoosh's
    `md5_hash` (the same number, sooner)."""
    return key_hash if hashfn is md5_hash else hashfn


def key_hash(key: bytes) -> int:
    """Whoosh's `md5_hash` (the last 32 bits of the key's MD5, read from its
    hex digest), from the digest's last four bytes."""
    return int.from_bytes(md5(key, usedforsecurity=False).digest()[-4:], "big")


def _write_hash_tables(tindex: Any) -> None:
    """`HashWriter._write_hashes`: the 256 open-addressing tables of the term
    table's (hash, position) pairs, each slot placed as Whoosh places it,
    each table written in one call rather than one per slot."""
    dbfile = tindex.dbfile
    empty = (0, 0)  # no row starts at 0 (the header is there): never a real entry
    for entries in tindex.buckets:
        tindex.directory.append((dbfile.tell(), 2 * len(entries)))
        slots = [empty] * (2 * len(entries))
        size = len(slots)
        for entry in entries:
            slot = (entry[0] >> 8) % size
            while slots[slot] != empty:
                slot = (slot + 1) % size
            slots[slot] = entry
        dbfile.write(b"".join(starmap(HASH_POINTER.pack, slots)))


def _write_hash_tables_once(tindex: Any) -> None:
    """`_write_hash_tables` in place of the writer's own method, dropped as it
    runs: the writer holding a call to itself is a cycle that, with the
    collector paused, would keep every (hash, position) pair alive."""
    del tindex._write_hashes
    _write_hash_tables(tindex)


def _block(postings: tuple[Any, Any, Any], count: int, last_id: int, top: float,
           compression: int) -> tuple[bytes, bytes]:
    """One W3 posting block: its pickled info (count, last id, top weight,
    compression, no length statistics) and its pickled (id gaps, weights,
    values), zlib-compressed when asked."""
    data = dumps(postings, 2)
    if compression:
        data = zlib.compress(data, compression)
    return dumps((count, last_id, top, compression, _NO_LENGTH, _ZERO_LENGTH), 2), data


def _only_block(info: bytes, data: bytes) -> bytes:
    """A term's postings of one block: the header tag, then the block (its
    length negative: the last)."""
    return MAGIC + BLOCK_LENGTH.pack(-(len(info) + len(data))) + info + data


def _single_block(docnum: int, counted: int, compression: int) -> bytes:
    """The posting bytes of a term in one document only, `counted` times."""
    weight = float(counted)
    return _only_block(*_block(((docnum,), None if counted == 1 else weight, pack_uint(counted)),
                               1, docnum, weight, compression))


def _one_counted_block(postings: CountedPostings, compression: int) -> tuple[bytes, float, float, int, int, int]:
    """`_posting_bytes` of counted postings that fit one block (nearly all
    terms of more than one document), without the block loop."""
    ids, counts = postings[::2], postings[1::2]
    stored = array("f", counts)
    top = max(counts)
    block_top: float = float(top) if top > 0 else 0
    info, data = _block(((ids[0], *map(sub, ids[1:], ids)), _minified(stored), b"".join(map(pack_uint, counts))),
                        len(ids), ids[-1], block_top, compression)
    return _only_block(info, data), sum(stored), block_top, ids[0], ids[-1], len(ids)


def _posting_bytes(postings: Postings, limit: int, fixedsize: int | None,
                   compression: int) -> tuple[bytes, float, float, int, int, int]:
    """A term's postings as W3 blocks of up to `limit`, and the term-table
    statistics: (bytes, total weight, top weight, first id, last id, count)."""
    if isinstance(postings, CountedPostings) and fixedsize == 4 and len(postings) <= 2 * limit:
        return _one_counted_block(postings, compression)
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
        gaps = (ids[0], *map(sub, ids[1:], ids)) if len(ids) > 1 else (ids[0],)
        info, data = _block((gaps, mini_weights, mini_values), len(ids), ids[-1], block_top, compression)
        chunks += (BLOCK_LENGTH.pack(len(info) + len(data)), info, data)
        total_weight += sum(stored)
        top_weight = max(top_weight, block_top)
        first_id = ids[0] if not count else first_id
        last_id = ids[-1]
        count += len(ids)
    chunks[-3] = BLOCK_LENGTH.pack(-(len(chunks[-2]) + len(chunks[-1])))  # the last block's length is negative
    return b"".join(chunks), total_weight, top_weight, first_id, last_id, count


# -- reading ---------------------------------------------------------------


#: A file of a segment, read in place.
Buffer = mmap.mmap | memoryview


def _buffer(file: Any) -> Buffer:
    """A read-only view of a segment file: a memory map of a file on disk;
    for an index in memory, its bytes (`getvalue` shares them, and holds
    no export that would stop Whoosh closing the file)."""
    if isinstance(file, io.BytesIO):
        return memoryview(file.getvalue())
    return mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)


class TermTable:
    """One segment's term table and postings, for the two questions the
    scorer asks: how many documents hold a term in a field, and which, with
    their term frequencies (deleted documents included, as Whoosh counts
    them; the caller filters them).

    Both files are read as buffers (a memory map, or the bytes of an index
    in memory) in the W3 layouts this module writes:

    - a look-up is the hash probe of `filetables.HashReader.ranges_for_key`
      in memory (~3 µs), where Whoosh's reader seeks and reads four times
      through Python wrappers (~10-15 µs); a 2 KB paste makes ~700;
    - a term's postings are decoded block by block as `W3LeafMatcher` reads
      them, without building a matcher (~25 µs a term through Whoosh: a
      paste reads ~220 posting lists).

    A segment without W3 files of its own is read through Whoosh's public
    calls. `tests/test_scoring.py` compares every term's frequency and
    postings with Whoosh's: separate files, several segments with deletions,
    a compound file, an index in memory.
    """

    def __init__(self, segment: Any) -> None:
        self.segment = segment
        self._terms: Buffer | None = None
        self._postings: Buffer | None = None
        try:
            terms = segment._terms  # Whoosh's W3TermsReader
            index = terms._tindex
            self._tables: list[tuple[int, int]] = list(index.tables)
            self._hash = _hash_function(index.hashfn)
            self._keycoder = terms._keycoder
            self._terms = _buffer(index.dbfile.file)
            self._postings = _buffer(terms._postfile.file)
        except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
            self.close()  # not W3 files of their own: Whoosh answers

    def close(self) -> None:
        for buffer in (self._terms, self._postings):
            if isinstance(buffer, mmap.mmap):
                buffer.close()
        self._terms = self._postings = None

    def _row(self, terms: Buffer, field: str, term: str) -> tuple[int, int] | None:
        """Where the term table's row for (field, term) is, and its length."""
        key = self._keycoder(field, term.encode("utf-8"))
        keyhash = self._hash(key)
        start, slots = self._tables[keyhash & 255]
        if not slots:
            return None
        end = start + slots * HASH_POINTER.size
        slot = start + (keyhash >> 8) % slots * HASH_POINTER.size
        for _ in range(slots):
            slot_hash, row = HASH_POINTER.unpack_from(terms, slot)
            if not row:
                return None
            if slot_hash == keyhash:
                key_length, value_length = KEY_VALUE_LENGTHS.unpack_from(terms, row)
                value = row + KEY_VALUE_LENGTHS.size + key_length
                if key_length == len(key) and terms[value - key_length:value] == key:
                    return value, value_length
            slot += HASH_POINTER.size
            if slot == end:
                slot = start
        return None

    def doc_frequency(self, field: str, term: str) -> int:
        if self._terms is not None:
            try:
                row = self._row(self._terms, field, term)
                return 0 if row is None else int(TERM_INFO.unpack_from(self._terms, row[0])[2])
            except (struct.error, ValueError):  # a damaged file: Whoosh says what it can
                pass
        try:
            return int(self.segment.doc_frequency(field, term))
        except Exception:  # no such field in this segment, or unreadable
            return 0

    def posting_blocks(self, field: str, term: str) -> Iterator[tuple[Sequence[int], Sequence[float]]]:
        """(ids, weights) of the term's postings, a block at a time. A
        damaged file raises (the caller falls back to another index: an
        unreadable one is never "no match")."""
        terms, postings = self._terms, self._postings
        if terms is None or postings is None:
            yield from self._through_whoosh(field, term)
            return
        row = self._row(terms, field, term)
        if row is None:
            return
        position, length = row
        if terms[position]:  # flags: postings inlined in the row (Whoosh's writer does, for one)
            ids, weights, _ = safe_loads(terms[position + TERM_INFO.size:position + length])
            yield ids, weights
            return
        offset, _ = EXTENT.unpack_from(terms, position + TERM_INFO.size)
        if postings[offset:offset + len(MAGIC)] != MAGIC:
            raise ValueError(f"no postings at {offset}: the index is damaged")
        position = offset + len(MAGIC)
        while True:
            (length,) = BLOCK_LENGTH.unpack_from(postings, position)
            start = position + BLOCK_LENGTH.size
            block = io.BytesIO(postings[start:start + abs(length)])
            unpickler = SafeUnpickler(block)
            count, _, _, compression, _, _ = unpickler.load()  # the block's info, then its data
            gaps, weights, _ = safe_loads(zlib.decompress(block.read())) if compression else unpickler.load()
            # Ids are stored as gaps (a C-level running sum decodes them),
            # weights as None when all are 1 and one number when all equal.
            yield list(accumulate(gaps)), ([1.0] * count if weights is None else
                                           [weights] * count if isinstance(weights, float) else weights)
            if length < 0:  # the last block
                return
            position = start + length

    def _through_whoosh(self, field: str, term: str) -> Iterator[tuple[Sequence[int], Sequence[float]]]:
        try:
            matcher = self.segment.postings(field, term)
        except TermNotFound:  # no such term, or a field this index lacks
            return
        if isinstance(matcher, FilterMatcher):  # deleted documents
            matcher = matcher.child
            matcher.reset()  # the filter has moved it past leading deleted ones
        one_by_one: tuple[list[int], list[float]] = ([], [])
        while matcher.is_active():
            one_by_one[0].append(matcher.id())
            one_by_one[1].append(matcher.weight())
            matcher.next()
        yield one_by_one


def length_bytes(segment: Any, field: str) -> bytes:
    """The byte-encoded length of `field` in each document of a segment."""
    count = int(segment.doc_count_all())
    try:  # the whole column at once
        column = segment._perdoc._cached_reader(_lenfield(field), LENGTHS_COLUMN)
        raw = bytes(column._dbfile.get(column._basepos, column._count)) if column is not None else b""
    except AttributeError:  # an index in memory: ask document by document
        raw = bytes(length_to_byte(segment.doc_field_length(d, field, 0) or 0) for d in range(count))
    return raw[:count] + bytes(max(count - len(raw), 0))


class _PrivateRamStorage(RamStorage):  # type: ignore[misc]
    """Whoosh's RamStorage spills to a fixed, shared `$TMPDIR/MAIN.tmp`,
    which concurrent fallbacks delete under each other: keep it in RAM."""

    def temp_storage(self, name: str | None = None) -> RamStorage:
        return RamStorage()


def ram_index(schema: Schema) -> Any:
    """An empty Whoosh index in memory."""
    return _PrivateRamStorage().create_index(schema)


# -- unpickling only what errkb writes ----------------------------------------

#: Every global a pickle in an errkb index names: the schema (fields, their
#: formats and analyzers, errkb's analyzer), the segment list (W3 segments,
#: their codec, the field-length counts), posting blocks (bytes, which
#: protocol 2 writes as `_codecs.encode(text, "latin1")`). `tests/
#: test_index_hardening.py` checks that errkb's index uses exactly these.
ALLOWED_GLOBALS = frozenset({
    ("_codecs", "encode"),
    ("builtins", "int"),
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("collections", "defaultdict"),
    ("re", "_compile"),
    ("errkb.analysis", "ErrkbAnalyzer"),
    ("errkb.schema", "AnalysedText"),
    ("whoosh.analysis.analyzers", "CompositeAnalyzer"),
    ("whoosh.analysis.filters", "LowercaseFilter"),
    ("whoosh.analysis.filters", "StripFilter"),
    ("whoosh.analysis.tokenizers", "IDTokenizer"),
    ("whoosh.analysis.tokenizers", "RegexTokenizer"),
    ("whoosh.codec.whoosh3", "W3Codec"),
    ("whoosh.codec.whoosh3", "W3Segment"),
    ("whoosh.fields", "ID"),
    ("whoosh.fields", "KEYWORD"),
    ("whoosh.fields", "STORED"),
    ("whoosh.fields", "Schema"),
    ("whoosh.formats", "Existence"),
    ("whoosh.formats", "Frequency"),
})
#: The regular expressions errkb's schema compiles (KEYWORD's comma
#: tokenizer): a planted one could backtrack for ever.
ALLOWED_PATTERNS = frozenset({r"[^,]+"})
#: What the unpickler was asked for since the set was last cleared (tests).
loaded_globals: set[tuple[str, str]] = set()


def _latin1_encode(text: str, encoding: str = "latin1") -> bytes:
    """`_codecs.encode`, as protocol 2 uses it for bytes, and nothing else
    (any other codec name would make the unpickler look codecs up)."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError("refused: _codecs.encode with another codec")
    return text.encode("latin1")


def _compile(pattern: Any, flags: Any = 0) -> Any:
    if pattern not in ALLOWED_PATTERNS or not isinstance(flags, int):
        raise pickle.UnpicklingError(f"refused: regular expression {str(pattern)[:40]!r}")
    return re.compile(pattern, flags)


_REPLACED = {("_codecs", "encode"): _latin1_encode, ("re", "_compile"): _compile}


class SafeUnpickler(pickle.Unpickler):
    """An unpickler that builds only the allow-listed globals."""

    def find_class(self, module: str, name: str) -> Any:
        key = (module, name)
        loaded_globals.add(key)
        if key not in ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"refused: {module}.{name} is not part of an errkb index")
        if key in _REPLACED:
            return _REPLACED[key]
        found = _RESOLVED.get(key)
        if found is None:  # each allowed global is imported once; posting blocks name array's every time
            found = _RESOLVED[key] = super().find_class(module, name)
            install_safe_unpickling()  # the import may have loaded a Whoosh module
        return found


#: The allowed globals already imported, by (module, name).
_RESOLVED: dict[tuple[str, str], Any] = {}


def safe_loads(data: Any, **_: Any) -> Any:
    return SafeUnpickler(io.BytesIO(data)).load()


def safe_load(file: Any, **_: Any) -> Any:
    return SafeUnpickler(file).load()


class _SafePickle:
    """Stands in for the `pickle` module in Whoosh's modules that use it by name."""

    loads = staticmethod(safe_loads)
    load = staticmethod(safe_load)
    dumps = staticmethod(pickle.dumps)
    dump = staticmethod(pickle.dump)
    Unpickler = SafeUnpickler
    Pickler = pickle.Pickler
    PicklingError = pickle.PicklingError
    UnpicklingError = pickle.UnpicklingError
    HIGHEST_PROTOCOL = pickle.HIGHEST_PROTOCOL


_RAW = {id(pickle.loads): safe_loads, id(pickle.load): safe_load, id(pickle): _SafePickle,
        id(pickle.Unpickler): SafeUnpickler}
_patched: set[str] = set()


def install_safe_unpickling() -> None:
    """Point every binding a loaded Whoosh module has to pickle's loaders at
    the safe ones. `whoosh.compat` (where most modules import `loads` from)
    is patched first, so modules imported later get the safe names too; the
    rest are patched here as they appear (this is called before each index
    is opened, and after each import the unpickler makes)."""
    for name in [n for n in sys.modules if n.startswith("whoosh") and n not in _patched]:
        module = sys.modules.get(name)
        if module is None:
            continue
        for attr, value in list(vars(module).items()):
            safe = _RAW.get(id(value))
            if safe is not None:
                setattr(module, attr, safe)
        _patched.add(name)


install_safe_unpickling()


def open_index(folder: str) -> Any:
    """Open the Whoosh index in `folder` with the safe unpickler installed."""
    from whoosh.index import open_dir

    install_safe_unpickling()
    return open_dir(folder)
