"""The Whoosh schema, and how an article becomes one document of it.

Everything `kb search` and `kb browse` print is stored in the index (the
`card` field), so answering a query never re-reads article files.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from whoosh import fields
from whoosh.system import pack_uint

from .analysis import ErrkbAnalyzer, count_terms, words
from .codes import code_names
from .model import ArticleCard
from .versions import INDEX_FORMAT

if TYPE_CHECKING:  # searching loads this module (the index's schema) but builds no documents
    from .article import Article

#: Decides whether an existing index can be read or must be rebuilt.
SCHEMA_VERSION = INDEX_FORMAT

#: Searchable text fields. The body is split in two: what the user sees and
#: why (`about`: the words a pasted error shares with an article) and the
#: fixes and prevention (`remedy`: words of the cure, weaker evidence).
TEXT_FIELDS = ("title", "messages", "about", "remedy")
ABOUT_SECTIONS = ("What you see", "Why it happens")
REMEDY_SECTIONS = ("Fixes", "Prevention")


class AnalysedText(fields.TEXT):  # type: ignore[misc]
    """A TEXT field that also takes its terms already counted ({term: count}).

    errkb analyses each section once, for the index and for the stored term
    set alike; Whoosh's own path would run the analyzer again and build a
    Token object per word. Text still goes through the field's analyzer, as
    in any TEXT field.
    """

    def index(self, value: Any, **kwargs: Any) -> Iterator[tuple[bytes, int, float, bytes]]:
        if isinstance(value, Mapping):
            return ((term.encode("utf-8"), count, float(count), pack_uint(count)) for term, count in value.items())
        return super().index(value, **kwargs)  # type: ignore[no-any-return]


def make_schema() -> fields.Schema:
    """Build the schema (analyzers included: Whoosh pickles it into the index)."""
    stemmed = ErrkbAnalyzer(stemmed=True)
    return fields.Schema(
        id=fields.ID(stored=True, unique=True),
        title=AnalysedText(analyzer=stemmed, phrase=False),
        messages=AnalysedText(analyzer=stemmed, phrase=False),
        about=AnalysedText(analyzer=stemmed, phrase=False),
        remedy=AnalysedText(analyzer=stemmed, phrase=False),
        # Unstemmed words of the title and messages: the vocabulary that
        # fuzzy matching and "did you mean" draw on (a stemmed field would
        # offer "verif" as a correction).
        words=AnalysedText(analyzer=ErrkbAnalyzer(stemmed=False), phrase=False),
        codes=fields.KEYWORD(stored=True, lowercase=True, commas=True, scorable=True),
        platforms=fields.KEYWORD(stored=True, commas=True),
        causes=fields.KEYWORD(stored=True, commas=True),
        card=fields.STORED(),
        terms=fields.STORED(),
    )


def card(article: Article, plain: list[tuple[str, str]]) -> ArticleCard:
    """What result lists and snippets need, stored with the document
    (`plain`: each section's title and plain text)."""
    return ArticleCard(
        id=article.id,
        title=article.title,
        platforms=tuple(article.platforms),
        causes=tuple(article.causes),
        codes=tuple(article.codes),
        path=str(article.path),
        messages=tuple(article.all_messages),
        summary=next((text for title, text in plain if title == "What you see"), ""),
        why=next((text for title, text in plain if title == "Why it happens"), ""),
        fixes=tuple(article.fixes),
    )


def to_document(article: Article) -> dict[str, Any]:
    """The Whoosh document for one (valid) article."""
    from .article import section_plain_text

    plain = [(section.title, section_plain_text(section.text)) for section in article.sections
             if section.title in ABOUT_SECTIONS or section.title in REMEDY_SECTIONS]
    # The title's and messages' words are found once, for their stemmed
    # fields and the unstemmed `words` (the words of "title\nmessages").
    title_words, message_words = words(article.title), words("\n".join(article.all_messages))
    counted = {
        "title": count_terms(title_words),
        "messages": count_terms(message_words),
        "about": count_terms(words("\n\n".join(text for title, text in plain if title in ABOUT_SECTIONS))),
        "remedy": count_terms(words("\n\n".join(text for title, text in plain if title in REMEDY_SECTIONS))),
    }
    return {
        "id": article.id,
        **counted,
        # The symptom vocabulary only: typos are corrected towards the words
        # people see on screen (every section, unstemmed, would add ~45% to
        # the postings).
        "words": count_terms(title_words + message_words, stemmed=False),
        # Distinct searchable terms, stored: re-ranking reads which query
        # terms an article has (the scorer reads postings, not documents).
        "terms": " ".join(sorted(set().union(*counted.values()))),
        "codes": ",".join(name for code in article.codes for name in code_names(code)),
        "platforms": ",".join(article.platforms),
        "causes": ",".join(article.causes),
        # Stored as its JSON (plain types): the index never pickles errkb's classes.
        "card": card(article, plain).as_json(),
    }
