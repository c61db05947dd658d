"""Start-up of local mode: from spawning `python -m bot` (no BOT_TOKEN, a new temp database) to
a usable web chat, i.e. the page answers 200 and the seeded coordinator's /help is answered.

    .venv/bin/python benchmarks/startup_bench.py [--runs 3]

Each run starts a fresh process in a new temp folder (cold: migrations and the seed plans are
loaded), then starts it again on the same folder (warm: the plans are unchanged). Prints each
run and the medians; the target is under 5 s. Only the standard library is used here, so the
measuring side adds nothing to the process being measured.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COORDINATOR = 7_000_001  # 张督办, seeded by local mode
TARGET_SECONDS = 5.0
GIVE_UP_SECONDS = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request(url: str, body: dict | None = None, timeout: float = 2.0) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def measure(data_dir: Path, command: list[str]) -> tuple[float, float]:
    """Seconds from spawn to the page answering 200, and to /help being answered."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "CLOCK_START"}}
    env.update(
        LOCAL_PORT=str(port),
        DATABASE_URL=f"sqlite+aiosqlite:///{data_dir}/duban.sqlite3",
        LOG_LEVEL="WARNING",
    )
    log = (data_dir / "bench.log").open("a")
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=log)
    try:
        page = None
        while page is None:
            if process.poll() is not None:
                raise SystemExit(f"local mode exited with {process.returncode}; see {log.name}")
            if time.perf_counter() - start > GIVE_UP_SECONDS:
                raise SystemExit(f"no page after {GIVE_UP_SECONDS}s; see {log.name}")
            try:
                status, _ = request(base + "/", timeout=1.0)
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                status = 0
            if status == 200:
                page = time.perf_counter() - start
            else:
                time.sleep(0.02)  # the socket is not open yet: nothing to wait on but time
        status, body = request(
            f"{base}/control/users/{COORDINATOR}/messages", {"text": "/help"}, timeout=30
        )
        if status != 200:
            raise SystemExit(f"/help could not be sent: {status} {body[:200]!r}")
        sent = json.loads(body)["result"]["message_id"]
        status, body = request(
            f"{base}/control/chats/{COORDINATOR}/next?after={sent}&timeout=60", timeout=65
        )
        if status != 200 or "/status" not in json.loads(body)["result"].get("text", ""):
            raise SystemExit(f"/help was not answered: {status} {body[:200]!r}")
        helped = time.perf_counter() - start
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
    return page, helped


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    command = [sys.executable, "-m", "bot"]
    cold: list[tuple[float, float]] = []
    warm: list[tuple[float, float]] = []
    for run in range(1, args.runs + 1):
        with tempfile.TemporaryDirectory(prefix="duban-startup-") as folder:
            data_dir = Path(folder)
            cold.append(measure(data_dir, command))
            warm.append(measure(data_dir, command))
        print(
            f"run {run}: cold page {cold[-1][0]:.2f} s, /help {cold[-1][1]:.2f} s | "
            f"warm page {warm[-1][0]:.2f} s, /help {warm[-1][1]:.2f} s",
            flush=True,
        )
    cold_help = statistics.median(h for _, h in cold)
    warm_help = statistics.median(h for _, h in warm)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"machine: {os.cpu_count()} CPU(s), load average {load} (start-up is CPU-bound: imports, "
        "migrations, the seed plans; a busy machine stretches every figure)"
    )
    print(
        f"local mode start-up to a usable web chat (median of {args.runs}): "
        f"{cold_help:.2f} s on a new database, {warm_help:.2f} s on an existing one "
        f"(page 200 after {statistics.median(p for p, _ in cold):.2f} s); "
        f"target < {TARGET_SECONDS:.0f} s: {'met' if cold_help < TARGET_SECONDS else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
