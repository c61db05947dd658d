"""Storage: SQLModel tables (`models`), engine and sessions (`db`), migrations (`migrate`),
plan loading (`loader`) and the `load` / `migrate` commands (`cli`).

Nothing is imported here so that `from bot.storage import models` stays cheap.
"""
