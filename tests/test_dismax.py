"""errkb's disjunction-max query: max plus tiebreak, and no endless loop when
Whoosh prunes blocks (its union tree is used above 5,000 documents)."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest
from whoosh import fields, query
from whoosh.filedb.filestore import RamStorage

from errkb.dismax import DisMax


@pytest.fixture
def searcher() -> Iterator[object]:
    ix = RamStorage().create_index(fields.Schema(id=fields.ID(stored=True), a=fields.TEXT, b=fields.TEXT))
    writer = ix.writer()
    for n in range(3000):
        words = ["common"] + (["rare"] if n % 97 == 0 else []) + (["mid"] if n % 7 == 0 else [])
        writer.add_document(id=str(n), a=" ".join(words * (1 + n % 3)),
                            b=" ".join(words * (1 + n % 2)) if n % 3 else "common")
    writer.commit()
    with ix.searcher() as s:
        yield s


def test_score_is_the_best_field_plus_tiebreak_of_the_other(searcher: object) -> None:
    both = DisMax([query.Term("a", "mid"), query.Term("b", "mid")], tiebreak=0.5)
    a_only = query.Term("a", "mid")
    b_only = query.Term("b", "mid")
    scores = {hit["id"]: hit.score for hit in searcher.search(both, limit=None)}  # type: ignore[attr-defined]
    sa = {hit["id"]: hit.score for hit in searcher.search(a_only, limit=None)}  # type: ignore[attr-defined]
    sb = {hit["id"]: hit.score for hit in searcher.search(b_only, limit=None)}  # type: ignore[attr-defined]
    for doc, score in scores.items():
        x, y = sa.get(doc, 0.0), sb.get(doc, 0.0)
        assert score == pytest.approx(max(x, y) + 0.5 * min(x, y))


def test_union_tree_with_block_pruning_finds_the_same_top_as_preloading(searcher: object) -> None:
    def alarm(*_: object) -> None:
        raise TimeoutError("search did not end")

    clauses = [DisMax([query.Term("a", w), query.Term("b", w)], tiebreak=0.1) for w in ("rare", "mid", "common")]
    clauses += [query.Term("a", "common"), DisMax([query.Term("a", "mid"), query.Term("b", "common")])]
    tree = query.Or(clauses)
    tree.matcher_type = query.Or.DEFAULT_MATCHER  # what Whoosh picks for big indexes
    preload = query.Or(clauses)
    preload.matcher_type = query.Or.ARRAY_MATCHER
    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(20)
    try:
        pruned = [hit["id"] for hit in searcher.search(tree, limit=5)]  # type: ignore[attr-defined]
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    exhaustive = [hit["id"] for hit in searcher.search(preload, limit=5)]  # type: ignore[attr-defined]
    assert pruned[0] == exhaustive[0]
    assert len(pruned) == 5
