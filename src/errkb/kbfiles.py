"""Which files in `kb/` are articles, and a cheap fingerprint of them.

Search runs a staleness check before every query, so this module does no more
than one `scandir` and one `stat` per entry: no file is opened here.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from pathlib import Path
from typing import NamedTuple

from .errors import ArticleError, KnowledgeBaseError

ARTICLE_SUFFIX = ".md"
#: Largest article errkb will read; anything bigger is certainly a mistake
#: (real articles are a few KB) and would make every build slow.
MAX_ARTICLE_BYTES = 1024 * 1024
#: `kb check` warns (W106) when an article's `updated` date is older than this.
DEFAULT_MAX_AGE_DAYS = 365


class FileState(NamedTuple):
    """What the staleness check compares of one article: name, size, mtime,
    and the ctime and inode, which change on every write and every
    save-by-rename even where the mtime keeps a coarse (1 or 2 s) tick."""

    name: str
    size: int
    mtime_ns: int
    ctime_ns: int = 0
    ino: int = 0


class Skipped(NamedTuple):
    """An entry of `kb/` that is not read as an article, and why."""

    path: Path
    code: str
    reason: str


def _is_hidden(name: str) -> bool:
    return name.startswith((".", "_"))


def printable_name(name: str) -> str:
    """A file name as text that can always be printed: bytes that are not
    UTF-8 (kept by Python as lone surrogates) are shown as `\\xNN`."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def read_article_bytes(path: Path) -> bytes:
    """The bytes of one article file, refusing anything but a regular file
    (a FIFO would block for ever, a device never end) and reading at most
    `MAX_ARTICLE_BYTES` + 1 bytes, so a file that grows meanwhile is refused too.

    Raises `ArticleError` E018 (not readable, not a regular file) or E019.
    """
    limit = MAX_ARTICLE_BYTES
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            raise ArticleError(path, 1, "E018", "cannot read: not a regular file")
        fd = os.open(path, flags)
    except OSError as exc:
        reason = "a symlink" if exc.errno == errno.ELOOP else (exc.strerror or str(exc))
        raise ArticleError(path, 1, "E018", f"cannot read: {reason}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):  # swapped after the lstat
            raise ArticleError(path, 1, "E018", "cannot read: not a regular file")
        if st.st_size > limit:
            raise ArticleError(path, 1, "E019", f"file is {st.st_size} bytes; the limit is {limit}")
        chunks: list[bytes] = []
        total = 0
        while total <= limit:
            # The first read asks for the size fstat gave, plus one byte to
            # see the end: `os.read` allocates what it is asked for, and a
            # 1 MB request is an mmap, a shrink and an munmap per file.
            request = min(st.st_size + 1 if not total else 1 << 20, limit + 1 - total)
            chunk = os.read(fd, request)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total >= st.st_size and len(chunk) < request:  # the end: no second read to learn it
                break
        if total > limit:
            raise ArticleError(path, 1, "E019", f"file grew past the limit of {limit} bytes while read")
        return b"".join(chunks)
    except OSError as exc:
        raise ArticleError(path, 1, "E018", f"cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def scan(kb_dir: Path) -> tuple[list[FileState], list[Skipped]]:
    """List the article files of `kb_dir` (sorted by name) and what was skipped.

    Articles are `*.md` regular files at the top level. Symlinks are never
    followed (a link could point anywhere on the machine), FIFOs, devices and
    sockets never read, and a name that is not UTF-8 is reported (escaped) and
    skipped; names starting with `.` or `_` are private to editors (templates,
    notes) and ignored silently.
    """
    try:
        entries = list(os.scandir(kb_dir))
    except FileNotFoundError:
        raise KnowledgeBaseError(f"knowledge base folder not found: {kb_dir}") from None
    except NotADirectoryError:
        raise KnowledgeBaseError(f"knowledge base path is not a folder: {kb_dir}") from None
    except PermissionError:
        raise KnowledgeBaseError(f"knowledge base folder is not readable: {kb_dir}") from None
    files: list[FileState] = []
    skipped: list[Skipped] = []
    for entry in entries:  # the hot loop of every search: no Path objects here
        name = entry.name
        if _is_hidden(name):
            continue
        if not name.isascii() and printable_name(name) != name:
            skipped.append(Skipped(Path(kb_dir, printable_name(name)), "W112",
                                   "file name is not UTF-8 (shown escaped): skipped; rename it"))
        elif entry.is_symlink():
            skipped.append(Skipped(Path(kb_dir, name), "W108", "symlink not followed"))
        elif entry.is_dir():
            skipped.append(Skipped(Path(kb_dir, name), "W107", "folder ignored: articles live directly in kb/"))
        elif not name.endswith(ARTICLE_SUFFIX):
            skipped.append(Skipped(Path(kb_dir, name), "W107", "not a Markdown (.md) file: ignored"))
        elif not entry.is_file(follow_symlinks=False):
            skipped.append(Skipped(Path(kb_dir, name), "W111",
                                   "not a regular file (a FIFO, device or socket): never read"))
        else:
            st = entry.stat(follow_symlinks=False)
            files.append(FileState(name, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino))
    files.sort(key=lambda f: f.name)
    skipped.sort(key=lambda s: s.path.name)
    return files, skipped


def fingerprint(files: list[FileState]) -> str:
    """One digest of every article's name, size, mtime, ctime and inode:
    equal digests mean nothing changed (as far as a stat can tell; a file
    modified close to a build's start is checked again, see `indexer`)."""
    digest = hashlib.sha1()
    for f in files:
        digest.update(f"{f.name}\0{f.size}\0{f.mtime_ns}\0{f.ctime_ns}\0{f.ino}\n".encode(
            "utf-8", "surrogateescape"))
    return digest.hexdigest()


#: Timestamp granularity errkb allows for (FAT keeps 2 s, many network and
#: old filesystems 1 s): a file whose mtime is this close to a build's start
#: may have been changed again within the same tick after the build read it.
RACY_WINDOW_NS = 2_000_000_000


def is_racy(mtime_ns: int, build_started_ns: int) -> bool:
    """Whether a file's stat cannot prove it unchanged since that build (the
    racy-git rule): its content is compared again at the next build."""
    return mtime_ns >= build_started_ns - RACY_WINDOW_NS


def any_racy(files: list[FileState], build_started_ns: int) -> bool:
    return any(f.mtime_ns >= build_started_ns - RACY_WINDOW_NS for f in files)
