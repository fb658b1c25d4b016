"""Building and updating the index: incremental, atomic, one builder at a time.

A build runs four stages, each a function a test can call:

1. `plan`: which generation to start from (None: a full build) and what its
   manifest says about each file;
2. `examine`: check the files whose size or mtime changed (validation's
   `examine_file`), keep the others' manifest entries, re-apply the rules
   between articles from the manifest, and decide what to delete and add;
3. `write`: a new generation folder with those documents;
4. `publish`: its manifest, then the pointer that makes it live.

Invalid articles are left out and reported with the same findings `kb check`
gives; the rest is indexed (see `store.py` for the folder layout).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from . import __version__, store
from .article import Article
from .errors import IndexProblem
from .kbfiles import DEFAULT_MAX_AGE_DAYS, FileState, fingerprint, scan
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

    def as_dict(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "mtime_ns": self.mtime_ns,
            "sha1": self.sha1,
            "summary": self.summary.as_dict() if self.summary else None,
            "errors": [f.as_dict() for f in self.errors],
            "indexed_id": self.indexed_id,
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
        )


@dataclass
class BuildPlan:
    """Where a build starts: the files now, the generation it updates (None:
    a full build) and that generation's manifest entries."""

    kb_dir: Path
    files: list[FileState]
    base: str | None
    old: dict[str, Entry]


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
    except (KeyError, TypeError, ValueError):
        return {}


def plan(kb_dir: Path, index_dir: Path, pointer: store.Pointer | None, *, full: bool = False) -> BuildPlan:
    """Stage 1: the files, and the generation to update if there is one to trust."""
    files, _ = scan(kb_dir)
    base = pointer.generation if pointer is not None and not full and store.usable(index_dir, pointer) else None
    old = _load_entries(kb_dir, store.read_manifest(index_dir / base)) if base else {}
    if base is not None and not old and pointer is not None and pointer.articles:
        base = None  # a manifest we cannot trust: rebuild rather than double-index
    return BuildPlan(kb_dir, files, base, old)


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
        if previous and (previous.size, previous.mtime_ns) == (state.size, state.mtime_ns):
            entries[state.name] = previous
            continue
        examined, article = examine_file(Path(kb_dir, state.name), today, max_age_days,
                                         previous.sha1 if previous else "")
        if examined.sha1 and previous and previous.sha1 == examined.sha1:  # touched, not changed
            previous.size, previous.mtime_ns = state.size, state.mtime_ns
            entries[state.name] = previous
            continue
        entries[state.name] = Entry(state.size, state.mtime_ns, examined.sha1, examined.summary,
                                    examined.errors, previous.indexed_id if previous else None)
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


def write(index_dir: Path, build: BuildPlan, changes: Changes, progress: Progress | None = None) -> str:
    """Stage 3: the generation holding the changes (the base itself when
    nothing changed); returns its name."""
    if build.base is not None and changes.nothing_to_write:
        return build.base
    folder = store.prepare_generation(index_dir, build.base)
    from whoosh import index as whoosh_index

    fresh = build.base is None
    try:
        ix = whoosh_index.create_in(str(folder), make_schema()) if fresh else whoosh_index.open_dir(str(folder))
    except Exception as exc:  # whoosh raises many kinds for a damaged folder
        raise IndexProblem(folder, f"cannot write the index ({exc.__class__.__name__}: {exc})") from exc
    fill(ix, fresh, changes.to_delete, changes.to_add, progress)
    return folder.name


def publish(index_dir: Path, build: BuildPlan, changes: Changes, generation: str,
            previous: store.Pointer | None) -> None:
    """Stage 4: the generation's manifest, then the pointer that makes it live;
    older generations are removed (but the one live until now)."""
    entries = changes.entries
    files_part = {name: entry.as_dict() for name, entry in entries.items()}
    store.write_manifest(index_dir / generation, {"kb_dir": str(build.kb_dir.resolve()), "files": files_part})
    count = sum(1 for e in entries.values() if e.indexed_id)
    store.write_pointer(
        index_dir,
        store.Pointer(generation, __version__, INDEX_FORMAT, fingerprint(build.files), count, time.time()),
    )
    keep = previous.generation if previous is not None and previous.generation != generation else None
    store.remove_old_generations(index_dir, generation, keep)
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
) -> BuildReport:
    """Bring the index in `index_dir` up to date with `kb_dir` and publish it."""
    started = time.perf_counter()
    with store.build_lock(index_dir, wait), gc_paused():
        pointer = store.read_pointer(index_dir)
        build = plan(kb_dir, index_dir, pointer, full=full)
        changes = examine(build, today or date.today(), max_age_days)
        generation = write(index_dir, build, changes, progress)
        publish(index_dir, build, changes, generation, pointer)
    changes.report.seconds = time.perf_counter() - started
    return changes.report


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
