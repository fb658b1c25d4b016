"""The knowledge base as one object: articles folder + index folder.

This is errkb's library API (the CLI is a thin layer over it). Every read
(`search`, `browse`, `show`) first makes sure the index answers for the
articles as they are now: it is built when missing and updated when any file
changed (one `stat` per file decides), and what was done is reported as notes
for the caller to print. When the index folder cannot be used at all (not
writable, someone else's, writable by others, holding other files), reads
fall back to an index built in memory from the articles and say so, naming
the path; `kb index` refuses such a folder with exit 4. A generation that
cannot be opened or proved to be the published one (damaged, planted,
half-built under a reused name) is rebuilt when the folder is writable, else
answered from memory: an unreadable index is never "no match".
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from . import store
from .errors import ArticleNotFound, BuildInProgress, ErrkbError, IndexProblem
from .kbfiles import DEFAULT_MAX_AGE_DAYS, RACY_WINDOW_NS, any_racy, fingerprint, scan
from .model import ArticleCard

if TYPE_CHECKING:  # the build side is imported only when a build runs
    from .article import Article
    from .indexer import BuildReport, Progress
    from .model import SearchResult
    from .reports import BrowseResult, KnowledgeBaseInfo
    from .scoring import Scorer
    from .validate import CheckResult

T = TypeVar("T")

#: How long a read waits for someone else's first build of a missing index.
FIRST_BUILD_WAIT = 30.0
#: How long `kb index` waits for another build by default.
BUILD_WAIT = 10.0
_OPEN_ATTEMPTS = 4


class KnowledgeBase:
    """Articles in `kb_dir`, searched through the index in `index_dir`."""

    def __init__(self, kb_dir: Path, index_dir: Path) -> None:
        self.kb_dir = Path(kb_dir)
        self.index_dir = Path(index_dir)
        #: What reads did behind the scenes (built, updated, fell back), for stderr.
        self.notes: list[str] = []
        self.current = False  # see `ensure_fresh`
        self._memory_index: Any = None
        self._open_index: Any = None  # the Whoosh index last opened, and its generation
        self._open_generation = ""
        self._scorer: Scorer | None = None  # a reader on `_scorer_index`, kept for the next query
        self._scorer_index: Any = None
        self._in_session = False  # inside `session()`: one staleness check for all reads
        self._session_index: Any = None

    def __repr__(self) -> str:
        return f"KnowledgeBase(kb_dir={self.kb_dir!s}, index_dir={self.index_dir!s})"

    # -- building -----------------------------------------------------------

    def build(self, *, full: bool = False, wait: float = BUILD_WAIT,
              progress: Progress | None = None) -> BuildReport:
        """Build or update the index (what `kb index` does)."""
        from .indexer import update_index

        return update_index(self.kb_dir, self.index_dir, full=full, wait=wait, progress=progress)

    def check(self, *, today: date | None = None, max_age_days: int = DEFAULT_MAX_AGE_DAYS) -> CheckResult:
        """Validate every article (what `kb check` does)."""
        from .validate import check_kb

        return check_kb(self.kb_dir, today=today, max_age_days=max_age_days)

    def _note(self, text: str) -> None:
        self.notes.append(text)

    def _note_build(self, why: str, report: BuildReport) -> None:
        parts = [f"{len(report.added)} added", f"{len(report.updated)} updated", f"{len(report.removed)} removed"]
        self._note(f"{why}: indexed {report.total} articles ({', '.join(parts)}) in {report.seconds:.2f}s")
        if report.invalid:
            files = sorted({f.path for f in report.invalid})
            self._note(f"{len(files)} invalid article(s) left out: {', '.join(files[:5])}; run `kb check`")

    def ensure_fresh(self) -> Any:
        """Return an open Whoosh index that answers for the articles as they are.

        Builds or updates it when needed; never fails for a problem a read can
        work around (another build running, a read-only or damaged folder).
        `current` says afterwards whether the index answers for the articles
        as they are now (False: an older index or one built in memory).
        """
        self.current = False
        if self._memory_index is not None:
            return self._memory_index
        files, _ = scan(self.kb_dir)
        current = fingerprint(files)
        discard: str | None = None
        try:
            pointer = store.read_pointer(self.index_dir)
        except store.DamagedPointer as problem:
            pointer, damaged = None, f"{problem}; rebuilding"
        except IndexProblem as problem:
            return self._fallback(str(problem))
        else:
            damaged = ""
        reason = store.unusable_reason(self.index_dir, pointer)
        usable = reason is None
        if usable and pointer is not None and pointer.fingerprint == current and not any_racy(
                files, pointer.started_ns):
            if self._open_index is not None and self._open_generation == pointer.generation:
                self.current = True
                return self._open_index  # same process, nothing changed: reuse
            try:
                self._open_index, self._open_generation = self._open(), pointer.generation
                self.current = True
                return self._open_index
            except IndexProblem as problem:
                why = f"{problem}; rebuilding"
                usable, discard = False, pointer.generation
        elif damaged:
            why = damaged
        elif reason is not None:
            why = reason
        elif pointer is not None and pointer.fingerprint == current:
            why = (f"articles modified within {RACY_WINDOW_NS // 10**9} s of the last build (recently): "
                   "checking their content")
        else:
            why = "articles changed since the last build"
        from .indexer import update_index

        updated = False
        try:
            report = update_index(self.kb_dir, self.index_dir, full=not usable,
                                  wait=0.0 if usable else FIRST_BUILD_WAIT, discard=discard)
            self._note_build(why, report)
            updated = True
        except BuildInProgress:
            if not usable:
                return self._fallback("another build is running and no finished index exists")
            self._note("another `kb index` is running: answering from the index as it was")
        except (IndexProblem, OSError) as problem:
            if not usable:
                return self._fallback(str(problem))
            self._note(f"cannot update the index ({problem}); answering from the index as it was")
        try:
            opened = self._open()
        except IndexProblem as problem:
            return self._fallback(str(problem))
        self.current = updated
        return opened

    def _open(self) -> Any:
        """Open the published generation (checked: see `store.open_generation`);
        retry if a build swapped it meanwhile."""
        last: IndexProblem | None = None
        for attempt in range(_OPEN_ATTEMPTS):
            pointer = store.read_pointer(self.index_dir)
            if pointer is None:
                break
            try:
                return store.open_generation(self.index_dir, pointer)
            except IndexProblem as exc:  # a vanished, damaged or foreign generation
                last = exc
                time.sleep(0.02 * (attempt + 1))
        raise last or IndexProblem(self.index_dir, "index cannot be opened; run `kb index --full`")

    def _fallback(self, why: str) -> Any:
        from .indexer import build_in_memory

        self._note(f"{why}; searching an index built in memory from {self.kb_dir}")
        self._memory_index, errors = build_in_memory(self.kb_dir)
        if errors:
            self._note(f"{len({f.path for f in errors})} invalid article(s) left out; run `kb check`")
        return self._memory_index

    def info(self) -> KnowledgeBaseInfo:
        """Where the articles and the index are, the index's age and size,
        versions (what `kb info` prints)."""
        from . import __version__
        from .reports import IndexStatus, KnowledgeBaseInfo
        from .versions import ARTICLE_FORMAT, INDEX_FORMAT

        try:
            pointer, problem = store.read_pointer(self.index_dir), None
        except IndexProblem as exc:
            pointer, problem = None, str(exc)
        return KnowledgeBaseInfo(
            errkb_version=__version__,
            article_format=ARTICLE_FORMAT,
            index_format=INDEX_FORMAT,
            kb_dir=str(self.kb_dir.resolve()),
            index_dir=str(self.index_dir.resolve()),
            articles_on_disk=len(scan(self.kb_dir)[0]) if self.kb_dir.is_dir() else None,  # what a build reads
            index=None if pointer is None else IndexStatus(
                generation=pointer.generation,
                articles=pointer.articles,
                built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(pointer.built_at)),
                age_seconds=round(time.time() - pointer.built_at),
                errkb_version=pointer.errkb_version,
                index_format=pointer.schema_version,
            ),
            index_problem=problem,
        )

    # -- reading ------------------------------------------------------------

    def _reading(self, read: Callable[[Any], T]) -> T:
        """`read(ix)` on the fresh index. Damaged index files fail when opened
        or only when a read reaches the damage (EOFError, zlib.error,
        struct.error, ...): either way the index built in memory takes over
        and the read is done again there."""
        ix = self._session_fresh()
        try:
            return read(ix)
        except ErrkbError:  # the caller's problem (a refused query), not the index's
            raise
        except Exception as exc:
            if ix is self._memory_index:
                raise
            self.close()
            self._session_index = None
            why = f"the index cannot be read ({exc.__class__.__name__})"
        rebuilt = self._rebuild(why)
        if rebuilt is not None:
            try:
                return read(rebuilt)
            except ErrkbError:
                raise
            except Exception as exc:
                self.close()
                why = f"the rebuilt index cannot be read either ({exc.__class__.__name__})"
        return read(self._fallback(f"{why}; run `kb index --full`"))

    def _rebuild(self, why: str) -> Any:
        """A full build that replaces a generation a read failed on, or None
        when the folder cannot be written or another build holds it."""
        from .indexer import update_index

        broken, self._open_index = self._open_generation, None
        try:
            report = update_index(self.kb_dir, self.index_dir, full=True, wait=0.0, discard=broken)
            self._note_build(f"{why}; rebuilt it", report)
            self._open_index = self._open()
            self._open_generation = report.generation
            return self._open_index
        except (IndexProblem, BuildInProgress, OSError):
            return None

    @contextmanager
    def session(self, fresh: Any = None) -> Iterator[None]:
        """Reads inside the block share one staleness check, made at the first
        read: a server's request that resolves an id, reads the article and
        lists related titles pays one `stat` per article, not three. With
        `fresh`, an index `ensure_fresh()` returned that the caller knows is
        still fresh (a server shares one check among the requests that
        arrived before it started), no read checks at all."""
        self._in_session = True
        self._session_index = fresh
        try:
            yield
        finally:
            self._in_session, self._session_index = False, None

    def _session_fresh(self) -> Any:
        if self._memory_index is None and self._session_index is not None:
            return self._session_index
        ix = self.ensure_fresh()
        if self._in_session:
            self._session_index = ix
        return ix

    def search(self, text: str, *, platforms: list[str] | None = None,
               causes: list[str] | None = None, limit: int = 5) -> SearchResult:
        """Rank articles for a pasted error message."""
        from .search import run_search

        result = self._reading(lambda ix: run_search(self._scorer_for(ix), text, platforms=platforms,
                                                     causes=causes, limit=limit))
        return result._replace(hits=tuple(hit._replace(path=self._path_of(hit.path)) for hit in result.hits))

    def _scorer_for(self, ix: Any) -> Scorer:
        """A scorer on `ix`, reused while the index stays the same: opening a
        reader and loading field lengths is paid once per process."""
        from .scoring import Scorer

        if self._scorer is None or self._scorer_index is not ix:
            self.close()
            self._scorer, self._scorer_index = Scorer(ix.reader()), ix
        return self._scorer

    def close(self) -> None:
        """Release the open reader (the files of the index it reads)."""
        if self._scorer is not None:
            self._scorer.close()
        self._scorer = self._scorer_index = None

    def _path_of(self, indexed_path: str) -> str:
        """Where the article is now: the index may have been built from the
        same folder under another name (relative vs absolute)."""
        return str(self.kb_dir / Path(indexed_path).name)

    def cards(self) -> list[ArticleCard]:
        """Every indexed article's stored card, sorted by id."""

        def read_cards(ix: Any) -> list[ArticleCard]:
            with ix.reader() as reader:
                return [ArticleCard.from_json(fields["card"]) for _, fields in reader.iter_docs()]

        cards = [card._replace(path=self._path_of(card.path)) for card in self._reading(read_cards)]
        return sorted(cards, key=lambda c: c.id)

    def browse(self, *, platforms: list[str] | None = None, causes: list[str] | None = None) -> BrowseResult:
        """Articles having any of `platforms` and any of `causes`."""
        from .reports import BrowseResult

        chosen = [
            c for c in self.cards()
            if (not platforms or set(platforms) & set(c.platforms))
            and (not causes or set(causes) & set(c.causes))
        ]
        platform_counts = Counter(p for c in chosen for p in c.platforms)
        cause_counts = Counter(t for c in chosen for t in c.causes)
        return BrowseResult(tuple(chosen), dict(sorted(platform_counts.items())),
                            dict(sorted(cause_counts.items())))

    def resolve(self, wanted: str) -> ArticleCard:
        """The card of an article named by id, unique id prefix or error code."""
        cards = self.cards()
        key = wanted.strip().lower()
        for card in cards:
            if card.id == key:
                return card
        from .codes import code_names

        names = {key, *code_names(key)}  # ACQ.X or aop.ACQ.X names the article of X
        by_code = [c for c in cards if names & {name for code in c.codes for name in code_names(code)}]
        if len(by_code) == 1:
            return by_code[0]
        prefixed = [c for c in cards if c.id.startswith(key)] if key else []
        if len(prefixed) == 1:
            return prefixed[0]
        import difflib

        ids = [c.id for c in cards]
        closest = [c.id for c in prefixed][:5] or difflib.get_close_matches(key, ids, n=3, cutoff=0.4)
        raise ArticleNotFound(wanted, closest)

    def codes(self) -> list[tuple[str, ArticleCard]]:
        """Every error code with the article that lists it, by code."""
        return sorted(((code, card) for card in self.cards() for code in card.codes), key=lambda pair: pair[0].lower())

    def show(self, wanted: str) -> Article:
        """The full article (read from its file) for an id, prefix or code."""
        from .article import parse_file

        card = self.resolve(wanted)
        return parse_file(Path(card.path)).drop_related({c.id for c in self.cards()})
