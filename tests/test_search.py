"""Search behaviour on a small real index (tests/fixtures/kb, which has error codes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from errkb.kb import KnowledgeBase
from errkb.search import SearchResult


@pytest.fixture
def kb(fixture_kb: Path, index_dir: Path) -> KnowledgeBase:
    return KnowledgeBase(fixture_kb, index_dir)


def ids(result: SearchResult) -> list[str]:
    return [hit.id for hit in result.hits]


@pytest.mark.parametrize("query", [
    "ACQ.SYSTEM_ERROR",
    "acq.system_error",
    "sub_code=ACQ.SYSTEM_ERROR card declined mobile number passport expired daily limit",
    "E1001",
    "Error e1001 while paying",
    "PAY_LIMIT.DAILY",
])
def test_error_code_wins_case_insensitively(kb: KnowledgeBase, query: str) -> None:
    expected = {"acq": "gateway-system-error", "e1001": "card-expired-e1001", "pay_": "alibaba-limit"}
    want = next(v for k, v in expected.items() if k in query.lower())
    result = kb.search(query)
    assert ids(result)[0] == want
    assert result.confident


def test_chinese_message_in_other_words_finds_its_article(kb: KnowledgeBase) -> None:
    result = kb.search("验证失败：手机号码和银行预留的号码不一致")
    assert ids(result)[0] == "phone-number-differs"


def test_whole_message_in_a_noisy_paste_counts_most(kb: KnowledgeBase) -> None:
    paste = ("2026-11-21 12:03:44 order 5521093847165029384 amount ¥1,299.00\n"
             "Alert: Payment exceeds the daily limit\ncard 6222****1234 mobile verification")
    result = kb.search(paste)
    assert ids(result)[0] == "alibaba-limit"
    assert result.hits[0].exact_message and result.confident


@pytest.mark.parametrize("query", [
    "title:foo AND NOT NOT bar", "((((((((((x", "*", "6222****1234", "a:b:c 12:03:44",
    '"unclosed quote', "OR OR AND", "https://example.com/pay?x=1&y=2 user@example.com",
    "[x TO y]", "foo^3 bar~2", "\\", "🙂🙂", "مرحبا بالعالم", "卡", "the of and", "", "   ",
    "x" * 100_000, "payment " * 10_000, "\x00\x01\x02", "\udcff lone surrogate",
])
def test_any_text_is_a_valid_query(kb: KnowledgeBase, query: str) -> None:
    result = kb.search(query)
    assert isinstance(result.hits, tuple)


def test_no_match_returns_no_results(kb: KnowledgeBase) -> None:
    assert kb.search("zzzqqq").hits == ()


def test_off_topic_query_is_not_confident(kb: KnowledgeBase) -> None:
    assert not kb.search("wechat red packet never arrived in the group chat").confident


def test_typo_still_finds_the_article_and_suggests_a_spelling(kb: KnowledgeBase) -> None:
    result = kb.search("identiti informatoin expird")
    assert ids(result)[0] == "identity-outdated"
    weak = kb.search("passprot")
    assert weak.suggestion is None or "passport" in weak.suggestion or weak.hits


def test_did_you_mean_uses_the_index_vocabulary(kb: KnowledgeBase) -> None:
    result = kb.search("gatewey")
    assert result.suggestion == "gateway"


def test_synonym_finds_what_the_article_says_otherwise(kb: KnowledgeBase) -> None:
    assert ids(kb.search("cellphone"))[0] == "phone-number-differs"


def test_platform_filters_widen_and_cause_narrows(kb: KnowledgeBase) -> None:
    query = "payment card limit verification number identity"
    assert set(ids(kb.search(query, platforms=["alibaba"], limit=10))) == {"alibaba-limit"}
    wide = set(ids(kb.search(query, platforms=["alibaba", "taobao"], limit=10)))
    assert {"alibaba-limit", "card-expired-e1001"} <= wide
    narrow = ids(kb.search(query, platforms=["alipay"], causes=["limits"], limit=10))
    assert narrow == ["alibaba-limit"]


def test_filters_keep_the_unfiltered_order(kb: KnowledgeBase) -> None:
    query = "payment verification number identity card limit expired"
    everything = ids(kb.search(query, limit=10))
    only_alipay = ids(kb.search(query, platforms=["alipay"], limit=10))
    assert only_alipay == [i for i in everything if i in only_alipay]


def test_fixes_for_the_named_platform_come_first(kb: KnowledgeBase) -> None:
    plain = kb.search("identity information expired")
    assert [f.label for f in plain.hits[0].fixes] == ["Alipay", "Taobao", "All platforms"]
    taobao = kb.search("淘宝 identity information expired")
    assert taobao.hits[0].id == "identity-outdated"
    assert [f.label for f in taobao.hits[0].fixes] == ["Taobao", "All platforms", "Alipay"]


def test_snippet_marks_the_matched_words(kb: KnowledgeBase) -> None:
    hit = kb.search("daily limit").hits[0]
    marked = [hit.snippet[a:b].lower() for a, b in hit.snippet_spans]
    assert "daily" in marked and "limit" in marked


def test_edit_then_search_sees_the_edit(kb: KnowledgeBase, fixture_kb: Path) -> None:
    assert kb.search("quokka").hits == ()
    path = fixture_kb / "alibaba-limit.md"
    path.write_text(path.read_text().replace("Split the order", "Ask the quokka to split the order"))
    fresh = KnowledgeBase(kb.kb_dir, kb.index_dir)
    result = fresh.search("quokka")
    assert ids(result) == ["alibaba-limit"]
    assert any("articles changed" in note for note in fresh.notes)
