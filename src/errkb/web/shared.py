"""One KnowledgeBase shared by a server process's threads.

`KnowledgeBase` keeps an open reader and is not thread-safe, so requests take
turns on it behind one lock (searching is CPU-bound Python: under the GIL a
second thread would not run it faster, and a reader per thread would multiply
memory). What the lock makes cheap is the staleness check, a `stat` per
article (~90 ms at 10,000): a request may reuse a check that *started after
it arrived* — so every edit saved before a request was sent is seen by that
request, the CLI's rule — and the requests queued behind one check share it.
Beyond that, a check is reused for at most `RECHECK_FACTOR` times as long as
it took (`recheck=None`, the default): at a few hundred articles a check costs
well under a millisecond and every request makes its own; at 10,000 it costs
~90 ms and is reused for about a second, so staleness checks take at most a
tenth of the server's time and an edit shows within a second. A number of
seconds instead fixes the reuse (0: every request sees every edit saved
before it was sent).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..kb import KnowledgeBase

log = logging.getLogger("errkb.web")


#: With the default recheck, a check is reused for this many times its own duration.
RECHECK_FACTOR = 10.0


class SharedKB:
    """The process's KnowledgeBase, one request at a time."""

    def __init__(self, kb: KnowledgeBase, recheck: float | None = None) -> None:
        self.kb = kb
        self.recheck = None if recheck is None else max(recheck, 0.0)
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
                reuse = RECHECK_FACTOR * self._last_duration if self.recheck is None else self.recheck
                if self._fresh is None or self._last_check < arrived - reuse:
                    started = time.monotonic()
                    self._fresh = None
                    self._fresh = self.kb.ensure_fresh()
                    self._last_check = started
                    self._last_duration = time.monotonic() - started
                    self.checks += 1
                with self.kb.session(self._fresh):
                    yield self.kb
            finally:
                for note in self.kb.notes:  # about builds and files, never about a query
                    log.info("%s", note)
                self.kb.notes.clear()
