"""The term-at-a-time scorer gives Whoosh's own BM25F scores, combines
clauses by errkb's rules, and never returns deleted or filtered documents."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from whoosh import index as whoosh_index
from whoosh import query as q
from whoosh.codec.whoosh3 import W3Codec
from whoosh.fields import ID, KEYWORD, TEXT, Schema
from whoosh.scoring import BM25F

from errkb import querying
from errkb.kb import KnowledgeBase
from errkb.querying import parse_query, plan_terms
from errkb.scoring import BM25_B, BM25_K1, Alternative, Clause, Scorer
from errkb.synonyms import Synonyms

TEXTS = [
    ("a", "card declined card declined again", "bank card", "taobao"),
    ("b", "card", "passport expired renew the passport at the bank", "alipay"),
    ("c", "passport", "card declined by the bank because the card expired long ago", "taobao alipay"),
    ("d", "limit reached", "daily limit of the card reached", "alibaba"),
    ("e", "declined", "declined declined declined", "taobao"),
]


def _schema() -> Schema:
    return Schema(id=ID(stored=True, unique=True), title=TEXT(phrase=False), body=TEXT(phrase=False),
                  tags=KEYWORD(stored=True))


@pytest.fixture(params=["one segment", "two segments with deletions", "one compound file", "in memory"])
def reader(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """The same documents as one segment on disk in separate files (as errkb
    writes them), as two segments (with a deleted and a re-added
    document), as one segment in Whoosh's compound file, and in RAM."""
    if request.param == "in memory":
        from whoosh.filedb.filestore import RamStorage

        ix = RamStorage().create_index(_schema())
    else:
        ix = whoosh_index.create_in(str(tmp_path), _schema())
    # Small blocks: long posting lists span several blocks, as in a big index.
    writer = ix.writer(codec=W3Codec(blocklimit=2), compound=request.param == "one compound file")
    for doc_id, title, body, tags in TEXTS if request.param != "two segments with deletions" else TEXTS[:3]:
        writer.add_document(id=doc_id, title=title, body=body, tags=tags)
    writer.commit()
    if request.param == "two segments with deletions":
        writer = ix.writer(codec=W3Codec(blocklimit=2), compound=False)
        writer.delete_by_term("id", "b")
        writer.add_document(id="gone", title="card declined", body="card declined card", tags="taobao")
        for doc_id, title, body, tags in TEXTS[1:2] + TEXTS[3:]:
            writer.add_document(id=doc_id, title=title, body=body, tags=tags)
        writer.commit(merge=False)
        writer = ix.writer(compound=False)
        writer.delete_by_term("id", "gone")
        writer.commit(merge=False)
    with ix.reader() as opened:
        yield opened


def whoosh_scores(reader: Any, query: Any) -> dict[str, float]:
    from whoosh.searching import Searcher

    searcher = Searcher(reader, weighting=BM25F(B=BM25_B, K1=BM25_K1))
    return {hit["id"]: hit.score for hit in searcher.search(query, limit=None)}


def errkb_scores(reader: Any, clauses: list[Clause]) -> dict[str, float]:
    scorer = Scorer(reader)
    return {reader.stored_fields(docnum)["id"]: score for docnum, score in scorer.top(clauses, 100)}


def test_reader_fixture_has_the_intended_segments(reader: Any) -> None:
    segments = [segment for segment, _ in reader.leaf_readers()]
    assert reader.doc_count() == len(TEXTS)
    if len(segments) > 1:  # the deletions are what the scorer has to skip
        assert all(segment.has_deletions() for segment in segments)
        assert reader.doc_count_all() > reader.doc_count()


@pytest.mark.parametrize(("field", "term", "boost"), [
    ("title", "card", 1.0), ("body", "card", 2.5), ("body", "declined", 0.3), ("title", "passport", 1.0),
])
def test_one_term_scores_as_whoosh_bm25f(reader: Any, field: str, term: str, boost: float) -> None:
    expected = whoosh_scores(reader, q.Term(field, term, boost=boost))
    got = errkb_scores(reader, [Clause([Alternative(field, term, boost)])])
    assert got.keys() == expected.keys()
    assert got == pytest.approx(expected)


def test_clauses_add_up_as_whoosh_or(reader: Any) -> None:
    terms = [("title", "card", 3.0), ("body", "passport", 1.0), ("body", "limit", 1.0), ("title", "declined", 3.0)]
    expected = whoosh_scores(reader, q.Or([q.Term(f, t, boost=b) for f, t, b in terms]))
    got = errkb_scores(reader, [Clause([Alternative(*t)]) for t in terms])
    assert got == pytest.approx(expected)


def test_a_clause_counts_its_best_alternative_and_a_share_of_the_others(reader: Any) -> None:
    title, body = Alternative("title", "card", 3.0), Alternative("body", "card", 1.0)
    alone = {name: errkb_scores(reader, [Clause([alt])]) for name, alt in (("title", title), ("body", body))}
    got = errkb_scores(reader, [Clause([title, body], tiebreak=0.3)])
    for doc_id, score in got.items():
        parts = sorted((alone[name].get(doc_id, 0.0) for name in alone), reverse=True)
        assert score == pytest.approx(parts[0] + 0.3 * parts[1])
    assert set(got) == set(alone["title"]) | set(alone["body"])


def test_deleted_documents_are_never_scored(reader: Any) -> None:
    got = errkb_scores(reader, [Clause([Alternative("title", "card", 1.0), Alternative("body", "card", 1.0)])])
    assert "gone" not in got
    assert got.keys() == {"a", "b", "c", "d"}


def test_allowed_documents_filter_without_changing_scores(reader: Any) -> None:
    scorer = Scorer(reader)
    clauses = [Clause([Alternative("body", "card", 1.0)])]
    everything = dict(scorer.top(clauses, 100))
    allowed = scorer.docs_with("tags", ["alipay"])
    filtered = dict(scorer.top(clauses, 100, allowed))
    assert {reader.stored_fields(d)["id"] for d in filtered} == {"b", "c"} - {"b"}  # b has no "card" in body
    assert all(everything[d] == score for d, score in filtered.items())


def test_ties_go_to_the_lower_document_number(reader: Any) -> None:
    scorer = Scorer(reader)
    ranked = scorer.top([Clause([Alternative("tags", "taobao", 1.0)])], 100)
    scores = [score for _, score in ranked]
    assert scores == sorted(scores, reverse=True)
    for (doc_a, score_a), (doc_b, score_b) in zip(ranked, ranked[1:], strict=False):
        if score_a == score_b:
            assert doc_a < doc_b


def test_a_query_reads_at_most_its_postings_budget_but_keeps_the_rarest_terms(
    fixture_kb: Path, index_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kb = KnowledgeBase(fixture_kb, index_dir)
    scorer = kb._scorer_for(kb.ensure_fresh())
    parsed = parse_query("card declined bank passport expired mobile number daily limit payment")
    unbounded = plan_terms(parsed, scorer, Synonyms({}))
    monkeypatch.setattr(querying, "POSTINGS_BUDGET", 0)
    bounded = plan_terms(parsed, scorer, Synonyms({}))
    assert len(bounded.weights) == querying.MIN_RARE_TERMS < len(unbounded.weights)
    rarest = sorted(unbounded.weights, key=lambda t: (-unbounded.idf[t], t))[: querying.MIN_RARE_TERMS]
    assert set(bounded.weights) == set(rarest)
    kb.close()


def assert_postings_read_as_whoosh_reads_them(reader: Any) -> None:
    """Every term's postings read a block at a time (`TermTable`) are the
    ids and weights Whoosh's public matcher gives one by one; the lengths
    (`length_bytes`) and the frequencies are Whoosh's, for terms the index
    has and terms it lacks."""
    from whoosh.util.numeric import length_to_byte

    from errkb.whoosh_seam import length_bytes

    scorer = Scorer(reader)
    read = 0
    fields = sorted({f for f, _ in reader.all_terms()})
    known = [(field, tbytes.decode("utf-8")) for field, tbytes in reader.all_terms()]
    lacking = [(field, term + suffix) for field, term in known[:50] for suffix in ("x", "\u5361")]
    for field, term in known + lacking + [(f, "no-such-term") for f in fields]:
        assert scorer.doc_frequency(field, term) == reader.doc_frequency(field, term), (field, term)
        for segment in scorer.segments:
            ours = [(d, float(w)) for ids, ws in segment.terms.posting_blocks(field, term)
                    for d, w in zip(ids, ws, strict=True) if not segment.reader.is_deleted(d)]
            theirs: list[tuple[int, float]] = []
            assert segment.terms.doc_frequency(field, term) == segment.reader.doc_frequency(field, term)
            if segment.reader.doc_frequency(field, term):
                matcher = segment.reader.postings(field, term)
                while matcher.is_active():
                    theirs.append((matcher.id(), float(matcher.weight())))
                    matcher.next()
            assert ours == theirs, (field, term)
            read += len(ours)
    assert read
    assert scorer.doc_frequency("title", "no-such-term") == scorer.doc_frequency("no_such_field", "card") == 0
    for segment in scorer.segments:
        for field in fields:
            expected = bytes(length_to_byte(segment.reader.doc_field_length(d, field, 0) or 0)
                             for d in range(segment.reader.doc_count_all()))
            assert length_bytes(segment.reader, field) == expected, field
    for segment in scorer.segments:
        segment.terms.close()


def test_postings_and_lengths_read_by_the_seam_are_whoosh_s(reader: Any) -> None:
    assert_postings_read_as_whoosh_reads_them(reader)


def test_a_scorer_answers_again_from_its_kept_postings_as_whoosh_scores(
        reader: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from errkb import scoring

    monkeypatch.setattr(scoring, "CACHE_MIN_POSTINGS", 1)
    terms = [("title", "card", 3.0), ("body", "card", 1.0), ("body", "declined", 0.5), ("title", "declined", 2.0)]
    expected = whoosh_scores(reader, q.Or([q.Term(f, t, boost=b) for f, t, b in terms]))
    scorer = Scorer(reader)
    clauses = [Clause([Alternative(*t)]) for t in terms]
    first = scorer.top(clauses, 100)
    assert scorer._scored  # kept
    monkeypatch.setattr(scoring.TermTable, "posting_blocks", None)  # a second answer must not read postings
    again = scorer.top(clauses, 100)
    reboosted = scorer.top([Clause([Alternative(f, t, b * 2)]) for f, t, b in terms], 100)
    assert again == first
    assert {reader.stored_fields(d)["id"]: s for d, s in again} == pytest.approx(expected)
    assert dict(reboosted) == pytest.approx({d: 2 * s for d, s in first})


def test_kept_postings_stay_within_their_bound(reader: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from errkb import scoring

    monkeypatch.setattr(scoring, "CACHE_MIN_POSTINGS", 1)
    monkeypatch.setattr(scoring, "CACHE_POSTINGS", 4)
    scorer = Scorer(reader)
    for field, term in [("body", "card"), ("body", "declined"), ("title", "card"), ("body", "passport")]:
        scorer.top([Clause([Alternative(field, term, 1.0)])], 10)
        assert scorer._scored_size == sum(len(docs) for docs, _ in scorer._scored.values()) <= 4
    assert ("body", "passport") in scorer._scored  # the most recent stays


def test_segment_files_are_read_in_place_and_once_closed_through_whoosh_alike(reader: Any) -> None:
    scorer = Scorer(reader)
    for segment in scorer.segments:  # files on disk are mapped; in memory or a compound file, their bytes
        assert segment.terms._terms is not None and segment.terms._postings is not None
        before = segment.terms.doc_frequency("title", "card"), list(segment.terms.posting_blocks("title", "card"))
        segment.terms.close()  # afterwards Whoosh answers, the same
        assert segment.terms._terms is segment.terms._postings is None
        after = segment.terms.doc_frequency("title", "card"), list(segment.terms.posting_blocks("title", "card"))
        assert [(list(ids), [float(w) for w in ws]) for ids, ws in after[1]] == [
            (list(ids), [float(w) for w in ws]) for ids, ws in before[1]]
        assert after[0] == before[0] > 0


def test_the_frequencies_a_scorer_keeps_stay_within_their_bound(reader: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from errkb import scoring

    monkeypatch.setattr(scoring, "CACHE_FREQUENCIES", 10)
    scorer = Scorer(reader)
    for n in range(100):  # words no document has, as a server is sent
        assert scorer.doc_frequency("body", f"unknown{n}") == 0
        assert len(scorer._frequencies) <= 10
    assert scorer.doc_frequency("body", "card") == reader.doc_frequency("body", "card") > 0
