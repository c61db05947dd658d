"""Sessions that know whether they hold writes not committed yet.

`TrackedSession` marks itself when it flushes changes or executes an INSERT, UPDATE or DELETE,
and clears the mark on commit and rollback; `has_uncommitted_writes` reads the mark (plus
changes not flushed yet). The chat's sessions are tracked, so that nothing is said to a user
before the update's writes are committed (`bot.telegram.middlewares.CommitBeforeAnswer`).
Open one with `session_maker(sync_session_class=TrackedSession)`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState
from sqlmodel import Session

_MARK = "uncommitted_writes"


class TrackedSession(Session):
    """sqlmodel's Session, marking uncommitted writes in `info` (listeners below)."""


@event.listens_for(TrackedSession, "after_flush")
def _mark(session: Session, _flush_context: Any) -> None:
    session.info[_MARK] = True


@event.listens_for(TrackedSession, "do_orm_execute")
def _mark_statement(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_MARK] = True


@event.listens_for(TrackedSession, "after_commit")
@event.listens_for(TrackedSession, "after_rollback")
def _clear(session: Session) -> None:
    session.info[_MARK] = False


def has_uncommitted_writes(session: Any) -> bool:
    """For an AsyncSession or a Session opened as TrackedSession."""
    sync: Session = getattr(session, "sync_session", session)
    return bool(sync.info.get(_MARK) or sync.new or sync.dirty or sync.deleted)
