"""Confidence: evidence that does not grow with the knowledge base, and a
higher bar for queries that are not about paying at all."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import FIXTURE_KB, article_text
from errkb.analysis import fold
from errkb.confidence import CONFIDENT_EVIDENCE, OUT_OF_SCOPE_EVIDENCE, evidence, in_scope, is_confident
from errkb.kb import KnowledgeBase


@pytest.mark.parametrize(("query", "expected"), [
    ("card declined at checkout", True),
    ("支付宝 身份信息过期", True),
    ("支付寶 身份資訊過期", True),  # Traditional, folded first
    ("Taobao says my ID expired", True),
    ("my gym app keeps asking to verify my phone number", False),
    ("which SIM plan is cheapest for students", False),
])
def test_scope_is_a_platform_or_paying(query: str, expected: bool) -> None:
    assert in_scope(fold(query)) is expected


def test_out_of_scope_needs_more_evidence() -> None:
    articles = 20
    between = (CONFIDENT_EVIDENCE + OUT_OF_SCOPE_EVIDENCE) / 2 / evidence(1.0, articles)  # a score between the bars
    assert is_confident(between, articles, "payment failed", code_hit=False, exact_message=False)
    assert not is_confident(between, articles, "my phone plan", code_hit=False, exact_message=False)
    assert is_confident(0.0, articles, "my phone plan", code_hit=True, exact_message=False)


def test_evidence_of_one_score_falls_as_the_knowledge_base_grows() -> None:
    assert evidence(30.0, 20) > evidence(30.0, 2000) > 0


def _grown(tmp_path: Path, fillers: int) -> KnowledgeBase:
    kb_dir = tmp_path / f"kb{fillers}"
    shutil.copytree(FIXTURE_KB, kb_dir)
    for i in range(fillers):  # articles about other things: the real ones keep their df, idf grows
        (kb_dir / f"filler-{i}.md").write_text(article_text(
            f"filler-{i}", title=f"Garden hose number {i} leaks", en=f'"Hose {i} leaks at the tap"',
            zh='"水管漏水"', what="Water on the floor.", why="A worn washer.",
            fixes="1. **All platforms:** Replace the washer."), encoding="utf-8")
    return KnowledgeBase(kb_dir, tmp_path / f"index{fillers}")


def test_evidence_holds_where_the_raw_score_grows_with_the_knowledge_base(tmp_path: Path) -> None:
    answered = "the SMS check fails, the bank has another mobile number on file"
    scores, evidences = [], []
    for fillers in (0, 60):
        kb = _grown(tmp_path, fillers)
        result = kb.search(answered)
        assert result.confident and result.hits[0].id == "phone-number-differs"
        assert not kb.search("payment problem").confident
        scores.append(result.hits[0].score)
        evidences.append(evidence(result.hits[0].score, 5 + fillers))
        kb.close()
    assert scores[1] / scores[0] > 1.5  # idf grew with the articles: a fixed bar on the score would drift
    assert 0.75 < evidences[1] / evidences[0] < 1.3
