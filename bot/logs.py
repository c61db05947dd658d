"""Logging set-up shared by every way of running the bot (kept free of heavy imports)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

from bot.redact import install_redaction


def configure_logging(level: str, *, secrets: Iterable[str] = ()) -> None:
    """One line per record on stderr; quiet the libraries that log every tick or migration.

    Every handler of the root logger redacts bot tokens (`secrets`, and anything shaped like a
    token in a Bot API URL): aiohttp's errors quote the request URL, which holds the token.
    Called again (by local mode, by tests), it adds the redaction to the handlers there are."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(
            level=getattr(logging, level.upper(), logging.INFO),
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            stream=sys.stderr,
        )
        logging.getLogger("aiogram.event").setLevel(logging.WARNING)
        # one line per tick and job run is noise; the scheduler logs what it sent itself
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        logging.getLogger("alembic").setLevel(logging.WARNING)
    install_redaction(root.handlers, secrets)
