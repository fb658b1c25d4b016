"""Golden files: each tests/golden/<case>.md beside its expected parse <case>.json."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from errkb.article import parse_file
from errkb.errors import ArticleError

GOLDEN = Path(__file__).with_name("golden")
CASES = sorted(p.stem for p in GOLDEN.glob("*.md"))


def describe(path: Path) -> dict[str, Any]:
    """The parse of one file as plain data (what the golden JSON holds)."""
    try:
        article = parse_file(path)
    except ArticleError as exc:
        return {"error": {"line": exc.line, "code": exc.code}}
    return {
        "meta": {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in article.meta.items()},
        "key_lines": article.key_lines,
        "sections": [[s.title, s.line] for s in article.sections],
        "fixes": [{**f.as_json(), "line": f.line} for f in article.fixes],
        "warnings": [list(w) for w in article.warnings],
    }


@pytest.mark.parametrize("case", CASES)
def test_article_parses_as_its_golden_file(case: str) -> None:
    actual = describe(GOLDEN / f"{case}.md")
    expected_path = GOLDEN / f"{case}.json"
    if os.environ.get("ERRKB_UPDATE_GOLDEN"):
        expected_path.write_text(json.dumps(actual, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    assert actual == expected


def test_every_golden_article_has_an_expected_parse() -> None:
    assert CASES, "no golden cases found"
    missing = [c for c in CASES if not (GOLDEN / f"{c}.json").exists()]
    assert missing == []
