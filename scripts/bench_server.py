"""`make bench`, the server part: `kb serve` under load, on loopback only.

Per size (1,000 and 10,000 generated articles, from scripts/bench.py's own
generator and query maker: short words, a Chinese message, 1-2 KB pastes):
a real `kb serve --port 0` process, then
1. one client, keep-alive, sequential GET /api/search over the mixed queries:
   p50/p95 per kind and overall;
2. 20 concurrent clients (threads, one keep-alive connection each) sharing
   2,000 requests: errors, requests/s, p50/p95;
3. the server's peak RSS (VmHWM of its process).
Twice per size: the default (on Linux the kernel says when the folders
changed, see `errkb.watching`; elsewhere a check is reused for ten times as
long as it took) and `--recheck 0` (a stat of every article on every
request; for comparison, no goal). Prints the goals with PASS/FAIL; writes
build/bench/bench_server.json.

Usage: .venv/bin/python scripts/bench_server.py [--sizes 1000,10000] [--quick]
Every loop is bounded (request counts and a deadline); only 127.0.0.1 is used.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402  - the generator, the queries, the percentiles

OUT = bench.ROOT / "build" / "bench" / "bench_server.json"
CLIENTS = 20
CONCURRENT_REQUESTS = 2000
ONE_CLIENT_PER_KIND = 50
DEADLINE_S = 300.0  # per load phase: the loop stops there whatever is left
THREADS = 4
WORKERS = 2  # one per core: searching is CPU-bound, a process uses one core


def start_server(kb_dir: Path, index_dir: Path, recheck: float | None) -> tuple[subprocess.Popen[str], int]:
    fixed = [] if recheck is None else ["--recheck", str(recheck)]
    proc = subprocess.Popen([str(bench.KB), "--kb-dir", str(kb_dir), "--index-dir", str(index_dir), "serve",
                             "--port", "0", "--threads", str(THREADS), "--workers", str(WORKERS), *fixed],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert proc.stdout is not None
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        match = re.search(r"Serving on http://127\.0\.0\.1:(\d+)", line)
        if match:
            threading.Thread(target=proc.stdout.read, daemon=True).start()  # keep the pipe drained
            return proc, int(match.group(1))
    proc.kill()
    raise RuntimeError("kb serve did not start")


def peak_rss_mb(pid: int) -> dict[str, float]:
    """VmHWM of the server's parent and of each worker, and their sum."""
    def hwm(p: int) -> float:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return 0.0

    children = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    workers = [round(hwm(c), 1) for c in children]
    return {"parent": round(hwm(pid), 1), "workers": workers,  # type: ignore[dict-item]
            "total": round(hwm(pid) + sum(workers), 1)}


def get(conn: http.client.HTTPConnection, query: str) -> tuple[int, float]:
    started = time.perf_counter()
    conn.request("GET", "/api/search?q=" + quote(query))
    response = conn.getresponse()
    response.read()
    return response.status, time.perf_counter() - started


def one_client(port: int, queries: dict[str, list[str]]) -> dict[str, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    get(conn, "warm up")
    per_kind: dict[str, list[float]] = {}
    errors = 0
    deadline = time.monotonic() + DEADLINE_S
    mixed = [(kind, q) for i in range(ONE_CLIENT_PER_KIND) for kind, items in queries.items()
             for q in items[i:i + 1]]
    for kind, query in mixed:
        if time.monotonic() > deadline:
            break
        status, took = get(conn, query)
        errors += status != 200
        per_kind.setdefault(kind, []).append(took)
    conn.close()
    every = [t for times in per_kind.values() for t in times]
    result = {kind: {"p50_ms": bench.ms(statistics.median(t)), "p95_ms": bench.ms(bench.percentile(t, 95))}
              for kind, t in per_kind.items()}
    result["all"] = {"requests": len(every), "errors": errors, "p50_ms": bench.ms(statistics.median(every)),
                     "p95_ms": bench.ms(bench.percentile(every, 95))}
    return result


def concurrent(port: int, queries: dict[str, list[str]]) -> dict[str, Any]:
    mixed = [q for items in zip(*queries.values(), strict=False) for q in items]
    lock = threading.Lock()
    times: list[float] = []
    errors: list[str] = []
    counter = iter(range(CONCURRENT_REQUESTS))
    deadline = time.monotonic() + DEADLINE_S

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while time.monotonic() < deadline:
            with lock:
                number = next(counter, None)
            if number is None:
                break
            try:
                status, took = get(conn, mixed[number % len(mixed)])
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    errors.append(exc.__class__.__name__)
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                continue
            with lock:
                times.append(took)
                if status != 200:
                    errors.append(str(status))
        conn.close()

    started = time.perf_counter()
    workers = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    wall = time.perf_counter() - started
    done = len(times)
    return {"clients": CLIENTS, "requests": done, "errors": len(errors), "error_kinds": sorted(set(errors)),
            "seconds": round(wall, 2), "requests_per_s": round(done / wall, 1) if wall else 0.0,
            "p50_ms": bench.ms(statistics.median(times)) if times else None,
            "p95_ms": bench.ms(bench.percentile(times, 95)) if times else None}


def label(recheck: float | None) -> str:
    return "recheck=auto" if recheck is None else f"recheck={recheck:g}"


def bench_size(n: int, scratch: Path, vocab: bench.Vocabulary, rechecks: list[float | None]) -> dict[str, Any]:
    print(f"[{n:,} articles] generating and indexing ...", flush=True)
    gen = bench.generate_kb(scratch / f"kb-{n}", n, bench.SEED, vocab)
    queries = bench.make_queries(gen, vocab, bench.SEED, ONE_CLIENT_PER_KIND)
    index_dir = scratch / f"index-{n}"
    build = subprocess.run([str(bench.KB), "-q", "--kb-dir", str(gen.kb_dir), "--index-dir", str(index_dir),
                            "index", "--full"], capture_output=True, text=True, check=False)
    if build.returncode != 0:
        raise RuntimeError(f"kb index failed: {build.stderr[-500:]}")
    out: dict[str, Any] = {}
    for recheck in rechecks:
        proc, port = start_server(gen.kb_dir, index_dir, recheck)
        try:
            print(f"[{n:,} articles] {label(recheck)}: one client ...", flush=True)
            single = one_client(port, queries)
            print(f"[{n:,} articles] {label(recheck)}: {CLIENTS} clients ...", flush=True)
            many = concurrent(port, queries)
            rss = peak_rss_mb(proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        out[label(recheck)] = {"one_client": single, "concurrent": many, "server_peak_rss_mb": rss}
    return out


def goals(results: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """The goals, on the default server (`--recheck 0`, a stat of every
    article on every request, is shown for comparison only)."""
    found = []
    for size, configs in results.items():
        for config, r in configs.items():
            if config != label(None):
                continue
            where = f"{size} articles, {config}"
            if size == "10000":
                p95 = r["one_client"]["all"]["p95_ms"]
                found.append((f"one-client /api/search p95 <= 50 ms ({where})", f"{p95} ms", p95 <= 50))
            c = r["concurrent"]
            found.append((f"{CLIENTS} clients: 0 errors ({where})", f"{c['errors']} of {c['requests']}",
                          c["errors"] == 0 and c["requests"] == CONCURRENT_REQUESTS))
            found.append((f"{CLIENTS} clients: >= 100 requests/s ({where})",
                          f"{c['requests_per_s']}/s, p95 {c['p95_ms']} ms", c["requests_per_s"] >= 100))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated article counts")
    parser.add_argument("--quick", action="store_true", help="one small size, the default recheck only")
    args = parser.parse_args(argv)
    sizes = [300] if args.quick else [int(s) for s in args.sizes.split(",") if s.strip()]
    rechecks: list[float | None] = [None] if args.quick else [None, 0.0]
    vocab = bench.Vocabulary.make(bench.SEED)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="errkb-bench-server-") as scratch:
        for n in sizes:
            results[str(n)] = bench_size(n, Path(scratch), vocab, rechecks)
    print(f"\nkb serve: {WORKERS} worker processes x {THREADS} waitress threads, {os.cpu_count()} cores; load avg "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for size, configs in results.items():
        for config, r in configs.items():
            one, many = r["one_client"], r["concurrent"]
            kinds = ", ".join(f"{k} {v['p50_ms']}/{v['p95_ms']}" for k, v in one.items() if k != "all")
            print(f"{size:>6} articles {config:<10} one client p50/p95 {one['all']['p50_ms']}/"
                  f"{one['all']['p95_ms']} ms ({kinds}); {CLIENTS} clients {many['requests_per_s']} req/s, "
                  f"p50/p95 {many['p50_ms']}/{many['p95_ms']} ms, {many['errors']} errors; "
                  f"peak RSS {r['server_peak_rss_mb']['total']} MB in all "
                  f"(workers {r['server_peak_rss_mb']['workers']})")
    print()
    checked = goals(results)
    for name, value, ok in checked:
        print(f"{'PASS' if ok else 'FAIL'}  {name}: {value}")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"workers": WORKERS, "threads": THREADS, "results": results,
                               "goals": [{"goal": g, "value": v, "pass": ok} for g, v, ok in checked]},
                              indent=2, ensure_ascii=False) + "\n")
    print(f"written {OUT.relative_to(bench.ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
