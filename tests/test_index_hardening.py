"""Issue 12, the index folder: planted indexes, lost edits, disk full, a
damaged pointer, reused generation names, locks in refused folders.

Each test reproduces one row of the issue (it failed before the fix). Indexes
are real (built by errkb in tmp_path), the CLI runs through CliRunner, and
the disk-full case runs `kb` as a real process under a file-size limit.

As root (CI): "owned by someone else" is made real with chown to `nobody`
(65534), which only root can do; run as a normal user, those tests are
skipped, since nobody else's folder can be created then. Mode checks
(writable by group/others) run as any user.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from conftest import article_text
from errkb import store
from errkb.cli import cli
from errkb.exitcodes import Exit
from errkb.indexer import update_index
from errkb.kb import KnowledgeBase

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
NOBODY = 65534
needs_root = pytest.mark.skipif(not IS_ROOT, reason="making a folder owned by another user needs root (chown)")


class Plant:
    """A pickle that creates `marker` when unpickled by an unrestricted unpickler."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.marker), "w"))


def planted(marker: Path) -> bytes:
    return pickle.dumps(Plant(marker), 2)


def run(runner: CliRunner, kb: Path, index: Path, *args: str) -> Result:
    return runner.invoke(cli, ["--kb-dir", str(kb), "--index-dir", str(index), *args])  # type: ignore[arg-type]


def first_id(result: Result) -> str | None:
    data = json.loads(result.stdout)
    return data["results"][0]["id"] if data["results"] else None


def assert_clean(result: Result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output and "internal error" not in result.output, result.output


def toc_of(generation: Path) -> Path:
    (toc,) = generation.glob("*.toc")
    return toc


def toc_parts(data: bytes) -> tuple[int, int, int]:
    """Where the schema pickle starts and ends, and where the segment list starts."""
    from whoosh.filedb.structfile import StructFile

    stream = StructFile(io.BytesIO(data))
    for _ in range(3):
        stream.read_varint()
    stream.read_int()  # -12345
    stream.read_int()  # TOC version
    for _ in range(3):
        stream.read_varint()
    schema_start = stream.tell()
    stream.skip_string()
    schema_end = stream.tell()
    stream.read_int()
    stream.read_int()
    return schema_start, schema_end, stream.tell()


def plant_in_toc(generation: Path, marker: Path, where: str) -> None:
    from whoosh.filedb.structfile import StructFile

    toc = toc_of(generation)
    data = toc.read_bytes()
    schema_start, schema_end, segments_start = toc_parts(data)
    if where == "segments":
        toc.write_bytes(data[:segments_start] + planted(marker))
    else:
        buffer = io.BytesIO()
        StructFile(buffer).write_string(planted(marker))
        toc.write_bytes(data[:schema_start] + buffer.getvalue() + data[schema_end:])


@pytest.fixture
def built(fixture_kb: Path, index_dir: Path) -> tuple[Path, Path, Path]:
    """A fixture kb with a built index: (kb, index, live generation folder)."""
    update_index(fixture_kb, index_dir)
    pointer = store.read_pointer(index_dir)
    assert pointer is not None
    return fixture_kb, index_dir, index_dir / pointer.generation


# -- row 1: a planted index runs no code -----------------------------------------------


@pytest.mark.parametrize("where", ["schema", "segments"])
def test_planted_pickle_in_the_toc_runs_nothing(built: tuple[Path, Path, Path], tmp_path: Path,
                                                runner: CliRunner, where: str) -> None:
    kb, index, generation = built
    marker = tmp_path / "pwned"
    plant_in_toc(generation, marker, where)
    result = run(runner, kb, index, "search", "--json", "daily", "limit")
    assert_clean(result)
    assert not marker.exists(), "a planted pickle ran"
    assert result.exit_code == Exit.OK and first_id(result) == "alibaba-limit", result.output
    assert str(generation) in result.stderr or str(index) in result.stderr, result.stderr
    # The build throws the planted generation away and publishes a good one.
    assert run(runner, kb, index, "index").exit_code == Exit.OK
    assert not marker.exists()
    assert not generation.exists()


def test_every_whoosh_pickle_load_is_restricted(tmp_path: Path) -> None:
    """Each binding through which Whoosh unpickles index data refuses a pickle
    that would call anything but the classes errkb's indexes hold."""
    from errkb import whoosh_seam

    whoosh_seam.install_safe_unpickling()
    import whoosh.codec.whoosh3
    import whoosh.columns
    import whoosh.compat
    import whoosh.filedb.structfile
    import whoosh.formats
    import whoosh.index

    marker = tmp_path / "pwned"
    loaders = {
        "whoosh.compat.loads": whoosh.compat.loads,
        "whoosh.codec.whoosh3.loads": whoosh.codec.whoosh3.loads,
        "whoosh.columns.loads": whoosh.columns.loads,
        "whoosh.formats.loads": whoosh.formats.loads,
        "whoosh.index.pickle.loads": whoosh.index.pickle.loads,
    }
    for name, loads in loaders.items():
        with pytest.raises(pickle.UnpicklingError):
            loads(planted(marker))
        assert not marker.exists(), name
    with pytest.raises(pickle.UnpicklingError):
        whoosh.filedb.structfile.StructFile(io.BytesIO(planted(marker))).read_pickle()
    assert not marker.exists()
    # What errkb's indexes hold still loads.
    assert whoosh.codec.whoosh3.loads(pickle.dumps(((1, 2), None, b"\x00\x01"), 2)) == ((1, 2), None, b"\x00\x01")


def test_no_whoosh_module_keeps_the_raw_unpickler() -> None:
    """Whoosh modules imported later (or not yet) get the restricted loader
    too: after importing every Whoosh module errkb could reach, none holds
    pickle's own load/loads or the pickle module."""
    import importlib
    import pkgutil

    import whoosh

    from errkb import whoosh_seam

    for info in pkgutil.walk_packages(whoosh.__path__, "whoosh."):
        if ".support" in info.name or "multiproc" in info.name:
            continue  # optional parts (bitarray, C helpers) and the multi-process writer errkb never uses
        try:
            importlib.import_module(info.name)
        except ImportError:  # whoosh-reloaded ships a few modules that no longer import (codec.whoosh2)
            continue
    whoosh_seam.install_safe_unpickling()
    raw = {id(pickle.loads), id(pickle.load), id(pickle)}
    left = [f"{name}.{attr}" for name, module in list(sys.modules.items())
            if name.startswith("whoosh") and module is not None
            for attr, value in vars(module).items() if id(value) in raw]
    assert not left, left


def test_allow_list_is_exactly_what_errkb_writes(built: tuple[Path, Path, Path]) -> None:
    """Opening, searching and browsing errkb's own index loads only allowed
    names, and every allowed name is used (nothing allowed just in case)."""
    from errkb import whoosh_seam

    kb, index, _ = built
    (kb / "alibaba-limit.md").unlink()
    update_index(kb, index)  # a deletion: the segment keeps a deleted set
    seen = whoosh_seam.loaded_globals
    seen.clear()
    knowledge = KnowledgeBase(kb, index)
    knowledge.search("E1001 card expired 支付宝")
    knowledge.browse()
    knowledge.close()
    assert seen, "nothing was recorded"
    assert seen <= whoosh_seam.ALLOWED_GLOBALS
    assert {name for name in whoosh_seam.ALLOWED_GLOBALS if name[0] != "builtins"} <= seen | {
        ("builtins", "set"), ("builtins", "frozenset")}


@needs_root
def test_folder_owned_by_someone_else_is_refused_and_gets_no_lock(built: tuple[Path, Path, Path],
                                                                  tmp_path: Path, runner: CliRunner) -> None:
    kb, index, generation = built
    marker = tmp_path / "pwned"
    plant_in_toc(generation, marker, "segments")
    (index / store.LOCK).unlink(missing_ok=True)
    for path in [index, *index.rglob("*")]:
        os.lchown(path, NOBODY, NOBODY)
    result = run(runner, kb, index, "search", "--json", "daily", "limit")
    assert_clean(result)
    assert result.exit_code == Exit.OK and first_id(result) == "alibaba-limit"
    assert "built in memory" in result.stderr and str(index) in result.stderr
    assert "owned by" in result.stderr
    indexed = run(runner, kb, index, "index")
    assert indexed.exit_code == Exit.INDEX and str(index) in indexed.stderr
    assert indexed.stderr.count("\n") == 1, indexed.stderr
    assert not (index / store.LOCK).exists()  # row 15: the refused folder is left as it was
    assert not marker.exists()


@pytest.mark.parametrize("mode", [0o777, 0o707, 0o757])
def test_folder_writable_by_others_is_refused(built: tuple[Path, Path, Path], runner: CliRunner,
                                              mode: int) -> None:
    kb, index, _ = built
    index.chmod(mode)
    try:
        result = run(runner, kb, index, "search", "--json", "daily", "limit")
        assert_clean(result)
        assert result.exit_code == Exit.OK and first_id(result) == "alibaba-limit"
        assert "writable by" in result.stderr and str(index) in result.stderr
        indexed = run(runner, kb, index, "index")
        assert indexed.exit_code == Exit.INDEX and str(index) in indexed.stderr
    finally:
        index.chmod(0o700)


def test_generation_folder_writable_by_others_is_not_opened(built: tuple[Path, Path, Path], tmp_path: Path,
                                                            runner: CliRunner) -> None:
    kb, index, generation = built
    generation.chmod(0o777)
    result = run(runner, kb, index, "search", "--json", "daily", "limit")
    assert_clean(result)
    assert result.exit_code == Exit.OK and first_id(result) == "alibaba-limit"
    assert str(generation) in result.stderr


def _outside_index(tmp_path: Path, kb: Path, marker: Path) -> Path:
    """A complete errkb-built index elsewhere, planted."""
    other = tmp_path / "elsewhere"
    update_index(kb, other)
    pointer = store.read_pointer(other)
    assert pointer is not None
    plant_in_toc(other / pointer.generation, marker, "segments")
    return other / pointer.generation


@pytest.mark.parametrize("name", ["absolute", "dotdot", "nested", "symlink", "not-digits", "empty"])
def test_generation_name_must_be_gen_digits_inside_the_folder(built: tuple[Path, Path, Path],
                                                              tmp_path: Path, runner: CliRunner,
                                                              name: str) -> None:
    kb, index, _ = built
    marker = tmp_path / "pwned"
    target = _outside_index(tmp_path, kb, marker)
    data = json.loads((index / store.POINTER).read_text())
    relative = os.path.relpath(target, index)
    if name == "symlink":
        (index / "gen-000099").symlink_to(target, target_is_directory=True)
    data["generation"] = {"absolute": str(target), "dotdot": relative, "nested": f"gen-000001/{relative}",
                          "symlink": "gen-000099", "not-digits": "gen-abc", "empty": ""}[name]
    (index / store.POINTER).write_text(json.dumps(data))
    result = run(runner, kb, index, "search", "--json", "daily", "limit")
    assert_clean(result)
    assert not marker.exists(), "the pointer's generation name was followed"
    assert result.exit_code == Exit.OK and first_id(result) == "alibaba-limit", result.output
    assert target.is_dir() and any(target.iterdir())  # nothing outside the index folder was deleted
    pointer = store.read_pointer(index)  # a build repaired the pointer
    assert pointer is not None and store.GENERATION_NAME.fullmatch(pointer.generation)


# -- row 8: an edit saved during a build on coarse timestamps is never lost ---------------


def test_same_size_edit_with_the_same_mtime_is_found(built: tuple[Path, Path, Path], runner: CliRunner) -> None:
    """What a 1-second filesystem does: the edit keeps size and mtime. The
    ctime (and inode) still change, and are in the fingerprint."""
    kb, index, _ = built
    article = kb / "alibaba-limit.md"
    before = article.stat()
    text = article.read_text(encoding="utf-8")
    assert "Split the order" in text
    article.write_text(text.replace("Split the order", "Quokk the order"), encoding="utf-8")
    os.utime(article, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert article.stat().st_size == before.st_size
    result = run(runner, kb, index, "search", "--json", "quokk")
    assert result.exit_code == Exit.OK and first_id(result) == "alibaba-limit", result.output


def test_file_modified_near_the_build_start_is_rehashed_next_time(fixture_kb: Path, index_dir: Path) -> None:
    """The racy-git rule, at the stage level: a file whose mtime is within
    the timestamp granularity of the build's start is compared by content at
    the next build even when its whole stat looks the same."""
    from datetime import date

    from errkb import indexer

    article = fixture_kb / "alibaba-limit.md"
    os.utime(article)  # saved just now: within the granularity of the build that follows
    report = update_index(fixture_kb, index_dir)
    assert "alibaba-limit" in report.added
    pointer = store.read_pointer(index_dir)
    assert pointer is not None
    # The edit lands in the same timestamp tick: stat all equal to what the build saw.
    build = indexer.plan(fixture_kb, index_dir, pointer)
    seen = {f.name: f for f in build.files}
    text = article.read_text(encoding="utf-8")
    article.write_text(text.replace("Split the order", "Quokk the order"), encoding="utf-8")
    build.files = [seen[f.name] for f in build.files]
    changes = indexer.examine(build, date.today())
    assert "alibaba-limit" in changes.report.updated


def test_old_file_is_not_rehashed(fixture_kb: Path, index_dir: Path) -> None:
    """Files older than the build's start by more than the granularity are
    trusted by their stat (a search stays one `stat` per file)."""
    for path in fixture_kb.glob("*.md"):
        os.utime(path, (1_600_000_000, 1_600_000_000))
    update_index(fixture_kb, index_dir)
    report = update_index(fixture_kb, index_dir)
    assert not report.changed and report.generation
    knowledge = KnowledgeBase(fixture_kb, index_dir)
    knowledge.search("daily limit")
    assert not knowledge.notes, knowledge.notes  # fresh: no build


def test_recent_file_makes_the_next_search_check_again(fixture_kb: Path, index_dir: Path) -> None:
    os.utime(fixture_kb / "alibaba-limit.md")  # saved just now: racy for the build that follows
    update_index(fixture_kb, index_dir)
    knowledge = KnowledgeBase(fixture_kb, index_dir)
    knowledge.search("daily limit")
    assert any("recently" in note for note in knowledge.notes), knowledge.notes


# -- row 9: disk full ----------------------------------------------------------------


def _limited(limit: int) -> Any:
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail (EFBIG) instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_FSIZE semantics: Linux")
def test_disk_full_exits_4_in_one_line_and_leaves_no_half_generation(tmp_path: Path) -> None:
    """A write that fails part way (the file-size limit stands in for a full
    disk: both are an OSError from write) is exit 4, one line naming the
    path; nothing half-written stays, and the next build succeeds."""
    kb = tmp_path / "kb"
    kb.mkdir()
    for i in range(120):
        (kb / f"bulk-{i:03d}.md").write_text(article_text(
            f"bulk-{i:03d}", title=f"Checkout stops at step {i}", en=f'"Payment declined marker q{i}x"',
            zh=f'"银行拒绝了此次付款 编号{i}"'), encoding="utf-8")
    index = tmp_path / "index"
    argv = [sys.executable, "-m", "errkb", "--kb-dir", str(kb), "--index-dir", str(index), "index", "--full"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ERRKB_")}
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, preexec_fn=_limited(16 * 1024),
                          timeout=120)
    assert proc.returncode == Exit.INDEX, proc.stderr
    assert proc.stderr.count("\n") == 1 and "kb: error:" in proc.stderr and str(index) in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert store.generations(index) == []  # the half-written generation is gone
    ok = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)
    assert ok.returncode == Exit.OK, ok.stderr
    assert len(store.generations(index)) == 1


def test_dead_generations_are_removed_at_the_start_of_the_next_build(built: tuple[Path, Path, Path],
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """What a killed or failed build left is removed before anything is
    written, so a build on an almost full disk gets that space back."""
    kb, index, generation = built
    dead = index / "gen-000050"
    shutil.copytree(generation, dead)
    seen_at_write: list[list[str]] = []
    real_prepare = store.prepare_generation

    def spy(index_dir: Path, *args: Any) -> Path:
        seen_at_write.append(store.generations(index_dir))
        return real_prepare(index_dir, *args)

    monkeypatch.setattr(store, "prepare_generation", spy)
    update_index(kb, index, full=True)
    assert seen_at_write and "gen-000050" not in seen_at_write[0]


# -- row 10: a damaged pointer ------------------------------------------------------


@pytest.mark.parametrize("damage", ["", "{half", "[]", '{"format": "errkb-index"}'])
@pytest.mark.parametrize("command", [["index", "--full"], ["index"], ["search", "--json", "daily", "limit"]])
def test_damaged_pointer_is_repaired_by_a_build(built: tuple[Path, Path, Path], runner: CliRunner,
                                                damage: str, command: list[str]) -> None:
    kb, index, _ = built
    (index / store.POINTER).write_text(damage)
    result = run(runner, kb, index, *command)
    assert_clean(result)
    assert result.exit_code == Exit.OK, result.output
    assert "built in memory" not in result.stderr
    pointer = store.read_pointer(index)
    assert pointer is not None and pointer.articles == 5
    assert first_id(run(runner, kb, index, "search", "--json", "E1001")) == "card-expired-e1001"


def test_pointer_and_manifest_are_fsynced_before_the_rename(fixture_kb: Path, index_dir: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append("fsync " + os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    def replace(src: Any, dst: Any) -> None:
        events.append(f"rename {dst}")
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    update_index(fixture_kb, index_dir)
    pointer = store.read_pointer(index_dir)
    assert pointer is not None
    for final in (index_dir / pointer.generation / store.MANIFEST, index_dir / store.POINTER):
        renamed = events.index(f"rename {final}")
        assert any(e.startswith("fsync ") and f".{final.name}." in e for e in events[:renamed]), events
        assert f"fsync {final.parent}" in events[renamed:], events  # the directory entry too
    # Every segment file is on disk before the pointer names the generation.
    published = events.index(f"rename {index_dir / store.POINTER}")
    for path in (index_dir / pointer.generation).iterdir():
        if path.suffix in (".seg", ".pst", ".trm", ".toc"):
            assert f"fsync {path}" in events[:published], path


# -- row 11: generation names are never reused; an unreadable index is never "no match" ---------


def test_generation_names_are_never_reused(built: tuple[Path, Path, Path]) -> None:
    kb, index, _ = built
    update_index(kb, index, full=True)
    before = store.read_pointer(index)
    assert before is not None
    for name in store.generations(index):
        shutil.rmtree(index / name)  # the index README says they may be deleted
    report = update_index(kb, index, full=True)
    assert int(report.generation[4:]) > int(before.generation[4:])


def test_half_built_generation_under_the_live_name_is_not_no_match(built: tuple[Path, Path, Path],
                                                                   runner: CliRunner) -> None:
    """The live name now holds another build's half-made index (empty): the
    build id does not match, so the search does not answer from it."""
    from whoosh import index as whoosh_index

    from errkb.schema import make_schema

    kb, index, generation = built
    shutil.rmtree(generation)
    generation.mkdir()
    whoosh_index.create_in(str(generation), make_schema())
    result = run(runner, kb, index, "search", "--json", "daily", "limit")
    assert_clean(result)
    assert result.exit_code == Exit.OK and first_id(result) == "alibaba-limit", result.output


def test_generation_with_fewer_documents_than_published_is_not_used(built: tuple[Path, Path, Path],
                                                                    runner: CliRunner) -> None:
    kb, index, _ = built
    data = json.loads((index / store.POINTER).read_text())
    data["articles"] = 6
    (index / store.POINTER).write_text(json.dumps(data))
    result = run(runner, kb, index, "search", "--json", "daily", "limit")
    assert_clean(result)
    assert result.exit_code == Exit.OK and first_id(result) == "alibaba-limit", result.output


# -- row 15: no lock file in a folder errkb refuses -------------------------------------------


def test_foreign_folder_gets_no_build_lock(fixture_kb: Path, tmp_path: Path, runner: CliRunner) -> None:
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "holiday.jpg").write_bytes(b"\xff\xd8")
    for command in (["index"], ["search", "--json", "daily"]):
        result = run(runner, fixture_kb, foreign, *command)
        assert_clean(result)
        assert sorted(os.listdir(foreign)) == ["holiday.jpg"], command
    result = run(runner, fixture_kb, foreign, "index")
    assert result.exit_code == Exit.INDEX and str(foreign) in result.stderr
