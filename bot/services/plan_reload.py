"""Start-up loads tasks_data/plans — but never lets a plan file shrink the ledger silently.

A plan file with fewer items or assignments than the ledger (a truncated or half-edited YAML, a
file from before a replacement, or a database restored from a backup while the files stayed
newer) would archive the difference at every start. Before start-up loads the plans, a dry run
(`load_plans(dry_run=True)`) measures what each already-known plan would lose:

- any loss: the plan loads, and the loss is logged at WARNING and sent to the plan's
  coordinators as a notice (Outbox, kind "notice", once per distinct file content);
- a loss over `ARCHIVE_LIMIT` of the plan's active items or assignments: the plan is NOT
  loaded (the ledger keeps it as it is); the warning and the notice say so, and that
  `python -m bot load` loads the file when the loss is intended.
"""

from __future__ import annotations

import hashlib
import html
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from bot.core.notices import OutboxKind, TextNotice
from bot.core.plan import Plan
from bot.i18n import gettext
from bot.storage.loader import LoadReport, PlanLoadResult, load_plans
from bot.storage.models import ROLE_COORDINATOR, Membership, Outbox, Person
from bot.storage.models import Plan as PlanRow

log = logging.getLogger(__name__)

ARCHIVE_LIMIT = 0.25  # share of a plan's active items (or assignments) start-up may archive
NOTICE = OutboxKind.NOTICE
SHOWN_REFS = 8


@dataclass(frozen=True)
class Shrink:
    """What loading a plan's file would archive of what the ledger has active."""

    code: str
    title: str
    source: str
    items_archived: int
    items_before: int
    assignments_archived: int
    assignments_before: int
    refs: tuple[str, ...]  # the items archived

    @property
    def share(self) -> float:
        items = self.items_archived / self.items_before if self.items_before else 0.0
        assignments = (
            self.assignments_archived / self.assignments_before if self.assignments_before else 0.0
        )
        return max(items, assignments)


def shrink_of(result: PlanLoadResult, source: str = "") -> Shrink | None:
    """The loss a (dry-run) load result shows; None when nothing active is archived."""
    items, assignments = result.items, result.assignment_changes
    if result.new_plan or result.skipped or not (items.archived or assignments.archived):
        return None
    return Shrink(
        code=result.code,
        title=result.title,
        source=source,
        items_archived=items.archived,
        items_before=items.archived + items.updated + items.unchanged,
        assignments_archived=assignments.archived,
        assignments_before=assignments.archived + assignments.updated + assignments.unchanged,
        refs=tuple(result.archived_refs),
    )


@dataclass
class StartupLoad:
    report: LoadReport
    shrinking: list[Shrink]  # loaded with a loss
    held: list[Shrink]  # not loaded: the loss is over the limit


async def load_plan_files(
    session_maker: Any,
    plans: list[Plan],
    directory: Any,
    *,
    at: datetime,
    default_locale: str,
    limit: float = ARCHIVE_LIMIT,
) -> StartupLoad:
    """Start-up's load of the plan files (module docstring)."""
    async with session_maker() as session:
        known = set((await session.exec(select(PlanRow.code))).all())
    existing = [p for p in plans if p.info.code in known]
    shrinks: list[Shrink] = []
    if existing:
        dry = await load_plans(session_maker, existing, directory, at=at, dry_run=True)
        sources = {p.info.code: p.info.source for p in existing}
        shrinks = [s for r in dry.plans if (s := shrink_of(r, sources.get(r.code, "")))]
    held = [s for s in shrinks if s.share > limit]
    held_codes = {s.code for s in held}
    report = await load_plans(
        session_maker, [p for p in plans if p.info.code not in held_codes], directory, at=at
    )
    shrinking = [s for s in shrinks if s.code not in held_codes]
    for s in shrinking:
        log.warning(
            "plan %s: its file has fewer items than the ledger; start-up archived %d of %d "
            "items (%s) and %d of %d assignments",
            s.code,
            s.items_archived,
            s.items_before,
            _refs(s.refs),
            s.assignments_archived,
            s.assignments_before,
        )
    for s in held:
        log.warning(
            "plan %s NOT loaded at start-up: its file would archive %d of %d items (%s) and "
            "%d of %d assignments; the ledger keeps the plan as it was. Restore the file, or "
            "run `python -m bot load` if the loss is intended",
            s.code,
            s.items_archived,
            s.items_before,
            _refs(s.refs),
            s.assignments_archived,
            s.assignments_before,
        )
    if shrinks:
        async with session_maker() as session:
            for s in shrinks:
                await queue_notices(
                    session, s, held=s.code in held_codes, at=at, default_locale=default_locale
                )
            await session.commit()
    return StartupLoad(report, shrinking, held)


def _refs(refs: tuple[str, ...]) -> str:
    shown = ", ".join(refs[:SHOWN_REFS])
    return shown + (" …" if len(refs) > SHOWN_REFS else "")


def notice_text(s: Shrink, *, held: bool, locale: str) -> str:
    """The coordinators' notice (HTML)."""
    esc = html.escape
    params = {
        "code": esc(s.code),
        "items": s.items_archived,
        "items_before": s.items_before,
        "assignments": s.assignments_archived,
        "assignments_before": s.assignments_before,
        "refs": esc(_refs(s.refs)) or "—",
    }
    if held:
        return (
            gettext(
                "⚠️ Plan %(code)s was NOT reloaded at start-up: its plan file would archive "
                "%(items)s of %(items_before)s items (%(refs)s) and %(assignments)s of "
                "%(assignments_before)s assignments. The ledger keeps the plan as it was. If the "
                "file was cut short, restore it; if the change is intended, the operator runs "
                "<code>python -m bot load</code>.",
                locale=locale,
            )
            % params
        )
    return (
        gettext(
            "⚠️ Plan %(code)s: its plan file has fewer items than the ledger, so start-up "
            "archived %(items)s of %(items_before)s items (%(refs)s) and %(assignments)s of "
            "%(assignments_before)s assignments. If the file was cut short, restore it and "
            "restart: the items come back with their history.",
            locale=locale,
        )
        % params
    )


async def queue_notices(
    session: Any, s: Shrink, *, held: bool, at: datetime, default_locale: str
) -> int:
    """One notice per coordinator of the plan (of all plans, or of this one); the key makes a
    restart with the same file queue nothing new. Returns the number queued."""
    plan = (await session.exec(select(PlanRow).where(PlanRow.code == s.code))).first()
    people = (
        await session.exec(
            select(Person)
            .join(Membership, col(Membership.person_id) == col(Person.id))
            .where(
                Membership.role == ROLE_COORDINATOR,
                col(Membership.revoked_at).is_(None),
                col(Person.active).is_(True),
                col(Person.telegram_id).is_not(None),
                (col(Membership.plan_id).is_(None))
                | (col(Membership.plan_id) == (plan.id if plan else -1)),
            )
        )
    ).all()
    digest = hashlib.sha256(
        f"{held}|{s.items_archived}|{s.assignments_archived}|{'|'.join(s.refs)}".encode()
    ).hexdigest()[:12]
    queued = 0
    for person in {p.id: p for p in people}.values():
        key = f"plan-file:{s.code}:{digest}:{person.id}"
        if (await session.exec(select(Outbox.id).where(Outbox.key == key))).first() is not None:
            continue
        locale = person.locale or default_locale
        session.add(
            Outbox(
                key=key,
                kind=NOTICE,
                chat_id=person.telegram_id,
                person_id=person.id,
                stage="plan_file",
                locale=locale,
                payload=TextNotice(notice_text(s, held=held, locale=locale)).to_json(),
                created_at=at,
                not_before=at,
            )
        )
        queued += 1
    await session.flush()
    return queued
