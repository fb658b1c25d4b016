"""Property tests: whatever is pasted, search answers sanely.

In-process on the fixture knowledge base (five articles), indexed once per
module. Hypothesis generates the queries: arbitrary Unicode, decoded bytes,
Whoosh query syntax (which errkb must treat as plain text), and words the
index knows, so that many queries do match and the hit invariants are tested.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import FIXTURE_KB
from errkb.cli import cli
from errkb.exitcodes import Exit
from errkb.kb import KnowledgeBase
from errkb.search import SearchResult
from errkb.tags import CAUSES, PLATFORMS

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

#: Words, codes and phrases of the fixture articles, plus synonyms, typos and
#: platform names, so generated queries match something.
VOCABULARY = [
    "payment", "exceeds", "daily", "limit", "card", "expired", "refused", "use", "another",
    "gateway", "system", "error", "busy", "try", "again", "later", "identity", "verification",
    "information", "verify", "SMS", "mobile", "number", "bank", "reserved", "match", "order",
    "declined", "rejected", "frozen", "quota", "paymnet", "expird", "verifcation", "online", "keep",
    "E1001", "PAY_LIMIT.DAILY", "ACQ.SYSTEM_ERROR", "e1001", "pay_limit.daily",
    "超出单日支付限额", "银行卡已过期", "请更换银行卡", "系统繁忙", "请稍后再试", "身份信息已过期",
    "请重新认证", "手机号", "银行预留手机号不一致", "失败", "拒绝", "限额", "过期",
    "Taobao", "Alipay", "Alibaba.com", "淘宝", "支付宝", "阿里巴巴",
    "System busy, please try again later", "Payment exceeds the daily limit",
]

#: Whoosh query-parser syntax: errkb builds queries from terms, so none of it
#: may be interpreted (or crash the parser it does not use).
SYNTAX = [
    "title:", "messages:", "codes:", "id:", "platforms:", "causes:", "about:", "remedy:", "card:",
    "AND", "OR", "NOT", "ANDNOT", "ANDMAYBE", "TO", "and", "or", "not",
    '"', "'", "(", ")", "[", "]", "{", "}", "*", "?", "~", "~2", "^", "^3", "^-1", "^1e309",
    "[a TO z]", "{1 TO 5]", "[* TO *]", "*:*", "title:*", "codes:E*", "pay?ent", "limit~", "daily^2",
    "\\", "/", ":", "-", "+", "<", ">", "<=", "=", "!", "&&", "||", "@", "#", "$", "%",
    "title:(daily OR limit)", 'messages:"system busy"~3', "id:alibaba-limit", "NOT payment",
    "\x00", "\u200b", "\ufeff", "\u3000", "：", "（", "）", "“", "”",
]

words = st.sampled_from(VOCABULARY)
syntax = st.sampled_from(SYNTAX)
any_text = st.one_of(
    st.text(),
    st.binary().map(lambda raw: raw.decode("utf-8", errors="replace")),
    st.lists(st.one_of(words, st.text(max_size=12)), max_size=8).map(" ".join),
)
syntax_queries = st.lists(st.one_of(syntax, syntax, words, st.text(max_size=6)), min_size=1, max_size=12).flatmap(
    lambda parts: st.sampled_from([" ", "", ":", "\n"]).map(lambda sep: sep.join(parts))
)
word_queries = st.lists(st.one_of(words, words, st.text(max_size=8)), min_size=1, max_size=6).map(" ".join)
limits = st.integers(min_value=1, max_value=12)


def _copy_and_build(target: Path) -> KnowledgeBase:
    shutil.copytree(FIXTURE_KB, target / "kb")
    kb = KnowledgeBase(target / "kb", target / "index")
    report = kb.build()
    assert report.total == 5 and not report.invalid
    return kb


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    """The fixture articles, freshly indexed."""
    return _copy_and_build(tmp_path_factory.mktemp("prop"))


@pytest.fixture(scope="module")
def updated_kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    """The fixture articles after one edit and an incremental update: the
    edited article's old version is a deleted document still in a segment
    (the everyday state of an index that `kb index` or a search updated)."""
    kb = _copy_and_build(tmp_path_factory.mktemp("prop-updated"))
    article = kb.kb_dir / "alibaba-limit.md"
    article.write_text(article.read_text(encoding="utf-8").replace("Split the order", "Divide the order"),
                       encoding="utf-8")
    report = kb.build()
    assert not report.full and report.updated == ["alibaba-limit"]
    return kb


def search(kb: KnowledgeBase, text: str, **kwargs: object) -> SearchResult:
    kb.notes.clear()
    return kb.search(text, **kwargs)  # type: ignore[arg-type]


def assert_sane(result: SearchResult, limit: int) -> None:
    assert len(result.hits) <= limit
    assert len({hit.id for hit in result.hits}) == len(result.hits)
    for hit in result.hits:
        assert isinstance(hit.score, float) and math.isfinite(hit.score), hit.score
        for start, end in hit.snippet_spans:
            assert 0 <= start < end <= len(hit.snippet), (hit.snippet, hit.snippet_spans)
    assert math.isfinite(result.coverage)
    json.dumps(result.as_json(), allow_nan=False)  # the --json output can always be written


# -- (a) any text is a valid query ---------------------------------------------


@SETTINGS
@given(text=any_text, limit=limits)
@example(text="", limit=1)
@example(text="\x00" * 10, limit=5)
@example(text="İİİ ǅ ß ﬀ payment", limit=5)  # characters whose lowercase is longer
@example(text="a" * 70_000 + " payment", limit=5)  # past MAX_QUERY_CHARS
def test_any_text_is_a_valid_query(kb: KnowledgeBase, text: str, limit: int) -> None:
    assert_sane(search(kb, text, limit=limit), limit)


# -- (b) query syntax is text ----------------------------------------------------


@SETTINGS
@given(text=syntax_queries, limit=limits)
@example(text="title:daily AND NOT limit", limit=5)
@example(text='"unclosed phrase', limit=5)
@example(text="[a TO", limit=5)
@example(text="*:* OR id:* ^1e309 ~999999999", limit=5)
def test_query_syntax_is_never_interpreted_or_fatal(kb: KnowledgeBase, text: str, limit: int) -> None:
    assert_sane(search(kb, text, limit=limit), limit)


# -- (c) filters only remove ----------------------------------------------------


@SETTINGS
@given(text=st.one_of(word_queries, any_text), platform=st.sampled_from(sorted(PLATFORMS)),
       cause=st.sampled_from(sorted(CAUSES)))
@example(text="payment", platform="alibaba", cause="limits")
@example(text="card expired", platform="taobao", cause="card-settings")
def test_filters_never_add_results(kb: KnowledgeBase, text: str, platform: str, cause: str) -> None:
    big = 1000
    unfiltered = {hit.id for hit in search(kb, text, limit=big).hits}
    by_platform = search(kb, text, platforms=[platform], limit=big).hits
    by_cause = search(kb, text, causes=[cause], limit=big).hits
    by_both = search(kb, text, platforms=[platform], causes=[cause], limit=big).hits
    assert {hit.id for hit in by_platform} <= unfiltered
    assert {hit.id for hit in by_cause} <= unfiltered
    assert {hit.id for hit in by_both} <= {hit.id for hit in by_platform} & {hit.id for hit in by_cause}
    assert all(platform in hit.platforms for hit in by_platform)
    assert all(cause in hit.causes for hit in by_cause)
    assert all(platform in hit.platforms and cause in hit.causes for hit in by_both)


# -- (d) the CLI: exit 0 or 1 and valid JSON --------------------------------------


@SETTINGS
@given(text=st.one_of(any_text, syntax_queries), via_stdin=st.booleans())
@example(text="-", via_stdin=False)
@example(text="--help", via_stdin=False)
@example(text="-n 0", via_stdin=False)
@example(text="", via_stdin=True)
def test_cli_search_json_always_answers_with_json(kb: KnowledgeBase, text: str, via_stdin: bool) -> None:
    runner = CliRunner()
    args = ["--kb-dir", str(kb.kb_dir), "--index-dir", str(kb.index_dir), "search", "--json"]
    if via_stdin:
        result = runner.invoke(cli, [*args, "-"], input=text.encode("utf-8", errors="surrogatepass"),
                               catch_exceptions=False)
    else:
        result = runner.invoke(cli, [*args, "--", text], catch_exceptions=False)
    assert result.exit_code in (Exit.OK, Exit.NO_MATCH), (result.exit_code, result.stderr)
    assert "Traceback" not in result.stderr
    data = json.loads(result.stdout)
    assert isinstance(data["results"], list)
    assert bool(data["results"]) == (result.exit_code == Exit.OK)
    assert len(data["results"]) <= 5


# -- (e) the same on an index with deleted documents --------------------------------


@SETTINGS
@given(text=st.one_of(word_queries, any_text), limit=limits)
@example(text="payment quokka", limit=5)
def test_any_text_is_a_valid_query_after_an_incremental_update(updated_kb: KnowledgeBase, text: str,
                                                                limit: int) -> None:
    assert_sane(search(updated_kb, text, limit=limit), limit)


@SETTINGS
@given(text=st.text(max_size=300) | st.lists(st.sampled_from(VOCABULARY + ["银行卡被冻结", "ＡＢＣ", "E1001", "12345", "Alipay支付宝verification", "Café卡x", "㐀豈a"]),
                                              max_size=30).map(" ".join))
def test_the_fast_term_path_gives_the_analyzer_tokens(text: str) -> None:
    """`terms` (used to build documents) and `iter_tokens` (the analyzer)
    must agree, or an article would be indexed under other terms than
    queries are analysed into."""
    from errkb.analysis import iter_tokens, terms

    for stemmed in (True, False):
        assert terms(text, stemmed=stemmed) == [t for t, _, _ in iter_tokens(text, stemmed=stemmed)]
