"""A second process that checks and indexes part of a big build.

Whoosh is pure Python: one process parses and indexes a few hundred
articles a second. A build with many changed files gives part of them to a
helper process, in two steps over its standard input and output:

1. the helper reads and checks its files (as the builder checks the rest)
   and answers with what the manifest and the rules between articles need;
2. once the builder has applied those rules, it names the articles to index:
   the helper writes them as one more segment of the (not yet published)
   generation folder, while the builder writes its own, and answers with the
   segment for the builder to list in one commit.

Whoosh's own multi-process writer is not used: its workers are forked, so
they inherit the build lock, and they wait on a queue forever if the builder
is killed. This helper is a fresh interpreter (no inherited descriptors) and
dies with the builder. If it fails at any step, the builder does its share.

Usage (by `indexer` only): python -m errkb.segment_helper KB_DIR TODAY MAX_AGE_DAYS
"""

from __future__ import annotations

import contextlib
import os
import pickle
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

#: Below this many articles to add, a helper costs more (a second
#: interpreter importing Whoosh: ~0.3 s) than it saves.
PARALLEL_MIN_ARTICLES = 1000
#: The helper's share of the files to check (and so of the articles to
#: index). Half: the builder's own extra work (scan, rules between articles,
#: manifest) about equals the helper's start-up, and the manifest is written
#: while the helper finishes (measured: 0.45 and 0.55 were both slower).
HELPER_SHARE = 0.5


def should_help(count: int) -> bool:
    """Whether a build checking `count` changed files is worth a helper process."""
    return count >= PARALLEL_MIN_ARTICLES and (os.cpu_count() or 1) > 1


class Helper:
    """A running helper process. Every method returns None (or does nothing)
    once the helper has failed: the builder then does that part itself."""

    def __init__(self, kb_dir: Path, files: list[tuple[str, str]], today: date, max_age_days: int) -> None:
        """Start the helper on `files`: (name, the sha1 it had at the last build, or "")."""
        self.failed = False
        self.process = subprocess.Popen(
            [sys.executable, "-m", "errkb.segment_helper", str(kb_dir), today.isoformat(), str(max_age_days)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )
        # Sent from a thread: the list is bigger than a pipe holds, and the
        # builder would wait for the new interpreter to start reading it.
        self._sender = threading.Thread(target=self._send_files, args=(files,), daemon=True)
        self._sender.start()

    def _write(self, message: Any) -> None:
        assert self.process.stdin is not None
        pickle.dump(message, self.process.stdin, protocol=pickle.HIGHEST_PROTOCOL)
        self.process.stdin.flush()

    def _send_files(self, files: list[tuple[str, str]]) -> None:
        with contextlib.suppress(OSError, ValueError):  # it died: `examined` finds out
            self._write(files)

    def _send(self, message: Any) -> None:
        if self.failed or self.process.stdin is None:
            return
        try:
            self._write(message)
        except OSError:  # it died: a broken pipe
            self.stop()

    def _receive(self) -> Any | None:
        if self.failed or self.process.stdout is None:
            return None
        try:
            return pickle.load(self.process.stdout)
        except (OSError, EOFError, pickle.UnpicklingError):
            self.stop()
            return None

    def examined(self) -> dict[str, Any] | None:
        """Step 1: name -> what `indexer.examine_file` found, for the helper's names."""
        self._sender.join()
        found = self._receive()
        return found if isinstance(found, dict) else None

    def index(self, index_dir: Path, names: list[str]) -> None:
        """Step 2: have the helper index these of its articles into `index_dir`."""
        self._send((str(index_dir), names))

    def segment(self) -> Any | None:
        """The helper's segment once written (None if it failed); the helper exits."""
        segment = self._receive()
        self.stop()
        return segment

    def stop(self) -> None:
        """Stop the helper (if still running) and reap it."""
        self.failed = True
        if self.process.poll() is None:
            self.process.kill()  # done, or given up on; a blocked sender gets a broken pipe
        self._sender.join()
        with contextlib.suppress(OSError):
            if self.process.stdin is not None:
                self.process.stdin.close()
        self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


def write_segment(index_dir: Path, articles: list[Any]) -> Any:
    """Index `articles` into a new segment of the index in `index_dir`
    (without taking its write lock: the builder holds it) and return the
    segment, for the builder to list in its commit."""
    from whoosh import index as whoosh_index

    from .postings_pool import gc_paused
    from .schema import to_document
    from .segment_writer import CountedWriter

    ix = whoosh_index.open_dir(str(index_dir))
    writer = CountedWriter(ix, _lk=False)
    with gc_paused():
        for article in articles:
            writer.add_document(**to_document(article))
        # Not `_finish()`: that removes the temporary folder the builder's own
        # writer shares (each writer deletes its own temporary files as it goes).
        return writer._finalize_segment()


def _die_with_builder() -> None:
    """Exit as soon as the builder is gone (killed, say): its build will never
    be published, so the segment would be wasted work. Linux kills this
    process with the builder; elsewhere a watcher thread notices within 0.2 s."""
    builder = os.getppid()
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != builder:  # gone already, before the death signal was set
        os._exit(1)

    def watch() -> None:
        while os.getppid() == builder:
            time.sleep(0.2)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def main(argv: list[str]) -> int:
    from .indexer import examine_file
    from .postings_pool import gc_paused

    _die_with_builder()
    kb_dir, today, max_age_days = Path(argv[0]), date.fromisoformat(argv[1]), int(argv[2])
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    files: list[tuple[str, str]] = pickle.load(stdin)
    found: dict[str, Any] = {}
    articles: dict[str, Any] = {}
    with gc_paused():
        for name, known_sha1 in files:
            found[name], article = examine_file(kb_dir / name, today, max_age_days, known_sha1)
            if article is not None:
                articles[name] = article
    pickle.dump(found, stdout, protocol=pickle.HIGHEST_PROTOCOL)
    stdout.flush()
    index_dir, wanted = pickle.load(stdin)
    segment = write_segment(Path(index_dir), [articles[name] for name in wanted]) if wanted else None
    pickle.dump(segment, stdout, protocol=pickle.HIGHEST_PROTOCOL)
    stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
