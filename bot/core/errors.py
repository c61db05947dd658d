"""The project's error hierarchy: pure Python, importable from every layer.

- `DubanError`: the base of every error the project raises on purpose (not bugs).
- `CodedError`: a refusal a user is told about: `code` names what went wrong, `params` fill
  the text. bot.telegram.errors translates the code into one line in the reader's language
  (bot.services.errors.ServiceError, bot.core.status.TransitionError, the parse runner's
  ParseRejected).
- `InvalidInput`: input the operator must fix (a plan file, units.yaml, the database's
  state): `str(exc)` says what in one line; start-up reports it without a traceback
  (bot.importer.errors.PlanInputError, bot.storage.loader.LoadError,
  bot.storage.migrate.MigrationError, bot.core.units.UnitDirectoryError).
"""

from __future__ import annotations

from typing import Any


class DubanError(Exception):
    """Raised on purpose by this project; the message or code says what to fix."""


class CodedError(DubanError):
    """A request refused; nothing was changed. Shown to the user as one translated line."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.params!r})"


class InvalidInput(DubanError):
    """Data or configuration the operator must fix; `str(exc)` is the one-line reason."""
