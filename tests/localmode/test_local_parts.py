"""Pure parts of local mode: where the clock starts, the clock presets, the address line."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.localmode.clockctl import next_monday_morning, next_working_morning, target_of
from bot.localmode.runner import (
    CLOCK_STATE_FILE,
    DEFAULT_CLOCK_START,
    address_lines,
    clock_start_of,
    data_dir_of,
    is_loopback,
)
from bot.localmode.web import STATIC_DIR, page_with_key
from tests.localmode.conftest import local_settings

SH = ZoneInfo("Asia/Shanghai")


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


def test_the_default_start_is_a_week_before_the_seed_milestones() -> None:
    assert DEFAULT_CLOCK_START == at(2025, 12, 24, 8, 55)
    assert DEFAULT_CLOCK_START.weekday() == 2  # a Wednesday, a working day


def test_clock_start_prefers_clock_start_then_the_saved_instant(tmp_path: Path) -> None:
    settings = local_settings(tmp_path)
    assert clock_start_of(settings, tmp_path) == (DEFAULT_CLOCK_START, "default")
    (tmp_path / CLOCK_STATE_FILE).write_text(json.dumps({"now": "2025-12-29T09:01:00+08:00"}))
    assert clock_start_of(settings, tmp_path) == (at(2025, 12, 29, 9, 1), "resumed")
    (tmp_path / CLOCK_STATE_FILE).write_text("not json")
    assert clock_start_of(settings, tmp_path)[1] == "default"
    chosen = local_settings(tmp_path, clock_start="2026-03-02T08:00:00")
    assert clock_start_of(chosen, tmp_path) == (at(2026, 3, 2, 8, 0), "CLOCK_START")


def test_the_data_folder_is_the_database_folder() -> None:
    assert data_dir_of("sqlite+aiosqlite:///data/duban.sqlite3") == Path("data")
    assert data_dir_of("sqlite+aiosqlite:////tmp/x/db.sqlite3") == Path("/tmp/x")
    assert data_dir_of("sqlite+aiosqlite:///:memory:") == Path("data")


@pytest.mark.parametrize(
    ("now", "monday"),
    [
        (at(2025, 12, 24, 8, 55), at(2025, 12, 29, 9, 0)),
        (at(2025, 12, 29, 8, 59), at(2025, 12, 29, 9, 0)),
        (at(2025, 12, 29, 9, 0), at(2026, 1, 5, 9, 0)),
        (at(2025, 12, 28, 23, 0), at(2025, 12, 29, 9, 0)),
    ],
)
def test_next_monday_morning(now: datetime, monday: datetime) -> None:
    assert next_monday_morning(now, SH) == monday


@pytest.mark.parametrize(
    ("now", "morning"),
    [
        (at(2025, 12, 24, 8, 55), at(2025, 12, 24, 9, 0)),
        (at(2025, 12, 24, 9, 0), at(2025, 12, 25, 9, 0)),
        (at(2025, 12, 26, 18, 0), at(2025, 12, 29, 9, 0)),  # Friday evening → Monday
        (at(2025, 12, 31, 10, 0), at(2026, 1, 4, 9, 0)),  # New Year; Sunday 01-04 is 调休
    ],
)
def test_next_working_morning_follows_the_official_calendar(
    now: datetime, morning: datetime
) -> None:
    assert next_working_morning(now, SH) == morning


def test_next_working_morning_past_the_calendar_uses_weekdays() -> None:
    with pytest.warns(UserWarning, match="no official calendar"):
        assert next_working_morning(at(2040, 1, 6, 12, 0), SH) == at(2040, 1, 9, 9, 0)


def test_clock_requests_are_checked() -> None:
    now = at(2025, 12, 24, 8, 55)
    assert target_of({"advance": 60}, now, SH) == at(2025, 12, 24, 8, 56)
    assert target_of({"to": "2025-12-29 09:00"}, now, SH) == at(2025, 12, 29, 9, 0)
    for bad in ({"advance": True}, {"advance": -1}, {"to": "monday"}, {"next": "soon"}, {}):
        with pytest.raises(ValueError):
            target_of(bad, now, SH)
    assert date(2025, 12, 29) == target_of({"next": "monday_0900"}, now, SH).date()


def test_the_address_line_says_loopback_or_warns() -> None:
    line, warning = address_lines("http://127.0.0.1:8080/", "127.0.0.1")
    assert line == (
        "督办助手 local mode: open http://127.0.0.1:8080/ (loopback only, not a public server)"
    )
    assert warning is None
    line, warning = address_lines("http://127.0.0.1:8080/", "0.0.0.0")
    assert "not a public server" in line and warning and "0.0.0.0" in warning
    assert is_loopback("localhost") and is_loopback("::1") and is_loopback("127.0.0.2")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")


def test_the_page_needs_no_network() -> None:
    """No CDN, no web font, no remote script: the page works offline."""
    remote = re.compile(
        r"""(src|href)\s*=\s*["']?(https?:)?//|@import|url\(\s*["']?(https?:)?//"""
    )
    for name in ("index.html", "app.js", "style.css"):
        text = (STATIC_DIR / name).read_text("utf-8")
        assert not remote.search(text), name
    script = (STATIC_DIR / "app.js").read_text("utf-8")
    assert not re.search(r"\.(inner|outer)HTML\s*=|insertAdjacentHTML|document\.write", script)


def test_the_page_carries_the_key_in_its_meta_tag() -> None:
    template = (STATIC_DIR / "index.html").read_text("utf-8")
    page = page_with_key(template, 'k"<&')
    assert '<meta name="control-key" content="k&quot;&lt;&amp;">' in page
    with pytest.raises(ValueError, match="control-key"):
        page_with_key("<html></html>", "k")
