"""Withdraw a plan (撤回) and bring it back, the ledger and the plan file together.

A plan is withdrawn when its file leaves tasks_data/plans (found by the start-up reload and by
`python -m bot load` of the whole folder: `withdraw_missing`), by `python -m bot withdraw
CODE`, or by a coordinator's /withdraw CODE after a confirmation button. The ledger side is
bot.storage.withdraw (one transaction of set-based statements: the plan, its items, milestones
and assignments archived, the act recorded once in the plan's history (PlanEvent), its
pending Outbox rows cancelled). The file moves to tasks_data/withdrawn/, so that the next start
does not load it again; putting it back in plans/ (or `python -m bot restore CODE`, which moves
it back) restores the plan with its history and progress as they were.

When tasks_data/plans holds no plan file at all, nothing is withdrawn: an empty or unmounted
folder must not withdraw every plan (logged).
"""

from __future__ import annotations

import html
import logging
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from bot.core.history import ACTOR_IMPORT, ACTOR_SYSTEM
from bot.core.notices import OutboxKind, TextNotice
from bot.i18n import gettext
from bot.importer.yaml_io import plan_file
from bot.services.errors import ServiceError
from bot.storage import withdraw as store
from bot.storage.loader import begin_immediate
from bot.storage.models import ROLE_COORDINATOR, Membership, Outbox, Person

log = logging.getLogger(__name__)

PLANS_DIR = "plans"
WITHDRAWN_DIR = "withdrawn"  # tasks_data/withdrawn/: the files of withdrawn plans


@dataclass(frozen=True)
class Withdrawal:
    """A withdrawal or a restore: what the ledger changed and where the plan's file is now."""

    archive: store.PlanArchive
    file: Path | None  # the plan's file after the change; None: it has none in tasks_data


def plans_folder(tasks_data: Path) -> Path:
    """Where the plan files are: tasks_data/plans, or tasks_data itself when it has no plans/."""
    folder = Path(tasks_data)
    return folder / PLANS_DIR if (folder / PLANS_DIR).is_dir() else folder


def _plan_file(folder: Path, code: str) -> Path | None:
    return plan_file(folder, code) if folder.is_dir() else None


def _move(source: Path, folder: Path) -> Path:
    """Move a plan file into `folder` (created), replacing a file of the same name there."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / source.name
    os.replace(source, target)
    return target


async def withdraw(
    session_maker: Any,
    code: str,
    *,
    at: datetime,
    tasks_data: Path | None = None,
    actor_id: int | None = None,
    actor_label: str = ACTOR_SYSTEM,
    note: str = "",
) -> Withdrawal:
    """Withdraw the active plan `code`; its file (if in `tasks_data`/plans) moves to
    `tasks_data`/withdrawn. Codes: unknown_plan, plan_already_withdrawn (params plan)."""
    moved: tuple[Path, Path] | None = None
    async with session_maker() as session, session.begin():
        conn = await begin_immediate(session)
        row = await store.plan_row(conn, code)
        if row is None:
            raise ServiceError("unknown_plan", plan=code)
        if row.archived_at is not None:
            raise ServiceError("plan_already_withdrawn", plan=row.code)
        if tasks_data is not None:
            source = _plan_file(plans_folder(tasks_data), row.code)
            if source is not None:
                moved = (source, _move(source, Path(tasks_data) / WITHDRAWN_DIR))
        try:
            archive = await store.archive_plan(
                conn, row, at=at, actor_id=actor_id, actor_label=actor_label, note=note
            )
        except BaseException:
            if moved is not None:
                os.replace(moved[1], moved[0])
            raise
    log.info(
        "plan %s withdrawn: %d items, %d assignments archived, %d pending messages cancelled",
        archive.code,
        archive.items,
        archive.assignments,
        archive.outbox,
    )
    return Withdrawal(archive, moved[1] if moved else None)


async def restore(
    session_maker: Any,
    code: str,
    *,
    at: datetime,
    tasks_data: Path | None = None,
    actor_id: int | None = None,
    actor_label: str = ACTOR_SYSTEM,
    note: str = "",
) -> Withdrawal:
    """Bring the withdrawn plan `code` back as it was when withdrawn. With `tasks_data`, its
    file must be in plans/ or withdrawn/ (it moves back to plans/), else the next start would
    withdraw it again. Codes: unknown_plan, plan_not_withdrawn, plan_file_missing (params
    plan, folder)."""
    moved: tuple[Path, Path] | None = None
    file: Path | None = None
    async with session_maker() as session, session.begin():
        conn = await begin_immediate(session)
        row = await store.plan_row(conn, code)
        if row is None:
            raise ServiceError("unknown_plan", plan=code)
        if row.archived_at is None:
            raise ServiceError("plan_not_withdrawn", plan=row.code)
        if tasks_data is not None:
            plans = plans_folder(tasks_data)
            file = _plan_file(plans, row.code)
            if file is None:
                parked = _plan_file(Path(tasks_data) / WITHDRAWN_DIR, row.code)
                if parked is None:
                    raise ServiceError("plan_file_missing", plan=row.code, folder=str(plans))
                file = _move(parked, plans)
                moved = (parked, file)
        try:
            archive = await store.unarchive_plan(
                conn, row, at=at, actor_id=actor_id, actor_label=actor_label, note=note
            )
        except BaseException:
            if moved is not None:
                os.replace(moved[1], moved[0])
            raise
    log.info(
        "plan %s restored: %d items, %d assignments back",
        archive.code,
        archive.items,
        archive.assignments,
    )
    return Withdrawal(archive, file)


async def withdraw_missing(
    session_maker: Any, present: set[str], *, at: datetime, default_locale: str
) -> list[store.PlanArchive]:
    """Withdraw every active plan whose code is not in `present` (the codes of the files of
    tasks_data/plans) and tell the coordinators, in one transaction. An empty `present`
    withdraws nothing (module docstring)."""
    if not present:
        return []
    wanted = {c.upper() for c in present}
    done: list[store.PlanArchive] = []
    async with session_maker() as session, session.begin():
        conn = await begin_immediate(session)
        for code in await store.active_plan_codes(conn):
            if code.upper() in wanted:
                continue
            row = await store.plan_row(conn, code)
            assert row is not None
            archive = await store.archive_plan(
                conn, row, at=at, actor_label=ACTOR_IMPORT, note="plan file removed"
            )
            done.append(archive)
            log.warning(
                "plan %s withdrawn: its file is no longer in tasks_data/plans (%d items, %d "
                "assignments archived, %d pending messages cancelled); put the file back to "
                "restore it",
                archive.code,
                archive.items,
                archive.assignments,
                archive.outbox,
            )
            await _queue_notices(session, archive, default_locale=default_locale)
    return done


def withdrawn_notice(archive: store.PlanArchive, *, locale: str) -> str:
    """The coordinators' notice when a plan's file left tasks_data (HTML)."""
    return gettext(
        "⚠️ Plan %(code)s (%(title)s) was withdrawn: its plan file is no longer in "
        "tasks_data/plans. Its %(assignments)s assignments are archived and nothing of it is "
        "sent any more; its history is kept. Put the file back and restart to restore it.",
        locale=locale,
    ) % {
        "code": html.escape(archive.code),
        "title": html.escape(archive.title),
        "assignments": archive.assignments,
    }


async def _queue_notices(session: Any, archive: store.PlanArchive, *, default_locale: str) -> None:
    people = (
        await session.exec(
            select(Person)
            .join(Membership, col(Membership.person_id) == col(Person.id))
            .where(
                Membership.role == ROLE_COORDINATOR,
                col(Membership.revoked_at).is_(None),
                col(Person.active).is_(True),
                col(Person.telegram_id).is_not(None),
                (col(Membership.plan_id).is_(None)) | (col(Membership.plan_id) == archive.plan_id),
            )
        )
    ).all()
    stamp = archive.at.strftime("%Y%m%dT%H%M%S")
    for person in {p.id: p for p in people}.values():
        locale = person.locale or default_locale
        session.add(
            Outbox(
                key=f"plan-withdrawn:{archive.code}:{stamp}:{person.id}",
                kind=OutboxKind.NOTICE,
                chat_id=person.telegram_id,
                person_id=person.id,
                stage="plan_withdrawn",
                locale=locale,
                payload=TextNotice(withdrawn_notice(archive, locale=locale)).to_json(),
                created_at=archive.at,
                not_before=archive.at,
            )
        )
    await session.flush()


async def withdrawn_plans(session: Any) -> list[store.PlanRow]:
    """The withdrawn plans (for /plans' "withdrawn" line), most recent first."""
    return await store.withdrawn_plans(await session.connection())
