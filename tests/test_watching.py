"""The folder watch a server uses instead of a `stat` per article per request."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
from flask import Flask

from errkb.watching import watch
from errkb.web.app import create_app, shared_kb

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux's")


@linux_only
def test_every_kind_of_edit_is_reported_once(tmp_path: Path) -> None:
    article = tmp_path / "a.md"
    article.write_text("one", encoding="utf-8")
    watcher = watch([tmp_path])
    assert watcher is not None
    assert not watcher.changed()
    edits = [
        lambda: article.write_text("two", encoding="utf-8"),  # in place
        lambda: os.utime(article, ns=(1, 1)),  # touched
        lambda: (tmp_path / "b.tmp").write_text("x", encoding="utf-8"),  # created
        lambda: os.replace(tmp_path / "b.tmp", article),  # saved by rename
        lambda: article.unlink(),  # deleted
    ]
    for edit in edits:
        edit()
        assert watcher.changed()
        assert not watcher.changed()
    assert not watcher.broken
    watcher.close()


@linux_only
def test_a_watched_folder_that_goes_away_breaks_the_watch(tmp_path: Path) -> None:
    folder = tmp_path / "kb"
    folder.mkdir()
    watcher = watch([folder])
    assert watcher is not None
    folder.rename(tmp_path / "moved")
    assert watcher.changed()
    (tmp_path / "moved").rmdir()
    watcher.changed()
    assert watcher.broken and watcher.changed()  # from now on only a stat can tell


def test_a_missing_folder_cannot_be_watched(tmp_path: Path) -> None:
    assert watch([tmp_path / "absent"]) is None


def _served(fixture_kb: Path, index_dir: Path) -> tuple[Flask, object]:
    app = create_app(fixture_kb, index_dir)
    with app.app_context():
        return app, shared_kb()


@linux_only
def test_watched_requests_check_only_after_a_change_and_see_every_edit(fixture_kb: Path, index_dir: Path) -> None:
    app, shared = _served(fixture_kb, index_dir)
    client = app.test_client()
    assert client.get("/api/search?q=identity").status_code == 200
    checks = shared.checks  # type: ignore[attr-defined]
    for _ in range(3):
        client.get("/api/search?q=identity")
    assert shared.checks == checks  # type: ignore[attr-defined]  # nothing changed: no stat of the articles
    path = fixture_kb / "identity-outdated.md"
    path.write_text(path.read_text(encoding="utf-8").replace(
        'title: "Identity verification expired"', 'title: "Identity check expired (edited)"'), encoding="utf-8")
    assert client.get("/api/search?q=identity+check+expired").get_json()["results"][0]["title"] == \
        "Identity check expired (edited)"
    assert shared.checks > checks  # type: ignore[attr-defined]


@linux_only
def test_a_build_by_another_process_is_seen(fixture_kb: Path, index_dir: Path) -> None:
    from errkb.kb import KnowledgeBase

    app, shared = _served(fixture_kb, index_dir)
    client = app.test_client()
    client.get("/browse")
    client.get("/browse")
    checks = shared.checks  # type: ignore[attr-defined]
    KnowledgeBase(fixture_kb, index_dir).build(full=True)  # no article changed; a new generation is live
    client.get("/browse")
    assert shared.checks == checks + 1  # type: ignore[attr-defined]


@linux_only
def test_watched_requests_still_check_now_and_then(fixture_kb: Path, index_dir: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from errkb.web import shared as shared_module

    app, shared = _served(fixture_kb, index_dir)
    client = app.test_client()
    client.get("/browse")
    checks = shared.checks  # type: ignore[attr-defined]
    monkeypatch.setattr(shared_module, "WATCHED_RECHECK", 0.0)  # a network filesystem reports nothing
    time.sleep(0.01)
    client.get("/browse")
    assert shared.checks == checks + 1  # type: ignore[attr-defined]


@linux_only
def test_an_edit_made_while_another_build_runs_shows_once_it_is_done(fixture_kb: Path, index_dir: Path) -> None:
    from errkb import store

    app, _ = _served(fixture_kb, index_dir)
    client = app.test_client()
    client.get("/browse")
    path = fixture_kb / "identity-outdated.md"
    with store.build_lock(index_dir, 0):  # another `kb index` holds the lock: the event is read, nothing is built
        path.write_text(path.read_text(encoding="utf-8").replace("Identity verification expired",
                                                                 "Identity expired (edited)"), encoding="utf-8")
        assert client.get("/api/search?q=identity").get_json()["results"][0]["title"] == \
            "Identity verification expired"
    # No new event after the lock is gone; the request still checks, since the last answer was from an older index.
    assert client.get("/api/search?q=identity").get_json()["results"][0]["title"] == "Identity expired (edited)"


@linux_only
def test_a_broken_watch_is_replaced_and_edits_still_show(fixture_kb: Path, index_dir: Path) -> None:
    app, shared = _served(fixture_kb, index_dir)
    client = app.test_client()
    client.get("/browse")
    first = shared._watch  # type: ignore[attr-defined]
    first.broken = True  # as after a queue overflow
    path = fixture_kb / "identity-outdated.md"
    path.write_text(path.read_text(encoding="utf-8").replace("Identity verification expired",
                                                             "Identity expired (edited)"), encoding="utf-8")
    assert client.get("/api/search?q=identity").get_json()["results"][0]["title"] == "Identity expired (edited)"
    assert shared._watch is not None and shared._watch is not first  # type: ignore[attr-defined]
    checks = shared.checks  # type: ignore[attr-defined]
    client.get("/browse")
    assert shared.checks == checks  # type: ignore[attr-defined]  # watched again: no stat without a change
