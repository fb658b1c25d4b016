"""Index builds: full, incremental, invalid articles left out, generations, versions."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import WriteArticle, article_text
from errkb import store
from errkb.errors import BuildInProgress, IndexProblem
from errkb.indexer import BuildReport, update_index
from errkb.kb import KnowledgeBase


def indexed_ids(index_dir: Path) -> list[str]:
    from whoosh import index as whoosh_index

    pointer = store.read_pointer(index_dir)
    assert pointer is not None
    ix = whoosh_index.open_dir(str(index_dir / pointer.generation))
    with ix.reader() as reader:
        return sorted(fields["id"] for _, fields in reader.iter_docs())


def test_full_build_indexes_every_article(fixture_kb: Path, index_dir: Path) -> None:
    report = update_index(fixture_kb, index_dir)
    assert report.full and report.total == 5 and len(report.added) == 5
    assert indexed_ids(index_dir) == sorted(p.stem for p in fixture_kb.glob("*.md"))
    pointer = store.read_pointer(index_dir)
    assert pointer is not None and pointer.articles == 5


def test_update_touches_only_what_changed(fixture_kb: Path, index_dir: Path) -> None:
    update_index(fixture_kb, index_dir)
    again = update_index(fixture_kb, index_dir)
    assert (again.added, again.updated, again.removed, again.unchanged) == ([], [], [], 5)

    article = fixture_kb / "alibaba-limit.md"
    article.write_text(article.read_text().replace("Split the order", "Divide the order"))
    (fixture_kb / "card-expired-e1001.md").unlink()
    (fixture_kb / "new-one.md").write_text(article_text("new-one", title="New", en='"n"', zh='"新"'))
    report = update_index(fixture_kb, index_dir)
    assert not report.full
    assert (report.added, report.updated, report.removed) == (["new-one"], ["alibaba-limit"], ["card-expired-e1001"])
    assert report.unchanged == 3
    assert "card-expired-e1001" not in indexed_ids(index_dir)


def test_touched_file_with_same_content_is_not_reindexed(fixture_kb: Path, index_dir: Path) -> None:
    update_index(fixture_kb, index_dir)
    path = fixture_kb / "identity-outdated.md"
    os.utime(path, ns=(1, 1))
    report = update_index(fixture_kb, index_dir)
    assert not report.changed and report.unchanged == 5


def test_invalid_article_is_left_out_and_reported(fixture_kb: Path, index_dir: Path) -> None:
    (fixture_kb / "broken.md").write_text("---\nid: broken\ntitle: [oops\n---\n")
    report = update_index(fixture_kb, index_dir)
    assert report.total == 5
    assert [(Path(f.path).name, f.line, f.code) for f in report.invalid] == [("broken.md", 4, "E004")]
    # Fixing it later indexes it; breaking a good one removes it.
    (fixture_kb / "broken.md").write_text(article_text("broken", title="Fixed", en='"b"', zh='"好"'))
    good = fixture_kb / "alibaba-limit.md"
    good.write_text(good.read_text().replace("platforms: [alibaba, alipay]", "platforms: [ebay]"))
    report = update_index(fixture_kb, index_dir)
    assert report.added == ["broken"] and report.removed == ["alibaba-limit"]
    assert [f.code for f in report.invalid] == ["E008"]


def test_article_stays_indexed_when_its_related_target_is_removed(fixture_kb: Path, index_dir: Path) -> None:
    update_index(fixture_kb, index_dir)
    (fixture_kb / "identity-outdated.md").unlink()
    report = update_index(fixture_kb, index_dir)
    assert sorted(report.removed) == ["identity-outdated"]  # a dangling related id is only W110
    assert report.invalid == []


def test_each_build_publishes_a_new_generation_and_keeps_one_previous(fixture_kb: Path, index_dir: Path) -> None:
    for n in range(4):
        (fixture_kb / "extra.md").write_text(article_text("extra", title=f"Extra {n}", en=f'"e{n}"', zh='"额"'))
        update_index(fixture_kb, index_dir)
    gens = store.generations(index_dir)
    pointer = store.read_pointer(index_dir)
    assert pointer is not None and len(gens) == 2 and gens[-1] == pointer.generation


def test_previous_generation_is_untouched_by_an_incremental_update(fixture_kb: Path, index_dir: Path) -> None:
    from whoosh import index as whoosh_index

    update_index(fixture_kb, index_dir)
    old = store.read_pointer(index_dir)
    assert old is not None
    (fixture_kb / "gateway-system-error.md").unlink()
    update_index(fixture_kb, index_dir)
    ix = whoosh_index.open_dir(str(index_dir / old.generation))
    with ix.reader() as reader:
        assert reader.doc_count() == 5


def test_index_from_another_version_is_rebuilt(fixture_kb: Path, index_dir: Path) -> None:
    update_index(fixture_kb, index_dir)
    pointer_path = index_dir / store.POINTER
    data = json.loads(pointer_path.read_text())
    data["schema_version"] = "0.0"
    pointer_path.write_text(json.dumps(data))
    kb = KnowledgeBase(fixture_kb, index_dir)
    kb.search("system busy")
    assert any("another errkb version" in note for note in kb.notes)
    pointer = store.read_pointer(index_dir)
    assert pointer is not None and pointer.schema_version != "0.0"


def test_second_builder_waits_then_reports_the_running_build(fixture_kb: Path, index_dir: Path) -> None:
    with store.build_lock(index_dir, wait=0), pytest.raises(BuildInProgress, match="another `kb index`"):
        update_index(fixture_kb, index_dir, wait=0.2)


def test_foreign_folder_is_refused_with_its_path(fixture_kb: Path, tmp_path: Path) -> None:
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "holiday.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(IndexProblem, match="photos"):
        update_index(fixture_kb, foreign)


def test_corrupted_pointer_is_a_clear_problem(fixture_kb: Path, index_dir: Path) -> None:
    update_index(fixture_kb, index_dir)
    (index_dir / store.POINTER).write_text("{not json")
    with pytest.raises(store.DamagedPointer, match="`kb index` repairs it"):
        store.read_pointer(index_dir)


def test_empty_knowledge_base_builds_an_empty_index(kb_dir: Path, index_dir: Path) -> None:
    report = update_index(kb_dir, index_dir)
    assert report.total == 0 and indexed_ids(index_dir) == []


def test_build_of_a_kb_with_a_duplicate_id_keeps_the_first(kb_dir: Path, index_dir: Path,
                                                        write_article: WriteArticle) -> None:
    write_article("a-one")
    (kb_dir / "b-two.md").write_text(article_text("a-one"))
    report = update_index(kb_dir, index_dir)
    assert indexed_ids(index_dir) == ["a-one"]
    assert [(Path(f.path).name, f.code) for f in report.invalid] == [("b-two.md", "E010"), ("b-two.md", "E011")]


def build_many(kb_dir: Path, index_dir: Path, write_article: WriteArticle, count: int) -> BuildReport:
    """Write `count` articles and build."""
    for n in range(count):
        write_article(f"card-declined-{n}", title=f"Card declined case {n}", en=f'"Card declined number {n}x"')
    return update_index(kb_dir, index_dir)


def test_an_update_of_touched_files_reindexes_only_what_changed(
    kb_dir: Path, index_dir: Path, write_article: WriteArticle
) -> None:
    build_many(kb_dir, index_dir, write_article, 6)
    for n, path in enumerate(sorted(kb_dir.glob("*.md"))):
        if n in (0, 5):
            write_article(path.stem, title=f"Card declined, edited {n}", en=f'"Card declined number {n}x"')
        os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    report = update_index(kb_dir, index_dir)
    assert (sorted(report.updated), report.added, report.unchanged) == (
        ["card-declined-0", "card-declined-5"], [], 4)
    assert indexed_ids(index_dir) == [f"card-declined-{n}" for n in range(6)]


def test_a_big_build_keeps_the_first_of_a_duplicate_id(
    kb_dir: Path, index_dir: Path, write_article: WriteArticle
) -> None:
    (kb_dir / "zz-copy.md").write_text(article_text("card-declined-0"))  # last in order
    report = build_many(kb_dir, index_dir, write_article, 6)
    assert indexed_ids(index_dir) == [f"card-declined-{n}" for n in range(6)]
    assert {Path(f.path).name for f in report.invalid} == {"zz-copy.md"}
