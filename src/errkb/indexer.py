"""Building and updating the index: incremental, atomic, one builder at a time.

An update reads only the files whose size or mtime changed, re-indexes only
those whose content hash changed, and re-applies the rules between articles
(unique ids, codes, related ids) from the manifest, so unchanged files are not
re-read. Invalid articles are left out and reported with the same findings
`kb check` gives; the rest is indexed and published (see `store.py`).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

from . import __version__, segment_helper, store
from .article import Article
from .errors import IndexProblem
from .kbfiles import FileState, fingerprint, scan
from .postings_pool import gc_paused
from .schema import SCHEMA_VERSION, make_schema, to_document
from .segment_writer import CountedWriter
from .validate import (
    DEFAULT_MAX_AGE_DAYS,
    Finding,
    Summary,
    check_links,
    examine,
    read_bytes,
    skipped_findings,
)

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
    skipped: list[Finding] = field(default_factory=list)
    total: int = 0
    generation: str = ""
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def as_dict(self) -> dict[str, Any]:
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
class _Entry:
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
    def from_dict(cls, path: str, data: dict[str, Any]) -> _Entry:
        summary = data.get("summary")
        return cls(
            size=int(data["size"]),
            mtime_ns=int(data["mtime_ns"]),
            sha1=str(data["sha1"]),
            summary=Summary.from_dict(path, summary) if summary else None,
            errors=[Finding(f["path"], f["line"], f["code"], f["message"]) for f in data["errors"]],
            indexed_id=data.get("indexed_id"),
        )


def _load_entries(kb_dir: Path, manifest: dict[str, Any]) -> dict[str, _Entry]:
    if manifest.get("kb_dir") != str(kb_dir.resolve()):
        return {}  # built from another folder: nothing to reuse
    try:
        return {name: _Entry.from_dict(str(Path(kb_dir, name)), data)
                for name, data in manifest.get("files", {}).items()}
    except (KeyError, TypeError, ValueError):
        return {}


class Examined(NamedTuple):
    """What checking one file found (picklable: a helper process sends it)."""

    sha1: str  # "" when the file cannot be read
    summary: Summary | None  # None when it does not parse
    errors: list[Finding]  # its own errors


def examine_file(path: Path, today: date, max_age_days: int,
                 known_sha1: str = "") -> tuple[Examined, Article | None]:
    """Read, hash, parse and check one article file; only read and hash it
    when its content is `known_sha1` (touched, not changed)."""
    raw, problems = read_bytes(path)
    if raw is None:
        return Examined("", None, problems), None
    sha1 = hashlib.sha1(raw).hexdigest()
    if sha1 == known_sha1:
        return Examined(sha1, None, []), None
    article, findings = examine(path, raw, today, max_age_days)
    summary = Summary.of(article) if article is not None else None
    return Examined(sha1, summary, [f for f in findings if f.is_error]), article


class _Examination:
    """Manifest entries for every file; the articles whose content changed,
    parsed here or by the helper (which keeps its own until told to index)."""

    def __init__(self) -> None:
        self.entries: dict[str, _Entry] = {}
        self.parsed: dict[str, Article] = {}
        self.parsed_by_helper: set[str] = set()

    def changed(self, name: str) -> bool:
        return name in self.parsed or name in self.parsed_by_helper


def _examine_changed(
    kb_dir: Path, files: list[FileState], old: dict[str, _Entry], today: date, max_age_days: int,
) -> tuple[_Examination, segment_helper.Helper | None]:
    """Check the files whose size or mtime changed (sharing them with a
    helper process when there are many); the rest keep their old entries."""
    done = _Examination()
    changed: list[FileState] = []
    for state in files:
        previous = old.get(state.name)
        if previous and (previous.size, previous.mtime_ns) == (state.size, state.mtime_ns):
            done.entries[state.name] = previous
        else:
            changed.append(state)

    def known(state: FileState) -> str:
        previous = old.get(state.name)
        return previous.sha1 if previous else ""

    def check(states: list[FileState]) -> dict[str, tuple[Examined, Article | None]]:
        return {state.name: examine_file(Path(kb_dir, state.name), today, max_age_days, known(state))
                for state in states}

    helper = None
    cut = int(len(changed) * segment_helper.HELPER_SHARE) if segment_helper.should_help(len(changed)) else 0
    if cut:
        helper = segment_helper.Helper(kb_dir, [(state.name, known(state)) for state in changed[:cut]],
                                       today, max_age_days)
    try:
        found = check(changed[cut:])
        if helper is not None:
            theirs = helper.examined()
            if theirs is None or set(theirs) != {state.name for state in changed[:cut]}:  # it failed: check here
                helper.stop()
                helper = None
                found.update(check(changed[:cut]))
            else:
                found.update((name, (examined, None)) for name, examined in theirs.items())
    except BaseException:
        if helper is not None:
            helper.stop()
        raise
    for state in changed:
        examined, article = found[state.name]
        previous = old.get(state.name)
        if examined.sha1 and previous and previous.sha1 == examined.sha1:  # touched, not changed
            previous.size, previous.mtime_ns = state.size, state.mtime_ns
            done.entries[state.name] = previous
            continue
        done.entries[state.name] = _Entry(state.size, state.mtime_ns, examined.sha1, examined.summary,
                                          examined.errors, previous.indexed_id if previous else None)
        if article is not None:
            done.parsed[state.name] = article
        elif examined.summary is not None:  # parsed by the helper
            done.parsed_by_helper.add(state.name)
    done.entries = {state.name: done.entries[state.name] for state in files}  # the first of a duplicate id wins
    return done, helper


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
    with store.build_lock(index_dir, wait):
        files, skipped = scan(kb_dir)
        pointer = store.read_pointer(index_dir)
        base: str | None = None
        if (
            pointer is not None
            and not full
            and store.version_matches(pointer, SCHEMA_VERSION)
            and (index_dir / pointer.generation).is_dir()
        ):
            base = pointer.generation
        old = _load_entries(kb_dir, store.read_manifest(index_dir / base)) if base else {}
        if base is not None and not old and pointer is not None and pointer.articles:
            base = None  # a manifest we cannot trust: rebuild rather than double-index
        report = BuildReport(full=base is None, skipped=skipped_findings(skipped))
        today = today or date.today()

        with gc_paused():
            done, helper = _examine_changed(kb_dir, files, old, today, max_age_days)
        try:
            entries = done.entries
            summaries = [e.summary for e in entries.values() if e.summary is not None]
            link_errors: dict[str, list[Finding]] = {}
            for finding in check_links(summaries):
                link_errors.setdefault(Path(finding.path).name, []).append(finding)

            was_indexed = {e.indexed_id for e in old.values() if e.indexed_id}
            to_delete: set[str] = set()
            helper_names: list[str] = []
            to_add: list[Article] = []
            for name, entry in entries.items():
                errors = entry.errors + link_errors.get(name, [])
                report.invalid.extend(errors)
                wanted = None if errors or entry.summary is None else entry.summary.id
                content_changed = done.changed(name)
                if entry.indexed_id and (wanted != entry.indexed_id or content_changed):
                    to_delete.add(entry.indexed_id)
                if wanted and (content_changed or wanted != entry.indexed_id):
                    article = None if name in done.parsed_by_helper else (
                        done.parsed.get(name) or _reparse(kb_dir, name, today, max_age_days))
                    if article is not None:
                        to_add.append(article)
                    elif name in done.parsed_by_helper:
                        helper_names.append(name)
                    else:
                        wanted = None
                    if wanted:
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

            written: list[Path] = []

            def write_manifest(folder: Path) -> None:
                files_part = {name: entry.as_dict() for name, entry in entries.items()}
                store.write_manifest(folder, {"kb_dir": str(kb_dir.resolve()), "files": files_part})
                written.append(folder)

            if base is not None and not to_delete and not to_add and not helper_names:
                generation = base
                ix_count = sum(1 for e in entries.values() if e.indexed_id)
            else:
                generation_dir = store.prepare_generation(index_dir, base)
                share = _Share(helper, helper_names, lambda name: _reparse(kb_dir, name, today, max_age_days),
                               lambda: write_manifest(generation_dir))
                ix_count = _write(generation_dir, base is None, to_delete, to_add, progress, share)
                generation = generation_dir.name
        finally:
            if helper is not None:
                helper.stop()
        if index_dir / generation not in written:
            write_manifest(index_dir / generation)
        store.write_pointer(
            index_dir,
            store.Pointer(generation, __version__, SCHEMA_VERSION, fingerprint(files), ix_count, time.time()),
        )
        # Keep the generation that was live until now: a reader may have just opened it.
        previous = pointer.generation if pointer is not None and pointer.generation != generation else None
        store.remove_old_generations(index_dir, generation, previous)
        report.total = ix_count
        report.generation = generation
        report.invalid.sort(key=lambda f: (f.path, f.line, f.code))
        report.seconds = time.perf_counter() - started
        return report


def _reparse(kb_dir: Path, name: str, today: date, max_age_days: int) -> Article | None:
    """An unchanged article that becomes indexable again (say, its related
    article came back) has to be read once more."""
    raw, _ = read_bytes(Path(kb_dir, name))
    if raw is None:
        return None
    article, _ = examine(Path(kb_dir, name), raw, today, max_age_days)
    return article


class _Share(NamedTuple):
    """The articles a helper process parsed and is to index, how to parse
    one here should the helper fail, and what to do while it finishes."""

    helper: segment_helper.Helper | None
    names: list[str]
    reparse: Callable[[str], Article | None]
    meanwhile: Callable[[], None]  # the manifest: ~0.4 s at 10,000 articles


def _write(
    generation_dir: Path,
    fresh: bool,
    to_delete: set[str],
    to_add: list[Article],
    progress: Progress | None,
    share: _Share | None = None,
) -> int:
    """Write documents into the generation folder; returns the document count."""
    from whoosh import index as whoosh_index

    try:
        if fresh:
            ix = whoosh_index.create_in(str(generation_dir), make_schema())
        else:
            ix = whoosh_index.open_dir(str(generation_dir))
    except Exception as exc:  # whoosh raises many kinds for a damaged folder
        raise IndexProblem(generation_dir, f"cannot write the index ({exc.__class__.__name__}: {exc})") from exc
    return fill(ix, fresh, to_delete, to_add, progress, share)


def fill(ix: Any, fresh: bool, to_delete: set[str], articles: list[Article], progress: Progress | None,
         share: _Share | None = None) -> int:
    """Delete and add documents in one commit; returns the document count.

    The helper's share (see `segment_helper`), if any, is written by the
    helper as a segment of its own while this process writes the rest.
    """
    from whoosh.writing import CLEAR

    helped = share is not None and bool(share.names)
    if share is not None and share.helper is not None and share.names:
        share.helper.index(Path(ix.storage.folder), share.names)
    with gc_paused():
        writer = CountedWriter(ix)
        try:
            for doc_id in sorted(to_delete):
                writer.delete_by_term("id", doc_id)
            total = len(articles) + (len(share.names) if share is not None else 0)
            for done, article in enumerate(articles, start=1):
                writer.add_document(**to_document(article))
                if progress is not None and (done % 100 == 0 or done == len(articles)):
                    progress(done, total)
            if not helped:
                writer.commit(mergetype=CLEAR if fresh else None)
            else:
                assert share is not None
                _commit_with_helper(writer, share, CLEAR if fresh else None)
                if progress is not None:
                    progress(total, total)
        except BaseException:
            if not writer.is_closed:
                writer.cancel()
            raise
    with ix.reader() as reader:
        return int(reader.doc_count())


def _commit_with_helper(writer: Any, share: _Share, mergetype: Any) -> None:
    """`SegmentWriter.commit`, listing the helper's segment too. The builder
    writes its own segment while the helper is still working, then waits."""
    writer._check_state()
    try:
        segments = writer._merge_segments(mergetype, None, None)
        if writer._added:
            segments.append(writer._finalize_segment())
        else:
            writer._close_segment()
        share.meanwhile()
        segment = share.helper.segment() if share.helper is not None else None
        if segment is None:  # the helper failed: write its share here, as one more segment
            articles = [a for a in map(share.reparse, share.names) if a is not None]
            segment = segment_helper.write_segment(Path(writer.storage.folder), articles)
        segments.append(segment)
        writer._commit_toc(segments)
    finally:
        writer._finish()


def build_in_memory(kb_dir: Path, today: date | None = None) -> tuple[Any, list[Finding]]:
    """A throw-away index in RAM, for when the index folder cannot be used."""
    from whoosh.filedb.filestore import RamStorage

    from .validate import check_kb

    class PrivateRamStorage(RamStorage):  # type: ignore[misc]
        """Whoosh's RamStorage spills to a fixed, shared `$TMPDIR/MAIN.tmp`,
        which concurrent fallbacks delete under each other: keep it in RAM."""

        def temp_storage(self, name: str | None = None) -> RamStorage:
            return RamStorage()

    result = check_kb(kb_dir, today=today)
    ix = PrivateRamStorage().create_index(make_schema())
    fill(ix, True, set(), result.valid_articles(), None)
    return ix, result.errors
