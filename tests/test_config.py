"""Settings: every variable of README's configuration table is read from the environment under
its documented name and lands in its group; the documented defaults are the code's."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import Settings, SettingsError, load_settings, variables

README = Path(__file__).resolve().parents[1] / "README.md"

# one non-default value per variable, and where it must land
ENVIRONMENT = {
    "BOT_TOKEN": ("42:SECRET", ("bot", "token")),
    "TELEGRAM_API_BASE": ("http://127.0.0.1:8081", ("bot", "api_base")),
    "DATABASE_URL": ("sqlite+aiosqlite:///elsewhere.sqlite3", ("database", "url")),
    "TIMEZONE": ("Europe/Berlin", ("clock", "timezone")),
    "DEFAULT_LOCALE": ("en", ("bot", "default_locale")),
    "ADMIN_IDS": ("11, 12;13", ("bot", "admin_ids")),
    "CLOCK_START": ("2025-12-20T09:00:00", ("clock", "start")),
    "TASKS_DATA": ("/srv/plans", ("data", "tasks_data")),
    "POLICY_FILE": ("/etc/duban/policy.yaml", ("data", "policy_file")),
    "SCHEDULER_TICK_SECONDS": ("5", ("scheduler", "tick_seconds")),
    "INVITE_TTL_DAYS": ("3", ("bot", "invite_ttl_days")),
    "SENDER_LEASE_SECONDS": ("20", ("scheduler", "sender_lease_seconds")),
    "RED_LAG_POINTS": ("40", ("lights", "red_lag_points")),
    "YELLOW_LAG_POINTS": ("15", ("lights", "yellow_lag_points")),
    "DUE_SOON_DAYS": ("5", ("lights", "due_soon_days")),
    "STALE_REPORT_DAYS": ("9", ("lights", "stale_report_days")),
    "LOCAL_HOST": ("0.0.0.0", ("local", "host")),
    "LOCAL_PORT": ("9090", ("local", "port")),
    "LOG_LEVEL": ("DEBUG", ("bot", "log_level")),
    "CHART_FONT": ("Noto Serif CJK SC", ("bot", "chart_font")),
    "WEBHOOK_URL": ("https://bot.example.org/tg", ("webhook", "url")),
    "WEBHOOK_SECRET": ("a-Secret_0123456789", ("webhook", "secret")),
    "WEBHOOK_LISTEN": ("0.0.0.0:9000", ("webhook", "listen")),
    "INSTANCE_NAME": ("bot-2", ("bot", "instance_name")),
}
# settings README's table does not list yet (the lead adds them; then this set goes)
NOT_YET_IN_README: set[str] = set()


def documented() -> dict[str, str]:
    """README's configuration table: variable → default as written (`—` for none)."""
    text = README.read_text(encoding="utf-8")
    table = text.split("| variable | default | meaning |", 1)[1].split("\n\n", 1)[0]
    found: dict[str, str] = {}
    for row in table.splitlines()[2:]:
        names, defaults = (cell.strip() for cell in row.strip("|").split("|")[:2])
        names_list = re.findall(r"`([A-Z_]+)`", names)
        default_list = re.findall(r"`([^`]*)`", defaults) or ["—"] * len(names_list)
        found.update(zip(names_list, default_list, strict=True))
    return found


def value_at(settings: Settings, where: tuple[str, str]) -> object:
    return getattr(getattr(settings, where[0]), where[1])


def test_every_documented_variable_is_a_setting_and_every_setting_is_documented():
    assert set(variables()) == set(ENVIRONMENT)
    assert set(documented()) <= set(variables())
    assert set(variables()) - set(documented()) <= NOT_YET_IN_README


def test_every_variable_lands_in_its_group(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no .env here
    for name, (value, _) in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    for name, (_, where) in ENVIRONMENT.items():
        assert variables()[name] == where, name
    landed = {name: value_at(settings, where) for name, (_, where) in ENVIRONMENT.items()}
    assert landed["BOT_TOKEN"].get_secret_value() == "42:SECRET"
    assert landed["WEBHOOK_SECRET"].get_secret_value() == "a-Secret_0123456789"
    assert settings.webhook.address == ("0.0.0.0", 9000)
    assert landed["ADMIN_IDS"] == [11, 12, 13]
    assert landed["TASKS_DATA"] == Path("/srv/plans")
    assert landed["POLICY_FILE"] == Path("/etc/duban/policy.yaml")
    assert landed["SCHEDULER_TICK_SECONDS"] == 5.0 and landed["LOCAL_PORT"] == 9090
    # a naive CLOCK_START is read in TIMEZONE
    assert landed["CLOCK_START"].astimezone(UTC) == datetime(2025, 12, 20, 8, 0, tzinfo=UTC)
    assert str(settings.clock.zone) == "Europe/Berlin"
    assert not settings.bot.local_mode
    plain = {
        "BOT_TOKEN",
        "ADMIN_IDS",
        "TASKS_DATA",
        "POLICY_FILE",
        "CLOCK_START",
        "WEBHOOK_SECRET",
    }
    for name, (value, _) in ENVIRONMENT.items():
        if name not in plain:
            assert str(landed[name]) == str(type(landed[name])(value)), name


def test_a_dot_env_file_is_read_too(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    (tmp_path / ".env").write_text("DATABASE_URL=sqlite+aiosqlite:///x.db\nLOCAL_PORT=1\n")
    settings = load_settings()
    assert settings.database.url == "sqlite+aiosqlite:///x.db" and settings.local.port == 1


def test_the_documented_defaults_are_the_code_s(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    for name, default in documented().items():
        value = value_at(settings, variables()[name])
        if default == "—":
            assert value in (None, []), name
        else:
            assert str(value).removesuffix(".0") == default, name


def test_a_bad_value_names_the_variable():
    with pytest.raises(SettingsError, match=r"^setting LOCAL_PORT: "):
        load_settings(env_file=None, local_port=70000)
    with pytest.raises(TypeError, match="unknown setting"):
        load_settings(env_file=None, port=1)


def test_replace_changes_variables_and_validates_them():
    settings = load_settings(env_file=None, bot_token="1:a")
    other = settings.replace(bot_token="2:b", local_port=0)
    assert other.bot.token.get_secret_value() == "2:b" and other.local.port == 0
    assert settings.bot.token.get_secret_value() == "1:a"  # frozen: the original is unchanged
