"""The whole suite imports aiogram the way `python -m bot` does: its types built on first use
(bot.lazy_aiogram), so that every test exercises what production runs."""

from bot.lazy_aiogram import import_aiogram

import_aiogram()
