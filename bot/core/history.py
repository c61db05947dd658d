"""What the ledger writes in history on its own (not a person's words), kept machine-readable
in storage and translated only when shown: the labels of actors that are not people, and the
note of a due date moved by a plan reload. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

# actor_label of events without a person (StatusEvent.actor_id is None)
ACTOR_IMPORT = "import"  # the plan loader
ACTOR_SYSTEM = "system"  # the bot itself (scheduled work)
ACTOR_COORDINATOR = "coordinator"  # a coordinator whose name is unknown
MACHINE_ACTORS = frozenset({ACTOR_IMPORT, ACTOR_SYSTEM, ACTOR_COORDINATOR})


@dataclass(frozen=True)
class DueChange:
    """A plan reload moved a milestone from `old` to `new`; `kept` is an approved extension
    that goes beyond both and therefore stays the assignment's due date."""

    old: date
    new: date
    kept: date | None = None


_DUE_CHANGE = re.compile(
    r"^milestone due (\d{4}-\d{2}-\d{2}) → (\d{4}-\d{2}-\d{2})"
    r"(?:; extension to (\d{4}-\d{2}-\d{2}) kept)?$"
)


def due_change_note(change: DueChange) -> str:
    """The stored note of a due_change event (read back by `read_due_change`)."""
    note = f"milestone due {change.old.isoformat()} → {change.new.isoformat()}"
    if change.kept is not None:
        note += f"; extension to {change.kept.isoformat()} kept"
    return note


def read_due_change(note: str) -> DueChange | None:
    """The DueChange a due_change note records, or None when it is not one."""
    match = _DUE_CHANGE.match(note.strip())
    if match is None:
        return None
    old, new, kept = (date.fromisoformat(g) if g else None for g in match.groups())
    assert old is not None and new is not None
    return DueChange(old, new, kept)
