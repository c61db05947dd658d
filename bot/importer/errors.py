"""The one exception of the importer: bad input, reported in one line naming file/line/field."""

from __future__ import annotations

from pathlib import Path

from bot.core.errors import InvalidInput


class PlanInputError(InvalidInput):
    """A plan document or YAML file that cannot be used as given.

    `str(e)` is the one-line message for the user: "<file>:<line>: <field>: <message>", parts
    left out when unknown. The CLI prints it on stderr and exits with status 2.
    """

    def __init__(
        self,
        path: str | Path,
        message: str,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.path = str(path)
        self.message = message
        self.line = line
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.path + (f":{self.line}" if self.line else "")
        what = f"{self.field}: {self.message}" if self.field else self.message
        return f"{where}: {what}"
