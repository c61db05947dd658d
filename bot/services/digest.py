"""The weekly digest pass: one Outbox row per recipient that has no digest of this week yet.

Recipients: coordinators (their plans, or all), unit leaders (the plans where their unit has
items, lists cut to their unit, ranking whole so they see the rank), plan leaders and
subscribed group chats (their plan, or all: a group subscribed to one plan gets that plan
only). One row per chat, key f"digest:{week}:{chat}", its payload a
`bot.core.notices.DigestNotice` (content: `bot.storage.outbox.digest`).

The units' ranking of the recipient's plans (`RankingBlock`) comes from the one ranking
service (`bot.services.ranking.policy_ranking`, as /status, /scorecard and the export): the
sender draws the picture from it, the text lists it and the headline sums it, so picture,
caption and text say the same.

Cost: the content is built once per pass, each plan's part is cut once per scope (all units,
or a leader's units) and the ranking once per set of plans; both are shared by the recipients
with that scope; nothing is built once every recipient has this week's row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.digest_slot import DigestSlot, ledger_had_the_week
from bot.core.notices import Audience, DigestNotice, DigestPlan, OutboxKind, RankingBlock
from bot.core.policy import Policy
from bot.services.ranking import policy_ranking, to_block
from bot.services.stats import Scope
from bot.storage.outbox.audiences import Directory, Recipient, load_directory
from bot.storage.outbox.digest import PlanDigest, build_plan_digests, digest_chats, ledger_since

# chat → (audience, recipient, plan ids or None for all, unit ids or None for all)
Recipients = dict[int, tuple[Audience, Recipient, set[int] | None, set[int] | None]]


def _possible_chats(directory: Directory, policy: Policy) -> set[int]:
    rules = policy.digest
    chats: set[int] = set()
    if rules.to_coordinators:
        chats |= {w.chat_id for people in directory.coordinators.values() for w in people}
    if rules.to_leaders:
        chats |= {w.chat_id for people in directory.plan_leaders.values() for w in people}
        chats |= {w.chat_id for people in directory.unit_leaders.values() for w in people}
    if rules.to_groups:
        chats |= {w.chat_id for w, _ in directory.groups}
    return chats


def _leaders_units(directory: Directory, policy: Policy) -> set[int]:
    """The units whose leaders get a digest cut to their units."""
    return set(directory.unit_leaders) if policy.digest.to_leaders else set()


def _recipients(directory: Directory, plans: dict[int, PlanDigest], policy: Policy) -> Recipients:
    """chat → (audience, recipient, plan ids or None for all, unit ids or None for all)."""
    out: Recipients = {}

    def add(
        audience: Audience, who: Recipient, plan_ids: set[int] | None, units: set[int] | None
    ) -> None:
        current = out.get(who.chat_id)
        if current is None:
            out[who.chat_id] = (audience, who, plan_ids, units)
            return
        # one chat, several roles: the widest view wins
        _, _, cur_plans, cur_units = current
        merged_plans = None if cur_plans is None or plan_ids is None else cur_plans | plan_ids
        merged_units = None if cur_units is None or units is None else cur_units | units
        out[who.chat_id] = (current[0], current[1], merged_plans, merged_units)

    rules = policy.digest
    if rules.to_coordinators:
        for plan_id, people in directory.coordinators.items():
            for who in people:
                add(Audience.COORDINATORS, who, None if plan_id is None else {plan_id}, None)
    if rules.to_leaders:
        for plan_id, people in directory.plan_leaders.items():
            for who in people:
                add(Audience.LEADERS, who, {plan_id}, None)
        for unit_id, people in directory.unit_leaders.items():
            plan_ids = {pid for pid, d in plans.items() if unit_id in d.unit_ids}
            for who in people:
                add(Audience.LEADERS, who, plan_ids, {unit_id})
    if rules.to_groups:
        for who, plan_id in directory.groups:
            add(Audience.GROUPS, who, None if plan_id is None else {plan_id}, None)
    return out


async def scope_block(
    session: AsyncSession,
    plan_ids: frozenset[int] | None,
    plans: dict[int, PlanDigest],
    policy: Policy,
    at: datetime,
) -> RankingBlock:
    """The ranking of `plan_ids` (None: every plan) with this week's change over them."""
    ranking = await policy_ranking(session, scope=Scope(plan_ids=plan_ids), at=at, policy=policy)
    chosen = [d for pid, d in plans.items() if plan_ids is None or pid in plan_ids]
    return to_block(
        ranking,
        closed_week=sum(d.closed_week for d in chosen),
        overdue_week=sum(d.overdue_week for d in chosen),
    )


async def digest_rows(
    session: AsyncSession,
    slot: DigestSlot,
    policy: Policy,
    at: datetime,
    *,
    default_locale: str = "zh_CN",
) -> list[dict[str, Any]]:
    """Outbox rows of this week's digest for every recipient that has none yet."""
    conn = await session.connection()
    existing = await digest_chats(conn, slot.week)
    directory = await load_directory(conn)
    # cheap check first: the digest slot stays open all week, content is built only when
    # someone still lacks this week's digest
    if not _possible_chats(directory, policy) - existing:
        return []
    if not ledger_had_the_week(slot, await ledger_since(conn), policy.zone):
        return []
    # each list's first items kept per unit only for the units a leader's digest is cut to
    plans = await build_plan_digests(conn, policy, at, units=_leaders_units(directory, policy))
    recipients = _recipients(directory, plans, policy)
    rows: list[dict[str, Any]] = []
    today = at.astimezone(policy.zone).date()
    # a plan's part depends only on the scope (its units, or all): cut once per scope and
    # shared by every recipient with that scope (coordinators, plan leaders, groups)
    cuts: dict[tuple[int, frozenset[int] | None], DigestPlan | None] = {}
    # the ranking depends only on the plans: one per set of plans, shared the same way
    blocks: dict[frozenset[int] | None, RankingBlock] = {}
    for chat_id, (audience, who, plan_ids, unit_ids) in sorted(recipients.items()):
        if chat_id in existing:
            continue
        scope = frozenset(unit_ids) if unit_ids is not None else None
        parts = []
        for plan_id, digest in plans.items():
            if plan_ids is not None and plan_id not in plan_ids:
                continue
            if (plan_id, scope) not in cuts:
                cuts[(plan_id, scope)] = digest.cut(unit_ids)
            cut = cuts[(plan_id, scope)]
            if cut is not None:
                parts.append(cut)
        ranked = None if plan_ids is None else frozenset(plan_ids) & frozenset(plans)
        block = None
        if parts or ranked is None:
            if ranked not in blocks:
                blocks[ranked] = await scope_block(session, ranked, plans, policy, at)
            block = blocks[ranked]
        notice = DigestNotice(
            week=slot.week,
            week_start=slot.week_start,
            today=today,
            audience=audience,
            unit_ids=tuple(sorted(unit_ids)) if unit_ids is not None else None,
            plans=tuple(parts),
            ranking=block,
        )
        rows.append(
            {
                "key": slot.key(chat_id),
                "kind": OutboxKind.DIGEST,
                "chat_id": chat_id,
                "person_id": who.person_id,
                "assignment_id": None,
                "stage": slot.week,
                "locale": who.locale or default_locale,
                "payload": notice.to_json(lean=True),
                "created_at": at,
                "not_before": slot.not_before,
            }
        )
    return rows
