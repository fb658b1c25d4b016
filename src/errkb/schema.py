"""The Whoosh schema, and how an article becomes one document of it.

Everything `kb search` and `kb browse` print is stored in the index (the
`card` field), so answering a query never re-reads article files.
"""

from __future__ import annotations

from typing import Any

from whoosh import fields

from .analysis import ErrkbAnalyzer, terms
from .article import Article, section_plain_text
from .versions import INDEX_FORMAT

#: Decides whether an existing index can be read or must be rebuilt.
SCHEMA_VERSION = INDEX_FORMAT

#: Searchable text fields. The body is split in two: what the user sees and
#: why (`about`: the words a pasted error shares with an article) and the
#: fixes and prevention (`remedy`: words of the cure, weaker evidence).
TEXT_FIELDS = ("title", "messages", "about", "remedy")
ABOUT_SECTIONS = ("What you see", "Why it happens")
REMEDY_SECTIONS = ("Fixes", "Prevention")


def make_schema() -> fields.Schema:
    """Build the schema (analyzers included: Whoosh pickles it into the index)."""
    stemmed = ErrkbAnalyzer(stemmed=True)
    return fields.Schema(
        id=fields.ID(stored=True, unique=True),
        title=fields.TEXT(analyzer=stemmed, phrase=False),
        messages=fields.TEXT(analyzer=stemmed, phrase=False),
        about=fields.TEXT(analyzer=stemmed, phrase=False),
        remedy=fields.TEXT(analyzer=stemmed, phrase=False),
        # Unstemmed words of the title and messages: the vocabulary that
        # fuzzy matching and "did you mean" draw on (a stemmed field would
        # offer "verif" as a correction).
        words=fields.TEXT(analyzer=ErrkbAnalyzer(stemmed=False), phrase=False),
        codes=fields.KEYWORD(stored=True, lowercase=True, commas=True, scorable=True),
        platforms=fields.KEYWORD(stored=True, commas=True),
        causes=fields.KEYWORD(stored=True, commas=True),
        card=fields.STORED(),
        terms=fields.STORED(),
    )


def card(article: Article) -> dict[str, Any]:
    """What result lists and snippets need, stored with the document."""
    seen = article.section("What you see")
    why = article.section("Why it happens")
    return {
        "id": article.id,
        "title": article.title,
        "platforms": article.platforms,
        "causes": article.causes,
        "codes": article.codes,
        "path": str(article.path),
        "messages": article.all_messages,
        "summary": section_plain_text(seen.text) if seen else "",
        "why": section_plain_text(why.text) if why else "",
        "fixes": [fix.as_dict() for fix in article.fixes],
    }


def _sections_text(article: Article, titles: tuple[str, ...]) -> str:
    return "\n\n".join(section_plain_text(s.text) for s in article.sections if s.title in titles)


def to_document(article: Article) -> dict[str, Any]:
    """The Whoosh document for one (valid) article."""
    about = _sections_text(article, ABOUT_SECTIONS)
    remedy = _sections_text(article, REMEDY_SECTIONS)
    messages = "\n".join(article.all_messages)
    return {
        "id": article.id,
        "title": article.title,
        "messages": messages,
        "about": about,
        "remedy": remedy,
        # The symptom vocabulary only: typos are corrected towards the words
        # people see on screen, and indexing every section twice, unstemmed,
        # cost 45% of all postings.
        "words": "\n".join((article.title, messages)),
        # Distinct searchable terms, stored: re-ranking reads which query
        # terms an article has without asking Whoosh to track matches (which
        # turns off its block-max pruning).
        "terms": " ".join(sorted({t for text in (article.title, messages, about, remedy) for t in terms(text)})),
        "codes": ",".join(article.codes),
        "platforms": ",".join(article.platforms),
        "causes": ",".join(article.causes),
        "card": card(article),
    }
