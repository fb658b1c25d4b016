"""Measuring search quality: graded queries in, hit@1 / R@3 / MRR / nDCG@5 out.

Used by `make eval` (scripts/eval.py). The searcher under test is any
function from a query to a ranked list of ids, so errkb's own search (the
same `KnowledgeBase.search` that `kb search` calls) and a plain-Whoosh
baseline are measured the same way on the same queries.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Ranker = Callable[[str], tuple[list[str], bool]]  # query -> (ranked ids, confident)


@dataclass(frozen=True)
class Judged:
    """One query with graded relevance (2 = the answer, 1 = also helps)."""

    query: str
    relevant: dict[str, int]
    kind: str
    #: The same query as a Traditional-Chinese writer would put it, if it has Chinese.
    hant: str = ""


def load_queries(path: Path) -> list[Judged]:
    """Read a JSON Lines file of {"q", "relevant", "kind"} objects."""
    queries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            queries.append(Judged(row["q"], dict(row.get("relevant", {})), row.get("kind", "all"),
                                  row.get("q_hant", "")))
    return queries


def load_offtopic(path: Path) -> list[str]:
    """Off-topic queries: JSON Lines with a "q" each, or plain lines (# comments)."""
    queries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        queries.append(json.loads(line)["q"] if line.startswith("{") else line)
    return queries


def traditional_pairs(queries: list[Judged]) -> tuple[list[Judged], list[Judged]]:
    """The queries that have a Traditional variant, as written and in Traditional."""
    simplified = [q for q in queries if q.hant]
    return simplified, [Judged(q.hant, q.relevant, q.kind) for q in simplified]


def dcg(gains: Iterable[float]) -> float:
    return sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(gains))


def ndcg_at(ranked: list[str], relevant: dict[str, int], k: int = 5) -> float:
    ideal = dcg(sorted(relevant.values(), reverse=True)[:k])
    return dcg(relevant.get(doc, 0) for doc in ranked[:k]) / ideal if ideal else 0.0


def first_rank(ranked: list[str], relevant: dict[str, int]) -> int | None:
    """1-based rank of the best-graded article, or None."""
    best = max(relevant.values())
    return next((i + 1 for i, doc in enumerate(ranked) if relevant.get(doc) == best), None)


@dataclass
class Scores:
    """Averages over a group of queries."""

    n: int = 0
    hit1: float = 0.0
    r3: float = 0.0
    mrr: float = 0.0
    ndcg5: float = 0.0
    empty: float = 0.0
    confident: float = 0.0
    #: (query, the top three ids, the wanted id) of each query not answered first.
    misses: list[tuple[str, list[str], str]] = field(default_factory=list)

    def add(self, judged: Judged, ranked: list[str], confident: bool) -> None:
        rank = first_rank(ranked, judged.relevant)
        self.n += 1
        self.hit1 += rank == 1
        self.r3 += rank is not None and rank <= 3
        self.mrr += 1 / rank if rank else 0.0
        self.ndcg5 += ndcg_at(ranked, judged.relevant)
        self.empty += not ranked
        self.confident += confident
        if rank != 1:
            wanted = max(judged.relevant, key=lambda doc: judged.relevant[doc])
            self.misses.append((judged.query, ranked[:3], wanted))

    def averaged(self) -> dict[str, float]:
        n = self.n or 1
        return {
            "n": self.n,
            "hit@1": self.hit1 / n,
            "R@3": self.r3 / n,
            "MRR": self.mrr / n,
            "nDCG@5": self.ndcg5 / n,
            "no_result": self.empty / n,
            "confident": self.confident / n,
        }


def evaluate(queries: list[Judged], ranker: Ranker) -> dict[str, Scores]:
    """Scores per kind and overall ("all")."""
    groups: dict[str, Scores] = {"all": Scores()}
    for judged in queries:
        ranked, confident = ranker(judged.query)
        groups["all"].add(judged, ranked, confident)
        groups.setdefault(judged.kind, Scores()).add(judged, ranked, confident)
    return groups


def not_confident_share(queries: list[str], ranker: Ranker) -> float:
    """Share of (off-topic) queries reported as "no confident match"."""
    if not queries:
        return 0.0
    return sum(not ranker(q)[1] for q in queries) / len(queries)


def errkb_ranker(kb: Any, limit: int = 5) -> Ranker:
    """errkb's own search, exactly as `kb search` runs it."""

    def rank(query: str) -> tuple[list[str], bool]:
        result = kb.search(query, limit=limit)
        return [hit.id for hit in result.hits], result.confident

    return rank


def baseline_ranker(kb_dir: Path, index_dir: Path, limit: int = 5) -> Ranker:
    """Plain Whoosh as its tutorial shows it: one TEXT field with the
    StandardAnalyzer holding the whole article file, and `QueryParser` with
    its default (AND) grouping. A query it cannot parse finds nothing."""
    from whoosh import index as whoosh_index
    from whoosh.fields import ID, TEXT, Schema
    from whoosh.qparser import QueryParser

    schema = Schema(id=ID(stored=True), content=TEXT)
    index_dir.mkdir(parents=True, exist_ok=True)
    ix = whoosh_index.create_in(str(index_dir), schema)
    writer = ix.writer()
    for path in sorted(kb_dir.glob("*.md")):
        writer.add_document(id=path.stem, content=path.read_text(encoding="utf-8"))
    writer.commit()
    parser = QueryParser("content", ix.schema)

    def rank(query: str) -> tuple[list[str], bool]:
        try:
            parsed = parser.parse(query)
            with ix.searcher() as searcher:
                ids = [hit["id"] for hit in searcher.search(parsed, limit=limit)]
        except Exception:  # the tutorial parser raises on some pastes
            return [], False
        return ids, bool(ids)

    return rank
