"""A numbered line of a plan document: what every reader produces and every parser reads."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Line:
    """One line of the source: `no` is its 1-based line number, `text` its content."""

    no: int
    text: str
