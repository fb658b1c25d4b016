"""`kb serve`: the help centre under waitress, a production WSGI server.

The index is built or updated before the socket opens (a first build of
10,000 articles takes ~30 s, longer than a request should wait). Logs go to
stderr: builds, errors with their class and path, and with `access_log` one
line per request (method, path, status, time) — never a query string.

Searching is CPU-bound Python, so one process uses one core whatever its
thread count. `workers` > 1 forks that many processes after the socket is
bound; the kernel hands each connection to one of them. Each opens the index
for itself (it is a read-only artifact on disk, shared through the page
cache) and builds nothing the others could not: updates take the index's
build lock. The parent only waits, and stops them all when one stops.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

#: waitress's bound on a request's headers: a 64 K-character Chinese paste is
#: ~576 KB once URL-encoded, the most a search reads.
MAX_REQUEST_HEADER_BYTES = 1024 * 1024 + 16 * 1024


def configure_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("kb serve: %(message)s"))
    for name in ("errkb.web", "waitress"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(logging.INFO)
        logger.propagate = False


def serve(kb_dir: Path, index_dir: Path, *, host: str, port: int, threads: int, recheck: float | None,
          access_log: bool, workers: int = 1) -> None:
    """Build or update the index, then answer on host:port until interrupted."""
    from .app import create_app, shared_kb

    configure_logging()
    app = create_app(kb_dir, index_dir, recheck=recheck, access_log=access_log)
    with app.app_context(), shared_kb().reading():
        pass  # the first staleness check: builds or updates the index now
    if workers <= 1:
        _run(app, threads, host=host, port=port)
        return
    app.extensions["errkb"].kb.close()  # each worker opens its own reader
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(1024)
    listener.setblocking(False)
    # Ctrl-C or SIGTERM at any point from the first fork on stops every
    # worker started so far: one arriving before the parent waited used to
    # leave workers serving with no parent. Signals wait while a fork is
    # half done (the child not yet a worker, its pid not yet recorded).
    children: list[int] = []
    default_term = signal.signal(signal.SIGTERM, _interrupt)
    try:
        for _ in range(workers):
            signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
            pid = os.fork()
            if pid == 0:
                signal.signal(signal.SIGTERM, default_term)
                signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
                _work(lambda: create_app(kb_dir, index_dir, recheck=recheck, access_log=access_log), threads,
                      listener)
            children.append(pid)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
        listener.close()
        os.waitpid(-1, 0)  # until a worker stops, or a signal
    except KeyboardInterrupt:
        pass
    finally:
        _stop(children)


def _work(make_app: Callable[[], object], threads: int, listener: socket.socket) -> NoReturn:
    """A worker's life: its own app, KnowledgeBase and reader, serving until
    stopped; it never unwinds into the parent's code."""
    code = 0
    try:
        _run(make_app(), threads, sockets=[listener])
    except KeyboardInterrupt:
        pass
    except BaseException:  # noqa: BLE001
        code = 70
    os._exit(code)


def _run(app: object, threads: int, **where: object) -> None:
    import waitress

    waitress.serve(app, threads=threads, ident="errkb", max_request_header_size=MAX_REQUEST_HEADER_BYTES,
                   clear_untrusted_proxy_headers=True, **where)


_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _stop(children: list[int]) -> None:
    """Stop the workers and wait for them."""
    for pid in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    for pid in children:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
