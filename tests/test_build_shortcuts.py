"""The build's faster paths give exactly what the plain ones give: the YAML
constructor (`article._construct`) what PyYAML's constructs,
`section_plain_text` what its line-anchored patterns made, and terms counted
from words found once (`count_terms`) what `Counter(terms(text))` counts."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import FIXTURE_KB, REAL_KB
from errkb import article
from errkb.analysis import count_terms, terms, words
from errkb.article import load_front_matter, section_plain_text
from errkb.errors import ArticleError
from test_fuzz_articles import hostile_articles

SETTINGS = settings(max_examples=300, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def typed(value: Any) -> Any:
    """`value` with every item's type beside it (True == 1, 1 == 1.0 in Python)."""
    if isinstance(value, dict):
        return ("dict", [(typed(k), typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [typed(v) for v in value])
    return (type(value).__name__, repr(value))


def outcome(source: str) -> Any:
    try:
        meta, lines = load_front_matter(Path("kb/x.md"), source)
    except ArticleError as exc:
        return ("error", exc.line, exc.code, exc.message)
    return ("ok", typed(meta), lines)


def loader_outcome(source: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """What `load_front_matter` gives with PyYAML reading all of it and
    constructing every node."""
    with monkeypatch.context() as patched:
        patched.setattr(article, "simple_front_matter", lambda source: None)
        patched.setattr(article, "_construct", lambda loader, node: loader.construct_object(node, deep=True))
        return outcome(source)


SCALARS = st.sampled_from([
    "x", "'quoted'", '"double"', "2026-11-01", "2026-02-30", "2026-11-01 10:00:00", "12", "0x1f", "1_000",
    "3.5", ".inf", "-.nan", "1e3", "true", "no", "Off", "null", "~", "", "'2026-11-01'", "'12'",
    "中文", "ＡＢＣ", "a: b", "'a: b'", "=", "<<", "- x", "9" * 400, "!!str 3", "! plain",
])
KEYS = st.sampled_from(["id", "title", "12", "true", "null", "2026-01-01", "=", "<<", "'<<'", "? [a, b]",
                        "'k'", "k", "k"])


def block(depth: int) -> st.SearchStrategy[str]:
    """A YAML value in block style (or flow, inside), indented for `depth`."""
    pad = "  " * depth
    leaf = SCALARS | st.lists(SCALARS, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]") | \
        st.lists(st.tuples(KEYS, SCALARS), max_size=3).map(
            lambda kv: "{" + ", ".join(f"{k}: {v}" for k, v in kv) + "}")
    if depth >= 3:
        return leaf
    inner = block(depth + 1)
    seq = st.lists(inner, min_size=1, max_size=3).map(
        lambda items: "".join(f"\n{pad}  - {item}" for item in items))
    mapping = st.lists(st.tuples(KEYS, inner), min_size=1, max_size=3).map(
        lambda pairs: "".join(f"\n{pad}  {k}: {v}" for k, v in pairs))
    return leaf | seq | mapping


FRONT_MATTER = st.lists(st.tuples(KEYS, block(0)), min_size=0, max_size=5).map(
    lambda pairs: "\n".join(f"{k}: {v}" for k, v in pairs))


@SETTINGS
@given(FRONT_MATTER)
def test_front_matter_constructed_as_pyyaml_constructs_it(source: str) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert outcome(source) == loader_outcome(source, monkeypatch)


@SETTINGS
@given(hostile_articles())
def test_hostile_front_matter_constructed_as_pyyaml_constructs_it(raw: bytes) -> None:
    text = raw.decode("utf-8", "replace").lstrip("\ufeff").replace("\r\n", "\n")
    parts = text.split("\n---\n", 1)
    source = parts[0].removeprefix("---\n")
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert outcome(source) == loader_outcome(source, monkeypatch)


def test_articles_constructed_as_pyyaml_constructs_them(monkeypatch: pytest.MonkeyPatch) -> None:
    for path in [*sorted(FIXTURE_KB.glob("*.md")), *sorted(REAL_KB.glob("*.md"))]:
        source = path.read_text(encoding="utf-8").split("\n---\n", 1)[0].removeprefix("---\n")
        assert outcome(source) == loader_outcome(source, monkeypatch), path



# The simple form (`article.simple_front_matter`), near misses included: what
# YAML reads otherwise (`on:` is a bool key, `2026-02-30` an error, a tab or
# NEL or U+2028 a break, a key of 1,025 characters too long) must go to PyYAML.
CLEAN_TEXT = ["a", "Pay", " ", "  ", "#", " #", ":", ": ", "!", "&", "*", "]", "[", ",", ", ", "'", "\xa0", "中文",
              "，", "😀", "x" * 1100]
BREAKING_TEXT = ["\\", "\t", "\x85", "\u2028", "\ufeff", "\x7f", "\r", '"']
CLEAN_PLAIN = ["taobao", "card-settings", "004_8aa85f8f8634bb71.txt", "2026-03-04", "1e3", "1.0.0", "y", "a.b", "x/y",
               "abc-", "_x"]
OTHER_PLAIN = ["2026-02-30", "2026-3-4", "2026-03-04x", "12", "0x1f", "no", "On", "null", "1_0", ".5", "1:20", "~"]
CLEAN_KEYS = ["id", "title", "messages", "en", "zh", "k9", "_k", "a" * 128]
OTHER_KEYS = ["on", "null", "Yes", "a" * 1025, "12", "'id'"]


@st.composite
def simple_front_matter_text(draw: st.DrawFn, near_misses: float) -> str:
    """Front matter in the form articles are written in, each part of it
    missing that form with probability about `near_misses`."""
    def pick(clean: list[str], other: list[str]) -> str:
        return draw(st.sampled_from(other if draw(st.floats(0, 1)) < near_misses else clean))

    def scalar() -> str:
        if draw(st.booleans()):
            return pick(CLEAN_PLAIN, OTHER_PLAIN)
        return '"' + "".join(pick(CLEAN_TEXT, BREAKING_TEXT) for _ in range(draw(st.integers(0, 4)))) + '"'

    def inline() -> str:
        shape = draw(st.sampled_from(["scalar", "list", "list"]))
        if shape == "scalar":
            return scalar()
        return "[" + pick([", "], [",", " ,", ", , "]).join(scalar() for _ in range(draw(st.integers(0, 3)))) + "]"

    def items(indent: str) -> list[str]:
        return [f"{pick([indent], [indent + ' ', indent[1:], ''])}- {scalar()}" for _ in range(draw(st.integers(1, 3)))]

    lines: list[str] = []
    for _ in range(draw(st.integers(1, 6))):
        key = pick(CLEAN_KEYS, OTHER_KEYS)
        shape = draw(st.sampled_from(["inline", "inline", "items", "mapping"]))
        end = pick([""], [" ", " # note", ":"])
        if shape == "inline":
            lines.append(f"{key}: {inline()}{end}")
        elif shape == "items":
            lines += [f"{key}:{end}", *items("  ")]
        else:
            lines.append(f"{key}:")
            for _ in range(draw(st.integers(1, 3))):
                inner = pick(CLEAN_KEYS, OTHER_KEYS)
                lines += [f"  {inner}: {inline()}"] if draw(st.booleans()) else [f"  {inner}:", *items("    ")]
        if draw(st.floats(0, 1)) < near_misses:
            lines.append(draw(st.sampled_from(["", " ", "...", "%YAML 1.1", "- x", "? k", "  y"])))
    return "\n".join(lines)


@settings(max_examples=2000, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.sampled_from([0.0, 0.05, 0.3]).flatmap(lambda odds: simple_front_matter_text(odds)))
def test_simple_front_matter_read_as_pyyaml_reads_it(source: str) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert outcome(source) == loader_outcome(source, monkeypatch)


def test_articles_take_the_simple_front_matter_path() -> None:
    for path in [*sorted(FIXTURE_KB.glob("*.md")), *sorted(REAL_KB.glob("*.md"))]:
        source = path.read_text(encoding="utf-8").split("\n---\n", 1)[0].removeprefix("---\n")
        assert article.simple_front_matter(source) is not None, path

# -- section_plain_text ------------------------------------------------------------------------

_OLD_LINK = re.compile(r"!?\[([^\[\]]*)\]\([^()]*\)")
_OLD_EMPHASIS = re.compile(r"\*\*|__|`")
_OLD_LIST_MARKER = re.compile(r"^[ \t]*(?:[-*+]|\d+[.)])[ \t]+", re.M)
_OLD_HEADING_MARKER = re.compile(r"^#+[ \t]*", re.M)


def old_section_plain_text(markdown_text: str) -> str:
    """`section_plain_text` as it was written first, with `^` in multi-line mode."""
    parts = markdown_text.split("```")
    if len(parts) % 2 == 0:
        parts[-2:] = ["```".join(parts[-2:])]
    text = " ".join(parts[0::2])
    text = _OLD_LINK.sub(r"\1", text)
    text = _OLD_EMPHASIS.sub("", text)
    text = _OLD_LIST_MARKER.sub("", text)
    return _OLD_HEADING_MARKER.sub("", text)


MARKDOWN = st.lists(st.sampled_from([
    "\n", " ", "\t", "-", "*", "+", "1", "12", ".", ")", "#", "##", "[", "]", "(", ")", "![", "](", "`", "```",
    "**", "__", "_", "word", "中文", "٣", "\r", "\u2028", "\x85", "  - ", "1. ", "# ", "\n\n",
]), max_size=60).map("".join)


@settings(max_examples=2000, deadline=None, derandomize=True)
@given(MARKDOWN)
def test_plain_text_as_the_multiline_patterns_made_it(text: str) -> None:
    assert section_plain_text(text) == old_section_plain_text(text)


def test_plain_text_of_real_articles_unchanged() -> None:
    for path in [*sorted(FIXTURE_KB.glob("*.md")), *sorted(REAL_KB.glob("*.md"))]:
        text = path.read_text(encoding="utf-8")
        assert section_plain_text(text) == old_section_plain_text(text), path


# -- terms counted from words found once -------------------------------------------------------

TEXT = st.lists(st.sampled_from([
    " ", "\n", "_", "-", ".", "，", "。", "（", "）", "\u3000", "card", "Declined", "declines", "the", "is", "a",
    "ERR_CARD_DECLINED", "E_1001", "12345", "4000123412341234", "v2", "x" * 41, "银行", "拒绝", "付", "銀行",
    "驗證碼", "ＡＢＣ", "ｃａｒｄ", "１２３", "Ｅｒｒ＿１", "支付宝身份", "㐀㐁", "豈更", "支付宝abc", "abc银行",
    "ΣΑΣ", "ΟΔΟΣ", "İstanbul", "straße", "ǅ", "٣٤", "カード", "한국", "中ｘ文", "ß", "ﬁ", "Ⅻ",
]), max_size=40).map("".join) | st.text(max_size=60)


@settings(max_examples=1500, deadline=None, derandomize=True)
@given(TEXT, st.booleans())
def test_counted_words_are_the_counted_terms(text: str, stemmed: bool) -> None:
    expected = Counter(terms(text, stemmed=stemmed))
    got = count_terms(words(text), stemmed=stemmed)
    assert list(got.items()) == list(expected.items())  # the same counts, first seen in the same order


@settings(max_examples=1500, deadline=None, derandomize=True)
@given(TEXT, TEXT)
def test_words_of_two_texts_are_the_words_of_them_joined(first: str, second: str) -> None:
    assert words(first) + words(second) == words(f"{first}\n{second}")


def test_a_document_counts_the_terms_it_counted_before(fixture_kb: Path) -> None:
    from errkb.article import parse_file
    from errkb.schema import ABOUT_SECTIONS, REMEDY_SECTIONS, to_document

    for path in [*sorted(fixture_kb.glob("*.md")), *sorted(REAL_KB.glob("*.md"))]:
        parsed = parse_file(path)
        doc = to_document(parsed)
        messages = "\n".join(parsed.all_messages)
        plain = [(s.title, section_plain_text(s.text)) for s in parsed.sections]
        expected = {
            "title": Counter(terms(parsed.title)),
            "messages": Counter(terms(messages)),
            "about": Counter(terms("\n\n".join(t for title, t in plain if title in ABOUT_SECTIONS))),
            "remedy": Counter(terms("\n\n".join(t for title, t in plain if title in REMEDY_SECTIONS))),
            "words": Counter(terms(f"{parsed.title}\n{messages}", stemmed=False)),
        }
        for name, counted in expected.items():
            assert list(doc[name].items()) == list(counted.items()), (path, name)


# -- one counted block written without the block loop -------------------------------------------

@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(st.tuples(st.integers(0, 70_000), st.integers(1, 300)), min_size=1, max_size=300,
                unique_by=lambda p: p[0]), st.sampled_from([0, 1]), st.sampled_from([4, 128]))
def test_counted_postings_make_the_bytes_the_general_loop_makes(pairs: list[tuple[int, int]], compression: int,
                                                               limit: int) -> None:
    from errkb.postings_pool import CountedPostings, _expanded
    from errkb.whoosh_seam import _posting_bytes

    counted = CountedPostings(n for pair in sorted(pairs) for n in pair)
    assert _posting_bytes(counted, limit, 4, compression) == _posting_bytes(_expanded(counted), limit, 4, compression)


# -- the collector after a build -----------------------------------------------------------------

def test_a_pause_leaves_the_collector_on_and_garbage_collectable() -> None:
    import gc
    import weakref

    from errkb.postings_pool import gc_paused

    class Node:
        other: Any = None

    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        first, second = Node(), Node()
        first.other, second.other = second, first  # a cycle only the collector frees
        gone = weakref.ref(first)
        del first, second
    assert gc.isenabled() and gc.get_freeze_count() == 0
    gc.collect()
    assert gone() is None


def test_a_pause_keeps_objects_someone_else_froze_frozen() -> None:
    import gc

    from errkb.postings_pool import gc_paused

    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with gc_paused():
            pass
        assert gc.get_freeze_count() == frozen and gc.isenabled()
    finally:
        gc.unfreeze()



def test_a_build_leaves_its_articles_to_reference_counting(fixture_kb: Path, tmp_path: Path) -> None:
    """No cycle reaches a build's articles or its term table once it returns:
    with the collector paused for the build, they would otherwise live until
    a full collection (at exit, ~0.6 s at 10,000 articles)."""
    import gc

    from whoosh.filedb.filetables import HashWriter

    from errkb.article import Article
    from errkb.indexer import update_index

    gc.collect()
    gc.disable()
    try:
        update_index(fixture_kb, tmp_path / "index", full=True)
        left = [o for o in gc.get_objects() if (isinstance(o, Article) and fixture_kb in o.path.parents)
                or isinstance(o, HashWriter)]
        assert not left
    finally:
        gc.enable()


def test_garbage_made_while_a_writer_is_set_up_is_collected_and_the_rest_left_alone() -> None:
    import gc
    import weakref

    from errkb.whoosh_seam import own_garbage_collected

    class Node:
        other: Any = None

    before = Node()
    before.other = before  # garbage from before the block: not the block's to collect
    old = weakref.ref(before)
    del before
    gc.disable()
    try:
        with own_garbage_collected():
            made = Node()
            made.other = made
            new = weakref.ref(made)
            del made
        assert new() is None and old() is not None and gc.get_freeze_count() == 0
    finally:
        gc.enable()
    gc.collect()
    assert old() is None


def test_garbage_collection_in_a_writer_keeps_what_someone_else_froze_frozen() -> None:
    import gc

    from errkb.whoosh_seam import own_garbage_collected

    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with own_garbage_collected():
            pass
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()

# -- the term table's hash tables -----------------------------------------------------------------

@settings(max_examples=100, deadline=None, derandomize=True)
@given(st.lists(st.integers(0, 2**32 - 1) | st.sampled_from([0, 255, 256, 2**32 - 1]), max_size=600))
def test_hash_tables_are_written_as_whoosh_writes_them(hashes: list[int]) -> None:
    import io

    from whoosh.filedb.filetables import OrderedHashWriter
    from whoosh.filedb.structfile import StructFile

    from errkb.whoosh_seam import _write_hash_tables

    def filled() -> OrderedHashWriter:
        writer = OrderedHashWriter(StructFile(io.BytesIO()))
        for n, hashed in enumerate(hashes):  # colliding hashes too: they probe for the next free slot
            writer.buckets[hashed & 255].append((hashed, 16 + 9 * n))
        return writer

    whooshs, ours = filled(), filled()
    whooshs._write_hashes()
    _write_hash_tables(ours)
    assert ours.dbfile.file.getvalue() == whooshs.dbfile.file.getvalue()
    assert ours.directory == whooshs.directory


# -- sections --------------------------------------------------------------------------------------

def old_split_sections(body: str, first_line: int) -> list[Any]:
    """`split_sections` as first written: every line through `heading_title`."""
    from errkb.article import Section, heading_title

    sections: list[Section] = []
    title: str | None = None
    start, buf, in_code = first_line, [], False
    for offset, line in enumerate(body.split("\n")):
        if line.lstrip().startswith("```"):
            in_code = not in_code
        heading = None if in_code else heading_title(line)
        if heading is not None:
            if title is not None:
                sections.append(Section(title, "\n".join(buf).strip(), start))
            title, start, buf = heading, first_line + offset, []
        elif title is not None:
            buf.append(line)
    if title is not None:
        sections.append(Section(title, "\n".join(buf).strip(), start))
    return sections


BODY = st.lists(st.sampled_from(["## Fixes", "##", "## ", "##\t", "###", "#", " ## x", "```", "  ```py", "x ```",
                                 "text", "", "## Why ##", "##x", "\u00a0## y"]), max_size=30).map("\n".join)


@settings(max_examples=1000, deadline=None, derandomize=True)
@given(BODY)
def test_sections_split_as_before(body: str) -> None:
    from errkb.article import split_sections

    assert split_sections(body, 7) == old_split_sections(body, 7)


# -- control characters in front matter values ---------------------------------------------------

@SETTINGS
@given(hostile_articles())
def test_control_findings_as_the_full_walk_finds_them(raw: bytes) -> None:
    from errkb import validate
    from errkb.article import parse_text

    text = raw.decode("utf-8", "replace").lstrip("\ufeff").replace("\r\n", "\n")
    try:
        parsed = parse_text(Path("kb/fuzzed.md"), raw)
    except ArticleError:
        return
    fast = validate.check_controls(parsed, text)
    with pytest.MonkeyPatch.context() as monkeypatch:  # the walk without its shortcut: a text with a backslash
        monkeypatch.setattr(validate, "control_findings", lambda path, text: [])
        walked = validate.check_controls(parsed, text + "\\")
    assert [f for f in fast if "holds" in f.message] == walked


# -- whitespace warnings ------------------------------------------------------------------------------

@settings(max_examples=2000, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(["a", " ", "\t", "\r", "\n", "\n\n", " \n", "中", "\xa0", "\u3000"]),
                max_size=30).map("".join))
def test_whitespace_warnings_as_the_line_walk_finds_them(text: str) -> None:
    from errkb.article import Article
    from errkb.validate import check_text

    parsed = Article(Path("kb/x.md"), {}, "", [], [], {}, 1)
    walked = [(number, code) for number, line in enumerate(text.split("\n"), start=1)
              for code in (("W103",) if "\t" in line else ()) + (("W104",) if line != line.rstrip(" \t\r") else ())]
    assert [(f.line, f.code) for f in check_text(parsed, text)] == walked


# -- the term table ---------------------------------------------------------------------------------

@settings(max_examples=500, deadline=None, derandomize=True)
@given(st.binary(max_size=80))
def test_term_keys_hash_as_whoosh_hashes_them(key: bytes) -> None:
    from whoosh.filedb.filetables import md5_hash

    from errkb.whoosh_seam import key_hash

    assert key_hash(key) == md5_hash(key)


def test_a_term_value_packs_as_its_two_parts() -> None:
    from errkb.whoosh_seam import EXTENT, TERM_INFO, TERM_VALUE

    info, extent = (True, 2.5, 7, 3, 0, 1.5, 11, 2**32 - 1), (2**40, 99)
    assert TERM_VALUE.pack(*info, *extent) == TERM_INFO.pack(*info) + EXTENT.pack(*extent)
