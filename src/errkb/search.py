"""Ranking articles for a pasted error, on an open Whoosh index.

The steps: analyse the text (`querying.parse_query`), choose terms against the
index vocabulary (`querying.plan_terms`), run one weighted OR query with the
tag filters, re-rank the top candidates (an article whose whole message
appears in the paste wins), then judge confidence and order each result's
fixes for the platform the query names.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from .analysis import fold
from .codes import code_names
from .confidence import is_confident
from .model import ArticleCard, Fix, SearchHit, SearchResult
from .querying import FUZZY_WEIGHT, SYNONYM_WEIGHT, ParsedQuery, Plan, build_clauses, parse_query, plan_terms
from .scoring import Scorer
from .snippets import best_snippet
from .synonyms import load as load_synonyms

#: Candidates re-ranked beyond the requested limit.
RERANK_DEPTH = 20
#: A whole message found in the paste adds this share of the best score.
EXACT_MESSAGE_BONUS = 0.75
#: Messages shorter than this (after folding) are too generic to count as exact.
MIN_EXACT_CHARS = 8
#: Re-ranking multiplies BM25F by coverage ** COORD_POWER (the share of the
#: query's idf mass an article explains).
COORD_POWER = 0.5
#: How much naming an article's own subject (its title's words) adds.
TITLE_COVER = 0.5

_NON_WORD = re.compile(r"[\W_]+")


def normalise(text: str) -> str:
    """Casefolded text without spaces or punctuation, for exact-message tests."""
    return _NON_WORD.sub("", fold(text, once=True).casefold())


def order_fixes(fixes: tuple[Fix, ...], named: list[str]) -> tuple[Fix, ...]:
    """Fixes for a platform the user named first; otherwise the editors' order.
    A stable sort: within each group the most-likely-first order stays."""
    if not named:
        return fixes
    wanted = set(named)
    return tuple(sorted(fixes, key=lambda fix: 0 if wanted & set(fix.platforms) else 1))


def tag_filter(scorer: Scorer, platforms: list[str], causes: list[str]) -> set[int] | None:
    """Documents the tags allow (None: all). Repeated values of one tag
    widen (OR); platform and cause narrow (AND)."""
    allowed: set[int] | None = None
    for field, values in (("platforms", platforms), ("causes", causes)):
        if values:
            docs = scorer.docs_with(field, values)
            allowed = docs if allowed is None else allowed & docs
    return allowed


def run_search(
    scorer: Scorer,
    text: str,
    *,
    platforms: list[str] | None = None,
    causes: list[str] | None = None,
    limit: int = 5,
) -> SearchResult:
    """Search an open index (through its `Scorer`) for a pasted text."""
    parsed = parse_query(text)
    result = SearchResult(text, tuple(parsed.platforms), parsed.truncated)
    if parsed.is_empty or limit <= 0:
        return result
    reader = scorer.reader
    plan = plan_terms(parsed, scorer, load_synonyms())
    clauses = build_clauses(parsed, plan, scorer)
    allowed = tag_filter(scorer, platforms or [], causes or [])
    hits = [(reader.stored_fields(docnum), score)
            for docnum, score in scorer.top(clauses, max(limit, RERANK_DEPTH), allowed)]
    pasted = _NON_WORD.sub("", parsed.folded.casefold())  # `normalise` of the text folded once
    codes = set(parsed.codes)
    terms_wanted = plan.searched_terms()
    candidates = [_candidate(stored, score, plan, terms_wanted, pasted, codes, scorer) for stored, score in hits]
    best = max((c.score for c in candidates), default=0.0)
    candidates = [c._replace(score=c.score + EXACT_MESSAGE_BONUS * best) if c.exact else c for c in candidates]
    # An error code in the paste names its article: it wins over everything.
    candidates.sort(key=lambda c: (not c.code_hit, -c.score, c.card.id))
    found: list[SearchHit] = []
    for c in candidates[:limit]:
        card = c.card
        snippet = best_snippet(card, terms_wanted)
        found.append(SearchHit(
            id=card.id, title=card.title, score=c.score, platforms=card.platforms,
            causes=card.causes, path=card.path, snippet=snippet.text,
            snippet_spans=snippet.spans, fixes=order_fixes(card.fixes, parsed.platforms),
            matched=tuple(c.matched), exact_message=c.exact,
        ))
    top = candidates[0] if candidates else None
    confident = top is not None and is_confident(top.score, reader.doc_count(), parsed.folded,
                                                 code_hit=top.code_hit, exact_message=top.exact)
    return result._replace(
        hits=tuple(found),
        coverage=top.coverage if top is not None else 0.0,
        confident=confident,
        suggestion=suggest(parsed, plan) if plan.corrections else None,
    )


class _Candidate(NamedTuple):
    card: ArticleCard
    score: float
    matched: list[str]
    code_hit: bool
    exact: bool
    coverage: float  # share of the query's idf mass this article explains


def _candidate(stored: dict[str, Any], score: float, plan: Plan, wanted: set[str], pasted: str,
               codes: set[str], scorer: Scorer) -> _Candidate:
    """Score one retrieved article: BM25F scaled by how much of the query it
    explains (a coordination factor over query terms, not over fields) and
    by how much of its own title the query names."""
    card = ArticleCard.from_json(stored["card"])
    matched = sorted(t for t in stored["terms"].split() if t in wanted)
    code_hit = bool(codes and codes & {name for c in card.codes for name in code_names(c)})
    evidence, total = explained(set(matched), plan)
    if code_hit:  # the code explains the query as the rarest of words would
        evidence, total = evidence + plan.unknown_idf, total + plan.unknown_idf
    coverage = min(max(evidence / total, 0.0), 1.0) if total > 0 else 1.0
    exact = any(len(n) >= MIN_EXACT_CHARS and n in pasted for n in map(normalise, card.messages))
    return _Candidate(
        card=card,
        score=score * coverage**COORD_POWER * (1 + TITLE_COVER * _title_cover(card.title, wanted, scorer)),
        matched=matched,
        code_hit=code_hit,
        exact=exact,
        coverage=coverage,
    )



def _title_cover(title: str, wanted: set[str], scorer: Scorer) -> float:
    """Share of the title's information (idf mass) the query asks about: of
    two articles the query matches alike, the one whose own subject it names."""
    from .analysis import terms

    mass = {t: scorer.idf("title", t) for t in set(terms(title))}
    total = sum(mass.values())
    return sum(v for t, v in mass.items() if t in wanted) / total if total else 0.0


def explained(matched: set[str], plan: Plan) -> tuple[float, float]:
    """(idf mass of the query terms an article matches, total idf mass).
    A typo counts through its correction and a word through its synonyms,
    at the weight they are searched with."""
    got = 0.0
    for term, idf in plan.idf.items():
        if term in matched:
            got += idf
        elif plan.fixed_terms.get(term, set()) & matched:
            got += idf * FUZZY_WEIGHT
        elif plan.stand_ins.get(term, set()) & matched:
            got += idf * SYNONYM_WEIGHT
    return got, sum(plan.idf.values())


def suggest(parsed: ParsedQuery, plan: Plan) -> str:
    """"Did you mean": the query with each unknown word replaced by the
    closest word the index knows."""
    text = parsed.text.strip()
    for typed, fixed in plan.corrections.items():
        text = re.sub(rf"(?i)\b{re.escape(typed)}\b", fixed, text)
    return text
