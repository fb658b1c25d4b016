"""The JSON API: the documents `kb search --json` and `kb show --json` print,
from the core's own `as_json()`, with the same `schema_version`."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from ..versions import JSON_SCHEMA_VERSION
from .app import json_error, shared_kb
from .params import search_params

api = Blueprint("api", __name__, url_prefix="/api")


def document(data: dict[str, object]) -> Response:
    return jsonify({"schema_version": JSON_SCHEMA_VERSION, **data})


@api.get("/search")
def search() -> Response:
    params = search_params(request.args)
    if params.q is None:
        return json_error(400, "give a query: /api/search?q=<the pasted error>")
    with shared_kb().reading() as kb:
        result = kb.search(params.q, platforms=list(params.platforms), causes=list(params.causes),
                           limit=params.limit)
    if params.truncated:
        result = result._replace(truncated=True)
    return document(result.as_json())


@api.get("/articles/<path:article_id>")
def article(article_id: str) -> Response:
    with shared_kb().reading() as kb:
        found = kb.show(article_id[:200])
    return document(found.as_json())


@api.get("/<path:anything>")
def unknown(anything: str) -> Response:
    return json_error(404, "no such API endpoint; there are /api/search and /api/articles/<id>")
