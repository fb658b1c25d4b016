"""`kb serve` as a real process under waitress: it binds to localhost, answers,
and its log never holds the query text (pastes carry phone and card numbers)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest

KB = Path(sys.executable).with_name("kb")
SECRET = "手机号 13800138000 卡号 6222021234567890 身份信息已过期"


def as_at_a_prompt() -> None:
    """SIGINT as at a shell prompt: a suite run as a background job (as CI
    may run it) has it ignored, and so would the server it starts."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@contextmanager
def running_server(kb_dir: Path, index_dir: Path, *extra: str, workers: int = 1) -> Iterator[tuple[str, list[str]]]:
    """`kb serve --port 0` on the fixture; yields its base URL once each of
    its `workers` has said it serves and, once it has stopped, the lines it
    wrote (stdout and stderr together)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("ERRKB_DEBUG", None)
    proc = subprocess.Popen([str(KB), "--kb-dir", str(kb_dir), "--index-dir", str(index_dir), "serve",
                             "--port", "0", *extra], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=env, preexec_fn=as_at_a_prompt)
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        url = None
        announced = 0
        while announced < workers and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            match = re.search(r"Serving on (http://127\.0\.0\.1:\d+)", line)
            if match:
                url, announced = match.group(1), announced + 1
        assert url is not None, "".join(lines)
        yield url, lines
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            rest, _ = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            rest, _ = proc.communicate()
        lines.extend(rest.splitlines(keepends=True))


def fetch(url: str) -> tuple[int, str, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - loopback only
            return response.status, response.read().decode("utf-8"), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8"), dict(error.headers)


def test_kb_serve_answers_on_localhost_and_logs_no_query(fixture_kb: Path, index_dir: Path) -> None:
    with running_server(fixture_kb, index_dir) as (url, lines):
        status, body, headers = fetch(f"{url}/api/search?q={quote(SECRET)}")
        assert status == 200 and json.loads(body)["results"][0]["id"] == "identity-outdated"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert fetch(f"{url}/?q={quote(SECRET)}")[0] == 200
        assert fetch(f"{url}/api/search?limit=0&q={quote(SECRET)}")[0] == 400
        assert fetch(f"{url}/articles/{quote(SECRET)}")[0] == 404
        assert fetch(f"{url}/api/search?q=" + "x" * (1024 * 1024 + 10))[0] == 414  # errkb's bound
        # Past waitress's own bound on headers: refused or cut off, and the server goes on.
        with contextlib.suppress(urllib.error.URLError, ConnectionError):
            assert fetch(f"{url}/api/search?q={quote(SECRET * 40000)}")[0] in (400, 413, 414, 431)
        assert fetch(f"{url}/api/search?q=E1001")[0] == 200
    log = "".join(lines)
    assert "no index yet: indexed 5 articles" in log  # built before the socket opened
    for piece in ("13800138000", "6222021234567890", "身份", "%E8%BA%AB"):
        assert piece not in log, log


def test_access_log_has_paths_and_statuses_but_no_query(fixture_kb: Path, index_dir: Path) -> None:
    with running_server(fixture_kb, index_dir, "--access-log") as (url, lines):
        fetch(f"{url}/api/search?q={quote(SECRET)}")
        fetch(f"{url}/articles/nope?ref={quote(SECRET)}")
    log = "".join(lines)
    assert re.search(r"kb serve: GET /api/search 200 \d+\.\dms", log), log
    assert "GET /articles/nope 404" in log
    assert "13800138000" not in log and "%E6" not in log and "身份" not in log


def test_workers_share_one_socket_and_stop_together(fixture_kb: Path, index_dir: Path) -> None:
    with running_server(fixture_kb, index_dir, "--workers", "2", workers=2) as (url, lines):
        for _ in range(20):  # whichever worker takes the connection answers the same
            status, body, _ = fetch(f"{url}/api/search?q=E1001")
            assert status == 200 and json.loads(body)["results"][0]["id"] == "card-expired-e1001"
    served = [line for line in lines if "Serving on" in line]
    assert len(served) == 2 and len(set(served)) == 1, lines  # two workers, one address


def _processes_naming(text: str) -> list[int]:
    """Pids of live processes whose command line holds `text`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                status = (entry / "stat").read_text().rsplit(")", 1)[-1].split()
                if status[0] != "Z" and text in (entry / "cmdline").read_bytes().decode("utf-8", "replace"):
                    found.append(int(entry.name))
    return found


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs /proc to find the workers")
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("when", ["while the workers start", "once one serves"])
def test_stopping_the_parent_at_any_moment_stops_every_worker(
        fixture_kb: Path, index_dir: Path, signum: int, when: str) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    kb = index_dir.parent / f"kb-{signum}-{when.split()[0]}"  # a name only these processes hold
    shutil.copytree(fixture_kb, kb)
    subprocess.run([str(KB), "--kb-dir", str(kb), "--index-dir", str(index_dir), "-q", "index"], check=True)
    proc = subprocess.Popen([str(KB), "--kb-dir", str(kb), "--index-dir", str(index_dir), "serve", "--port", "0",
                             "--workers", "4"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                            preexec_fn=as_at_a_prompt)
    assert proc.stdout is not None
    if when == "once one serves":
        while "Serving on" not in (proc.stdout.readline() or "Serving on"):
            pass
    else:
        time.sleep(0.3)  # the index is built: the parent is forking, or about to
    proc.send_signal(signum)
    try:
        proc.communicate(timeout=30)  # returns once every holder of the output pipe has exited
    finally:
        left = _processes_naming(str(kb))
        for pid in left:
            os.kill(pid, signal.SIGKILL)
    assert left == []
