"""Faults and races with real `kb` processes: kill -9, concurrent builds and
searches, leftovers of killed builds, unwritable and damaged index folders.

Every test here runs `python -m errkb` in subprocesses against folders under
tmp_path. Only outcomes are asserted (exit codes, JSON, what the index holds),
never how long something took: sleeps only choose *when* to inject a fault.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from conftest import article_text
from errkb import store
from errkb.exitcodes import Exit
from errkb.kb import KnowledgeBase

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SIGKILL and /proc: Linux only"),
]

#: Articles for the kill test: big enough that a full build takes a while,
#: small enough for the single-process writer (the multi-process one has its
#: own test below).
KILL_ARTICLES = 1000
#: Articles for the race tests: a build of these takes a fraction of a second.
RACE_ARTICLES = 300
#: Every bulk article's message holds this word.
COMMON_WORD = "declined"

_ENV = {k: v for k, v in os.environ.items() if k not in ("ERRKB_DEBUG", "ERRKB_KB_DIR", "ERRKB_INDEX_DIR")}
_ENV.update({"NO_COLOR": "1", "PYTHONIOENCODING": "utf-8"})


# -- helpers ------------------------------------------------------------------


def marker(i: int) -> str:
    """A word only bulk article `i` contains."""
    return f"q{i}x"


def bulk_id(i: int) -> str:
    return f"bulk-{i:05d}"


def write_bulk(kb: Path, count: int, start: int = 0) -> None:
    """`count` valid articles with distinct ids, titles and messages."""
    kb.mkdir(parents=True, exist_ok=True)
    for i in range(start, start + count):
        aid = bulk_id(i)
        (kb / f"{aid}.md").write_text(
            article_text(
                aid,
                title=f"Checkout stops at step {i}",
                en=f'"Payment {COMMON_WORD} with marker {marker(i)}"',
                zh=f'"银行拒绝了此次付款 编号{i}"',
            ),
            encoding="utf-8",
        )


def kb_argv(kb: Path, index: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "errkb", "--kb-dir", str(kb), "--index-dir", str(index), *args]


def kb_run(kb: Path, index: Path, *args: str, timeout: float = 180,
           env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(kb_argv(kb, index, *args), capture_output=True, text=True, encoding="utf-8",
                          env={**_ENV, **(env or {})}, cwd=kb.parent, timeout=timeout)


def assert_no_crash(proc: subprocess.CompletedProcess[str]) -> None:
    text = proc.stdout + proc.stderr
    assert "Traceback" not in text, text
    assert "internal error" not in text, text
    assert proc.returncode != Exit.INTERNAL, text


def search_json(kb: Path, index: Path, *words: str) -> dict[str, Any]:
    """`kb search --json`: exit 0 or 1, one valid JSON object, no traceback."""
    proc = kb_run(kb, index, "search", "--json", "--", *words)
    assert_no_crash(proc)
    assert proc.returncode in (Exit.OK, Exit.NO_MATCH), proc.stderr
    data = json.loads(proc.stdout)
    assert isinstance(data, dict) and isinstance(data["results"], list)
    assert bool(data["results"]) == (proc.returncode == Exit.OK)
    return data


def result_ids(data: dict[str, Any]) -> list[str]:
    return [hit["id"] for hit in data["results"]]


def index_json(kb: Path, index: Path, *args: str) -> dict[str, Any]:
    """`kb index --json` that must succeed; returns its report."""
    proc = kb_run(kb, index, "index", "--json", *args)
    assert_no_crash(proc)
    assert proc.returncode == Exit.OK, proc.stderr
    return json.loads(proc.stdout)


def assert_consistent(kb: Path, index: Path, count: int) -> None:
    """The published index exists, opens, and holds `count` articles; at most
    the live generation and the one before it are on disk."""
    from whoosh import index as whoosh_index

    pointer = store.read_pointer(index)
    assert pointer is not None and pointer.articles == count
    gens = store.generations(index)
    assert pointer.generation in gens and len(gens) <= 2, gens
    ix = whoosh_index.open_dir(str(index / pointer.generation))
    with ix.reader() as reader:
        assert reader.doc_count() == count


def process_group(pgid: int) -> list[int]:
    """Live (not zombie) processes in a process group, from /proc."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            stat = Path("/proc", name, "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        state, group = fields[0], int(fields[2])
        if group == pgid and state not in ("Z", "X"):
            found.append(int(name))
    return found


@pytest.fixture
def spawn() -> Iterator[Any]:
    """Start `kb` processes in their own process group; whatever is left of
    them (and of anything they forked) is killed at the end of the test."""
    started: list[subprocess.Popen[str]] = []

    def start(argv: list[str], *, capture: bool = True) -> subprocess.Popen[str]:
        # A process that is going to be killed gets no pipes: whatever it
        # forked could hold them open, and reading them would never end.
        out = subprocess.PIPE if capture else subprocess.DEVNULL
        proc = subprocess.Popen(argv, stdout=out, stderr=out, text=True,
                                encoding="utf-8", env=_ENV, start_new_session=True)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            proc.communicate(timeout=10)


@pytest.fixture(scope="module")
def kill_kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    kb = tmp_path_factory.mktemp("kill") / "kb"
    write_bulk(kb, KILL_ARTICLES)
    return kb


# -- 1. kill -9 during a full build ----------------------------------------------


def test_kill_9_during_full_build_keeps_the_last_good_index(kill_kb: Path, tmp_path: Path, spawn: Any) -> None:
    index = tmp_path / "index"
    first = index_json(kill_kb, index)
    assert first["full"] and first["total"] == KILL_ARTICLES

    kills = 0
    completed = False
    for step, delay in enumerate([0.05, 0.2, 0.5, 0.9, 1.4, 2.0, 2.8, 4.0, 6.0, 9.0, 14.0, 20.0]):
        before = store.read_pointer(index)
        proc = spawn(kb_argv(kill_kb, index, "index", "--full"), capture=False)
        time.sleep(delay)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        if proc.returncode == -signal.SIGKILL:
            kills += 1
        else:
            assert proc.returncode == Exit.OK
            completed = True
        # A killed build leaves nothing running (its helper process, if it
        # had started one, dies with it) and publishes nothing half-made:
        # the pointer is the old one or a finished build's.
        deadline = time.monotonic() + 2.0
        while process_group(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert process_group(proc.pid) == []
        after = store.read_pointer(index)
        assert after is not None and after.articles == KILL_ARTICLES
        if after != before:
            assert (index / after.generation / store.MANIFEST).is_file()
        # Search answers from the last good index ...
        k = (step * 97) % KILL_ARTICLES
        data = search_json(kill_kb, index, marker(k))
        assert result_ids(data)[:1] == [bulk_id(k)]
        # ... and the next build succeeds, counts right, and clears the leftovers.
        report = index_json(kill_kb, index)
        assert report["total"] == KILL_ARTICLES
        assert_consistent(kill_kb, index, KILL_ARTICLES)
        if completed:
            break
    if not completed:  # a very slow machine: one build left to finish
        assert index_json(kill_kb, index, "--full")["total"] == KILL_ARTICLES
    assert kills >= 1


# -- 2. searches racing builds ------------------------------------------------------


def test_searches_racing_full_builds_and_edits_always_answer(tmp_path: Path) -> None:
    kb, index = tmp_path / "kb", tmp_path / "index"
    write_bulk(kb, RACE_ARTICLES)
    assert index_json(kb, index)["total"] == RACE_ARTICLES

    searches_done = threading.Event()
    build_results: list[subprocess.CompletedProcess[str]] = []
    edited = kb / f"{bulk_id(0)}.md"

    def edit(n: int) -> None:
        # Atomic (rename) and always a new size, so every edit is seen.
        tmp = kb / ".edit.tmp"
        tmp.write_text(article_text(bulk_id(0), title=f"Edited {n} {'x' * n} editmark{n}",
                                    en=f'"Payment {COMMON_WORD} with marker {marker(0)}"',
                                    zh='"银行拒绝了此次付款 编号0"'), encoding="utf-8")
        os.replace(tmp, edited)

    def builder() -> None:
        n = 0
        while n < 12 and (n < 3 or not searches_done.is_set()):
            n += 1
            edit(n)
            build_results.append(kb_run(kb, index, "index", "--full"))
        edit(n + 1)

    def one_search(i: int) -> subprocess.CompletedProcess[str]:
        return kb_run(kb, index, "search", "--json", COMMON_WORD, marker(i))

    thread = threading.Thread(target=builder)
    thread.start()
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            searches = list(pool.map(one_search, range(1, 41)))
    finally:
        searches_done.set()
        thread.join(timeout=300)
    assert not thread.is_alive()

    problems = []
    for i, proc in enumerate(searches, start=1):
        try:
            assert_no_crash(proc)
            assert proc.returncode == Exit.OK
            data = json.loads(proc.stdout)
            assert data["results"] and data["results"][0]["id"] == bulk_id(i)
        except (AssertionError, ValueError, KeyError):
            problems.append(f"search {i}: exit {proc.returncode}: {proc.stderr.strip()[-300:]}")
    for n, build in enumerate(build_results, start=1):
        if build.returncode != Exit.OK or "Traceback" in build.stderr:
            problems.append(f"build {n}: exit {build.returncode}: {build.stderr.strip()[-300:]}")
    assert not problems, f"{len(problems)} of {len(searches)} searches / {len(build_results)} builds failed:\n" + \
        "\n".join(problems)
    assert len(build_results) >= 3

    # After the storm: one update brings the last edit in, and the index is whole.
    assert index_json(kb, index)["total"] == RACE_ARTICLES
    assert_consistent(kb, index, RACE_ARTICLES)
    last = edited.read_text(encoding="utf-8").split("editmark", 1)[1].split('"', 1)[0]
    assert result_ids(search_json(kb, index, f"editmark{last}"))[:1] == [bulk_id(0)]


# -- 3. two `kb index` at once -------------------------------------------------------


def _assert_build_in_progress_message(proc: subprocess.CompletedProcess[str] | Any, index: Path,
                                      stderr: str) -> None:
    assert proc.returncode == Exit.INDEX, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("kb: error: another `kb index` is building"), stderr
    assert str(index) in lines[0]


def test_second_index_with_wait_0_exits_4_while_the_first_builds(tmp_path: Path, spawn: Any) -> None:
    kb, index = tmp_path / "kb", tmp_path / "index"
    write_bulk(kb, RACE_ARTICLES)
    # Deterministic: hold the build lock (as a running build does) while both start.
    with store.build_lock(index, wait=0):
        waiter = spawn(kb_argv(kb, index, "index", "--full", "--json", "--wait", "120"))
        impatient = spawn(kb_argv(kb, index, "index", "--full", "--json", "--wait", "0"))
        out, err = impatient.communicate(timeout=60)
        _assert_build_in_progress_message(impatient, index, err)
        assert out == ""
        assert waiter.poll() is None  # it cannot finish while the lock is held
    out, err = waiter.communicate(timeout=120)
    assert waiter.returncode == Exit.OK, err
    report = json.loads(out)
    assert report["full"] and report["total"] == RACE_ARTICLES
    assert_consistent(kb, index, RACE_ARTICLES)
    assert result_ids(search_json(kb, index, marker(7)))[:1] == [bulk_id(7)]


@pytest.mark.parametrize("second_wait", ["0", "60"])
def test_two_full_builds_started_together(tmp_path: Path, spawn: Any, second_wait: str) -> None:
    kb, index = tmp_path / "kb", tmp_path / "index"
    write_bulk(kb, RACE_ARTICLES)
    assert index_json(kb, index)["total"] == RACE_ARTICLES
    first = spawn(kb_argv(kb, index, "index", "--full", "--json", "--wait", "120"))
    second = spawn(kb_argv(kb, index, "index", "--full", "--json", "--wait", second_wait))
    out1, err1 = first.communicate(timeout=120)
    out2, err2 = second.communicate(timeout=120)

    # Its wait outlasts the other build: the first always succeeds.
    assert first.returncode == Exit.OK, err1
    reports = [json.loads(out1)]
    if second.returncode == Exit.OK:
        reports.append(json.loads(out2))
    else:  # only allowed when it was told not to wait
        assert second_wait == "0"
        _assert_build_in_progress_message(second, index, err2)
        assert out2 == ""
    for report in reports:
        assert report["full"] and report["total"] == RACE_ARTICLES
    # Two builds that both succeeded ran one after the other: two generations.
    assert len({r["generation"] for r in reports}) == len(reports)
    assert_consistent(kb, index, RACE_ARTICLES)
    assert result_ids(search_json(kb, index, marker(3)))[:1] == [bulk_id(3)]
    assert index_json(kb, index)["total"] == RACE_ARTICLES


# -- 4. leftovers of killed builds -------------------------------------------------------


@pytest.mark.parametrize("build_args", [[], ["--full"]], ids=["update", "full"])
def test_leftover_partial_generation_is_harmless_and_cleaned_up(fixture_kb: Path, tmp_path: Path,
                                                                build_args: list[str]) -> None:
    index = tmp_path / "index"
    assert index_json(fixture_kb, index)["total"] == 5
    live = store.read_pointer(index)
    assert live is not None
    # What killed builds leave: a half-written generation just after the live
    # one, a junk one far ahead, and a pointer that was never renamed.
    half = index / store.next_generation(index)
    shutil.copytree(index / live.generation, half)
    for toc in half.glob("*.toc"):
        toc.unlink()
    junk = index / "gen-999999"
    junk.mkdir()
    (junk / "_MAIN_1.toc").write_bytes(b"\x00\x01 not a toc")
    (junk / "MAIN_deadbeef.seg").write_bytes(os.urandom(512))
    (junk / store.MANIFEST).write_text("{half", encoding="utf-8")
    stray_pointer = index / f".{store.POINTER}.99999.tmp"
    stray_pointer.write_text('{"format": "errkb-index", "generation": "gen-999999"', encoding="utf-8")

    data = search_json(fixture_kb, index, "daily", "limit")
    assert result_ids(data)[:1] == ["alibaba-limit"]
    assert store.read_pointer(index) == live  # a search does not rebuild for leftovers

    assert index_json(fixture_kb, index, *build_args)["total"] == 5
    assert not junk.exists() and not half.exists() and not stray_pointer.exists()
    assert_consistent(fixture_kb, index, 5)
    assert result_ids(search_json(fixture_kb, index, "E1001"))[:1] == ["card-expired-e1001"]

    # Numbering goes on after the leftovers: an edit is built and found.
    (fixture_kb / "late.md").write_text(article_text("late", title="Late addition", en='"Quokka refused"',
                                                     zh='"迟到的文章"'), encoding="utf-8")
    assert index_json(fixture_kb, index)["total"] == 6
    assert_consistent(fixture_kb, index, 6)
    assert result_ids(search_json(fixture_kb, index, "quokka"))[:1] == ["late"]


# -- 5. unwritable and damaged index folders --------------------------------------------


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    folder.chmod(0o500)
    try:
        yield
    finally:
        folder.chmod(0o700)


def _assert_not_writable_failure(proc: subprocess.CompletedProcess[str], index: Path) -> None:
    assert_no_crash(proc)
    assert proc.returncode == Exit.INDEX, proc.stderr
    assert proc.stderr.count("kb: error:") == 1 and str(index) in proc.stderr, proc.stderr


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores file permissions")
def test_unwritable_index_folder_with_an_index_answers_and_index_exits_4(fixture_kb: Path,
                                                                         tmp_path: Path) -> None:
    index = tmp_path / "index"
    assert index_json(fixture_kb, index)["total"] == 5
    article = fixture_kb / "alibaba-limit.md"
    article.write_text(article.read_text(encoding="utf-8").replace("Split the order", "Divide the order"),
                       encoding="utf-8")
    with read_only(index):
        proc = kb_run(fixture_kb, index, "search", "--json", "daily", "limit")
        assert_no_crash(proc)
        assert proc.returncode == Exit.OK, proc.stderr
        assert json.loads(proc.stdout)["results"][0]["id"] == "alibaba-limit"
        _assert_not_writable_failure(kb_run(fixture_kb, index, "index"), index)
    assert index_json(fixture_kb, index)["updated"] == ["alibaba-limit"]


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores file permissions")
def test_unwritable_empty_index_folder_falls_back_to_memory(fixture_kb: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    index.mkdir()
    with read_only(index):
        proc = kb_run(fixture_kb, index, "search", "--json", "E1001")
        assert_no_crash(proc)
        assert proc.returncode == Exit.OK, proc.stderr
        assert "built in memory" in proc.stderr
        assert json.loads(proc.stdout)["results"][0]["id"] == "card-expired-e1001"
        _assert_not_writable_failure(kb_run(fixture_kb, index, "index"), index)
        _assert_not_writable_failure(kb_run(fixture_kb, index, "index", "--full"), index)


def test_concurrent_memory_fallbacks_all_answer(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    write_bulk(kb, 40)
    unusable = tmp_path / "index-is-a-file"
    unusable.write_text("not a folder", encoding="utf-8")
    scratch = tmp_path / "tmp"  # whoosh's scratch files go here, not to the machine's /tmp
    scratch.mkdir()

    def one_search(i: int) -> subprocess.CompletedProcess[str]:
        return kb_run(kb, unusable, "search", "--json", marker(i), env={"TMPDIR": str(scratch)})

    with ThreadPoolExecutor(max_workers=4) as pool:
        searches = list(pool.map(one_search, range(12)))
    problems = []
    for i, proc in enumerate(searches):
        try:
            assert_no_crash(proc)
            assert proc.returncode == Exit.OK and "built in memory" in proc.stderr
            assert result_ids(json.loads(proc.stdout))[:1] == [bulk_id(i)]
        except (AssertionError, ValueError, KeyError):
            problems.append(f"search {i}: exit {proc.returncode}: {proc.stderr.strip()[-300:]}")
    assert not problems, "\n".join(problems)


def test_memory_fallback_does_not_depend_on_a_shared_temp_path(fixture_kb: Path, tmp_path: Path) -> None:
    unusable = tmp_path / "index-is-a-file"
    unusable.write_text("not a folder", encoding="utf-8")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    # Someone else's "MAIN.tmp" (here: a file; on a shared machine, another user's folder).
    (scratch / "MAIN.tmp").write_text("not yours", encoding="utf-8")
    proc = kb_run(fixture_kb, unusable, "search", "--json", "E1001", env={"TMPDIR": str(scratch)})
    assert_no_crash(proc)
    assert proc.returncode == Exit.OK, proc.stderr
    assert result_ids(json.loads(proc.stdout))[:1] == ["card-expired-e1001"]


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _garble(path: Path) -> None:
    data = bytearray(path.read_bytes())
    for i in range(0, len(data), 7):
        data[i] = (data[i] * 31 + 17) % 256
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(("pattern", "damage"), [
    pytest.param("*.toc", _truncate, id="toc-truncated"),
    pytest.param("*.toc", _garble, id="toc-garbled"),
    pytest.param("*.toc", Path.unlink, id="toc-deleted"),
    pytest.param("*", _garble, id="every-file-garbled"),
    pytest.param("MAIN_*", _truncate, id="segments-truncated"),
    pytest.param("MAIN_*", _garble, id="segments-garbled"),
    pytest.param("MAIN_*", Path.unlink, id="segments-deleted"),
    pytest.param("*.pst", _truncate, id="postings-truncated"),
    pytest.param("*.trm", _garble, id="terms-garbled"),
    pytest.param("*_stored.col", _garble, id="stored-fields-garbled"),
])
def test_damaged_live_generation_still_answers(fixture_kb: Path, tmp_path: Path, pattern: str,
                                               damage: Any) -> None:
    index = tmp_path / "index"
    assert index_json(fixture_kb, index)["total"] == 5
    live = store.read_pointer(index)
    assert live is not None
    damaged = [p for p in (index / live.generation).glob(pattern)
               if p.is_file() and p.name != store.MANIFEST and not p.name.endswith("LOCK")]
    assert damaged
    for path in damaged:
        damage(path)

    for words in (["daily", "limit"], ["E1001"]):  # the second search meets a repaired (or memory) index
        proc = kb_run(fixture_kb, index, "search", "--json", *words)
        assert_no_crash(proc)
        assert proc.returncode == Exit.OK, proc.stderr
        data = json.loads(proc.stdout)
        assert result_ids(data)[:1] == (["alibaba-limit"] if words[0] == "daily" else ["card-expired-e1001"])
    # A full build always repairs it.
    assert index_json(fixture_kb, index, "--full")["total"] == 5
    assert_consistent(fixture_kb, index, 5)


def test_garbled_postings_never_crash_a_search(fixture_kb: Path, tmp_path: Path) -> None:
    """Whoosh keeps no checksums: garbled postings may read as other numbers
    rather than fail, so the answer can be wrong (until `kb index --full`),
    but the search must end cleanly."""
    index = tmp_path / "index"
    index_json(fixture_kb, index)
    live = store.read_pointer(index)
    assert live is not None
    postings = list((index / live.generation).glob("*.pst"))
    assert postings
    for path in postings:
        _garble(path)
    for words in (["daily", "limit"], ["E1001"], ["card", "declined", "expired", "limit", "verification"]):
        proc = kb_run(fixture_kb, index, "search", "--json", *words)
        assert_no_crash(proc)
        assert proc.returncode in (Exit.OK, Exit.NO_MATCH), proc.stderr
        json.loads(proc.stdout)


# -- 6. a reader that opened the live generation just before a build publishes ---------


@pytest.mark.parametrize("build", [
    pytest.param("update", id="update"),
    pytest.param("full", id="full"),
])
def test_search_that_opened_the_previous_generation_survives_a_publish(fixture_kb: Path, tmp_path: Path,
                                                                        build: str) -> None:
    """store.py: 'the previous generation is kept so a reader that read the
    old pointer a moment ago can still open it'. The interleaving is forced:
    the build runs (as a real process) between opening the index and searching it."""
    index = tmp_path / "index"
    assert index_json(fixture_kb, index)["total"] == 5
    live = store.read_pointer(index)
    assert live is not None
    kb = KnowledgeBase(fixture_kb, index)
    opened = kb.ensure_fresh

    def open_then_someone_publishes() -> Any:
        ix = opened()
        if build == "update":
            (fixture_kb / "late.md").write_text(article_text("late", title="Late", en='"Quokka refused"',
                                                             zh='"迟到"'), encoding="utf-8")
        report = index_json(fixture_kb, index, *(["--full"] if build == "full" else []))
        assert report["generation"] != live.generation  # a new generation was published
        return ix

    kb.ensure_fresh = open_then_someone_publishes  # type: ignore[method-assign]
    try:
        result = kb.search("daily limit")
    except Exception as exc:  # what `kb search` reports as an internal error (exit 70)
        raise AssertionError(f"search failed: {exc!r}") from exc
    assert [hit.id for hit in result.hits][:1] == ["alibaba-limit"]
