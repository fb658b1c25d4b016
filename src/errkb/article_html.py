"""An article's Markdown as HTML that is safe to paste into a help-desk reply
or serve on a web page: the one place errkb turns Markdown into HTML.

python-markdown passes raw HTML through (that is Markdown's rule), and
`kb check`'s E025 can only look for HTML line by line in the source: a tag
split over lines (`<img` / `onerror=...>`) or an entity-encoded scheme
(`jav&#97;script:`) gets past it. So every piece of HTML errkb emits goes
through nh3 (the Ammonia sanitiser) with an allow-list: the tags and
attributes Markdown itself produces for articles, and links only to
https, http and mailto. Anything else is dropped, with its content for
script and style. `kb show --html` and the web pages both call this module.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .article import Article

#: What Markdown produces for an article: headings, paragraphs, lists,
#: emphasis, code, quotes, links, tables.
ALLOWED_TAGS = frozenset({
    "h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "ul", "ol", "li", "strong", "em", "b", "i",
    "code", "pre", "blockquote", "a", "table", "thead", "tbody", "tr", "th", "td",
})
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
#: Link schemes kept; relative links (no scheme) are kept as well.
URL_SCHEMES = frozenset({"https", "http", "mailto"})
#: Every kept link opens without telling the target where it came from.
LINK_REL = "noopener noreferrer nofollow"


def sanitise(html: str) -> str:
    """Only the allow-listed tags, attributes and link schemes of `html`."""
    import nh3

    return nh3.clean(html, tags=set(ALLOWED_TAGS), attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
                     url_schemes=set(URL_SCHEMES), link_rel=LINK_REL, strip_comments=True)


def markdown_html(text: str) -> str:
    """Markdown (a section, a fix) to sanitised HTML."""
    import markdown

    return sanitise(markdown.markdown(text))


def inline_html(text: str) -> str:
    """One line of Markdown (a fix's text) as sanitised inline HTML: the
    paragraph Markdown wraps it in is removed."""
    html = markdown_html(text).strip()
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return html


def article_html(article: Article) -> str:
    """The whole article as `kb show --html` prints it: the title, then the body."""
    return f"<h1>{escape(article.title)}</h1>\n" + markdown_html(article.body)
