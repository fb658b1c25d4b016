"""Front-matter fuzzing (issue 12, "beyond the list"): hypothesis writes YAML
edge cases (deep nesting, huge scalars, odd encodings, control characters,
impossible dates, tags, anchors and aliases) into an article, and errkb must

- never raise while parsing and checking it, and name the file in every finding;
- finish within a bounded time per article;
- keep every other article in `kb check`'s clean set and in the index.

Counts and the worst time are written to build/fuzz-articles.json at the
end of the module. `FUZZ_EXAMPLES=2000 pytest tests/test_fuzz_articles.py -m slow`
runs the long version.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import tracemalloc
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import FIXTURE_KB, ROOT, article_text
from errkb.kbfiles import MAX_ARTICLE_BYTES
from errkb.validate import check_kb, examine

TODAY = date(2026, 11, 21)
FIXTURE_IDS = {p.stem for p in FIXTURE_KB.glob("*.md")}
#: Per-article bound asserted on every example (the real figure is far lower).
SECONDS_PER_ARTICLE = 2.0
STATS: dict[str, Any] = {"cases": 0, "kb_cases": 0, "worst_seconds": 0.0, "worst_case": "",
                         "worst_peak_bytes": 0, "codes": {}}
SLOW_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "1000"))
FAST = settings(max_examples=120, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# --- strategies ------------------------------------------------------------------------------

CONTROL = st.sampled_from(["\x00", "\x07", "\x08", "\x0b", "\x0c", "\r", "\x1b", "\x1b[2J", "\x1b]52;c;eA==\x07",
                           "\x7f", "\x85", "\x9b", "\u2028", "\ufeff", "\ud800"])
WORDS = st.text(alphabet=st.characters(codec="utf-8"), max_size=40) | CONTROL
DATES = st.builds(lambda y, m, d: f"{y:04d}-{m:02d}-{d:02d}", st.integers(0, 9999), st.integers(0, 99),
                  st.integers(0, 99)) | st.sampled_from(["2026-02-30", "2026-13-01", "2026-11-01 25:61:61",
                                                         "2026-11-01T10:00:00+99:00"])
NUMBERS = st.builds(lambda n, e: "9" * n + e, st.integers(1, 6000), st.sampled_from(["", ".5", "e999", "e-999"]))
TAGS = st.sampled_from(["!!int abc", "!!float x", "!!binary aGk=", "!!binary '@@@'", "!!timestamp abc",
                        "!!set {a, b}", "!!omap [a: 1]", "!!python/object/apply:os.system [echo]",
                        "!foo bar", "! plain", "!<tag:yaml.org,2002:str> x", "!!str 3", "!!null ''"])
ALIASES = st.sampled_from(["&a x", "*a", "&a [1, 2]", "[*a, *a]", "&a {k: *a}", "<<: *a"])


def nested(depth: int, kind: str) -> str:
    if kind == "flow-list":
        return "[" * depth + "x" + "]" * depth
    if kind == "flow-map":
        return "{a: " * depth + "x" + "}" * depth
    if kind == "unclosed":
        return "[" * depth
    if kind == "dashes":
        return "- " * depth + "x"
    return "\n" + "".join(" " * (2 * n) + "- \n" for n in range(min(depth, 900)))  # < 1 MiB


NESTING = st.builds(nested, st.integers(1, 100_000) | st.integers(1, 40),
                    st.sampled_from(["flow-list", "flow-map", "unclosed", "dashes", "block"]))
HUGE = st.builds(lambda c, n, q: q + c * n + q, st.sampled_from(["x", "[", " ", "'", "\\", "中", "#"]),
                 st.integers(1, 300_000), st.sampled_from(["", "'", '"']))
VALUES = (WORDS.map(json.dumps) | WORDS | DATES | NUMBERS | TAGS | ALIASES | NESTING | HUGE
          | st.builds(lambda a, b: f"[{a}, {b}]", WORDS.map(json.dumps), DATES | TAGS | ALIASES))
KEYS = st.sampled_from(["id", "title", "platforms", "causes", "messages", "codes", "related", "sources",
                        "updated", "extra", "? [a, b]", "'quoted key'", "<<", "1", "null", "~"])
ENCODINGS = st.sampled_from(["utf-8"] * 6 + ["utf-8-sig", "utf-16", "utf-16-le", "latin-1", "gbk", "bad-bytes"])


@st.composite
def hostile_articles(draw: st.DrawFn) -> bytes:
    """A valid article with one to three front-matter lines replaced or added,
    written in one of several encodings."""
    lines = article_text("fuzzed", title="Fuzzed", en='"fuzz"', zh='"模糊"').split("\n")
    for _ in range(draw(st.integers(1, 3))):
        line = f"{draw(KEYS)}: {draw(VALUES)}"
        position = draw(st.integers(1, 14))
        if draw(st.booleans()):
            lines[position] = line
        else:
            lines.insert(position, line)
    text = "\n".join(lines)[: MAX_ARTICLE_BYTES // 4]  # read_bytes refuses bigger files (E019)
    encoding = draw(ENCODINGS)
    if encoding == "bad-bytes":
        return text.encode("utf-8", "surrogatepass") + b"\xff\xfe\xc3("
    return text.encode(encoding, "surrogatepass" if encoding.startswith("utf") else "replace")


# --- properties ------------------------------------------------------------------------------

def examine_one(raw: bytes, path: Path, *, measure_memory: bool = False) -> list[Any]:
    if measure_memory:
        tracemalloc.start()
    started = time.perf_counter()
    article, findings = examine(path, raw, TODAY, 365)  # must not raise
    seconds = time.perf_counter() - started
    if measure_memory:
        STATS["worst_peak_bytes"] = max(STATS["worst_peak_bytes"], tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    STATS["cases"] += 1
    if seconds > STATS["worst_seconds"]:
        STATS["worst_seconds"], STATS["worst_case"] = seconds, repr(raw[:120])
    assert seconds < SECONDS_PER_ARTICLE, raw[:200]
    assert all(f.path == str(path) for f in findings)
    assert article is not None or any(f.is_error for f in findings)
    for finding in findings:
        STATS["codes"][finding.code] = STATS["codes"].get(finding.code, 0) + 1
        str(finding).encode("utf-8")  # printable
        json.dumps(finding.as_dict())
    return findings


@FAST
@given(hostile_articles())
def test_hostile_front_matter_never_raises_and_names_the_file(raw: bytes) -> None:
    examine_one(raw, Path("kb/fuzzed.md"))


@pytest.fixture(scope="module")
def fuzz_kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("fuzz") / "kb"
    shutil.copytree(FIXTURE_KB, target)
    return target


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(raw=hostile_articles())
def test_one_bad_file_never_takes_the_others_out_of_check_or_the_index(raw: bytes, fuzz_kb: Path,
                                                                       tmp_path_factory: pytest.TempPathFactory) -> None:
    from errkb.indexer import update_index

    (fuzz_kb / "fuzzed.md").write_bytes(raw)
    started = time.perf_counter()
    result = check_kb(fuzz_kb, today=TODAY)
    assert {a.id for a in result.valid_articles()} >= FIXTURE_IDS
    assert all(f.path.startswith(str(fuzz_kb)) for f in result.findings)
    report = update_index(fuzz_kb, tmp_path_factory.mktemp("ix"), today=TODAY)
    assert report.total >= len(FIXTURE_IDS)
    assert not any(Path(f.path).stem in FIXTURE_IDS for f in report.invalid)
    STATS["kb_cases"] += 1
    assert time.perf_counter() - started < 10


@pytest.mark.slow
@settings(max_examples=SLOW_EXAMPLES, deadline=None, derandomize=False,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(hostile_articles())
def test_hostile_front_matter_long_run_with_memory(raw: bytes) -> None:
    examine_one(raw, Path("kb/fuzzed.md"), measure_memory=True)


@pytest.fixture(scope="module", autouse=True)
def _write_stats() -> Any:
    yield
    out = ROOT / "build" / "fuzz-articles.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    STATS["codes"] = dict(sorted(STATS["codes"].items()))
    out.write_text(json.dumps(STATS, indent=1) + "\n", encoding="utf-8")
