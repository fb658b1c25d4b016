"""From pasted text to a Whoosh query, without Whoosh's query parser.

Pasted errors are not query syntax: `12:03:44` is not a field, `6222****1234`
is not a wildcard, `NOT` is a word. So the text is analysed with the index's
own analyzer and the query is built from terms: an OR where matching more
and rarer terms ranks higher. The work is bounded whatever the paste: at most
`MAX_QUERY_CHARS` characters are read, at most `MAX_TERMS` distinct terms
(the rarest in the index) are searched, and fuzzy look-ups are capped.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any, NamedTuple

from .analysis import fold, iter_folded_tokens
from .codes import code_candidates
from .salience import LineWeights
from .scoring import Alternative, Clause, Scorer
from .synonyms import Synonyms

#: Characters of a query that are read; the rest is ignored (and reported).
MAX_QUERY_CHARS = 64 * 1024
#: Distinct terms looked up in the index (the first ones of the text).
MAX_LOOKUPS = 512
#: Distinct terms searched, keeping the rarest (most informative) ones.
MAX_TERMS = 40
#: Common words (idf below COMMON_IDF: in more than ~20% of the articles) are
#: left out of the Whoosh query of a knowledge base of COMMON_MIN_DOCS articles
#: or more, as long as MIN_RARE_TERMS rarer ones remain.
COMMON_IDF = math.log(1 + 0.8 / 0.2)
COMMON_MIN_DOCS = 500
MIN_RARE_TERMS = 3
#: Postings a query may read (the work of scoring is about the same for
#: each); the rarest terms are taken first, at least MIN_RARE_TERMS of them.
#: A long paste on 10,000 articles reaches it; a knowledge base of a few
#: hundred articles never does.
POSTINGS_BUDGET = 20_000
#: Unknown words tried against the vocabulary for typos, and their length range.
MAX_FUZZY_WORDS = 6
FUZZY_WORD_CHARS = (4, 20)
#: Typos are looked for in short queries only: in a long paste unknown words
#: are names and noise, and the rest of the paste carries the meaning.
FUZZY_MAX_QUERY_TERMS = 12

FIELD_WEIGHTS: dict[str, float] = {"title": 3.0, "messages": 2.0, "about": 1.0, "remedy": 0.3}
FIELD_TIEBREAK = 0.3
SYNONYM_TIEBREAK = 0.2
CODE_BOOST = 40.0
SYNONYM_WEIGHT = 0.8
FUZZY_WEIGHT = 0.7

_PLATFORM_MENTIONS: dict[str, re.Pattern[str]] = {
    "taobao": re.compile(r"taobao|淘宝", re.I),
    "alipay": re.compile(r"alipay|支付宝", re.I),
    "alibaba": re.compile(r"alibaba|阿里巴巴", re.I),
}


def platforms_named(text: str) -> list[str]:
    """Platforms the query names (Taobao, 淘宝, Alipay, 支付宝, Alibaba.com ...)."""
    return [slug for slug, pattern in _PLATFORM_MENTIONS.items() if pattern.search(text)]


class ParsedQuery(NamedTuple):
    """The searchable content of a pasted text."""

    text: str
    truncated: bool
    term_counts: Counter[str]
    folded: str  # the text folded once (`analysis.fold`), for codes, synonyms and exact messages
    surface: dict[str, str]  # term -> a word as typed, for typo correction
    salience: dict[str, float]  # term -> the weight of the most message-like line it is on
    codes: list[str]
    platforms: list[str]

    @property
    def is_empty(self) -> bool:
        return not self.term_counts and not self.codes


def parse_query(text: str) -> ParsedQuery:
    """Analyse a pasted text (any content) into terms, codes and platforms."""
    truncated = len(text) > MAX_QUERY_CHARS
    text = text[:MAX_QUERY_CHARS].replace("\x00", " ")
    counts: Counter[str] = Counter()
    surface: dict[str, str] = {}
    salience: dict[str, float] = {}
    folded = fold(text, once=True)
    lowered = folded.lower()
    lines = LineWeights(folded)
    for term, start, end in iter_folded_tokens(lowered):
        if term not in counts and len(counts) >= MAX_LOOKUPS:
            continue
        counts[term] += 1
        surface.setdefault(term, lowered[start:end])
        salience[term] = max(salience.get(term, 0.0), lines.at(start))
    return ParsedQuery(text, truncated, counts, folded, surface, salience, code_candidates(folded),
                       platforms_named(folded))


class Plan:
    """The terms chosen for one query and why: the search, the confidence
    measure and "did you mean" all read it."""

    def __init__(self) -> None:
        self.weights: dict[str, float] = {}  # term -> weight
        self.idf: dict[str, float] = {}  # every query term, known or not
        self.unknown_idf = 0.0  # what a term in no document counts: the most
        self.unknown: list[str] = []  # typed words the index lacks
        self.corrections: dict[str, str] = {}  # typed word -> index word
        self.fixed_terms: dict[str, set[str]] = {}  # unknown term -> its corrected term(s)
        self.stand_ins: dict[str, set[str]] = {}  # query term -> its synonyms searched
        self.synonym_groups: list[dict[str, float]] = []  # each: one disjunction-max clause

    def searched_terms(self) -> set[str]:
        """Every term the query looks for: typed, corrected and synonyms."""
        return set(self.weights).union(*self.synonym_groups)


def _doc_frequency(scorer: Scorer, term: str) -> int:
    return max(scorer.doc_frequency(name, term) for name in FIELD_WEIGHTS)


def _postings(scorer: Scorer, term: str) -> int:
    """Postings read to score a term: its documents in every searched field."""
    return sum(scorer.doc_frequency(name, term) for name in FIELD_WEIGHTS)


def _idf(df: int, total: int) -> float:
    return math.log(1 + (total - df + 0.5) / (df + 0.5))


def plan_terms(parsed: ParsedQuery, scorer: Scorer, synonyms: Synonyms) -> Plan:
    """Choose the terms to search: the rarest known ones, typo corrections for
    unknown words, and synonyms of what was typed."""
    from .analysis import stem

    plan = Plan()
    reader = scorer.reader
    total = max(reader.doc_count(), 1)
    known: list[tuple[float, str]] = []
    max_idf = plan.unknown_idf = _idf(0, total)
    for term in parsed.term_counts:
        df = min(_doc_frequency(scorer, term), total)  # doc_frequency counts deleted documents too
        if df == 0:
            plan.idf[term] = max_idf
            plan.unknown.append(term)
            continue
        idf = _idf(df, total) * parsed.salience[term]
        plan.idf[term] = idf
        known.append((idf, term))
    known.sort(key=lambda item: (-item[0], item[1]))
    chosen = known[:MAX_TERMS]
    # In a big knowledge base a word found in a large share of the articles
    # costs the most to search (its postings are long) and tells the least.
    # When enough rarer words remain, leave it to the re-ranking, which still
    # counts it from the stored term sets.
    if total >= COMMON_MIN_DOCS:
        rare = [(idf, t) for idf, t in chosen if idf >= COMMON_IDF]
        if len(rare) >= MIN_RARE_TERMS:
            chosen = rare
    # Scoring costs about the same per posting whatever the term: spend a
    # bounded number of postings, on the rarest terms first.
    budget = POSTINGS_BUDGET
    for _, term in chosen:
        cost = _postings(scorer, term)
        if budget < cost and len(plan.weights) >= MIN_RARE_TERMS:
            break
        budget -= cost
        plan.weights[term] = parsed.salience[term]

    tried = 0 if len(parsed.term_counts) <= FUZZY_MAX_QUERY_TERMS else MAX_FUZZY_WORDS
    for term in plan.unknown:
        word = parsed.surface.get(term, term)
        low, high = FUZZY_WORD_CHARS
        if tried >= MAX_FUZZY_WORDS or not low <= len(word) <= high or not word.isascii() or not word.isalpha():
            continue
        tried += 1
        best = _closest_word(reader, word)
        if best is None:
            continue
        plan.corrections[word] = best
        for part in best.split():
            fixed = stem(part)
            plan.fixed_terms.setdefault(term, set()).add(fixed)
            if fixed not in plan.weights:
                plan.weights[fixed] = FUZZY_WEIGHT

    # Synonyms follow the rule for common words: in a big knowledge base an
    # alternative found in a large share of the articles is not searched.
    def searchable(term: str) -> bool:
        df = min(_doc_frequency(scorer, term), total)
        return df > 0 and (total < COMMON_MIN_DOCS or _idf(df, total) >= COMMON_IDF)

    def affordable(group: dict[str, float]) -> bool:
        nonlocal budget
        cost = sum(_postings(scorer, term) for term in group)
        if cost > budget:
            return False
        budget -= cost
        return True

    typed = set(parsed.term_counts) | set(plan.weights)
    for expansion in synonyms.expand(typed, parsed.folded):
        group = {term: SYNONYM_WEIGHT * share for term, share in expansion.alternatives.items()
                 if term not in plan.weights and searchable(term)}
        if not group or not affordable(group):
            continue
        plan.synonym_groups.append(group)
        for source in expansion.origin:
            plan.stand_ins.setdefault(source, set()).update(group)
    return plan


def _known(reader: Any, word: str) -> bool:
    return bool(word) and reader.doc_frequency("words", word) > 0


def _swaps(word: str) -> list[str]:
    """`word` with two adjacent letters exchanged (crad -> card), each way."""
    return [word[:i] + word[i + 1] + word[i] + word[i + 2:] for i in range(len(word) - 1) if word[i] != word[i + 1]]


def _closest_word(reader: Any, word: str) -> str | None:
    """The index word a typo most likely stands for: the fewest edits first
    (an adjacent swap counts as one, as people make it), then the most
    common; else two index words run together (facescan -> face scan)."""
    maxdist = 1 if len(word) <= 5 else 2
    found: dict[str, int] = {swap: 1 for swap in _swaps(word) if _known(reader, swap)}
    for distance in range(1, maxdist + 1):
        for candidate in reader.terms_within("words", word, distance, prefix=1):
            text = candidate.decode("utf-8") if isinstance(candidate, bytes) else candidate
            found.setdefault(text, distance)
    found.pop(word, None)
    if found:
        return min(found, key=lambda c: (found[c], -reader.doc_frequency("words", c), abs(len(c) - len(word)), c))
    low = FUZZY_WORD_CHARS[0] - 1
    splits = [(word[:i], word[i:]) for i in range(low, len(word) - low + 1)]
    known = [pair for pair in splits if _known(reader, pair[0]) and _known(reader, pair[1])]
    if known:
        return " ".join(max(known, key=lambda p: min(reader.doc_frequency("words", w) for w in p)))
    return None


def build_clauses(parsed: ParsedQuery, plan: Plan, scorer: Scorer) -> list[Clause]:
    """The clauses to score: each term on each field where it occurs,
    weighted by field; codes far above everything. (Whole messages are
    rewarded in the re-ranking, where a substring test is exact and cheap.)"""
    def on_fields(term: str, weight: float) -> list[Alternative]:
        return [Alternative(name, term, field_weight * weight)
                for name, field_weight in FIELD_WEIGHTS.items() if scorer.doc_frequency(name, term)]

    # The best field counts fully, the others a little: an article repeating
    # a word in every section is not more relevant for it.
    clauses = [Clause(alternatives, FIELD_TIEBREAK)
               for term, weight in plan.weights.items() if (alternatives := on_fields(term, weight))]
    # A group of synonyms counts as much as its best match, however many
    # alternatives it has: saying "blocked" must not weigh ten times "vpn".
    for group in plan.synonym_groups:
        alternatives = [alt for term, weight in group.items() for alt in on_fields(term, weight)]
        if alternatives:
            clauses.append(Clause(alternatives, SYNONYM_TIEBREAK))
    clauses.extend(Clause([Alternative("codes", code, CODE_BOOST)]) for code in parsed.codes
                   if scorer.doc_frequency("codes", code))
    return clauses
