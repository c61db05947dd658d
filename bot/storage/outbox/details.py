"""What the messages show about each assignment, and who was chased about it before.

Planned rows refer to their items (lean payloads, `bot.core.notices.stage_payload` and the
`to_lean` arrays of summaries, lists, digests, briefs and rankings): what the item is (plan,
ref, title, milestone target, units…), plan titles and unit names are read from the ledger when
the message is rendered. `item_notices` reads it (for the sender:
`rendered_payload`; for the liaisons' briefs: `fill_brief_items`), `item_keys` the little a
planning pass needs to rank the items of a 督办汇总, and `chase_history` the earlier
reminders, chases and escalations a 督办 lists for leaders and coordinators (from the Outbox
itself). Rows of earlier releases carry a copy of their item and are rendered as they are.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.core.brief import short_title
from bot.core.notices import (
    Audience,
    BatchItem,
    BatchMarker,
    BatchNotice,
    BriefItem,
    BriefNotice,
    ChaseRecord,
    DecisionNotice,
    DigestNotice,
    ItemNotice,
    OutboxKind,
    OutboxStatus,
    RankingBlock,
    UnitRef,
    is_reference,
    with_item,
)
from bot.storage.outbox.marks import marks_of
from bot.storage.outbox.raw import (
    as_date,
    as_json,
    chunks,
    fetch,
    id_clauses,
    parse_datetime,
)

_DETAIL_SQL = """
SELECT a.id, a.unit_id, a.role, a.status, a.acknowledged_at, a.milestone_id,
       m.target, m.phrase, m.original_due, t.ref, t.title, t.kind, p.code, p.title,
       COALESCE(NULLIF(u.short_name, ''), u.name)
FROM assignment a
JOIN milestone m ON m.id = a.milestone_id
JOIN task t ON t.id = m.task_id
JOIN plan p ON p.id = t.plan_id
JOIN unit u ON u.id = a.unit_id
WHERE a.id IN ({ids})
"""


async def item_notices(
    conn: AsyncConnection, assignment_ids: Iterable[int]
) -> dict[int, ItemNotice]:
    """Each assignment as a message shows it (plus the units of its milestone); the planning
    pass adds the stage and the audience."""
    ids = sorted(set(assignment_ids))
    found: dict[int, tuple] = {}
    milestones: dict[int, list[int]] = defaultdict(list)
    for chunk in chunks(ids):
        sql = _DETAIL_SQL.format(ids=",".join("?" * len(chunk)))
        for row in await fetch(conn, sql, tuple(chunk)):
            found[row[0]] = row
            milestones[row[5]].append(row[0])
    units: dict[int, tuple[UnitRef, ...]] = {}
    mids = sorted(milestones)
    for chunk in chunks(mids):
        sql = (
            "SELECT a.milestone_id, a.role, COALESCE(NULLIF(u.short_name, ''), u.name) "
            "FROM assignment a JOIN unit u ON u.id = a.unit_id "
            f"WHERE a.archived_at IS NULL AND a.milestone_id IN ({','.join('?' * len(chunk))}) "
            "ORDER BY a.milestone_id, a.role != 'lead', a.id"
        )
        by_milestone: dict[int, list[UnitRef]] = defaultdict(list)
        for mid, role, name in await fetch(conn, sql, tuple(chunk)):
            by_milestone[mid].append(UnitRef(name, role))
        for mid in chunk:
            units[mid] = tuple(by_milestone.get(mid, ()))
    out: dict[int, ItemNotice] = {}
    for aid, row in found.items():
        _, unit_id, role, status, acked, mid, target, phrase, odue, ref, title = row[:11]
        kind, code, plan_title, unit_name = row[11:]
        out[aid] = ItemNotice(  # positional: tens of thousands per first pass
            code,  # plan
            plan_title,
            ref,
            title,
            kind,  # item_kind
            target or "",
            phrase or "",
            as_date(odue),  # original_due
            unit_name,  # unit
            unit_id,
            role,
            status,
            acked is not None,  # acknowledged
            units.get(mid, ()),
        )
    return out


# what counts as having been chased: reminders, acknowledgement chases, overdue notices, 督办 and
# manual 催办, sent or on their way, and the stages listed for a liaison (their marks; the
# marker rows of releases before migration 0013 are counted too)
_CHASES = (
    OutboxKind.REMINDER,
    OutboxKind.ACK_CHASE,
    OutboxKind.OVERDUE,
    OutboxKind.ESCALATION,
    OutboxKind.CHASE,
)
_COUNTED = (OutboxStatus.SENT, OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.BATCHED)


async def chase_history(
    conn: AsyncConnection, assignment_ids: Iterable[int]
) -> dict[int, list[ChaseRecord]]:
    """Earlier reminders, chases and escalations of each assignment: who, when, what. A stage
    a liaison got in a 逾期事项清单 counts too (its mark names them; its time is the
    list's planning time)."""
    ids = sorted(set(assignment_ids))
    history: dict[int, list[ChaseRecord]] = defaultdict(list)
    kinds = [str(k) for k in _CHASES]
    statuses = ", ".join(f"'{s}'" for s in _COUNTED)
    for chunk in chunks(ids):
        sql = (
            "SELECT o.assignment_id, o.kind, o.stage, o.status, o.sent_at, o.not_before, "
            "o.payload, pe.name FROM outbox o LEFT JOIN person pe ON pe.id = o.person_id "
            f"WHERE o.assignment_id IN ({','.join('?' * len(chunk))}) "
            f"AND o.kind IN ({','.join('?' * len(kinds))}) AND o.status IN ({statuses}) "
            "ORDER BY o.assignment_id, COALESCE(o.sent_at, o.not_before), o.id"
        )
        for aid, kind, stage, status, sent_at, not_before, payload, name in await fetch(
            conn, sql, (*chunk, *kinds)
        ):
            data = as_json(payload) if payload else {}
            when = parse_datetime(sent_at or not_before)
            people: list[str]
            audience: str
            if status == OutboxStatus.BATCHED:  # a marker: only a liaison's list chases the unit
                people, audience = list(BatchMarker.from_json(data).liaisons), Audience.LIAISONS
            else:
                people, audience = [name or ""], str(data.get("audience", ""))
            for person in people:
                history[aid].append(
                    ChaseRecord(kind, stage, when, person, audience, status == OutboxStatus.SENT)
                )
    # stages a liaison got in a 逾期事项清单 (their marks name them; time: the planning pass)
    marked: set[int] = set()
    marks = await marks_of(conn, ids)
    listed = [
        as_json(liaisons) if isinstance(liaisons, str) else liaisons for *_, liaisons, _ in marks
    ]
    names = await _person_names(
        conn, {p for people in listed for p in people if isinstance(p, int)}
    )
    for (aid, kind, stage, _, created), people in zip(marks, listed, strict=True):
        when = parse_datetime(created)
        for person in people:  # a person id, or the name a mark of an earlier release kept
            name = names.get(person, "") if isinstance(person, int) else str(person)
            history[aid].append(ChaseRecord(kind, stage, when, name, Audience.LIAISONS, False))
            marked.add(aid)
    for aid in marked:  # by time (a pass's marks after its rows: the sort is stable)
        history[aid].sort(key=lambda r: r.at or _EPOCH)
    return history


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


async def _person_names(conn: AsyncConnection, person_ids: Iterable[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    for where, params in id_clauses("id", person_ids):
        for pid, name in await fetch(conn, f"SELECT id, name FROM person WHERE {where}", params):
            out[pid] = name
    return out


def earlier_chases(history: Iterable[ChaseRecord], kind: str, stage: str) -> list[ChaseRecord]:
    """The chases before a stage: its history without the stage's own rows and marks (a 督办
    rendered or summarised after its pass has them)."""
    return [c for c in history if c.stage != stage or c.kind != kind]


_KEYS_SQL = """
SELECT a.id, t.ref, COALESCE(NULLIF(u.short_name, ''), u.name), p.title
FROM assignment a
JOIN milestone m ON m.id = a.milestone_id
JOIN task t ON t.id = m.task_id
JOIN plan p ON p.id = t.plan_id
JOIN unit u ON u.id = a.unit_id
WHERE {where}
"""


async def item_keys(
    conn: AsyncConnection, assignment_ids: Iterable[int]
) -> dict[int, tuple[str, str, str]]:
    """assignment id → (ref, unit name, plan title): what a planning pass needs of the items
    it puts in a summary or list (their rank, and the plan's title)."""
    out: dict[int, tuple[str, str, str]] = {}
    texts: dict[str, str] = {}  # a plan's title and a unit's name, shared
    share = texts.setdefault
    for where, params in id_clauses("a.id", assignment_ids):
        for aid, ref, unit, plan_title in await fetch(conn, _KEYS_SQL.format(where=where), params):
            out[aid] = (ref, share(unit, unit), share(plan_title, plan_title))
    return out


_ITEM_KINDS = frozenset(
    {
        OutboxKind.REMINDER,
        OutboxKind.ACK_CHASE,
        OutboxKind.OVERDUE,
        OutboxKind.ESCALATION,
        OutboxKind.PERIODIC,
        OutboxKind.CHASE,
    }
)
_LISTS = frozenset({OutboxKind.ESCALATION_BATCH, OutboxKind.OVERDUE_BATCH})


async def rendered_payload(
    conn: AsyncConnection,
    kind: str,
    payload: dict[str, Any] | None,
    assignment_id: int | None,
    stage: str,
) -> dict[str, Any] | None:
    """The payload a row is rendered from: a referring payload completed with its items as
    the ledger has them now (and, for a 督办 to leaders or coordinators, who was chased
    before); None when the stored one is complete (rows of earlier releases, kinds that
    never refer)."""
    data = payload or {}
    if kind in _ITEM_KINDS and assignment_id is not None and is_reference(data):
        found = (await item_notices(conn, [assignment_id])).get(assignment_id)
        if found is None:  # deleted meanwhile: what the row has
            return None
        notice = ItemNotice.from_json(data)
        notice.stage = notice.stage or stage
        if kind == OutboxKind.ESCALATION and notice.audience != Audience.LIAISONS:
            history = (await chase_history(conn, [assignment_id])).get(assignment_id, [])
            notice.chased = tuple(earlier_chases(history, kind, notice.stage))
        return with_item(notice, found).to_json()
    items = data.get("items") or ()
    if kind == OutboxKind.BRIEF and any(is_reference(i) for i in items):
        brief = BriefNotice.from_json(data)
        # a lean item (an array) has no ref: ref and plan are the ledger's, its 签收 is the
        # brief's; an item of the previous release's objects has them
        await fill_brief_items(conn, brief.items, acknowledged=False)
        return {**data, "items": [{**i.to_json(), **_texts(i)} for i in brief.items]}
    if kind in _LISTS and ("plan_title" not in data or any(is_reference(i) for i in items)):
        batch = BatchNotice.from_json(data)
        details = await item_notices(conn, [i.id for i in batch.items if i.id is not None])
        for item in batch.items:
            found = details.get(item.id or 0)
            if found is not None:
                item.title, item.unit, item.status = found.title[:80], found.unit, found.status
                item.ref = item.ref or found.ref
        batch.items = tuple(sorted(batch.items, key=BatchItem.rank))
        if "plan_title" not in data:
            titles = await plan_titles(conn, [batch.plan])
            batch.plan_title = titles.get(batch.plan, "")
        batch.ranking = await _named(conn, batch.ranking)
        return {**data, **batch.to_json()}
    if kind == OutboxKind.DIGEST and _lean_digest(data):
        digest = DigestNotice.from_json(data)
        await _fill_digest(conn, digest)
        return {**data, **digest.to_json()}
    if kind == OutboxKind.DECISION and DecisionNotice.is_lean(data):
        decisions = DecisionNotice.from_json(data)
        await _fill_decisions(conn, decisions)
        return {**data, **decisions.to_json()}
    return None


_DECISION_SQL = """
SELECT a.id, p.id, p.code, t.ref, a.unit_id
FROM assignment a
JOIN milestone m ON m.id = a.milestone_id
JOIN task t ON t.id = m.task_id
JOIN plan p ON p.id = t.plan_id
WHERE {where}
"""


async def _fill_decisions(conn: AsyncConnection, notice: DecisionNotice) -> None:
    """Decision items read from a lean payload with their plan, ref and unit as the ledger
    has them (the unit named as /pending names it, `bot.services.stats.unit_names`)."""
    found: dict[int, tuple[int, str, str, int]] = {}
    for where, params in id_clauses("a.id", {i.assignment_id for i in notice.items}):
        for aid, plan_id, code, ref, unit_id in await fetch(
            conn, _DECISION_SQL.format(where=where), params
        ):
            found[aid] = (plan_id, code, ref, unit_id)
    names = await unit_names(conn, {unit for *_, unit in found.values()})
    for item in notice.items:
        if not item.ref and item.assignment_id in found:
            plan_id, code, ref, unit_id = found[item.assignment_id]
            item.plan_id, item.plan, item.ref = plan_id, code, ref
            item.unit = names.get(unit_id, "")


def _texts(item: BriefItem) -> dict[str, str]:
    return {"title": item.title, "plan_title": item.plan_title}


def _lean_digest(data: dict[str, Any]) -> bool:
    """A digest planned with lean payloads: plans without their title, a ranking without
    names (digests of earlier releases copy them)."""
    ranking = data.get("ranking") or {}
    return any("title" not in p for p in data.get("plans") or ()) or any(
        isinstance(r, list) for r in ranking.get("rows") or ()
    )


async def plan_titles(conn: AsyncConnection, codes: Iterable[str]) -> dict[str, str]:
    """plan code → its title (codes are unique, archived plans included)."""
    out: dict[str, str] = {}
    for chunk in chunks(sorted(set(codes))):
        sql = f"SELECT code, title FROM plan WHERE code IN ({','.join('?' * len(chunk))})"
        for code, title in await fetch(conn, sql, tuple(chunk)):
            out[code] = title
    return out


# how lists name units: the short name plans use (市卫健委), or the full name when several
# units share that short name (each city has a 市卫健委); the window runs over every unit
_UNIT_NAMES_SQL = """
SELECT id, name, short_name, sharing FROM (
  SELECT id, name, short_name, count(*) OVER (PARTITION BY short_name) AS sharing FROM unit
) AS named WHERE {where}
"""


async def unit_names(conn: AsyncConnection, unit_ids: Iterable[int]) -> dict[int, str]:
    """How to name units in a list, by id (see `_UNIT_NAMES_SQL`): /status, rankings,
    decisions and the messages rendered from lean rows all name them so."""
    names: dict[int, str] = {}
    for where, params in id_clauses("id", unit_ids):
        sql = _UNIT_NAMES_SQL.format(where=where)
        for uid, name, short, sharing in await fetch(conn, sql, params):
            names[uid] = short if short and sharing == 1 else name
    return names


async def _named(conn: AsyncConnection, block: RankingBlock | None) -> RankingBlock | None:
    """A ranking read from a lean payload with its units' and plans' names from the ledger."""
    if block is None or not block.lean:
        return block
    names = await unit_names(conn, {r.unit_id for r in block.rows})
    titles = await plan_titles(conn, [code for code, _ in block.plans])
    for row in block.rows:
        row.unit = row.unit or names.get(row.unit_id, "?")
    block.plans = tuple((code, title or titles.get(code, "")) for code, title in block.plans)
    return block


_DIGEST_ITEMS_SQL = """
SELECT a.id, t.ref, t.title, COALESCE(NULLIF(u.short_name, ''), u.name)
FROM assignment a
JOIN milestone m ON m.id = a.milestone_id
JOIN task t ON t.id = m.task_id
JOIN unit u ON u.id = a.unit_id
WHERE {where}
"""


async def _fill_digest(conn: AsyncConnection, digest: DigestNotice) -> None:
    """A digest read from a lean payload with its plans' titles, its items' refs, titles and
    units, and its ranking's names as the ledger has them (`bot.storage.outbox.digest`
    lists them so)."""
    lean = [i for p in digest.plans for items in p.lists.values() for i in items if not i.ref]
    found: dict[int, tuple[str, str, str]] = {}
    for where, params in id_clauses("a.id", {i.id for i in lean}):
        for aid, ref, title, unit in await fetch(
            conn, _DIGEST_ITEMS_SQL.format(where=where), params
        ):
            found[aid] = (ref, title, unit)
    for item in lean:
        item.ref, item.title, item.unit = found.get(item.id, ("", "", ""))
    titles = await plan_titles(conn, [p.code for p in digest.plans if not p.title])
    for part in digest.plans:
        part.title = part.title or titles.get(part.code, "")
    digest.ranking = await _named(conn, digest.ranking)


_BRIEF_SQL = """
SELECT a.id, t.ref, t.title, p.code, p.title, a.acknowledged_at
FROM assignment a
JOIN milestone m ON m.id = a.milestone_id
JOIN task t ON t.id = m.task_id
JOIN plan p ON p.id = t.plan_id
WHERE {where}
"""


async def fill_brief_items(
    conn: AsyncConnection,
    items: Sequence[BriefItem],
    *,
    titles: bool = True,
    acknowledged: bool = True,
) -> None:
    """Complete brief items made from referring payloads with their items as the ledger has
    them: ref and plan, and (`acknowledged`) whether it is acknowledged, for an item whose
    row referred to it wholly (no ref); with `titles` also the titles (no title) for
    rendering. The brief composer needs no titles (a brief stores none, `BriefItem.to_lean`);
    a brief's own items know whether they were acknowledged (`acknowledged=False`)."""
    wanted: dict[int, list[BriefItem]] = defaultdict(list)
    for item in items:
        if not item.ref or (titles and not item.title):
            wanted[item.id].append(item)
    texts: dict[str, str] = {}  # plans' codes and titles, shared
    share = texts.setdefault
    for where, params in id_clauses("a.id", wanted):
        sql = _BRIEF_SQL.format(where=where)
        for aid, ref, title, code, plan_title, acked in await fetch(conn, sql, params):
            shown = short_title(title) if titles else ""
            for item in wanted[aid]:
                if not item.ref:
                    item.ref = ref
                    if acknowledged:
                        item.acknowledged = acked is not None
                item.plan = item.plan or share(code, code)
                if titles:
                    item.title, item.plan_title = shown, share(plan_title, plan_title)
