"""Searching reads index files through read-only memory maps: the same data
Whoosh's own storage reads, without copies or a system call per read."""

from __future__ import annotations

from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.filedb.structfile import StructFile

from errkb import store
from errkb.indexer import update_index
from errkb.kb import KnowledgeBase
from errkb.mapped_storage import MappedFile, MappedStorage, open_index


def live_generation(fixture_kb: Path, index_dir: Path) -> Path:
    update_index(fixture_kb, index_dir)
    pointer = store.read_pointer(index_dir)
    assert pointer is not None
    return index_dir / pointer.generation


def test_mapped_index_reads_the_same_documents_and_postings_as_whoosh(fixture_kb: Path, index_dir: Path) -> None:
    folder = str(live_generation(fixture_kb, index_dir))
    with whoosh_index.open_dir(folder).reader() as plain, open_index(folder).reader() as mapped:
        assert list(mapped.iter_docs()) == list(plain.iter_docs())
        terms = list(plain.all_terms())
        assert terms and list(mapped.all_terms()) == terms
        for field, term in terms:
            assert list(mapped.postings(field, term).items_as("weight")) == \
                list(plain.postings(field, term).items_as("weight"))
            assert mapped.doc_frequency(field, term) == plain.doc_frequency(field, term)


def test_segment_files_open_as_maps_and_empty_files_as_plain_files(fixture_kb: Path, index_dir: Path) -> None:
    folder = live_generation(fixture_kb, index_dir)
    storage = MappedStorage(str(folder))
    postings = next(folder.glob("*.pst"))
    mapped = storage.open_file(postings.name)
    assert isinstance(mapped, MappedFile)
    assert mapped.get(0, 16) == postings.read_bytes()[:16]
    mapped.close()
    assert mapped.is_closed
    (folder / "EMPTY").write_bytes(b"")
    empty = storage.open_file("EMPTY")
    assert type(empty) is StructFile and empty.read() == b""
    empty.close()


def test_builds_write_separate_segment_files_not_compound_ones(fixture_kb: Path, index_dir: Path) -> None:
    folder = live_generation(fixture_kb, index_dir)
    assert not list(folder.glob("*.seg"))  # compound files are copied into memory when read
    assert list(folder.glob("*.pst")) and list(folder.glob("*.trm"))


def test_knowledge_base_searches_through_the_maps(fixture_kb: Path, index_dir: Path) -> None:
    kb = KnowledgeBase(fixture_kb, index_dir)
    assert isinstance(kb.ensure_fresh().storage, MappedStorage)
    assert kb.search("daily limit").hits[0].id == "alibaba-limit"
    kb.close()
