"""Index files read through memory maps, for searching.

Whoosh reads a segment's files in one of two ways, both costly for errkb: a
compound segment copies every part it opens into memory (~60 MB per search
process at 10,000 articles), and separate files cost a seek and a read
system call for every term look-up and postings block (~70 per query term).
A read-only memory map does neither: pages are read by the kernel when
touched and shared by every process searching the same index.
"""

from __future__ import annotations

import mmap
from typing import Any

from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import BufferFile, StructFile


class MappedFile(BufferFile):  # type: ignore[misc]
    """Whoosh's in-memory file over a read-only map instead of a copy.

    `BufferFile.get` slices its buffer (an mmap slice is `bytes`); reads and
    seeks go to the map, which behaves as a file.
    """

    def __init__(self, mapping: mmap.mmap, name: str | None = None, onclose: Any = None) -> None:
        self._buf = mapping
        self._name = name
        self.file = mapping
        self.onclose = onclose
        self.is_real = False
        self.is_closed = False


class MappedStorage(FileStorage):  # type: ignore[misc]
    """A folder storage whose files open as read-only maps (empty files, which
    cannot be mapped, and systems without mmap get a plain file)."""

    def open_file(self, name: str, **kwargs: Any) -> StructFile:
        handle = open(self._fpath(name), "rb")  # noqa: SIM115 - owned by the returned file
        try:
            mapping = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except (ValueError, OSError):  # an empty file, or no mmap here
            return StructFile(handle, name=name, **kwargs)
        handle.close()  # the map keeps the file open itself
        return MappedFile(mapping, name=name, **kwargs)


def open_index(folder: str) -> Any:
    """Open the Whoosh index in `folder` for reading through maps."""
    return MappedStorage(folder).open_index()
