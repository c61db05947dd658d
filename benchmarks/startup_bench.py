"""Start-up of local mode: from spawning `python -m bot` (no BOT_TOKEN, a new temp database) to
a usable web chat, i.e. the page answers 200 and the seeded coordinator's /help is answered.

The page and the control API need the key of the address local mode prints (another page in
the browser must not drive it), so the script reads that line; "server answers" is when `/`
first answers at all (401 without the key), "page" when the printed address answers 200.

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
import re
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
ADDRESS = re.compile(r"local mode: open (http://\S+)")
KEY_HEADER = "X-Control-Key"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request(
    url: str, body: dict | None = None, timeout: float = 2.0, key: str = ""
) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json", KEY_HEADER: key}
    req = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def measure(data_dir: Path, command: list[str]) -> tuple[float, float, float]:
    """Seconds from spawn to the server answering, to the printed address answering 200, and
    to /help being answered."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "CLOCK_START"}}
    env.update(
        LOCAL_PORT=str(port),
        DATABASE_URL=f"sqlite+aiosqlite:///{data_dir}/duban.sqlite3",
        LOG_LEVEL="WARNING",
    )
    log_path = data_dir / "bench.log"
    log_path.write_text("")
    log = log_path.open("a")
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=log)
    try:
        answered = None
        address = None
        while address is None:
            if process.poll() is not None:
                raise SystemExit(f"local mode exited with {process.returncode}; see {log.name}")
            if time.perf_counter() - start > GIVE_UP_SECONDS:
                raise SystemExit(f"no address after {GIVE_UP_SECONDS}s; see {log.name}")
            if answered is None:
                try:
                    request(base + "/", timeout=1.0)
                    answered = time.perf_counter() - start
                except urllib.error.HTTPError:
                    answered = time.perf_counter() - start
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    pass
            found = ADDRESS.search(log_path.read_text("utf-8", errors="replace"))
            if found:
                address = found.group(1)
            else:
                time.sleep(0.02)  # nothing to wait on but time: the socket, then the line
        key = address.split("key=", 1)[1]
        status, _ = request(address, timeout=5.0)
        if status != 200:
            raise SystemExit(f"the printed address answered {status}")
        page = time.perf_counter() - start
        status, body = request(
            f"{base}/control/users/{COORDINATOR}/messages", {"text": "/help"}, 30, key
        )
        if status != 200:
            raise SystemExit(f"/help could not be sent: {status} {body[:200]!r}")
        sent = json.loads(body)["result"]["message_id"]
        status, body = request(
            f"{base}/control/chats/{COORDINATOR}/next?after={sent}&timeout=60", None, 65, key
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
    return answered or page, page, helped


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    command = [sys.executable, "-m", "bot"]
    cold: list[tuple[float, float, float]] = []
    warm: list[tuple[float, float, float]] = []
    for run in range(1, args.runs + 1):
        with tempfile.TemporaryDirectory(prefix="duban-startup-") as folder:
            data_dir = Path(folder)
            cold.append(measure(data_dir, command))
            warm.append(measure(data_dir, command))
        print(
            f"run {run}: cold server {cold[-1][0]:.2f} s, page {cold[-1][1]:.2f} s, "
            f"/help {cold[-1][2]:.2f} s | warm server {warm[-1][0]:.2f} s, "
            f"page {warm[-1][1]:.2f} s, /help {warm[-1][2]:.2f} s",
            flush=True,
        )
    cold_help = statistics.median(h for _, _, h in cold)
    warm_help = statistics.median(h for _, _, h in warm)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"machine: {os.cpu_count()} CPU(s), load average {load} (start-up is CPU-bound: imports, "
        "migrations, the seed plans; a busy machine stretches every figure)"
    )
    print(
        f"local mode start-up to a usable web chat (median of {args.runs}): "
        f"{cold_help:.2f} s on a new database, {warm_help:.2f} s on an existing one "
        f"(server answers after {statistics.median(a for a, _, _ in cold):.2f} s, the printed "
        f"address after {statistics.median(p for _, p, _ in cold):.2f} s); "
        f"target < {TARGET_SECONDS:.0f} s: {'met' if cold_help < TARGET_SECONDS else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
