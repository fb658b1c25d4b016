"""The HTML pages: search, article, browse, and the error pages.

Templates escape everything; article HTML comes from `errkb.article_html`
(sanitised, the same as `kb show --html`) and is the only `Markup` they get
from article text."""

from __future__ import annotations

from flask import Blueprint, Response, make_response, redirect, render_template, request, url_for
from markupsafe import Markup

from ..article_html import inline_html, markdown_html
from ..search import order_fixes
from ..tags import CAUSES, PLATFORMS, platform_names
from .app import shared_kb
from .params import search_params, tags
from .present import SHOWN_FIXES, highlight, is_url, reply_text

pages = Blueprint("pages", __name__)


@pages.app_context_processor
def helpers() -> dict[str, object]:
    return {"PLATFORMS": PLATFORMS, "CAUSES": CAUSES, "platform_names": platform_names,
            "highlight": highlight, "SHOWN_FIXES": SHOWN_FIXES,
            "inline": lambda text: Markup(inline_html(text))}


@pages.get("/")
def search() -> str:
    params = search_params(request.args)
    result = None
    if params.q is not None and params.q.strip():
        with shared_kb().reading() as kb:
            result = kb.search(params.q, platforms=list(params.platforms), causes=list(params.causes),
                               limit=params.limit)
        if params.truncated:
            result = result._replace(truncated=True)
    return render_template("search.html", params=params, result=result)


@pages.get("/articles/<path:article_id>")
def article(article_id: str) -> Response | str:
    first = tags(request.args, "first", PLATFORMS)  # the platforms a search named
    with shared_kb().reading() as kb:
        found = kb.show(article_id[:200])
        titles = {card.id: card.title for card in kb.cards() if card.id in found.related}
    if found.id != article_id:  # a prefix or an error code: the canonical address
        return redirect(url_for("pages.article", article_id=found.id, first=list(first)))  # type: ignore[return-value]
    fixes = order_fixes(tuple(found.fixes), list(first))
    sections: list[tuple[str, Markup | None]] = []
    for section in found.sections:
        if section.title in ("Fixes", "Related"):
            sections.append((section.title, None))
        else:
            sections.append((section.title, Markup(markdown_html(section.text))))
    return render_template(
        "article.html", article=found, sections=sections, first=first,
        fixes=[(fix, Markup(inline_html(fix.text))) for fix in fixes],
        related=[(rid, titles.get(rid, rid)) for rid in found.related],
        sources=[(source, is_url(source)) for source in found.sources],
        reply=reply_text(found, fixes),
    )


@pages.get("/browse")
def browse() -> str:
    platforms = tags(request.args, "platform", PLATFORMS)
    causes = tags(request.args, "cause", CAUSES)
    with shared_kb().reading() as kb:
        result = kb.browse(platforms=list(platforms), causes=list(causes))
    return render_template("browse.html", result=result, platforms=platforms, causes=causes)


def not_found_page(wanted: str, closest: list[str]) -> Response:
    response = make_response(render_template("not_found.html", wanted=wanted[:80], closest=closest), 404)
    return response


def error_page(status: int, message: str) -> Response:
    return make_response(render_template("error.html", status=status, message=message), status)
