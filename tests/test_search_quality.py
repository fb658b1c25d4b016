"""What makes search hold on queries nobody tuned it for: typos as people make
them, Traditional Chinese, synonyms said as phrases, and the lines of a long
paste that carry the error. Real indexes on tests/fixtures/kb."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from errkb.kb import KnowledgeBase
from errkb.querying import parse_query
from errkb.salience import BACKGROUND_WEIGHT, LineWeights
from errkb.synonyms import parse


@pytest.fixture
def kb(fixture_kb: Path, index_dir: Path) -> KnowledgeBase:
    return KnowledgeBase(fixture_kb, index_dir)


@pytest.mark.parametrize(("query", "typed", "meant", "article"), [
    ("crad refused expried", "crad", "card", "card-expired-e1001"),  # adjacent letters swapped
    ("paymnet gateway sytsem eror", "sytsem", "system", "gateway-system-error"),
    ("mobilenumber does not match", "mobilenumber", "mobile number", "phone-number-differs"),  # run together
])
def test_typos_are_corrected_and_suggested(kb: KnowledgeBase, query: str, typed: str, meant: str,
                                           article: str) -> None:
    result = kb.search(query)
    assert result.hits[0].id == article
    assert result.suggestion is not None and meant in result.suggestion and typed not in result.suggestion


def test_traditional_chinese_finds_the_simplified_article(kb: KnowledgeBase) -> None:
    simplified = kb.search("手机号与银行预留手机号不一致")
    traditional = kb.search("手機號與銀行預留手機號不一致")
    assert traditional.hits[0].id == simplified.hits[0].id == "phone-number-differs"
    assert traditional.hits[0].exact_message  # the whole message, matched across scripts


def test_phrase_synonym_fires_only_as_said() -> None:
    synonyms = parse("stuck, blank page, timeout\n")
    said = parse_query("the checkout shows a blank page")
    apart = parse_query("the page was not blank before")
    assert synonyms.expand(set(said.term_counts), said.folded)
    assert not synonyms.expand(set(apart.term_counts), apart.folded)


def test_message_lines_of_a_paste_outweigh_the_chatter() -> None:
    paste = ("[10:02] Tom: are you coming to lunch\n"
             "[10:03] me: buying a lamp, one sec\n"
             '[10:05] me: it says "Payment declined by the issuing bank"\n'
             "[10:06] Tom: my passport photo is awful lol\n")
    parsed = parse_query(paste)
    assert parsed.salience["declin"] == 1.0
    assert parsed.salience["passport"] == BACKGROUND_WEIGHT


def test_short_queries_and_all_message_pastes_keep_full_weight() -> None:
    assert parse_query("passport expired card declined").salience["passport"] == 1.0
    lines = LineWeights("error one\nfailed two\ndeclined three\n")
    assert {lines.at(0), lines.at(11), lines.at(22)} == {1.0}


def test_the_error_line_of_a_chat_decides_the_answer(kb: KnowledgeBase) -> None:
    chat = ("hey, quick one before the meeting\n"
            "I changed my mobile number last month, new SIM and everything\n"
            "anyway now Taobao shows: 'Card refused: the card has expired' when I pay\n"
            "see you at 3\n")
    assert kb.search(chat).hits[0].id == "card-expired-e1001"


@pytest.mark.parametrize("paste", [
    "sub_code: ACQ.SYSTEM_ERROR",
    '{"code":"40004","msg":"Business Failed","sub_code":"aop.acq.system_error","sub_msg":"系统繁忙"}',
    "2026-11-30 10:00:01 ERROR pay-callback resultCode=SYSTEM_ERROR retry=2",
    "system_error",
])
def test_a_pasted_code_finds_its_article_whatever_the_wrapping(kb: KnowledgeBase, paste: str) -> None:
    result = kb.search(paste)
    assert result.hits[0].id == "gateway-system-error"
    assert result.confident


def test_a_code_beside_words_no_article_has_still_scores(kb: KnowledgeBase) -> None:
    """The code explains the query: a log's unknown field name beside it
    does not make the answer's score zero."""
    result = kb.search("resultKey E1001")
    assert result.hits[0].id == "card-expired-e1001" and result.confident
    assert result.hits[0].score > 0 and 0 < result.coverage < 1


def test_a_code_no_article_lists_still_counts_by_its_words(kb: KnowledgeBase) -> None:
    result = kb.search("resultCode=MOBILE_NUMBER_NOT_MATCH")
    assert result.hits[0].id == "phone-number-differs"


def test_show_takes_a_code_with_or_without_its_namespace(kb: KnowledgeBase) -> None:
    assert kb.resolve("aop.ACQ.SYSTEM_ERROR").id == kb.resolve("system_error").id == "gateway-system-error"
    assert [code for code, _ in kb.codes()] == sorted((code for code, _ in kb.codes()), key=str.lower)


def test_kb_codes_lists_every_code_with_its_article(runner: CliRunner, fixture_kb: Path, index_dir: Path) -> None:
    import json

    from errkb.cli import cli

    args = ["--kb-dir", str(fixture_kb), "--index-dir", str(index_dir), "-q"]
    listed = runner.invoke(cli, [*args, "codes", "--json"], catch_exceptions=False)
    assert listed.exit_code == 0
    pairs = {(row["code"], row["id"]) for row in json.loads(listed.stdout)["codes"]}
    assert ("ACQ.SYSTEM_ERROR", "gateway-system-error") in pairs and ("E1001", "card-expired-e1001") in pairs
    text = runner.invoke(cli, [*args, "--color", "never", "codes"], catch_exceptions=False).stdout
    assert "ACQ.SYSTEM_ERROR" in text and "gateway-system-error" in text
    shown = runner.invoke(cli, [*args, "show", "--json", "aop.acq.system_error"], catch_exceptions=False)
    assert json.loads(shown.stdout)["id"] == "gateway-system-error"
