"""Whether anything in a few folders changed since the last look (Linux inotify).

A server checking 10,000 articles for edits spends a `stat` per article on
every check. The kernel can say instead: inotify queues an event for every
write, rename, deletion or timestamp change in a watched folder before the
system call that made it returns, so draining the queue without blocking at
the start of a request tells, exactly and at no cost, whether an edit saved
before the request was sent happened since the last check. (A library's
observer thread, such as watchdog's, delivers the same events later, from
another thread: a request could arrive before the event does.)

Only the folder's own entries are watched (articles live directly in kb/).
Where inotify is missing (not Linux) or cannot watch (its limits reached),
`watch` returns None and callers keep checking by `stat`. A network
filesystem does not report changes made by other machines: callers still
check now and then (`web.shared`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import struct
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_IN_NONBLOCK = 0o4000
_IN_CLOEXEC = 0o2000000
#: Content written, metadata (touch, chmod), closed after writing, renamed
#: out and in, created, deleted, the folder itself deleted or moved.
_MASK = 0x002 | 0x004 | 0x008 | 0x040 | 0x080 | 0x100 | 0x200 | 0x400 | 0x800
#: The kernel dropped events (its queue overflowed) / a watch was removed.
_IN_Q_OVERFLOW = 0x4000
_IN_IGNORED = 0x8000
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, name length (the name follows)


class FolderWatch:
    """Changes to the entries of some folders since the last `changed()`."""

    def __init__(self, fd: int, add: Any) -> None:
        self._fd = fd
        self._add = add
        self._folders: set[Path] = set()
        self.broken = False  # a watched folder went away or events were lost: only a stat check can tell now

    def add(self, folder: Path) -> bool:
        """Watch `folder` too; False when it cannot be watched (then nothing
        is promised about it)."""
        wd = self._add(self._fd, os.fsencode(folder), _MASK)
        if wd < 0:
            return False
        self._folders.add(folder)
        return True

    def watches(self, folder: Path) -> bool:
        return folder in self._folders

    def changed(self) -> bool:
        """Whether any watched folder changed since the last call (or the
        kernel lost track, which counts as a change)."""
        seen = False
        while True:
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                return seen or self.broken
            except OSError:  # the descriptor failed: assume the worst from now on
                self.broken = True
                return True
            if not data:
                return True
            seen = True
            if any(mask & (_IN_IGNORED | _IN_Q_OVERFLOW) for mask in _event_masks(data)):
                self.broken = True

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def _event_masks(data: bytes) -> Iterator[int]:
    """The mask of each event in what one read returned (each event's name follows it)."""
    offset = 0
    while offset + _EVENT.size <= len(data):
        _, mask, _, name_length = _EVENT.unpack_from(data, offset)
        yield mask
        offset += _EVENT.size + name_length


def watch(folders: list[Path]) -> FolderWatch | None:
    """A watch on `folders`, or None where inotify cannot watch all of them."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        init, add = libc.inotify_init1, libc.inotify_add_watch
    except (OSError, AttributeError):
        return None
    init.argtypes, init.restype = [ctypes.c_int], ctypes.c_int
    add.argtypes, add.restype = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32], ctypes.c_int
    fd = init(_IN_NONBLOCK | _IN_CLOEXEC)
    if fd < 0:  # EMFILE: too many inotify instances for this user
        return None
    watcher = FolderWatch(fd, add)
    if not all(watcher.add(folder) for folder in folders):
        watcher.close()
        return None
    return watcher

