"""One KnowledgeBase shared by a server process's threads.

`KnowledgeBase` keeps an open reader and is not thread-safe, so requests take
turns on it behind one lock (searching is CPU-bound Python: under the GIL a
second thread would not run it faster, and a reader per thread would multiply
memory). What the lock makes cheap is the staleness check, a `stat` per
article (~60 ms at 10,000): a request may reuse a check that *started after
it arrived* — so every edit saved before a request was sent is seen by that
request, the CLI's rule — and the requests queued behind one check share it.

Beyond that, by default (`recheck=None`), where the kernel can watch the
article and index folders (`watching`, Linux), a check is made only when
something in them changed since the last one: the same rule at no cost per
request; and every `WATCHED_RECHECK` seconds anyway, for edits a network
filesystem does not report. Without a watch, a check is reused for at most
`RECHECK_FACTOR` times as long as it took: at a few hundred articles every
request makes its own; at 10,000 one is reused for about half a second, so
checks take at most a tenth of the server's time. A number of seconds
instead fixes the reuse (0: every request checks the articles).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..kb import KnowledgeBase
from ..watching import FolderWatch, watch

log = logging.getLogger("errkb.web")


#: With the default recheck and no folder watch, a check is reused for this
#: many times its own duration.
RECHECK_FACTOR = 10.0
#: With a folder watch, the articles are checked at least this often anyway.
WATCHED_RECHECK = 30.0


class SharedKB:
    """The process's KnowledgeBase, one request at a time."""

    def __init__(self, kb: KnowledgeBase, recheck: float | None = None, *, watched: bool = True) -> None:
        self.kb = kb
        self.recheck = None if recheck is None else max(recheck, 0.0)
        self.watched = watched and recheck is None  # a fixed --recheck is a fixed rule
        self._watch: FolderWatch | None = None
        self._watch_pid = 0  # a forked worker must not share its parent's event queue
        self._last_duration = 0.0
        self._lock = threading.Lock()
        self._last_check = float("-inf")  # when the last completed staleness check started
        self._fresh: Any = None  # the index that check returned
        self.checks = 0  # how many were made (tests read it)

    @contextmanager
    def reading(self) -> Iterator[KnowledgeBase]:
        """The KnowledgeBase, fresh for the articles as they were when the
        request arrived; its notes (builds, fallbacks) go to the log."""
        arrived = time.monotonic()
        with self._lock:
            try:
                if self._stale(arrived):
                    started = time.monotonic()
                    self._fresh = None
                    if self.watched and self._watch_pid != os.getpid():
                        self._start_watch()
                    self._fresh = self.kb.ensure_fresh()
                    if self._watch is not None and not self._watch.watches(self.kb.index_dir):
                        self._watch.add(self.kb.index_dir)  # there once a check has built it
                    self._last_check = started
                    self._last_duration = time.monotonic() - started
                    self.checks += 1
                with self.kb.session(self._fresh):
                    yield self.kb
            finally:
                for note in self.kb.notes:  # about builds and files, never about a query
                    log.info("%s", note)
                self.kb.notes.clear()

    def _stale(self, arrived: float) -> bool:
        """Whether this request has to check the articles itself."""
        if self._watch is not None and self._watch.broken:
            log.info("the folder watch stopped (a folder moved, or the kernel dropped events): watching again")
            self._watch.close()
            self._watch, self._watch_pid = None, 0  # the check below starts a new one, or falls back to stat
        if self._fresh is None or (self.watched and self._watch_pid != os.getpid()):
            return True
        if self._watch is not None and not self.kb.current:
            return True  # the last check answered from an older index (a build was running): no event will say so
        if self.recheck is not None:
            return self._last_check < arrived - self.recheck
        if self._watch is not None:
            # Drained before the check starts: an event during the check stays queued for the next request.
            return self._watch.changed() or self._last_check < arrived - WATCHED_RECHECK
        return self._last_check < arrived - RECHECK_FACTOR * self._last_duration

    def _start_watch(self) -> None:
        """Watch the article folder from before the first check on (and the
        index folder once a check has made it: a build by another process
        changes no article but replaces the generation this one reads)."""
        if self._watch is not None:
            self._watch.close()  # the parent's, inherited: its events are the parent's to read
        self._watch_pid = os.getpid()
        self._watch = watch([self.kb.kb_dir])
        if self._watch is None:
            log.info("no folder watch here: the articles are checked by stat")
