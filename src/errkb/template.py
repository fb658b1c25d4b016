"""The skeleton of a new article: every field and section in place, so an
editor fills in text instead of remembering the format."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from .errors import ErrkbError

#: The template's own sentences. `kb check` reports any of them (and the
#: word TODO) left in an article as E024; the template is built from them.
PLACEHOLDERS: tuple[str, ...] = (
    "the English message exactly as the app shows it",
    "应用中显示的中文提示",
    "what the screen or SMS shows, in both languages where it helps.",
    "the cause, per the guides; where they disagree, say which platform each applies to.",
    "the most likely and cheapest fix first, and where to tap.",
    "the symptom in the user's words",
)
PLACEHOLDER_TITLE = "TODO: " + PLACEHOLDERS[5]

TEMPLATE = """---
id: {id}
title: {title}
platforms: [{platforms}]
causes: [{causes}]
messages:
  en:
    - "TODO: {p[0]}"
  zh:
    - "TODO：{p[1]}"
codes: []
related: []
sources: []
updated: {today}
---

## What you see

TODO: {p[2]}

## Why it happens

TODO: {p[3]}

## Fixes

1. **{first_platform}:** TODO: {p[4]}

## Prevention

- TODO

## Related

"""


def yaml_string(text: str) -> str:
    """`text` as one double-quoted YAML scalar, written by PyYAML's emitter:
    backslashes, quotes, newlines and control characters escaped."""
    import yaml

    return yaml.safe_dump(text, default_style='"', allow_unicode=True, width=2**31 - 1).rstrip("\n")


def render_template(article_id: str, platforms: list[str], causes: list[str],
                    title: str | None = None, today: date | None = None) -> str:
    from .tags import PLATFORMS

    return TEMPLATE.format(
        p=PLACEHOLDERS,
        id=article_id,
        title=yaml_string(title or PLACEHOLDER_TITLE),
        platforms=", ".join(platforms),
        causes=", ".join(causes),
        today=(today or date.today()).isoformat(),
        first_platform=PLATFORMS[platforms[0]] if len(platforms) == 1 else "All platforms",
    )


def create_article(kb_dir: Path, article_id: str, platforms: list[str], causes: list[str],
                   title: str | None = None) -> Path:
    """Write `kb/<id>.md` from the template; never overwrites an existing file."""
    from .article import ID_PATTERN
    from .tags import CAUSES, PLATFORMS

    if not ID_PATTERN.match(article_id):
        raise ErrkbError(f"id {article_id!r} must be lowercase letters, digits and hyphens")
    if not platforms or not causes:
        raise ErrkbError("a new article needs at least one --platform and one --cause")
    unknown = [t for t in platforms if t not in PLATFORMS] + [t for t in causes if t not in CAUSES]
    if unknown:
        raise ErrkbError(f"unknown platform or cause: {', '.join(unknown)}")
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
