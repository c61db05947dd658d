"""Local mode as a real process (`python -m bot`, no BOT_TOKEN) and headless Chromium.

Debian's `chromium` and `chromium-driver` packages provide the browser (`.ci/run` installs
them); nothing is downloaded at test time. Without them the browser tests are skipped, except
in CI (`CI=true`), where a missing browser is a failure.
"""

from __future__ import annotations

import os
import queue
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
START_TIMEOUT = 90.0  # seconds for `python -m bot` to print its address


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_chromium() -> None:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the selenium package")
    if not missing:
        return
    reason = (
        f"web chat browser test needs {', '.join(missing)} (apt-get install chromium "
        "chromium-driver; pip install selenium)"
    )
    if in_ci():
        pytest.fail(f"CI=true: {reason}", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LocalProcess:
    url: str
    process: subprocess.Popen[str]
    data_dir: Path
    log_path: Path
    address_line: str

    def log(self) -> str:
        return self.log_path.read_text("utf-8", errors="replace")


def start_local_mode(data_dir: Path, port: int) -> LocalProcess:
    """Spawn `python -m bot` in local mode and wait for its one line with the address."""
    env = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "CLOCK_START"}}
    env.update(
        LOCAL_PORT=str(port),
        LOCAL_HOST="127.0.0.1",
        DATABASE_URL=f"sqlite+aiosqlite:///{data_dir}/duban.sqlite3",
        PYTHONUNBUFFERED="1",
    )
    log_path = data_dir / "local-mode.log"
    log_file = log_path.open("w", encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=log_file,
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
        try:
            line = lines.get(timeout=START_TIMEOUT)
        except queue.Empty:
            process.kill()
            raise AssertionError(
                f"local mode printed no address in {START_TIMEOUT}s:\n{log_path.read_text()}"
            ) from None
        if line is None:
            raise AssertionError(
                f"local mode exited with {process.wait()}:\n{log_path.read_text()}"
            )
        if "local mode: open " in line:
            url = line.split("open ", 1)[1].split()[0]
            return LocalProcess(url, process, data_dir, log_path, line.strip())


def stop_local_mode(local: LocalProcess) -> int:
    local.process.terminate()
    try:
        return local.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        local.process.kill()
        return local.process.wait()


@pytest.fixture(scope="module")
def local_mode(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalProcess]:
    require_chromium()
    local = start_local_mode(tmp_path_factory.mktemp("webchat"), free_port())
    try:
        yield local
    finally:
        code = stop_local_mode(local)
        assert code == 0, f"local mode exited with {code} on SIGTERM:\n{local.log()}"


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def driver(local_mode: LocalProcess, downloads: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    profile = tmp_path_factory.mktemp("chromium-profile")
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1440,900",
        "--lang=zh-CN",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(arg)
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(downloads),
            "download.prompt_for_download": False,
            "safebrowsing.enabled": False,
            "intl.accept_languages": "zh-CN,zh",
        },
    )
    browser = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        browser.execute_cdp_cmd(
            "Browser.setDownloadBehavior",
            {"behavior": "allow", "downloadPath": str(downloads), "eventsEnabled": True},
        )
        yield browser
    finally:
        browser.quit()
        shutil.rmtree(profile, ignore_errors=True)
