"""Typed spellings of what SQLModel's stubs leave out (the same objects at run time)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, inspect
from sqlmodel import SQLModel
from sqlmodel.sql.expression import Select


def table_of(model: type[SQLModel]) -> Table:
    """The Core table behind a `table=True` model, for bulk SQL (SQLModel does not declare
    `__table__` to type checkers)."""
    table = inspect(model).local_table
    if not isinstance(table, Table):  # pragma: no cover - every table=True model has one
        raise TypeError(f"{model.__name__} is not a table model")
    return table


RowSelect = Select[*tuple[Any, ...]]


def select_rows(*entities: Any) -> RowSelect:
    """A SELECT whose results are rows, of any number of models, columns or expressions, that
    `session.exec` accepts: `sqlmodel.select` turns a single column into scalars and its
    overloads stop at four entities (at run time it builds this same `Select`), SQLAlchemy's
    own `select` is not in `exec`'s signature."""
    return Select(*entities)


def stored_id(key: int | None) -> int:
    """The primary key of a row read from (or flushed to) the database: the models declare
    `id: int | None` because a row not yet inserted has none."""
    if key is None:
        raise ValueError("the row has not been stored yet: it has no id")
    return key
