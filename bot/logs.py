"""Logging set-up shared by every way of running the bot (kept free of heavy imports)."""

from __future__ import annotations

import logging
import sys


def configure_logging(level: str) -> None:
    """One line per record on stderr; quiet the libraries that log every tick or migration."""
    if logging.getLogger().handlers:
        return
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    # one line per tick and job run is noise; the scheduler logs what it sent itself
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
