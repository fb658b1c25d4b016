"""The index folder on disk: generations, the pointer that publishes one, the lock.

Layout of `index/`::

    errkb-index.json   the pointer: which generation is live, its build id, versions
    gen-000007/        one complete Whoosh index + manifest.json + errkb-build.json
    .build.lock        held (flock) by the one process that builds

A build prepares a new generation aside (hard-linking the live one's segment
files for an incremental update: Whoosh never rewrites a segment file) and
publishes it by atomically replacing the pointer, after every file of the
generation, its manifest and the pointer itself are fsynced. Readers read the
pointer and open that generation; the previous generation is kept so a reader
that read the old pointer a moment ago can still open it. A build killed at
any moment leaves the pointer, and so the last good index, untouched; the
next build removes what it left.

What errkb trusts here (the README's "Security"): only a folder owned by the
user running errkb and writable by no one else (a group counts as "no one
else" only when it is the user's own private group), only generation names
`gen-<digits>` that are real folders inside it, and only a generation whose
build stamp carries the build id the pointer names. Whoosh's pickles are read
with an allow-list unpickler (`whoosh_seam`), so even a folder that passes
these checks but that errkb did not build runs no code.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from . import __version__
from .errors import BuildInProgress, IndexProblem
from .versions import INDEX_FORMAT

POINTER = "errkb-index.json"
MANIFEST = "manifest.json"
#: In each generation: the build id and article count the pointer must match.
STAMP = "errkb-build.json"
LOCK = ".build.lock"
FORMAT = "errkb-index"
GEN_PREFIX = "gen-"
#: The only generation names errkb writes or follows.
GENERATION_NAME = re.compile(r"gen-[0-9]{1,18}")
#: Files a fresh checkout's `index/` holds that are not the index.
PLACEHOLDERS = frozenset({".gitignore", "README.txt", LOCK})
#: The pointer is a few hundred bytes; anything far bigger is not ours.
MAX_POINTER_BYTES = 64 * 1024


class DamagedPointer(IndexProblem):
    """The pointer cannot be read or names no generation inside the folder.
    A build holding the lock repairs it (a read builds rather than give up)."""


class Pointer(NamedTuple):
    """The published state: which generation answers, built from what."""

    generation: str
    errkb_version: str
    schema_version: str
    fingerprint: str
    articles: int
    built_at: float
    #: Random per generation, also in the generation's stamp: a folder that
    #: reuses the name (another build's half-made one) is never taken for it.
    build_id: str = ""
    #: The generation live before this one (kept for readers of the old pointer).
    previous: str = ""
    #: The highest generation number ever used here: names are never reused.
    serial: int = 0
    #: Wall clock when the build started: files modified after it, less the
    #: timestamp granularity, are re-hashed next time (the racy-git rule).
    started_ns: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, **self._asdict()}


def generation_number(name: str) -> int:
    return int(name[len(GEN_PREFIX):]) if GENERATION_NAME.fullmatch(name) else 0


# -- trust ---------------------------------------------------------------------


def _own_private_group(gid: int) -> bool:
    """Whether group `gid` is the user's private group (its name is the
    user's, nobody else listed): group-writable then means only the user."""
    import grp
    import pwd

    try:
        user = pwd.getpwuid(os.geteuid()).pw_name
        group = grp.getgrgid(gid)
    except KeyError:
        return False
    return gid == os.getegid() and group.gr_name == user and not set(group.gr_mem) - {user}


def check_trusted(path: Path, st: os.stat_result, what: str) -> None:
    """Refuse what another user owns or can write: its pickles and files
    could have been planted. Root is held to the same rule (a root build
    trusting a user's folder is how a planted index would gain root)."""
    if st.st_uid != os.geteuid():
        raise IndexProblem(path, f"{what} is owned by uid {st.st_uid}, not by you (uid {os.geteuid()}): "
                                 "errkb opens only index folders you own")
    if st.st_mode & stat.S_IWOTH or (st.st_mode & stat.S_IWGRP and not _own_private_group(st.st_gid)):
        who = "others" if st.st_mode & stat.S_IWOTH else f"group {st.st_gid}"
        raise IndexProblem(path, f"{what} is writable by {who}; run `chmod go-w` on it or choose another "
                                 "--index-dir")


def check_folder(index_dir: Path) -> bool:
    """Whether the index folder exists; refuses it when it is not errkb's to use."""
    try:
        st = os.stat(index_dir)
    except FileNotFoundError:
        return False
    except NotADirectoryError:
        raise IndexProblem(index_dir, "index path is not a folder") from None
    except OSError as exc:
        raise IndexProblem(index_dir, f"index folder cannot be examined ({exc.strerror})") from None
    if not stat.S_ISDIR(st.st_mode):
        raise IndexProblem(index_dir, "index path is not a folder")
    check_trusted(index_dir, st, "index folder")
    return True


# -- the pointer ----------------------------------------------------------------


def _read_small(path: Path, limit: int) -> bytes:
    """A regular file's bytes, at most `limit` (a FIFO or a symlink named
    like errkb's file is never opened for reading)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ValueError("not a regular file")
        data = os.read(fd, limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise ValueError("too large")
    return data


def read_pointer(index_dir: Path) -> Pointer | None:
    """The live pointer, or None when no index was ever published here.

    Raises IndexProblem when the folder is not ours to use (someone else's,
    writable by others, holding other files), DamagedPointer when the pointer
    is unreadable or names no generation errkb could have written.
    """
    if not check_folder(index_dir):
        return None
    path = index_dir / POINTER
    try:
        data = json.loads(_read_small(path, MAX_POINTER_BYTES).decode("utf-8"))
    except FileNotFoundError:
        _refuse_foreign(index_dir)
        return None
    except (OSError, ValueError):
        _refuse_foreign(index_dir)
        raise DamagedPointer(path, "index pointer is unreadable or corrupted; `kb index` repairs it") from None
    if isinstance(data, dict) and "format" in data and data["format"] != FORMAT:
        raise IndexProblem(path, "not an errkb index pointer; point --index-dir elsewhere")
    try:
        if not isinstance(data, dict):
            raise TypeError
        pointer = Pointer(
            generation=str(data["generation"]),
            errkb_version=str(data["errkb_version"]),
            schema_version=str(data["schema_version"]),
            fingerprint=str(data["fingerprint"]),
            articles=int(data["articles"]),
            built_at=float(data["built_at"]),
            build_id=str(data.get("build_id", "")),
            previous=str(data.get("previous", "")),
            serial=int(data.get("serial", 0)),
            started_ns=int(data.get("started_ns", 0)),
        )
    except (KeyError, TypeError, ValueError, OverflowError):
        _refuse_foreign(index_dir)
        raise DamagedPointer(path, "index pointer is corrupted; `kb index` repairs it") from None
    if not GENERATION_NAME.fullmatch(pointer.generation) or (
            pointer.previous and not GENERATION_NAME.fullmatch(pointer.previous)):
        _refuse_foreign(index_dir)
        raise DamagedPointer(path, f"index pointer names {pointer.generation[:80]!r}, not a generation "
                                   "inside the index folder; `kb index` repairs it")
    return pointer


def _refuse_foreign(index_dir: Path) -> None:
    """An index folder with other people's files in it is not ours to fill or wipe."""
    try:
        names = [n for n in os.listdir(index_dir)]
    except FileNotFoundError:
        return
    except OSError as exc:
        raise IndexProblem(index_dir, f"index folder is not readable ({exc.strerror})") from None
    foreign = [n for n in names if n not in PLACEHOLDERS
               and not n.startswith((GEN_PREFIX, POINTER, f".{POINTER}."))]
    if foreign:
        raise IndexProblem(
            index_dir,
            f"folder holds files that are not an errkb index ({foreign[0]!r}); choose another --index-dir",
        )


def _fsync_path(path: Path, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_durably(path: Path, text: str) -> None:
    """Write aside, fsync, rename over `path`, fsync the folder: after a
    crash or power loss the file is the old one or the new one, whole."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o644)
        try:
            view = memoryview(text.encode("utf-8"))
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_path(path.parent, directory=True)


def write_pointer(index_dir: Path, pointer: Pointer) -> None:
    """Publish: write aside, then rename over the old pointer (atomic on POSIX)."""
    write_durably(index_dir / POINTER, json.dumps(pointer.as_dict(), indent=1))


# -- generations ------------------------------------------------------------------


def new_build_id() -> str:
    return os.urandom(8).hex()  # `secrets.token_hex(8)`, without importing it for every search


def generations(index_dir: Path) -> list[str]:
    """Generation folder names (`gen-<digits>`), oldest first."""
    try:
        names = [n for n in os.listdir(index_dir) if GENERATION_NAME.fullmatch(n)]
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(names, key=generation_number)


def highest_generation(index_dir: Path) -> int:
    return max((generation_number(n) for n in generations(index_dir)), default=0)


def next_generation(index_dir: Path, pointer: Pointer | None = None, floor: int = 0) -> str:
    """A name never used here: past every folder, every name the pointer
    remembers and `floor` (the highest seen before leftovers were removed):
    folders may be deleted by hand; a name must not come back."""
    known = [floor, *(generation_number(n) for n in generations(index_dir))]
    if pointer is not None:
        known += [pointer.serial, generation_number(pointer.generation), generation_number(pointer.previous)]
    return f"{GEN_PREFIX}{max(known, default=0) + 1:06d}"


def prepare_generation(index_dir: Path, base: str | None, pointer: Pointer | None = None,
                       floor: int = 0) -> Path:
    """A new generation folder: empty, or hard links to `base`'s files."""
    import shutil  # here: searching imports this module, only builds need shutil

    target = index_dir / next_generation(index_dir, pointer, floor)
    target.mkdir(mode=0o755)
    if base is None:
        return target
    for entry in os.scandir(index_dir / base):
        # Whoosh's own lock file is per generation; the manifest and stamp are
        # written anew; everything else is write-once (segments) or replaced
        # by rename (TOC).
        if (entry.is_file(follow_symlinks=False) and not entry.name.upper().endswith("LOCK")
                and entry.name not in (MANIFEST, STAMP)):
            try:
                os.link(entry.path, target / entry.name, follow_symlinks=False)
            except OSError:  # a filesystem without hard links
                shutil.copy2(entry.path, target / entry.name, follow_symlinks=False)
    return target


def seal_generation(folder: Path, build_id: str, articles: int) -> None:
    """Make a written generation durable and errkb's: no file writable by
    group or others (whatever the umask), every file fsynced, then the stamp."""
    for entry in os.scandir(folder):
        if entry.is_file(follow_symlinks=False):
            mode = entry.stat(follow_symlinks=False).st_mode
            if mode & (stat.S_IWGRP | stat.S_IWOTH):
                os.chmod(entry.path, stat.S_IMODE(mode) & ~(stat.S_IWGRP | stat.S_IWOTH))
            _fsync_path(Path(entry.path))
    write_durably(folder / STAMP, json.dumps({"build_id": build_id, "articles": articles}))


def remove_generations(index_dir: Path, keep: set[str]) -> None:
    """Delete every generation but `keep` (and what killed builds left
    behind). Called with the build lock held. A symlink named like a
    generation is unlinked, never followed."""
    import shutil

    for name in generations(index_dir):
        if name in keep:
            continue
        path = index_dir / name
        if path.is_symlink() or not path.is_dir():
            with contextlib.suppress(OSError):
                path.unlink()
        else:
            shutil.rmtree(path, ignore_errors=True)
    for leftover in index_dir.glob(f".{POINTER}.*.tmp"):
        with contextlib.suppress(OSError):
            leftover.unlink()


def read_manifest(generation_dir: Path) -> dict[str, Any]:
    try:
        data = json.loads((generation_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_manifest(generation_dir: Path, manifest: dict[str, Any]) -> None:
    """Write aside, fsync and rename: a manifest is whole or absent, never half."""
    write_durably(generation_dir / MANIFEST, json.dumps(manifest, ensure_ascii=False))


def ensure_index_dir(index_dir: Path) -> None:
    """Create the folder if needed and prove it is ours and writable, or say which path is not."""
    try:
        index_dir.mkdir(parents=True, exist_ok=True, mode=0o755)
    except FileExistsError:
        raise IndexProblem(index_dir, "index path exists and is not a folder") from None
    except OSError as exc:
        raise IndexProblem(index_dir, f"cannot create the index folder ({exc.strerror})") from None
    check_folder(index_dir)  # checked after mkdir: someone may have made it first
    _refuse_foreign(index_dir)
    if not os.access(index_dir, os.W_OK | os.X_OK):
        raise IndexProblem(index_dir, "index folder is not writable")


@contextlib.contextmanager
def build_lock(index_dir: Path, wait: float) -> Iterator[None]:
    """Hold the one build lock, waiting up to `wait` seconds for another builder.

    The folder is checked first (ours, no one else's files in it), so a
    refused folder is left exactly as it was. flock is released by the
    kernel when its holder dies, so a killed build never leaves a stale lock.
    """
    import fcntl

    ensure_index_dir(index_dir)
    path = index_dir / LOCK
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0),
                     0o644)
    except OSError as exc:
        raise IndexProblem(path, f"cannot open the build lock ({exc.strerror})") from None
    deadline = time.monotonic() + max(wait, 0.0)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise BuildInProgress(index_dir, wait) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)


def unusable_reason(index_dir: Path, pointer: Pointer | None) -> str | None:
    """Why the published generation cannot answer (None: it can): built by
    another errkb version or index format, or its folder is not a real one."""
    if pointer is None:
        return "no index yet"
    if pointer.errkb_version != __version__ or pointer.schema_version != INDEX_FORMAT or not pointer.build_id:
        return "index is from another errkb version"
    try:
        st = os.lstat(index_dir / pointer.generation)
    except OSError:
        return f"index generation is missing: {index_dir / pointer.generation}"
    if not stat.S_ISDIR(st.st_mode):
        return f"index generation is not a folder (a symlink is never followed): {index_dir / pointer.generation}"
    return None


def usable(index_dir: Path, pointer: Pointer | None) -> bool:
    return unusable_reason(index_dir, pointer) is None


def open_generation(index_dir: Path, pointer: Pointer) -> Any:
    """Open the published generation, once it has proved to be the one the
    pointer published: a real folder of ours, regular files only, the same
    build id, then (through the allow-list unpickler) the same article count.

    Raises IndexProblem naming the generation's path otherwise.
    """
    folder = index_dir / pointer.generation
    why = unusable_reason(index_dir, pointer)
    if why is not None:
        raise IndexProblem(folder, f"index cannot be opened ({why.split(':')[0]})")
    try:
        check_trusted(folder, os.lstat(folder), "index generation")
        for entry in os.scandir(folder):
            st = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(st.st_mode):
                raise IndexProblem(entry.path, "not a regular file in an index generation")
            check_trusted(Path(entry.path), st, "index file")
        stamp = json.loads(_read_small(folder / STAMP, 4096).decode("utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexProblem(folder, f"index generation has no readable build stamp ({exc.__class__.__name__}); "
                                   "run `kb index --full`") from None
    if not isinstance(stamp, dict) or stamp.get("build_id") != pointer.build_id:
        raise IndexProblem(folder, "index generation is not the one the pointer published (build id); "
                                   "run `kb index --full`")
    from .whoosh_seam import open_index

    try:
        ix = open_index(str(folder))
        count = ix.doc_count()
    except Exception as exc:  # a damaged or planted folder: many Whoosh (and unpickling) errors
        raise IndexProblem(folder, f"index cannot be opened ({exc.__class__.__name__}); "
                                   "run `kb index --full`") from None
    if count != pointer.articles:
        raise IndexProblem(folder, f"index holds {count} articles, its pointer says {pointer.articles}; "
                                   "run `kb index --full`")
    return ix
