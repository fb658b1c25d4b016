"""The application factory: configuration, security headers, errors, logging.

Pages (`pages.py`) and the JSON API (`api.py`) are blueprints; both read the
knowledge base through one `SharedKB` per process. Nothing here prints a
traceback or a query: errors become a page or a JSON body with an HTTP status,
and the log gets the error's class and the path, never the query string (a
paste carries phone and card numbers). `ERRKB_DEBUG=1` logs tracebacks.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from ..errors import ArticleNotFound, ErrkbError, IndexProblem, KnowledgeBaseError
from ..kb import KnowledgeBase
from ..versions import JSON_SCHEMA_VERSION
from .params import MAX_QUERY_STRING_BYTES, BadParameter
from .shared import SharedKB

log = logging.getLogger("errkb.web")

#: No inline script or style anywhere: every script and style is a file in static/.
CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                           "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # The query is in the URL: never send it to a source's site as the Referer.
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


def create_app(kb_dir: str | Path | None = None, index_dir: str | Path | None = None, *,
               recheck: float | None = None, access_log: bool = False, watched: bool = True) -> Flask:
    """The help centre for the articles in `kb_dir` (default `$ERRKB_KB_DIR`
    or `kb`), searched through `index_dir` (`$ERRKB_INDEX_DIR` or `index`).

    `recheck`: seconds a staleness check may be reused by later requests
    (`$ERRKB_SERVE_RECHECK`; 0: every request sees every edit saved before
    it; by default only after the kernel reported a change in the folders,
    see `shared`). `watched=False`: never ask the kernel, reuse a check for
    ten times what it took. `access_log`: log method, path, status and time
    of each request (never the query string)."""
    kb = KnowledgeBase(Path(kb_dir or os.environ.get("ERRKB_KB_DIR") or "kb"),
                       Path(index_dir or os.environ.get("ERRKB_INDEX_DIR") or "index"))
    if recheck is None and os.environ.get("ERRKB_SERVE_RECHECK"):
        recheck = float(os.environ["ERRKB_SERVE_RECHECK"])
    app = Flask(__name__)
    app.config["JSON_AS_ASCII"] = False
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # Chinese stays Chinese in the API
    app.json.sort_keys = False  # type: ignore[attr-defined]  # the CLI's key order
    app.extensions["errkb"] = SharedKB(kb, recheck, watched=watched)

    from .api import api
    from .pages import pages

    app.register_blueprint(pages)
    app.register_blueprint(api)
    _install_hooks(app, access_log)
    return app


def shared_kb() -> SharedKB:
    from flask import current_app

    shared: SharedKB = current_app.extensions["errkb"]
    return shared


def wants_json() -> bool:
    return request.path.startswith("/api/")


def json_error(status: int, message: str, **extra: Any) -> Response:
    from flask import jsonify

    response = jsonify({"schema_version": JSON_SCHEMA_VERSION, "status": status, "error": message, **extra})
    response.status_code = status
    return response


def _install_hooks(app: Flask, access_log: bool) -> None:
    @app.before_request
    def bound_request() -> Response | None:
        g.started = time.perf_counter()
        if len(request.query_string) > MAX_QUERY_STRING_BYTES:
            return _error(414, f"the query is over {MAX_QUERY_STRING_BYTES // 1024} KB; "
                               "paste the part around the error message")
        return None

    @app.after_request
    def headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if not request.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")  # pastes are private
        if access_log:
            took = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
            log.info("%s %s %s %.1fms", request.method, request.path, response.status_code, took)
        return response

    @app.errorhandler(BadParameter)
    def bad_parameter(exc: BadParameter) -> Response:
        return _error(400, str(exc))

    @app.errorhandler(ArticleNotFound)
    def not_found(exc: ArticleNotFound) -> Response:
        if wants_json():
            return json_error(404, f"no article with id {exc.wanted[:80]!r}", closest=exc.closest)
        from .pages import not_found_page

        return not_found_page(exc.wanted, exc.closest)

    @app.errorhandler(ErrkbError)
    def core_error(exc: ErrkbError) -> Response:
        # The knowledge base or index is unusable: the operator's problem, said in the log.
        log.error("cannot answer %s: %s", request.path, exc)
        kind = "knowledge base" if isinstance(exc, KnowledgeBaseError) else (
            "index" if isinstance(exc, IndexProblem) else "request")
        status = 400 if kind == "request" else 503
        return _error(status, str(exc) if status == 400 else f"the {kind} cannot be used right now; "
                      "the server's log says why")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        return _error(exc.code or 500, exc.description or exc.name)

    @app.errorhandler(Exception)
    def internal_error(exc: Exception) -> Response:
        if os.environ.get("ERRKB_DEBUG"):
            log.exception("internal error on %s", request.path)
        else:  # no traceback: its messages could quote the query
            log.error("internal error on %s: %s (ERRKB_DEBUG=1 logs the traceback)", request.path,
                      exc.__class__.__name__)
        return _error(500, "internal error: a bug in errkb; the server's log has its class")


def _error(status: int, message: str) -> Response:
    if wants_json():
        return json_error(status, message)
    from .pages import error_page

    return error_page(status, message)
