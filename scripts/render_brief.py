"""Render docs/brief.png: the morning brief (今日待办) of 李晓梅, liaison of 上饶市卫生健康委员会,
on the seed plans' 2025-12-24, as the local mode web chat shows it in headless Chromium at
phone width (390 px wide, tall enough for the whole message and its buttons).

    python scripts/render_brief.py [--out docs/brief.png] [--width 390] [--height 844]

Starts `python -m bot` in local mode (no BOT_TOKEN) on a temporary database with the clock at
2025-12-24 08:59:50 (the default policy: briefs for liaisons at 09:00), opens the web chat,
picks 李晓梅, moves the clock to 09:00 and waits for her brief, then saves the screenshot.
Needs Debian's chromium and chromium-driver and the selenium package (as the browser tests).
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
LIAISON = 7_000_002  # 李晓梅, 上饶市卫生健康委员会 (bot/localmode/people.py)
CLOCK_START = "2025-12-24T08:59:50+08:00"
BRIEF_AT = "2025-12-24T09:00:00+08:00"
WAIT = 120.0  # seconds for the process to start and the brief to arrive


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_local_mode(folder: Path) -> tuple[subprocess.Popen[str], str]:
    """`python -m bot` in local mode; returns the process and the web chat's address."""
    env = {k: v for k, v in os.environ.items() if k != "BOT_TOKEN"}
    env.update(
        LOCAL_PORT=str(_free_port()),
        LOCAL_HOST="127.0.0.1",
        DATABASE_URL=f"sqlite+aiosqlite:///{folder}/duban.sqlite3",
        CLOCK_START=CLOCK_START,
        PYTHONUNBUFFERED="1",
        PYTHONPATH=str(ROOT),
    )
    log = (folder / "local-mode.log").open("w", encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        encoding="utf-8",
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    while True:
        line = lines.get(timeout=WAIT)
        if line is None:
            raise SystemExit(f"local mode exited: {(folder / 'local-mode.log').read_text()}")
        if "local mode: open " in line:
            return process, line.split("open ", 1)[1].split()[0]


def move_clock(url: str, key: str, to: str) -> None:
    """POST /control/clock with the page's control key (the web chat's clock control)."""
    base = url.split("?", 1)[0].rstrip("/")
    request = urllib.request.Request(
        f"{base}/control/clock",
        data=json.dumps({"to": to}).encode(),
        headers={"Content-Type": "application/json", "X-Control-Key": key},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            assert json.load(response)["ok"]
    except urllib.error.HTTPError as exc:
        if exc.code != 400:  # 400: the clock (running in real time) is past it already
            raise


def screenshot(url: str, out: Path, width: int, height: int, profile: Path) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        f"--window-size={width},{height}",
        "--lang=zh-CN",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(arg)
    browser = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        browser.set_window_size(width, height)
        browser.get(url)
        wait = WebDriverWait(browser, WAIT)
        wait.until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready"))
        person = wait.until(
            lambda d: d.find_element(By.CSS_SELECTOR, f'button.person[data-person-id="{LIAISON}"]')
        )
        browser.execute_script("arguments[0].click();", person)  # also from the closed list
        wait.until(
            lambda d: (
                d.find_element(By.CSS_SELECTOR, "#chat").get_attribute("data-person-id")
                == str(LIAISON)
            )
        )
        key = browser.find_element(By.CSS_SELECTOR, 'meta[name="control-key"]')
        move_clock(url, str(key.get_attribute("content")), BRIEF_AT)
        found = wait.until(
            lambda d: [
                m
                for m in d.find_elements(By.CSS_SELECTOR, "#messages .msg")
                if "今日待办" in m.text
            ]
        )
        browser.execute_script("arguments[0].scrollIntoView({block: 'start'});", found[-1])
        time.sleep(0.5)  # let the page finish laying out the scrolled message (a picture only)
        out.parent.mkdir(parents=True, exist_ok=True)
        if not browser.save_screenshot(str(out)):
            raise SystemExit("the screenshot failed")
    finally:
        browser.quit()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "brief.png"))
    parser.add_argument("--width", type=int, default=390)
    parser.add_argument("--height", type=int, default=1560)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="brief-"))
    process, url = start_local_mode(folder)
    try:
        screenshot(url, Path(args.out), args.width, args.height, folder / "profile")
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(folder, ignore_errors=True)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
