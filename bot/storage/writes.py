"""Whether a session holds writes that are not committed yet.

`track_writes(session)` marks the session when it flushes changes or executes an INSERT,
UPDATE or DELETE, and clears the mark on commit and rollback; `has_uncommitted_writes` reads
it (plus changes not flushed yet). The chat uses it to commit before answering
(`bot.telegram.middlewares.CommitBeforeAnswer`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

_MARK = "uncommitted_writes"


def _mark(session: Session, _flush_context: Any) -> None:
    session.info[_MARK] = True


def _mark_statement(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_MARK] = True


def _clear(session: Session, *_: Any) -> None:
    session.info[_MARK] = False


def track_writes(session: Any) -> None:
    """Start tracking the writes of `session` (an AsyncSession or a Session)."""
    sync: Session = getattr(session, "sync_session", session)
    event.listen(sync, "after_flush", _mark)
    event.listen(sync, "do_orm_execute", _mark_statement)
    event.listen(sync, "after_commit", _clear)
    event.listen(sync, "after_rollback", _clear)


def has_uncommitted_writes(session: Any) -> bool:
    sync: Session = getattr(session, "sync_session", session)
    return bool(sync.info.get(_MARK) or sync.new or sync.dirty or sync.deleted)
