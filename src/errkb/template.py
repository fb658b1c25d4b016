"""The skeleton of a new article: every field and section in place, so an
editor fills in text instead of remembering the format."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from .errors import ErrkbError
from .validate import ID_PATTERN

TEMPLATE = """---
id: {id}
title: "{title}"
platforms: [{platforms}]
causes: [{causes}]
messages:
  en:
    - "TODO: the English message exactly as the app shows it"
  zh:
    - "TODO：应用中显示的中文提示"
codes: []
related: []
sources: []
updated: {today}
---

## What you see

TODO: what the screen or SMS shows, in both languages where it helps.

## Why it happens

TODO: the cause, per the guides; where they disagree, say which platform each applies to.

## Fixes

1. **{first_platform}:** TODO: the most likely and cheapest fix first, and where to tap.

## Prevention

- TODO

## Related

"""


def render_template(article_id: str, platforms: list[str], causes: list[str],
                    title: str | None = None, today: date | None = None) -> str:
    from .tags import PLATFORMS

    return TEMPLATE.format(
        id=article_id,
        title=(title or "TODO: the symptom in the user's words").replace('"', "'"),
        platforms=", ".join(platforms),
        causes=", ".join(causes),
        today=(today or date.today()).isoformat(),
        first_platform=PLATFORMS[platforms[0]] if len(platforms) == 1 else "All platforms",
    )


def create_article(kb_dir: Path, article_id: str, platforms: list[str], causes: list[str],
                   title: str | None = None) -> Path:
    """Write `kb/<id>.md` from the template; never overwrites an existing file."""
    if not ID_PATTERN.match(article_id):
        raise ErrkbError(f"id {article_id!r} must be lowercase letters, digits and hyphens")
    if not platforms or not causes:
        raise ErrkbError("a new article needs at least one --platform and one --cause")
    path = kb_dir / f"{article_id}.md"
    text = render_template(article_id, platforms, causes, title)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        raise ErrkbError(f"{path} already exists; not overwriting it") from None
    except OSError as exc:
        raise ErrkbError(f"cannot create {path}: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path
