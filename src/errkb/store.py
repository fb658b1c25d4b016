"""The index folder on disk: generations, the pointer that publishes one, the lock.

Layout of `index/`::

    errkb-index.json   the pointer: which generation is live, and its versions
    gen-000007/        one complete Whoosh index + manifest.json
    .build.lock        held (flock) by the one process that builds

A build prepares a new generation aside (hard-linking the live one's segment
files for an incremental update: Whoosh never rewrites a segment file) and
publishes it by atomically replacing the pointer. Readers read the pointer and
open that generation; the previous generation is kept so a reader that read
the old pointer a moment ago can still open it. A build killed at any moment
leaves the pointer, and so the last good index, untouched.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from . import __version__
from .errors import BuildInProgress, IndexProblem
from .versions import INDEX_FORMAT

POINTER = "errkb-index.json"
MANIFEST = "manifest.json"
LOCK = ".build.lock"
FORMAT = "errkb-index"
GEN_PREFIX = "gen-"
#: Files a fresh checkout's `index/` holds that are not the index.
PLACEHOLDERS = frozenset({".gitignore", "README.txt", LOCK})


class Pointer(NamedTuple):
    """The published state: which generation answers, built from what."""

    generation: str
    errkb_version: str
    schema_version: str
    fingerprint: str
    articles: int
    built_at: float

    def as_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, **self._asdict()}


def read_pointer(index_dir: Path) -> Pointer | None:
    """The live pointer, or None when no index was ever published here.

    Raises IndexProblem when the folder holds something that is not ours.
    """
    path = index_dir / POINTER
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        _refuse_foreign(index_dir)
        return None
    except NotADirectoryError:
        raise IndexProblem(index_dir, "index path is not a folder") from None
    except (OSError, ValueError):
        raise IndexProblem(path, "index pointer is unreadable or corrupted; run `kb index --full`") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise IndexProblem(path, "not an errkb index pointer; point --index-dir elsewhere")
    try:
        return Pointer(
            generation=str(data["generation"]),
            errkb_version=str(data["errkb_version"]),
            schema_version=str(data["schema_version"]),
            fingerprint=str(data["fingerprint"]),
            articles=int(data["articles"]),
            built_at=float(data["built_at"]),
        )
    except (KeyError, TypeError, ValueError):
        raise IndexProblem(path, "index pointer is corrupted; run `kb index --full`") from None


def _refuse_foreign(index_dir: Path) -> None:
    """An index folder with other people's files in it is not ours to fill or wipe."""
    try:
        names = [n for n in os.listdir(index_dir)]
    except FileNotFoundError:
        return
    except OSError as exc:
        raise IndexProblem(index_dir, f"index folder is not readable ({exc.strerror})") from None
    foreign = [n for n in names if n not in PLACEHOLDERS and not n.startswith((GEN_PREFIX, POINTER))]
    if foreign:
        raise IndexProblem(
            index_dir,
            f"folder holds files that are not an errkb index ({foreign[0]!r}); choose another --index-dir",
        )


def write_pointer(index_dir: Path, pointer: Pointer) -> None:
    """Publish: write aside, then rename over the old pointer (atomic on POSIX)."""
    tmp = index_dir / f".{POINTER}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(pointer.as_dict(), indent=1), encoding="utf-8")
    os.replace(tmp, index_dir / POINTER)


def generations(index_dir: Path) -> list[str]:
    """Generation folder names, oldest first."""
    try:
        return sorted(n for n in os.listdir(index_dir) if n.startswith(GEN_PREFIX))
    except FileNotFoundError:
        return []


def next_generation(index_dir: Path) -> str:
    existing = generations(index_dir)
    number = int(existing[-1][len(GEN_PREFIX):]) + 1 if existing else 1
    return f"{GEN_PREFIX}{number:06d}"


def prepare_generation(index_dir: Path, base: str | None) -> Path:
    """A new generation folder: empty, or hard links to `base`'s files."""
    import shutil  # here: searching imports this module, only builds need shutil

    target = index_dir / next_generation(index_dir)
    if base is None:
        target.mkdir()
        return target
    source = index_dir / base
    target.mkdir()
    for entry in os.scandir(source):
        # Whoosh's own lock file is per generation; everything else is
        # write-once (segments) or replaced by rename (TOC, manifest).
        if entry.is_file(follow_symlinks=False) and not entry.name.upper().endswith("LOCK"):
            try:
                os.link(entry.path, target / entry.name)
            except OSError:  # a filesystem without hard links
                shutil.copy2(entry.path, target / entry.name)
    return target


def remove_old_generations(index_dir: Path, live: str, keep_previous: str | None) -> None:
    """Delete every generation but the live one and the one before it (and
    what killed builds left behind). Called with the build lock held."""
    import shutil

    for name in generations(index_dir):
        if name not in (live, keep_previous):
            shutil.rmtree(index_dir / name, ignore_errors=True)
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
    """Write aside and rename: a manifest is whole or absent, never half."""
    tmp = generation_dir / f".{MANIFEST}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, generation_dir / MANIFEST)


def ensure_index_dir(index_dir: Path) -> None:
    """Create the folder if needed and prove it is writable, or say which path is not."""
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise IndexProblem(index_dir, "index path exists and is not a folder") from None
    except OSError as exc:
        raise IndexProblem(index_dir, f"cannot create the index folder ({exc.strerror})") from None
    if not os.access(index_dir, os.W_OK | os.X_OK):
        raise IndexProblem(index_dir, "index folder is not writable")


@contextlib.contextmanager
def build_lock(index_dir: Path, wait: float) -> Iterator[None]:
    """Hold the one build lock, waiting up to `wait` seconds for another builder.

    flock is released by the kernel when its holder dies, so a killed build
    never leaves a stale lock behind.
    """
    import fcntl

    ensure_index_dir(index_dir)
    path = index_dir / LOCK
    try:
        handle = open(path, "a+b")  # noqa: SIM115 - held across the yield, closed in finally
    except OSError as exc:
        raise IndexProblem(path, f"cannot open the build lock ({exc.strerror})") from None
    deadline = time.monotonic() + max(wait, 0.0)
    try:
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise BuildInProgress(index_dir, wait) from None
                time.sleep(0.05)
        yield
    finally:
        handle.close()


def usable(index_dir: Path, pointer: Pointer | None) -> bool:
    """Whether the published generation can answer: built by this errkb
    version in this index format, and its folder is there."""
    return (
        pointer is not None
        and pointer.errkb_version == __version__
        and pointer.schema_version == INDEX_FORMAT
        and (index_dir / pointer.generation).is_dir()
    )
