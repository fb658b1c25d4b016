"""The Whoosh seam: the pinned Whoosh version, and errkb's segment writer
writing what Whoosh's own writer writes (the same terms, postings, field
lengths and stored fields, and the same bytes)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.writing import SegmentWriter

from errkb import whoosh_seam
from errkb.analysis import terms
from errkb.article import parse_file
from errkb.schema import TEXT_FIELDS, make_schema, to_document
from errkb.whoosh_seam import CountedWriter, make_codec


def test_the_installed_whoosh_is_the_one_the_seam_was_written_against() -> None:
    from importlib.metadata import version

    assert version(whoosh_seam.WHOOSH_DISTRIBUTION) == whoosh_seam.WHOOSH_VERSION
    pyproject = (Path(__file__).parents[1] / "pyproject.toml").read_text(encoding="utf-8")
    assert f'"{whoosh_seam.WHOOSH_DISTRIBUTION}=={whoosh_seam.WHOOSH_VERSION}"' in pyproject


def documents(kb_dir: Path) -> list[dict[str, Any]]:
    return [to_document(parse_file(path)) for path in sorted(kb_dir.glob("*.md"))]


def as_text(doc: dict[str, Any]) -> dict[str, Any]:
    """The document with its counted fields as (already analysed) text."""
    return {name: (" ".join(value.elements()) if isinstance(value, Counter) else value)
            for name, value in doc.items()}


def build(folder: Path, docs: list[dict[str, Any]], writer_class: Any, **kwargs: Any) -> Any:
    folder.mkdir()
    ix = whoosh_index.create_in(str(folder), make_schema())
    writer = writer_class(ix, **kwargs)
    for doc in docs:
        writer.add_document(**doc)
    writer.commit()
    return ix


def contents(ix: Any) -> dict[str, Any]:
    """Everything a search reads from an index."""
    with ix.reader() as reader:
        fields = [*TEXT_FIELDS, "words", "codes", "platforms", "causes", "id"]
        return {
            "docs": list(reader.iter_docs()),
            "lengths": {(f, d): reader.doc_field_length(d, f) for f in fields for d in range(reader.doc_count_all())},
            "postings": {(f, t): list(reader.postings(f, t).items_as("weight")) + [
                reader.postings(f, t).value()] for f, t in reader.all_terms()},
        }


def test_counted_fields_make_the_index_whoosh_makes_of_them(fixture_kb: Path, tmp_path: Path) -> None:
    docs = documents(fixture_kb)
    ours = build(tmp_path / "ours", docs, CountedWriter)
    theirs = build(tmp_path / "theirs", docs, SegmentWriter, codec=make_codec())
    assert contents(ours) == contents(theirs)
    assert contents(ours)["postings"]  # not two empty indexes


def test_text_given_as_text_goes_through_the_analyzer(fixture_kb: Path, tmp_path: Path) -> None:
    docs = [as_text(d) for d in documents(fixture_kb)]
    ours = build(tmp_path / "ours", docs, CountedWriter)
    theirs = build(tmp_path / "theirs", docs, SegmentWriter, codec=make_codec())
    assert contents(ours) == contents(theirs)


def same_files(ours: Path, theirs: Path) -> bool:
    """The postings and term files of two one-segment indexes are identical."""
    for ext in ("pst", "trm"):
        (mine,), (whooshs,) = (list(folder.glob(f"*.{ext}")) for folder in (ours, theirs))
        if mine.read_bytes() != whooshs.read_bytes():
            return False
    return True


def test_long_posting_lists_span_blocks_as_whoosh_writes_them(tmp_path: Path) -> None:
    """300 documents sharing a term: three blocks of at most 128 postings;
    weights all 1, all equal, or mixed; terms of one posting with weight 1 or more."""
    docs = [{"id": f"a{n}", "title": Counter(terms(f"card declined {'again ' * (n % 3)}number{n % 7} x{n}z "
                                                   f"{'twice twice' if n % 2 else ''} {f'y{n}q ' * (n % 4)}"))}
            for n in range(300)]
    ours = build(tmp_path / "ours", docs, CountedWriter)
    theirs = build(tmp_path / "theirs", docs, SegmentWriter, codec=make_codec(), compound=False)
    assert contents(ours) == contents(theirs)
    assert same_files(tmp_path / "ours", tmp_path / "theirs")
    with ours.reader() as reader:
        assert reader.doc_frequency("title", "card") == 300


def test_postings_and_terms_files_are_byte_for_byte_whoosh_s(fixture_kb: Path, tmp_path: Path) -> None:
    docs = documents(fixture_kb)
    build(tmp_path / "ours", docs, CountedWriter)
    build(tmp_path / "theirs", docs, SegmentWriter, codec=make_codec(), compound=False)
    assert same_files(tmp_path / "ours", tmp_path / "theirs")


def test_a_merge_of_older_segments_with_new_counted_documents_matches_whoosh(fixture_kb: Path,
                                                                             tmp_path: Path) -> None:
    """A commit that merges older segments (their postings arrive through Whoosh's
    path, later than the new documents' counted ones, for the same terms)."""
    from whoosh.writing import OPTIMIZE

    docs = documents(fixture_kb)
    indexes = []
    for side, writer_class, kwargs in (("ours", CountedWriter, {}),
                                       ("theirs", SegmentWriter, {"codec": make_codec()})):
        ix = build(tmp_path / side, docs[:3], writer_class, **kwargs)
        writer = writer_class(ix, **kwargs)
        writer.delete_by_term("id", docs[0]["id"])
        for doc in docs[3:]:
            writer.add_document(**doc)
        writer.commit(mergetype=OPTIMIZE)
        indexes.append(ix)
    ours, theirs = indexes
    with ours.reader() as reader:
        assert len(list(reader.leaf_readers())) == 1  # merged into one segment
    assert contents(ours) == contents(theirs)


def test_another_codec_goes_through_whoosh_s_own_postings_loop(fixture_kb: Path, tmp_path: Path,
                                                               monkeypatch: Any) -> None:
    """With length statistics on (not errkb's codec), the term writer does not
    apply: the pool feeds Whoosh's `add_postings`, counted postings expanded."""
    from whoosh.codec.whoosh3 import W3Codec

    monkeypatch.setattr(whoosh_seam, "make_codec", lambda: W3Codec(compression=0))
    calls: list[int] = []
    monkeypatch.setattr(whoosh_seam, "write_terms", lambda *args: calls.append(1))
    docs = documents(fixture_kb)
    ours = build(tmp_path / "ours", docs, CountedWriter)
    theirs = build(tmp_path / "theirs", docs, SegmentWriter, codec=W3Codec(compression=0))
    assert not calls
    assert contents(ours) == contents(theirs)


def test_errkb_s_own_index_reads_back_through_the_scorer_as_through_whoosh(fixture_kb: Path, tmp_path: Path) -> None:
    from test_scoring import assert_postings_read_as_whoosh_reads_them

    ix = build(tmp_path / "ours", documents(fixture_kb), CountedWriter)
    with ix.reader() as reader:
        assert_postings_read_as_whoosh_reads_them(reader)
