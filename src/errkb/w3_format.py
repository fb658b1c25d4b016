"""The parts of Whoosh's W3 index format errkb reads and writes itself
(`scoring` reads posting blocks, `term_writer` writes them): one place for
the byte layouts both must agree on."""

from __future__ import annotations

import struct

from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC

#: Before a term's first posting block.
MAGIC = WHOOSH3_HEADER_MAGIC
#: A block's length in bytes, negative for a term's last block.
BLOCK_LENGTH = struct.Struct("!i")
#: A term-table row: flags (1: postings inlined), total weight, document
#: frequency, min and max length bytes, max weight, first and last id
#: (`W3TermInfo._struct`) ...
TERM_INFO = struct.Struct("!BfIBBfII")
#: ... then where the postings are: offset and length in the postings file.
EXTENT = struct.Struct("!qi")
#: Before each key and value of the term table (`filetables._lengths`).
KEY_VALUE_LENGTHS = struct.Struct("!ii")
