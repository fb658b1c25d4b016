"""`kb serve`: the help centre under waitress, a production WSGI server.

The index is built or updated before the socket opens (a first build of
10,000 articles takes ~30 s, longer than a request should wait). Logs go to
stderr: builds, errors with their class and path, and with `access_log` one
line per request (method, path, status, time) — never a query string.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

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


def serve(kb_dir: Path, index_dir: Path, *, host: str, port: int, threads: int, recheck: float,
          access_log: bool) -> None:
    """Build or update the index, then answer on host:port until interrupted."""
    import waitress

    from .app import create_app, shared_kb

    configure_logging()
    app = create_app(kb_dir, index_dir, recheck=recheck, access_log=access_log)
    with app.app_context(), shared_kb().reading():
        pass  # the first staleness check: builds or updates the index now
    waitress.serve(app, host=host, port=port, threads=threads, ident="errkb",
                   max_request_header_size=MAX_REQUEST_HEADER_BYTES, clear_untrusted_proxy_headers=True)
