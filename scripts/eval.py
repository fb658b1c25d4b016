"""`make eval`: search quality on graded queries, errkb beside plain Whoosh.

Prints hit@1, R@3, MRR, nDCG@5, no-result and confident shares per query kind
and overall, for errkb's real search path and for a plain-Whoosh baseline
built from the same articles; then how many of errkb's own off-topic queries
are reported as "no confident match". Writes build/eval.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from errkb.evaluation import (  # noqa: E402
    baseline_ranker,
    errkb_ranker,
    evaluate,
    load_queries,
    not_confident_share,
)
from errkb.kb import KnowledgeBase  # noqa: E402

DEFAULT_QUERIES = ROOT.parent / "shared" / "eval" / "dev.jsonl"
OFFTOPIC = ROOT / "eval" / "offtopic.txt"
METRICS = ("hit@1", "R@3", "MRR", "nDCG@5", "no_result", "confident")


def use_jieba() -> None:
    """Segment Chinese with jieba's search mode instead of bigrams, in this process."""
    import jieba

    from errkb import analysis

    def jieba_terms(run: str, start: int):  # type: ignore[no-untyped-def]
        for word, begin, end in jieba.tokenize(run, mode="search"):
            yield word, start + begin, start + end

    analysis.segment_cjk = jieba_terms


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queries", type=Path, default=DEFAULT_QUERIES, help="JSON Lines of graded queries")
    parser.add_argument("--kb-dir", type=Path, default=ROOT / "kb")
    parser.add_argument("--misses", action="store_true", help="list the queries errkb does not rank first")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "eval.json")
    parser.add_argument("--cjk", choices=["bigram", "jieba"], default="bigram",
                        help="Chinese segmentation to measure (jieba must be installed; not a dependency)")
    args = parser.parse_args()
    if args.cjk == "jieba":
        use_jieba()
    if not args.queries.exists():
        print(f"eval: no query set at {args.queries} (it lives in ../shared, beside the repository)", file=sys.stderr)
        return 2
    queries = load_queries(args.queries)
    offtopic = [line.strip() for line in OFFTOPIC.read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.startswith("#")]
    with tempfile.TemporaryDirectory() as tmp:
        kb = KnowledgeBase(args.kb_dir, Path(tmp) / "index")
        ours = errkb_ranker(kb)
        base = baseline_ranker(args.kb_dir, Path(tmp) / "baseline")
        results = {"errkb": evaluate(queries, ours), "baseline": evaluate(queries, base)}
        off = {"errkb": not_confident_share(offtopic, ours), "baseline": not_confident_share(offtopic, base)}

    print(f"{len(queries)} queries from {args.queries}; articles from {args.kb_dir}")
    print(f"{'kind':<11} {'n':>3}  " + "  ".join(f"{m:>17}" for m in METRICS))
    print(f"{'':<11} {'':>3}  " + "  ".join(f"{'errkb / baseline':>17}" for _ in METRICS))
    kinds = ["all"] + sorted(k for k in results["errkb"] if k != "all")
    table = {}
    for kind in kinds:
        mine = results["errkb"][kind].averaged()
        theirs = results["baseline"][kind].averaged()
        table[kind] = {"errkb": mine, "baseline": theirs}
        cells = "  ".join(f"{mine[m]:>8.3f} / {theirs[m]:<6.3f}" for m in METRICS)
        print(f"{kind:<11} {mine['n']:>3}  {cells}")
    print(f"off-topic ({len(offtopic)} own queries) reported not confident: "
          f"errkb {off['errkb']:.2f} / baseline {off['baseline']:.2f}")
    if args.misses:
        for query in results["errkb"]["all"].misses:
            print(f"  miss: {query}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"kinds": table, "offtopic_not_confident": off}, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
