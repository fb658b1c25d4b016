"""Which files in `kb/` are articles, and a cheap fingerprint of them.

Search runs a staleness check before every query, so this module does no more
than one `scandir` and one `stat` per entry: no file is opened here.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import NamedTuple

from .errors import KnowledgeBaseError

ARTICLE_SUFFIX = ".md"
#: Largest article errkb will read; anything bigger is certainly a mistake
#: (real articles are a few KB) and would make every build slow.
MAX_ARTICLE_BYTES = 1024 * 1024
#: `kb check` warns (W106) when an article's `updated` date is older than this.
DEFAULT_MAX_AGE_DAYS = 365


class FileState(NamedTuple):
    """What the staleness check compares: name, size and mtime of one article."""

    name: str
    size: int
    mtime_ns: int


class Skipped(NamedTuple):
    """An entry of `kb/` that is not read as an article, and why."""

    path: Path
    code: str
    reason: str


def _is_hidden(name: str) -> bool:
    return name.startswith((".", "_"))


def scan(kb_dir: Path) -> tuple[list[FileState], list[Skipped]]:
    """List the article files of `kb_dir` (sorted by name) and what was skipped.

    Articles are `*.md` files at the top level. Symlinks are never followed (a
    link could point anywhere on the machine); names starting with `.` or `_`
    are private to editors (templates, notes) and ignored silently.
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
        if entry.is_symlink():
            skipped.append(Skipped(Path(kb_dir, name), "W108", "symlink not followed"))
        elif entry.is_dir():
            skipped.append(Skipped(Path(kb_dir, name), "W107", "folder ignored: articles live directly in kb/"))
        elif not name.endswith(ARTICLE_SUFFIX):
            skipped.append(Skipped(Path(kb_dir, name), "W107", "not a Markdown (.md) file: ignored"))
        else:
            st = entry.stat(follow_symlinks=False)
            files.append(FileState(name, st.st_size, st.st_mtime_ns))
    files.sort(key=lambda f: f.name)
    skipped.sort(key=lambda s: s.path.name)
    return files, skipped


def fingerprint(files: list[FileState]) -> str:
    """One digest of every article's name, size and mtime: equal digests mean
    nothing changed (as far as a stat can tell)."""
    digest = hashlib.sha1()
    for f in files:
        digest.update(f"{f.name}\0{f.size}\0{f.mtime_ns}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()
