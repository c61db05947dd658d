"""Use cases without aiogram: plain async functions taking a session."""
