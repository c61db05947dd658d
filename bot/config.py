"""Settings: every knob, its default and its environment name (pydantic-settings).

Values come from the environment or a `.env` file in the working directory, under the names of
README's configuration table (BOT_TOKEN, DATABASE_URL, TIMEZONE, ...). In code they are grouped
by what they configure: `settings.bot`, `.database`, `.clock`, `.data`, `.scheduler`,
`.lights`, `.local`, `.webhook`. Each group reads its own variables; `load_settings` builds them
all and turns a validation error into one line that names the variable, for the CLI to print.
"""

from __future__ import annotations

import os
import re
import socket
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.core.errors import DubanError

Locale = Literal["zh_CN", "en"]
LOCALES: tuple[str, ...] = ("zh_CN", "en")
TELEGRAM_API = "https://api.telegram.org"
WEBHOOK_SECRET_CHARS = re.compile(r"[A-Za-z0-9_-]{1,256}")  # Telegram's secret_token
DEFAULT_ZONE = "Asia/Shanghai"
ENV_FILE = ".env"


class SettingsError(DubanError):
    """A setting is missing or malformed; the message names it in one line."""


class _Group(BaseSettings):
    """One group of settings; each field reads the variable named by its `validation_alias`."""

    model_config = SettingsConfigDict(
        env_file=ENV_FILE,
        env_file_encoding="utf-8",
        extra="ignore",
        validate_by_name=True,
        validate_by_alias=True,
        frozen=True,
    )


class BotSettings(_Group):
    """The Telegram side: token, Bot API server, first coordinators, language, logging, the
    font of the pictures."""

    token: SecretStr | None = Field(
        default=None,
        validation_alias="BOT_TOKEN",
        description="BotFather token; without it `python -m bot` runs local mode",
    )
    api_base: str = Field(
        default=TELEGRAM_API,
        validation_alias="TELEGRAM_API_BASE",
        description="any Bot API server",
    )
    default_locale: Locale = Field(
        default="zh_CN", validation_alias="DEFAULT_LOCALE", description="zh_CN or en"
    )
    admin_ids: Annotated[list[int], NoDecode] = Field(
        default_factory=list,
        validation_alias="ADMIN_IDS",
        description="Telegram user ids that start as coordinators",
    )
    invite_ttl_days: int = Field(default=7, gt=0, validation_alias="INVITE_TTL_DAYS")
    log_level: str = Field(default="INFO", validation_alias="LOG_LEVEL")
    instance_name: str | None = Field(
        default=None,
        validation_alias="INSTANCE_NAME",
        description="this instance's name in the logs and on the Outbox rows it claims "
        "(default: host:pid)",
    )
    chart_font: str | None = Field(
        default=None,
        validation_alias="CHART_FONT",
        description="CJK font for the pictures: a family name or a font file "
        "(default: found by name, fonts-noto-cjk first; none: text only)",
    )

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
        if isinstance(value, int):
            return [value]
        return value

    @property
    def local_mode(self) -> bool:
        return self.token is None or not self.token.get_secret_value()

    @property
    def instance(self) -> str:
        """INSTANCE_NAME, or host:pid."""
        name = (self.instance_name or "").strip()
        return name or f"{socket.gethostname()}:{os.getpid()}"


class DatabaseSettings(_Group):
    url: str = Field(
        default="sqlite+aiosqlite:///data/duban.sqlite3",
        validation_alias="DATABASE_URL",
        description="SQLAlchemy async URL",
    )


class ClockSettings(_Group):
    """The deployment's time zone (the one source of local time) and the clock's start."""

    timezone: str = Field(
        default=DEFAULT_ZONE, validation_alias="TIMEZONE", description="the plans' time zone"
    )
    start: datetime | None = Field(
        default=None,
        validation_alias="CLOCK_START",
        description="ISO instant the bot's clock starts at and runs forward from",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("start")
    @classmethod
    def _aware(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=ZoneInfo(info.data.get("timezone") or DEFAULT_ZONE))
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class DataSettings(_Group):
    """The reviewed plans and the reminder policy override."""

    tasks_data: Path = Field(
        default=Path("tasks_data"), validation_alias="TASKS_DATA", description="plans to load"
    )
    policy_file: Path | None = Field(
        default=None, validation_alias="POLICY_FILE", description="reminder policy override"
    )


class SchedulerSettings(_Group):
    tick_seconds: float = Field(
        default=30.0,
        gt=0,
        validation_alias="SCHEDULER_TICK_SECONDS",
        description="planning interval",
    )
    sender_lease_seconds: float = Field(
        default=60.0,
        ge=4,
        validation_alias="SENDER_LEASE_SECONDS",
        description="a stopped sender's lease expires after this; renewed "
        "every quarter of it (one sender per database)",
    )


class LightSettings(_Group):
    """The thresholds of the status lights (bot.core.lights.LightPolicy)."""

    red_lag_points: int = Field(
        default=30, ge=0, validation_alias="RED_LAG_POINTS", description="lag that turns red"
    )
    yellow_lag_points: int = Field(
        default=10, ge=0, validation_alias="YELLOW_LAG_POINTS", description="lag that turns yellow"
    )
    due_soon_days: int = Field(
        default=7, ge=0, validation_alias="DUE_SOON_DAYS", description="yellow when due within"
    )
    stale_report_days: int = Field(
        default=7, ge=0, validation_alias="STALE_REPORT_DAYS", description="...and no report"
    )


class LocalSettings(_Group):
    """Local mode: the web chat and the local Bot API server."""

    host: str = Field(default="127.0.0.1", validation_alias="LOCAL_HOST")
    port: int = Field(default=8080, ge=0, le=65535, validation_alias="LOCAL_PORT")


class WebhookSettings(_Group):
    """Webhook mode (bot.webhook): unset URL means long polling."""

    url: str | None = Field(
        default=None,
        validation_alias="WEBHOOK_URL",
        description="public URL Telegram posts updates to; unset: long polling",
    )
    secret: SecretStr | None = Field(
        default=None,
        validation_alias="WEBHOOK_SECRET",
        description="secret_token Telegram sends with each update (webhook mode)",
    )
    listen: str = Field(
        default="127.0.0.1:8088",
        validation_alias="WEBHOOK_LISTEN",
        description="HOST:PORT the webhook and /healthz listen on",
    )

    @field_validator("url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parsed = urlparse(value.strip())
        if parsed.scheme not in {"http", "https"} or not parsed.hostname:
            raise ValueError("expected an absolute http(s) URL, e.g. https://bot.example.org/tg")
        return value.strip()

    @field_validator("secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if not WEBHOOK_SECRET_CHARS.fullmatch(value.get_secret_value()):
            raise ValueError("expected 1-256 characters of A-Z a-z 0-9 _ -")
        return value

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        split_listen(value)
        return value

    @property
    def address(self) -> tuple[str, int]:
        return split_listen(self.listen)


def split_listen(value: str) -> tuple[str, int]:
    """`HOST:PORT` (`[::1]:8088` for IPv6) as (host, port); ValueError when malformed."""
    host, sep, port = value.strip().rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("expected HOST:PORT, e.g. 127.0.0.1:8088")
    return host, int(port)


class Settings(BaseModel):
    """Every setting, grouped. Build it with `load_settings`; derive one with `replace`."""

    model_config = ConfigDict(frozen=True)

    GROUPS: ClassVar[dict[str, type[_Group]]] = {
        "bot": BotSettings,
        "database": DatabaseSettings,
        "clock": ClockSettings,
        "data": DataSettings,
        "scheduler": SchedulerSettings,
        "lights": LightSettings,
        "local": LocalSettings,
        "webhook": WebhookSettings,
    }

    bot: BotSettings
    database: DatabaseSettings
    clock: ClockSettings
    data: DataSettings
    scheduler: SchedulerSettings
    lights: LightSettings
    local: LocalSettings
    webhook: WebhookSettings

    def replace(self, **values: object) -> Settings:
        """A copy with some variables changed, named as in the environment (`bot_token=...`)."""
        changes: dict[str, dict[str, object]] = {}
        for name, value in values.items():
            group, field = _where(name)
            changes.setdefault(group, {})[field] = value
        groups: dict[str, _Group] = {}
        for name, cls in self.GROUPS.items():
            current = getattr(self, name)
            if name in changes:  # validated, the environment not read again
                current = cls.model_validate({**dict(current), **changes[name]})
            groups[name] = current
        return Settings(**groups)


def variables() -> dict[str, tuple[str, str]]:
    """Each environment variable → (group, field): README's configuration table."""
    found: dict[str, tuple[str, str]] = {}
    for group, cls in Settings.GROUPS.items():
        for field, info in cls.model_fields.items():
            found[str(info.validation_alias)] = (group, field)
    return found


def _where(name: str) -> tuple[str, str]:
    try:
        return variables()[name.upper()]
    except KeyError:
        raise TypeError(f"unknown setting {name!r}") from None


def load_settings(*, env_file: str | Path | None = ENV_FILE, **values: object) -> Settings:
    """Read settings from the environment and `env_file` (None: no file); `values`, named like
    the variables (`database_url=...`), win over both. Raises `SettingsError` with one line
    naming the offending variable."""
    given: dict[str, dict[str, Any]] = {}
    for name, value in values.items():
        group, field = _where(name)
        given.setdefault(group, {})[field] = value
    groups: dict[str, _Group] = {}
    for name, cls in Settings.GROUPS.items():
        try:
            groups[name] = cls(_env_file=env_file, **given.get(name, {}))
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = str(first["loc"][0]) if first["loc"] else ""
            info = cls.model_fields.get(loc)
            variable = str(info.validation_alias) if info is not None else loc.upper()
            raise SettingsError(f"setting {variable or 'settings'}: {first['msg']}") from exc
    return Settings(**groups)
