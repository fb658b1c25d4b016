"""A fuzzer for the index folder (issue 12, "beyond the list").

Seeded, so every run tries the same cases and a failure names its seed. Each
case takes a good index errkb built and damages one thing: a file of the live
generation (truncated, garbled, emptied, replaced by a planted pickle, by a
symlink to one, by a folder or a FIFO), the pointer (garbled, or naming
`../`, absolute, nested, non-digit or symlinked generations), or plants a
whole index elsewhere and points at it. Then it asserts, for `kb search`,
`kb index` and a search after that:

- no code runs (a planted pickle would create a marker file);
- no traceback, no internal error (exit 70);
- a search answers from a good index or the in-memory fallback (the right
  article first), or fails with exit 4 naming the index path; it is never
  "no match";
- `kb index` succeeds or exits 4 naming the path, and afterwards searches
  answer.

The fast suite runs the cases in-process (CliRunner); the slow test runs a
sample as real processes and records the worst time and peak memory.
"""

from __future__ import annotations

import json
import os
import pickle
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from errkb import store
from errkb.cli import cli
from errkb.exitcodes import Exit
from errkb.indexer import update_index

QUERY = ("daily", "limit")
EXPECTED = "alibaba-limit"
#: Seeds per (file, damage) pair: random lengths and bytes differ per seed.
SEEDS = 3


class Plant:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.marker), "w"))


Damage = Callable[[Path, random.Random, Path], None]


def truncate(path: Path, rng: random.Random, marker: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: rng.randrange(len(data) + 1)] if data else b"")


def garble(path: Path, rng: random.Random, marker: Path) -> None:
    data = bytearray(path.read_bytes())
    for _ in range(max(1, len(data) // 50)):
        if data:
            data[rng.randrange(len(data))] = rng.randrange(256)
    path.write_bytes(bytes(data))


def empty(path: Path, rng: random.Random, marker: Path) -> None:
    path.write_bytes(b"")


def plant(path: Path, rng: random.Random, marker: Path) -> None:
    """The whole file, or its tail from a random offset, replaced by a pickle that runs code."""
    data = path.read_bytes()
    cut = rng.choice([0, rng.randrange(len(data) + 1) if data else 0])
    path.write_bytes(data[:cut] + pickle.dumps(Plant(marker), rng.choice([2, 4, 5])))


def symlink_out(path: Path, rng: random.Random, marker: Path) -> None:
    outside = marker.with_name(f"outside-{path.name}")
    outside.write_bytes(path.read_bytes()[:16] + pickle.dumps(Plant(marker), 2))
    path.unlink()
    path.symlink_to(outside)


def folder(path: Path, rng: random.Random, marker: Path) -> None:
    path.unlink()
    path.mkdir()


def fifo(path: Path, rng: random.Random, marker: Path) -> None:
    path.unlink()
    os.mkfifo(path)


DAMAGES: dict[str, Damage] = {"truncate": truncate, "garble": garble, "empty": empty, "plant": plant,
                              "symlink": symlink_out, "folder": folder, "fifo": fifo}


def pointer_names(index: Path, outside: Path) -> list[str]:
    rel = os.path.relpath(outside, index)
    return [str(outside), rel, f"gen-000001/{rel}", "gen-", "gen-abc", "gen-1e9", "gen-00001/..", "GEN-000001",
            "gen-" + "9" * 40, "gen-٣", ".", "..", "", "gen-000001\x00", f"gen-000001/../{rel}"]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(kb, a good index of it, a planted errkb-built index elsewhere)."""
    from conftest import FIXTURE_KB

    root = tmp_path_factory.mktemp("fuzz")
    kb = root / "kb"
    shutil.copytree(FIXTURE_KB, kb)
    index = root / "index"
    update_index(kb, index)
    other = root / "other"
    update_index(kb, other)
    return kb, index, other


def cases(index: Path) -> list[tuple[str, str, int]]:
    """(target, damage, seed): every file of the live generation, the pointer and the stamp."""
    pointer = store.read_pointer(index)
    assert pointer is not None
    names = sorted(p.name for p in (index / pointer.generation).iterdir())
    found = [(f"gen/{name}", damage, seed) for name in names for damage in DAMAGES for seed in range(SEEDS)]
    found += [(store.POINTER, damage, seed) for damage in ("truncate", "garble", "empty", "plant", "symlink",
                                                          "fifo") for seed in range(SEEDS)]
    found += [("pointer-name", str(i), 0) for i in range(15)]
    found += [("whole-index-elsewhere", "plant", 0)]
    return found


def prepare(case: tuple[str, str, int], pristine: tuple[Path, Path, Path], work: Path) -> tuple[Path, Path]:
    """A copy of the good index with `case` applied; returns (index, marker)."""
    kb, good, other = pristine
    index = work / "index"
    shutil.copytree(good, index, symlinks=True)
    marker = work / "pwned"
    target, damage, seed = case
    rng = random.Random(f"{target}/{damage}/{seed}")
    pointer = store.read_pointer(index)
    assert pointer is not None
    data = json.loads((index / store.POINTER).read_text())
    if target.startswith("gen/"):
        DAMAGES[damage](index / pointer.generation / target[4:], rng, marker)
    elif target == store.POINTER:
        DAMAGES[damage](index / store.POINTER, rng, marker)
    else:
        planted_other = work / "other"
        shutil.copytree(other, planted_other)
        other_pointer = store.read_pointer(planted_other)
        assert other_pointer is not None
        outside = planted_other / other_pointer.generation
        for toc in outside.glob("*.toc"):
            plant(toc, rng, marker)
        if target == "pointer-name":
            data["generation"] = pointer_names(index, outside)[int(damage)]
        else:  # a symlinked generation under a good name, the stamp copied too
            shutil.rmtree(index / pointer.generation)
            (index / pointer.generation).symlink_to(outside, target_is_directory=True)
        (index / store.POINTER).write_text(json.dumps(data))
    return index, marker


def run(kb: Path, index: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--kb-dir", str(kb), "--index-dir", str(index), *args])  # type: ignore[arg-type]


def check_search(result: Result, index: Path) -> None:
    text = result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in text and "internal error" not in text, text
    if result.exit_code == Exit.INDEX:
        assert str(index) in result.stderr and result.stderr.count("kb: error:") == 1, result.stderr
        return
    assert result.exit_code == Exit.OK, f"exit {result.exit_code}: {text[-400:]}"
    assert json.loads(result.stdout)["results"][0]["id"] == EXPECTED


def one_case(case: tuple[str, str, int], pristine: tuple[Path, Path, Path], work: Path) -> None:
    kb = pristine[0]
    index, marker = prepare(case, pristine, work)
    check_search(run(kb, index, "search", "--json", *QUERY), index)
    built = run(kb, index, "index")
    assert built.exit_code in (Exit.OK, Exit.INDEX), built.output
    assert "Traceback" not in built.output and "internal error" not in built.output, built.output
    if built.exit_code == Exit.INDEX:
        assert str(index) in built.stderr
    check_search(run(kb, index, "search", "--json", *QUERY), index)
    assert not marker.exists(), "a planted pickle ran"


def run_cases(all_cases: list[tuple[str, str, int]], pristine: tuple[Path, Path, Path], tmp_path: Path) -> None:
    problems: list[str] = []
    worst = (0.0, "")
    for number, case in enumerate(all_cases):
        work = tmp_path / f"case-{number}"
        work.mkdir()
        started = time.perf_counter()
        try:
            one_case(case, pristine, work)
        except AssertionError as exc:
            problems.append(f"{case}: {str(exc)[:300]}")
        took = time.perf_counter() - started
        worst = max(worst, (took, str(case)))
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nindex fuzz: {len(all_cases)} cases, slowest {worst[0]:.2f}s ({worst[1]})")
    assert not problems, f"{len(problems)} of {len(all_cases)} cases failed:\n" + "\n".join(problems[:20])


def test_a_sample_of_damaged_or_planted_index_folders(pristine: tuple[Path, Path, Path], tmp_path: Path) -> None:
    """The fast suite's share: a fixed sample, every kind of target included."""
    every = cases(pristine[1])
    sample = random.Random(7).sample(every, 24)
    sample += [c for c in every if c[0] in ("pointer-name", "whole-index-elsewhere")][::4]
    run_cases(sample, pristine, tmp_path)


@pytest.mark.slow
def test_every_damage_of_every_index_file(pristine: tuple[Path, Path, Path], tmp_path: Path) -> None:
    every = cases(pristine[1])
    assert len(every) > 200
    run_cases(every, pristine, tmp_path)


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="peak RSS from wait4: Linux")
def test_damaged_index_folders_as_real_processes(pristine: tuple[Path, Path, Path], tmp_path: Path) -> None:
    """A sample of the cases as real `kb search` processes: the same outcomes,
    and the worst time and peak memory (ru_maxrss of each process) recorded."""
    kb = pristine[0]
    sample = random.Random(12).sample(cases(pristine[1]), 60)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ERRKB_")}
    worst_time, worst_rss, problems = 0.0, 0, []
    for number, case in enumerate(sample):
        work = tmp_path / f"case-{number}"
        work.mkdir()
        index, marker = prepare(case, pristine, work)
        argv = [sys.executable, "-m", "errkb", "--kb-dir", str(kb), "--index-dir", str(index),
                "search", "--json", *QUERY]
        out_path, err_path = work / "out", work / "err"
        started = time.perf_counter()
        with out_path.open("wb") as out_file, err_path.open("wb") as err_file:
            proc = subprocess.Popen(argv, stdout=out_file, stderr=err_file, env=env)
            _, status, usage = os.wait4(proc.pid, 0)  # the process's own peak RSS
        proc.returncode = os.waitstatus_to_exitcode(status)
        took = time.perf_counter() - started
        worst_time, worst_rss = max(worst_time, took), max(worst_rss, usage.ru_maxrss)
        out, err = out_path.read_bytes(), err_path.read_bytes()
        stderr = err.decode("utf-8", "replace")
        try:
            assert not marker.exists(), "a planted pickle ran"
            assert "Traceback" not in stderr and proc.returncode != Exit.INTERNAL, stderr
            if proc.returncode == Exit.INDEX:
                assert str(index) in stderr
            else:
                assert proc.returncode == Exit.OK, stderr
                assert json.loads(out)["results"][0]["id"] == EXPECTED
        except AssertionError as exc:
            problems.append(f"{case}: {str(exc)[:300]}")
    print(f"\nindex fuzz (processes): {len(sample)} cases, worst {worst_time:.2f}s, "
          f"peak RSS of any search {worst_rss / 1024:.0f} MB")
    assert not problems, "\n".join(problems[:20])

