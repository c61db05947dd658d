from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.app import LOCAL_TOKEN, StartupError, bot_token, is_telegram, make_bot, make_clock
from bot.clock import SystemClock, VirtualClock
from bot.config import Settings, load_settings

REPO = Path(__file__).resolve().parents[2]


def settings(**kw) -> Settings:
    return load_settings(env_file=None, **kw)


def test_is_telegram():
    assert is_telegram("https://api.telegram.org")
    assert not is_telegram("http://127.0.0.1:8081")


def test_token_rules():
    assert bot_token(settings(bot_token="1:abc")) == "1:abc"
    assert bot_token(settings(telegram_api_base="http://127.0.0.1:9")) == LOCAL_TOKEN
    with pytest.raises(StartupError, match="BOT_TOKEN"):
        bot_token(settings())
    with pytest.raises(StartupError, match="BOT_TOKEN"):
        make_bot(settings(), "not a token")


def test_clock_choice():
    assert isinstance(make_clock(settings()), SystemClock)
    clock = make_clock(settings(clock_start="2025-12-20T09:00:00+08:00"))
    assert isinstance(clock, VirtualClock)
    assert clock.now().isoformat().startswith("2025-12-20T01:00")


ENV_NAMES = (
    "BOT_TOKEN",
    "TELEGRAM_API_BASE",
    "TIMEZONE",
    "ADMIN_IDS",
    "CLOCK_START",
    "DATABASE_URL",
)


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({}, "BOT_TOKEN"),
        ({"BOT_TOKEN": "1:x", "TIMEZONE": "Mars/Olympus"}, "TIMEZONE"),
        ({"BOT_TOKEN": "1:x", "ADMIN_IDS": "12,abc"}, "ADMIN_IDS"),
        ({"BOT_TOKEN": "1:x", "CLOCK_START": "yesterday"}, "CLOCK_START"),
    ],
)
def test_bad_settings_stop_with_one_line(env, needle, monkeypatch, tmp_path, capsys):
    from bot.app import run_app

    monkeypatch.chdir(tmp_path)  # no .env here
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert run_app() == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], lines


@pytest.mark.e2e  # a real process: slow to import everything
def test_python_m_bot_run_without_token_exits_2(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().startswith("setting BOT_TOKEN: missing")
