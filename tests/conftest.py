"""Shared fixtures: small real knowledge bases in temporary folders."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_KB = Path(__file__).with_name("fixtures") / "kb"
REAL_KB = ROOT / "kb"
SHARED = ROOT.parent / "shared"


def article_text(
    article_id: str,
    *,
    title: str = "Card declined at checkout",
    platforms: str = "[taobao, alipay]",
    causes: str = "[card-settings]",
    en: str = '"Payment declined by the bank"',
    zh: str = '"银行拒绝了此次付款"',
    codes: str = "[]",
    related: str = "[]",
    fixes: str = "1. **Alipay:** Re-add the card under Me › Bank Cards.\n2. **All platforms:** Call the bank.",
    what: str = "The checkout says the payment was declined.",
    why: str = "The bank refuses online payments.",
    extra_front: str = "",
) -> str:
    """A valid article with the given parts; tests break one part at a time."""
    return f"""---
id: {article_id}
title: "{title}"
platforms: {platforms}
causes: {causes}
messages:
  en:
    - {en}
  zh:
    - {zh}
codes: {codes}
related: {related}
sources: [000_ad49c72d41dfeb65.txt]
updated: 2026-11-01
{extra_front}---

## What you see

{what}

## Why it happens

{why}

## Fixes

{fixes}

## Prevention

- Keep the card enabled for online payments.

## Related

"""


WriteArticle = Callable[..., Path]


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    """An empty knowledge base folder."""
    path = tmp_path / "kb"
    path.mkdir()
    return path


@pytest.fixture
def index_dir(tmp_path: Path) -> Path:
    return tmp_path / "index"


@pytest.fixture
def write_article(kb_dir: Path) -> WriteArticle:
    """Write `kb/<id>.md` from `article_text` (or raw text) and return its path."""

    def write(article_id: str, raw: str | None = None, **parts: str) -> Path:
        path = kb_dir / f"{article_id}.md"
        path.write_text(raw if raw is not None else article_text(article_id, **parts), encoding="utf-8")
        return path

    return write


@pytest.fixture
def fixture_kb(tmp_path: Path) -> Path:
    """A copy of tests/fixtures/kb (articles with error codes) to edit freely."""
    target = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, target)
    return target


@pytest.fixture(autouse=True)
def _own_user_folders(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's own config file or writes their cache
    folder (platformdirs follows the XDG variables; subprocesses inherit them)."""
    user = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(user / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(user / "cache"))
    monkeypatch.delenv("ERRKB_CONFIG", raising=False)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def requires_shared() -> pytest.MarkDecorator:
    return pytest.mark.skipif(
        not SHARED.is_dir(),
        reason=f"{SHARED} is absent (a user's clone has no ../shared); CI provides it",
    )


def read_all(leader: int, proc: subprocess.Popen[bytes], until: bytes | None = None,
             timeout: float = 60) -> bytes:
    """Read the pty until the process ends (or `until` appears)."""
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                data = os.read(leader, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
            if until is not None and until in b"".join(chunks):
                break
        elif proc.poll() is not None and until is None:
            break
    return b"".join(chunks)
