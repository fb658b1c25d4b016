"""Building and updating the index: incremental, atomic, one builder at a time.

A build runs four stages, each a function a test can call:

1. `plan`: which generation to start from (None: a full build) and what its
   manifest says about each file;
2. `examine`: check the files whose size or mtime changed (validation's
   `examine_file`), keep the others' manifest entries, re-apply the rules
   between articles from the manifest, and decide what to delete and add;
3. `write`: a new generation folder with those documents;
4. `publish`: its files fsynced, its stamp and manifest, then the pointer
   that makes it live.

A file whose mtime is within `RACY_WINDOW_NS` of a build's start is compared
by content at the next build even if its stat looks unchanged (the racy-git
rule): an edit saved in the same timestamp tick as the build read the file is
not lost. A write that fails (a full disk) removes the half-written
generation and is reported as an `IndexProblem` (exit 4).

Invalid articles are left out and reported with the same findings `kb check`
gives; the rest is indexed (see `store.py` for the folder layout).
"""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from . import __version__, store
from .article import Article
from .errors import IndexProblem
from .kbfiles import DEFAULT_MAX_AGE_DAYS, FileState, fingerprint, is_racy, scan
from .postings_pool import gc_paused
from .schema import make_schema, to_document
from .validate import Finding, Summary, check_links, examine_file
from .versions import INDEX_FORMAT
from .whoosh_seam import CountedWriter, ram_index

Progress = Callable[[int, int], None]


@dataclass
class BuildReport:
    """What a build did, for `kb index` to report and tests to check."""

    full: bool
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    invalid: list[Finding] = field(default_factory=list)
    total: int = 0
    generation: str = ""
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def as_json(self) -> dict[str, Any]:
        return {
            "full": self.full,
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "total": self.total,
            "invalid": [f.as_dict() for f in self.invalid],
            "generation": self.generation,
            "seconds": round(self.seconds, 3),
        }


@dataclass
class Entry:
    """One file's line in the manifest."""

    size: int
    mtime_ns: int
    sha1: str
    summary: Summary | None  # None when the file does not parse
    errors: list[Finding]  # its own errors (not the ones between articles)
    indexed_id: str | None = None
    ctime_ns: int = 0
    ino: int = 0

    def same_stat(self, state: FileState) -> bool:
        return (self.size, self.mtime_ns, self.ctime_ns, self.ino) == (
            state.size, state.mtime_ns, state.ctime_ns, state.ino)

    def take_stat(self, state: FileState) -> None:
        self.size, self.mtime_ns, self.ctime_ns, self.ino = state.size, state.mtime_ns, state.ctime_ns, state.ino

    def as_dict(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "mtime_ns": self.mtime_ns,
            "sha1": self.sha1,
            "summary": self.summary.as_dict() if self.summary else None,
            "errors": [f.as_dict() for f in self.errors],
            "indexed_id": self.indexed_id,
            "ctime_ns": self.ctime_ns,
            "ino": self.ino,
        }

    @classmethod
    def from_dict(cls, path: str, data: dict[str, Any]) -> Entry:
        summary = data.get("summary")
        return cls(
            size=int(data["size"]),
            mtime_ns=int(data["mtime_ns"]),
            sha1=str(data["sha1"]),
            summary=Summary.from_dict(path, summary) if summary else None,
            errors=[Finding(f["path"], f["line"], f["code"], f["message"]) for f in data["errors"]],
            indexed_id=data.get("indexed_id"),
            ctime_ns=int(data["ctime_ns"]),
            ino=int(data["ino"]),
        )


@dataclass
class BuildPlan:
    """Where a build starts: the files now, the generation it updates (None:
    a full build) and that generation's manifest entries."""

    kb_dir: Path
    files: list[FileState]
    base: str | None
    old: dict[str, Entry]
    #: When this build started (before the scan), and when the base's did.
    started_ns: int = 0
    base_started_ns: int = 0
    #: The highest generation number seen before leftovers were removed.
    serial_floor: int = 0


@dataclass
class Changes:
    """What `examine` decided: every file's new manifest entry, the ids to
    delete and the articles to add, and the report so far."""

    entries: dict[str, Entry]
    to_delete: set[str]
    to_add: list[Article]
    report: BuildReport

    @property
    def nothing_to_write(self) -> bool:
        return not self.to_delete and not self.to_add


def _load_entries(kb_dir: Path, manifest: dict[str, Any]) -> dict[str, Entry]:
    if manifest.get("kb_dir") != str(kb_dir.resolve()):
        return {}  # built from another folder: nothing to reuse
    try:
        return {name: Entry.from_dict(str(Path(kb_dir, name)), data)
                for name, data in manifest.get("files", {}).items()}
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError):
        return {}


def plan(kb_dir: Path, index_dir: Path, pointer: store.Pointer | None, *, full: bool = False) -> BuildPlan:
    """Stage 1: the files, and the generation to update if there is one to trust."""
    started_ns = time.time_ns()  # before the scan: an edit after it is racy
    files, _ = scan(kb_dir)
    base = pointer.generation if pointer is not None and not full and store.usable(index_dir, pointer) else None
    old = _load_entries(kb_dir, store.read_manifest(index_dir / base)) if base else {}
    if base is not None and not old and pointer is not None and pointer.articles:
        base = None  # a manifest we cannot trust: rebuild rather than double-index
    base_started = pointer.started_ns if base is not None and pointer is not None else 0
    return BuildPlan(kb_dir, files, base, old, started_ns, base_started)


def examine(build: BuildPlan, today: date, max_age_days: int = DEFAULT_MAX_AGE_DAYS) -> Changes:
    """Stage 2: check what changed, apply the rules between articles, and
    decide which documents to delete and add."""
    kb_dir, old = build.kb_dir, build.old
    report = BuildReport(full=build.base is None)
    was_indexed = {e.indexed_id for e in old.values() if e.indexed_id}  # before entries are updated
    entries: dict[str, Entry] = {}
    parsed: dict[str, Article] = {}  # changed files that parsed
    for state in build.files:
        previous = old.get(state.name)
        if previous and previous.same_stat(state) and not is_racy(previous.mtime_ns, build.base_started_ns):
            entries[state.name] = previous
            continue
        examined, article = examine_file(Path(kb_dir, state.name), today, max_age_days,
                                         previous.sha1 if previous else "")
        if examined.sha1 and previous and previous.sha1 == examined.sha1:  # touched, not changed
            previous.take_stat(state)
            entries[state.name] = previous
            continue
        entries[state.name] = Entry(state.size, state.mtime_ns, examined.sha1, examined.summary,
                                    examined.errors, previous.indexed_id if previous else None,
                                    state.ctime_ns, state.ino)
        if article is not None:
            parsed[state.name] = article

    link_errors: dict[str, list[Finding]] = {}
    for finding in check_links([e.summary for e in entries.values() if e.summary is not None]):
        link_errors.setdefault(Path(finding.path).name, []).append(finding)

    to_delete: set[str] = set()
    to_add: list[Article] = []
    for name, entry in entries.items():
        errors = entry.errors + link_errors.get(name, [])
        report.invalid.extend(errors)
        wanted = None if errors or entry.summary is None else entry.summary.id
        content_changed = name in parsed
        if entry.indexed_id and (wanted != entry.indexed_id or content_changed):
            to_delete.add(entry.indexed_id)
        if wanted and (content_changed or wanted != entry.indexed_id):
            article = parsed.get(name) or _reparse(kb_dir, name, today, max_age_days)
            if article is None:
                wanted = None
            else:
                to_add.append(article)
                (report.updated if entry.indexed_id else report.added).append(wanted)
        elif wanted:
            report.unchanged += 1
        entry.indexed_id = wanted
    for name, entry in old.items():
        if name not in entries and entry.indexed_id:
            to_delete.add(entry.indexed_id)
    # Removed: indexed before, not now (file deleted, or the article became
    # invalid). An id that moved between files is re-added, not removed.
    now_indexed = {e.indexed_id for e in entries.values() if e.indexed_id}
    report.removed = sorted(was_indexed - now_indexed)
    report.invalid.sort(key=lambda f: (f.path, f.line, f.code))
    return Changes(entries, to_delete, to_add, report)


def _reparse(kb_dir: Path, name: str, today: date, max_age_days: int) -> Article | None:
    """An unchanged article that becomes indexable again (say, its related
    article came back) has to be read once more."""
    _, article = examine_file(Path(kb_dir, name), today, max_age_days)
    return article


class BaseUnreadable(IndexProblem):
    """The generation an update starts from cannot be opened: build in full."""


def write(index_dir: Path, build: BuildPlan, changes: Changes, progress: Progress | None = None,
          pointer: store.Pointer | None = None) -> str:
    """Stage 3: the generation holding the changes (the base itself when
    nothing changed); returns its name. A generation left half-written by a
    failure here is removed before the error goes on."""
    if build.base is not None and changes.nothing_to_write:
        return build.base
    folder = store.prepare_generation(index_dir, build.base, pointer, build.serial_floor)
    try:
        from whoosh import index as whoosh_index

        from .whoosh_seam import open_index

        fresh = build.base is None
        try:
            ix = whoosh_index.create_in(str(folder), make_schema()) if fresh else open_index(str(folder))
        except OSError:
            raise
        except Exception as exc:  # whoosh raises many kinds for a damaged (or planted) folder
            raise BaseUnreadable(folder, f"cannot update the index ({exc.__class__.__name__})") from None
        fill(ix, fresh, changes.to_delete, changes.to_add, progress)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder.name


def publish(index_dir: Path, build: BuildPlan, changes: Changes, generation: str,
            previous: store.Pointer | None, discard: str | None = None) -> None:
    """Stage 4: the generation's files fsynced and stamped with a new build id
    (a generation published again unchanged keeps its id: readers may be
    checking it), its manifest, then the pointer that makes it live; older
    generations are removed but the one live until now (unless `discard`:
    it could not be opened)."""
    entries = changes.entries
    count = sum(1 for e in entries.values() if e.indexed_id)
    folder = index_dir / generation
    republished = previous is not None and previous.generation == generation and previous.build_id
    build_id = previous.build_id if republished and previous is not None else store.new_build_id()
    if not republished:
        store.seal_generation(folder, build_id, count)
    files_part = {name: entry.as_dict() for name, entry in entries.items()}
    store.write_manifest(folder, {"kb_dir": str(build.kb_dir.resolve()), "files": files_part})
    if republished and previous is not None:
        before = previous.previous
    else:
        before = previous.generation if previous is not None and previous.generation != discard else ""
    serial = max(store.generation_number(generation), build.serial_floor,
                 previous.serial if previous is not None else 0)
    store.write_pointer(
        index_dir,
        store.Pointer(generation, __version__, INDEX_FORMAT, fingerprint(build.files), count, time.time(),
                      build_id, before, serial, build.started_ns),
    )
    store.remove_generations(index_dir, {generation, before} - {""})
    changes.report.total = count
    changes.report.generation = generation


def update_index(
    kb_dir: Path,
    index_dir: Path,
    *,
    full: bool = False,
    wait: float = 10.0,
    progress: Progress | None = None,
    today: date | None = None,
    max_age_days: int = DEFAULT_MAX_AGE_DAYS,
    discard: str | None = None,
) -> BuildReport:
    """Bring the index in `index_dir` up to date with `kb_dir` and publish it.

    `discard`: a generation a reader could not open; if it is still live the
    build is full and does not keep it as the previous one."""
    started = time.perf_counter()
    today = today or date.today()
    with store.build_lock(index_dir, wait), gc_paused():
        try:
            pointer = store.read_pointer(index_dir)
        except store.DamagedPointer:
            pointer = None  # the lock is ours: a full build writes a good pointer
        if pointer is not None and discard == pointer.generation:
            full = True
        try:
            # What killed or failed builds left goes first: on a full disk
            # that is the space this build needs. Their names are not reused.
            floor = store.highest_generation(index_dir)
            store.remove_generations(index_dir, {pointer.generation, pointer.previous} - {""} if pointer else set())
            build = plan(kb_dir, index_dir, pointer, full=full)
            build.serial_floor = floor
            changes = examine(build, today, max_age_days)
            try:
                generation = write(index_dir, build, changes, progress, pointer)
            except BaseUnreadable:
                build = plan(kb_dir, index_dir, pointer, full=True)
                build.serial_floor = floor
                changes = examine(build, today, max_age_days)
                generation = write(index_dir, build, changes, progress, pointer)
                discard = pointer.generation if pointer is not None else None
            try:
                publish(index_dir, build, changes, generation, pointer, discard)
            except BaseException:
                if pointer is None or generation != pointer.generation:
                    _remove_unpublished(index_dir, generation)
                raise
        except OSError as exc:  # a full disk, a quota, an I/O error
            where = exc.filename or index_dir
            raise IndexProblem(where, f"cannot write the index ({exc.strerror or exc}); "
                                      "nothing was published, the last good index is kept") from None
    changes.report.seconds = time.perf_counter() - started
    return changes.report


def _remove_unpublished(index_dir: Path, generation: str) -> None:
    """A generation whose publishing failed, unless the pointer names it after all."""
    with contextlib.suppress(IndexProblem):
        live = store.read_pointer(index_dir)
        if live is not None and live.generation == generation:
            return
    shutil.rmtree(index_dir / generation, ignore_errors=True)


def fill(ix: Any, fresh: bool, to_delete: set[str], articles: list[Article], progress: Progress | None) -> int:
    """Delete and add documents in one commit; returns the document count."""
    from whoosh.writing import CLEAR

    with gc_paused():
        writer = CountedWriter(ix)
        try:
            for doc_id in sorted(to_delete):
                writer.delete_by_term("id", doc_id)
            for done, article in enumerate(articles, start=1):
                writer.add_document(**to_document(article))
                if progress is not None and (done % 100 == 0 or done == len(articles)):
                    progress(done, len(articles))
            writer.commit(mergetype=CLEAR if fresh else None)
        except BaseException:
            if not writer.is_closed:
                writer.cancel()
            raise
    with ix.reader() as reader:
        return int(reader.doc_count())


def build_in_memory(kb_dir: Path, today: date | None = None) -> tuple[Any, list[Finding]]:
    """A throw-away index in RAM, for when the index folder cannot be used."""
    from .validate import check_kb

    result = check_kb(kb_dir, today=today)
    ix = ram_index(make_schema())
    fill(ix, True, set(), result.valid_articles(), None)
    return ix, result.errors
