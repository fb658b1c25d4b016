"""A second process that indexes part of a big build into its own segment.

Whoosh is pure Python: one process indexes a few hundred articles a second.
A full build of many articles gives part of them to a helper process, which
writes one more segment into the same (not yet published) generation folder
while the builder writes its own; the builder then lists both segments in
the index's table of contents in one commit.

Whoosh's own multi-process writer is not used: its workers are forked, so
they inherit the build lock, and they wait on a queue forever if the builder
is killed. This helper is a fresh interpreter (no inherited descriptors),
reads its whole input from a file, and dies with the builder.

Usage (by `indexer` only): python -m errkb.segment_helper INDEX_DIR INPUT OUTPUT
"""

from __future__ import annotations

import contextlib
import os
import pickle
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

#: Below this many articles to add, a helper costs more (a second
#: interpreter importing Whoosh: ~0.3 s) than it saves.
PARALLEL_MIN_ARTICLES = 1000
#: The helper's share: the builder also scanned and checked every file.
HELPER_SHARE = 0.55


def should_help(count: int) -> bool:
    """Whether a build adding `count` articles is worth a helper process."""
    return count >= PARALLEL_MIN_ARTICLES and (os.cpu_count() or 1) > 1


class Helper:
    """A running helper process and the files it reads and writes."""

    def __init__(self, index_dir: Path, articles: list[Any]) -> None:
        self.source = index_dir / "helper-input.pickle"
        self.target = index_dir / "helper-segment.pickle"
        with open(self.source, "wb") as handle:
            pickle.dump(articles, handle, protocol=pickle.HIGHEST_PROTOCOL)
        self.index_dir = index_dir
        self.articles = articles
        self.count = len(articles)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "errkb.segment_helper", str(index_dir), str(self.source), str(self.target)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )

    def segment(self) -> Any | None:
        """Wait for the helper; its segment, or None when it failed."""
        self.process.communicate()
        try:
            if self.process.returncode != 0:
                return None
            with open(self.target, "rb") as handle:
                return pickle.load(handle)
        except (OSError, pickle.UnpicklingError, EOFError):
            return None
        finally:
            self.cleanup()

    def stop(self) -> None:
        """The builder gave up: stop the helper and remove its files."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.cleanup()

    def cleanup(self) -> None:
        for path in (self.source, self.target):
            path.unlink(missing_ok=True)


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
    _die_with_builder()
    index_dir, source, target = (Path(arg) for arg in argv)
    with open(source, "rb") as handle:
        articles = pickle.load(handle)
    segment = write_segment(index_dir, articles)
    partial = target.with_suffix(".partial")
    with open(partial, "wb") as handle:
        pickle.dump(segment, handle, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(partial, target)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
