"""Split the blind query batches once, by a fixed seed, into eval/'s tuning and held-out halves.

The batches were written by helpers who saw only the five guides and the
topic list (not the articles, not dev.jsonl, not each other's batches). Each
batch is halved kind by kind, so both halves hold every writer and every kind.
Run once; the halves are committed and never re-split (a re-split would leak
held-out queries into tuning).

    python scripts/split_blind.py DIR   # DIR holds batch-N.jsonl and offtopic-N.jsonl

A batch written later (one kind, say `batch-api.jsonl`) is split the same
way into its own pair, eval/tuning-api.jsonl and eval/heldout-api.jsonl,
leaving the first split as it is:

    python scripts/split_blind.py --added DIR/batch-api.jsonl
"""

from __future__ import annotations

import json
import random
import sys
from collections import defaultdict
from pathlib import Path

SEED = 20261201
EVAL = Path(__file__).resolve().parents[1] / "eval"


def halves(rows: list[dict[str, object]], rng: random.Random) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    by_kind: dict[object, list[dict[str, object]]] = defaultdict(list)
    for row in rows:
        by_kind[row["kind"]].append(row)
    tuning, heldout = [], []
    for kind in sorted(by_kind, key=str):
        group = by_kind[kind]
        rng.shuffle(group)
        # An odd one goes to the held-out half: report on at least as much as is tuned on.
        cut = len(group) // 2
        tuning += group[:cut]
        heldout += group[cut:]
    return tuning, heldout


def write(path: Path, rows: list[dict[str, object]]) -> None:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")


def split_added(path: Path) -> None:
    name = path.stem.split("-", 1)[1]
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for number, row in enumerate(rows, 1):
        row["id"] = f"b{name}-{number:03d}"
    tuning, heldout = halves(rows, random.Random(f"{SEED}:{name}"))
    for half, chosen in (("tuning", tuning), ("heldout", heldout)):
        write(EVAL / f"{half}-{name}.jsonl", chosen)
        print(f"{half}-{name}: {len(chosen)}", file=sys.stderr)


def main() -> int:
    if sys.argv[1] == "--added":
        split_added(Path(sys.argv[2]))
        return 0
    source = Path(sys.argv[1])
    rng = random.Random(SEED)
    out: dict[str, list[dict[str, object]]] = defaultdict(list)
    for prefix, name in (("batch", ""), ("offtopic", "offtopic-")):
        for path in sorted(source.glob(f"{prefix}-*.jsonl")):
            batch = path.stem.split("-")[-1]
            rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
            for number, row in enumerate(rows, 1):
                row["id"] = f"{prefix[0]}{batch}-{number:03d}"
            tuning, heldout = halves(rows, rng)
            out[f"{name}tuning"] += tuning
            out[f"{name}heldout"] += heldout
    for name, rows in out.items():
        write(EVAL / f"{name}.jsonl", rows)
        print(f"{name}: {len(rows)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
