"""Settings: every knob, its default and its environment name (pydantic-settings).

Values come from the environment or a `.env` file in the working directory. `load_settings`
turns a validation error into one line that names the setting, for the CLI to print.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.core.errors import DubanError

Locale = Literal["zh_CN", "en"]
LOCALES: tuple[str, ...] = ("zh_CN", "en")
TELEGRAM_API = "https://api.telegram.org"
WEBHOOK_SECRET_CHARS = re.compile(r"[A-Za-z0-9_-]{1,256}")  # Telegram's secret_token


class SettingsError(DubanError):
    """A setting is missing or malformed; the message names it in one line."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: SecretStr | None = Field(
        default=None, description="BotFather token; without it `python -m bot` runs local mode"
    )
    telegram_api_base: str = Field(default=TELEGRAM_API, description="any Bot API server")
    database_url: str = Field(
        default="sqlite+aiosqlite:///data/duban.sqlite3", description="SQLAlchemy async URL"
    )
    timezone: str = Field(default="Asia/Shanghai", description="the plans' time zone")
    default_locale: Locale = Field(default="zh_CN", description="zh_CN or en")
    admin_ids: Annotated[list[int], NoDecode] = Field(
        default_factory=list, description="Telegram user ids that start as coordinators"
    )
    clock_start: datetime | None = Field(
        default=None, description="ISO instant the bot's clock starts at and runs forward from"
    )
    tasks_data: Path = Field(default=Path("tasks_data"), description="reviewed plans to load")
    policy_file: Path | None = Field(default=None, description="reminder policy override")
    scheduler_tick_seconds: float = Field(default=30.0, gt=0, description="planning interval")
    sender_lease_seconds: float = Field(
        default=60.0,
        ge=4,
        description="a stopped sender's lease expires after this; renewed "
        "every quarter of it (one sender per database)",
    )
    invite_ttl_days: int = Field(default=7, gt=0)
    red_lag_points: int = Field(default=30, ge=0, description="progress lag that turns red")
    yellow_lag_points: int = Field(default=10, ge=0, description="progress lag that turns yellow")
    due_soon_days: int = Field(default=7, ge=0, description="yellow when due within this")
    stale_report_days: int = Field(default=7, ge=0, description="...and no report within this")
    local_host: str = Field(default="127.0.0.1", description="local mode listens here")
    local_port: int = Field(default=8080, ge=0, le=65535, description="local mode web chat port")
    log_level: str = Field(default="INFO")
    webhook_url: str | None = Field(
        default=None, description="public URL Telegram posts updates to; unset: long polling"
    )
    webhook_secret: SecretStr | None = Field(
        default=None, description="secret_token Telegram sends with each update (webhook mode)"
    )
    webhook_listen: str = Field(
        default="127.0.0.1:8088", description="HOST:PORT the webhook and /healthz listen on"
    )

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
        if isinstance(value, int):
            return [value]
        return value

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parsed = urlparse(value.strip())
        if parsed.scheme not in {"http", "https"} or not parsed.hostname:
            raise ValueError("expected an absolute http(s) URL, e.g. https://bot.example.org/tg")
        return value.strip()

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if not WEBHOOK_SECRET_CHARS.fullmatch(value.get_secret_value()):
            raise ValueError("expected 1-256 characters of A-Z a-z 0-9 _ -")
        return value

    @field_validator("webhook_listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        split_listen(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("clock_start")
    @classmethod
    def _aware(cls, value: datetime | None, info) -> datetime | None:  # type: ignore[no-untyped-def]
        if value is not None and value.tzinfo is None:
            zone = ZoneInfo(info.data.get("timezone") or "Asia/Shanghai")
            value = value.replace(tzinfo=zone)
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def webhook_address(self) -> tuple[str, int]:
        return split_listen(self.webhook_listen)

    @property
    def local_mode(self) -> bool:
        return self.bot_token is None or not self.bot_token.get_secret_value()


def split_listen(value: str) -> tuple[str, int]:
    """`HOST:PORT` (`[::1]:8088` for IPv6) as (host, port); ValueError when malformed."""
    host, sep, port = value.strip().rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("expected HOST:PORT, e.g. 127.0.0.1:8088")
    return host, int(port)


def load_settings(**overrides: object) -> Settings:
    """Read settings; raise `SettingsError` with one line naming the offending setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first["loc"]).upper() or "settings"
        raise SettingsError(f"setting {name}: {first['msg']}") from exc
