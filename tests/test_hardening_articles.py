"""Hostile and careless articles (issue 12): each case reproduces a failure
seen before its fix, through the real CLI on a copy of tests/fixtures/kb or
through the core API."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from conftest import article_text
from errkb.cli import cli
from errkb.exitcodes import Exit

FIXTURE_IDS = {"alibaba-limit", "card-expired-e1001", "gateway-system-error", "identity-outdated",
               "phone-number-differs"}


def run(runner: CliRunner, kb: Path, index: Path, *args: str) -> Result:
    return runner.invoke(cli, ["--kb-dir", str(kb), "--index-dir", str(index), *args])


def browse_ids(runner: CliRunner, kb: Path, index: Path) -> set[str]:
    result = run(runner, kb, index, "browse", "--json")
    assert result.exit_code == Exit.OK, result.output
    return {a["id"] for a in json.loads(result.stdout)["articles"]}


def check_json(runner: CliRunner, kb: Path, index: Path) -> list[dict[str, object]]:
    result = run(runner, kb, index, "check", "--format", "json")
    assert result.exit_code in (Exit.OK, Exit.NO_MATCH), result.output
    data = json.loads(result.stdout)
    return data["findings"] if isinstance(data, dict) else data


def front(extra: str) -> str:
    """A valid article `bad` with `extra` added to its front matter (line 15 on)."""
    return article_text("bad", title="Bad one", en='"Bad"', zh='"坏"', extra_front=extra)


# --- row 2: YAML values that Python cannot construct --------------------------------------------

@pytest.mark.parametrize(("text", "line"), [
    (front("").replace("updated: 2026-11-01", "updated: 2026-02-30"), 14),
    (front("").replace("updated: 2026-11-01", "updated: 2026-13-01"), 14),
    (front("").replace("updated: 2026-11-01", "updated: !!int abc"), 14),
    (front("").replace("updated: 2026-11-01", "updated: " + "9" * 5000), 14),
    (front("").replace("codes: []", "codes: [2026-99-99]"), 11),
    (front("").replace("updated: 2026-11-01", "updated: !!timestamp abc"), 14),
    (front("").replace("updated: 2026-11-01", "updated: !!binary aGk="), 14),
])
def test_yaml_value_typos_are_a_finding_naming_the_line(runner: CliRunner, fixture_kb: Path,
                                                        index_dir: Path, text: str, line: int) -> None:
    (fixture_kb / "bad.md").write_text(text, encoding="utf-8")
    result = run(runner, fixture_kb, index_dir, "check")
    assert result.exit_code == Exit.NO_MATCH, result.output  # 1: errors found, not 70
    assert f"bad.md:{line}: E004 " in result.stdout
    assert browse_ids(runner, fixture_kb, index_dir) == FIXTURE_IDS
    searched = run(runner, fixture_kb, index_dir, "search", "daily", "limit")
    assert searched.exit_code == Exit.OK and "alibaba-limit" in searched.stdout


# --- row 3: deep nesting, bounded before YAML parses it ------------------------------------------

@pytest.mark.parametrize("nest", [
    "deep: " + "[" * 100_000 + "\n",
    "deep: " + "{a: " * 50_000 + "\n",
    "deep:\n" + "".join(" " * n + "- \n" for n in range(0, 400, 2)),
    "deep: " + "- " * 50_000 + "x\n",
    "deep: '" + "x" * 200_000 + "'\n",
])
def test_deep_or_huge_front_matter_is_a_finding_not_a_crash(runner: CliRunner, fixture_kb: Path,
                                                            index_dir: Path, nest: str) -> None:
    (fixture_kb / "bad.md").write_text(front(nest), encoding="utf-8")
    started = time.perf_counter()
    result = run(runner, fixture_kb, index_dir, "check")
    assert time.perf_counter() - started < 5
    assert result.exit_code == Exit.NO_MATCH, result.output
    assert "bad.md:" in result.stdout and " E020 " in result.stdout
    assert browse_ids(runner, fixture_kb, index_dir) == FIXTURE_IDS


# --- row 13: YAML alias bomb ---------------------------------------------------------------------

ALIAS_BOMB = "".join(
    [f"l0: &l0 [{', '.join(['x'] * 9)}]\n"]
    + [f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]\n" for n in range(1, 9)])


@pytest.mark.parametrize("extra", [ALIAS_BOMB, "a: &one x\n", "b: &one [x]\nc: *one\n"])
def test_yaml_anchors_and_aliases_are_refused(runner: CliRunner, fixture_kb: Path, index_dir: Path,
                                              extra: str) -> None:
    (fixture_kb / "bad.md").write_text(front(extra), encoding="utf-8")
    result = run(runner, fixture_kb, index_dir, "check")
    assert result.exit_code == Exit.NO_MATCH
    assert "bad.md:15: E021 " in result.stdout
    assert browse_ids(runner, fixture_kb, index_dir) == FIXTURE_IDS
    shown = run(runner, fixture_kb, index_dir, "show", "bad", "--json")
    assert shown.exit_code == Exit.NO_MATCH and len(shown.stdout) < 10_000
