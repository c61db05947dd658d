"""Logging set-up shared by every way of running the bot (kept free of heavy imports)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

from bot.redact import install_redaction


class InstanceField(logging.Filter):
    """Puts `instance` (INSTANCE_NAME, by default host:pid) on every record a handler writes,
    so that the lines of several instances behind one load balancer can be told apart."""

    def __init__(self, instance: str) -> None:
        super().__init__()
        self.instance = instance

    def filter(self, record: logging.LogRecord) -> bool:
        record.instance = self.instance
        return True


def configure_logging(
    level: str, *, secrets: Iterable[str] = (), instance: str | None = None
) -> None:
    """One line per record on stderr; quiet the libraries that log every tick or migration.
    With `instance`, each line starts (after the time) with `instance=NAME`.

    Every handler of the root logger redacts bot tokens (`secrets`, and anything shaped like a
    token in a Bot API URL): aiohttp's errors quote the request URL, which holds the token.
    Called again (by local mode, by tests), it adds the redaction to the handlers there are."""
    root = logging.getLogger()
    if not root.handlers:
        where = "instance=%(instance)s " if instance else ""
        logging.basicConfig(
            level=getattr(logging, level.upper(), logging.INFO),
            format=f"%(asctime)s {where}%(levelname)s %(name)s: %(message)s",
            stream=sys.stderr,
        )
        if instance:
            for handler in root.handlers:
                handler.addFilter(InstanceField(instance))
        logging.getLogger("aiogram.event").setLevel(logging.WARNING)
        # one line per tick and job run is noise; the scheduler logs what it sent itself
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        logging.getLogger("alembic").setLevel(logging.WARNING)
    install_redaction(root.handlers, secrets)
