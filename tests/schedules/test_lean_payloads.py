"""Lean payloads of summaries, lists, digests, briefs and rankings: a planned row stores
references (ids, codes, days) and the sender fills in the texts from the ledger, so that the
message is the one the previous release's full payload gave for the same ledger, in every
language, picture included; rows of earlier releases are still sent as they were stored."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlmodel import select

from bot.core.notices import BatchItem, BatchNotice, BriefNotice, DigestNotice, RankingBlock
from bot.core.policy import load_policy
from bot.services.planning import plan_due
from bot.storage.models import Outbox, Plan, Unit
from bot.storage.outbox.delivery import as_rendered
from bot.telegram.notices import picture_view, render
from tests.schedules.sched_helpers import ZONE, local
from tests.schedules.sched_world import staffed_world

MONDAY = "2025-03-24 09:00"  # a working Monday: the weekly digest's slot, the brief's time
LISTED = ("escalation_batch", "overdue_batch", "digest", "brief")


def _previous_release(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the planner write what the previous release wrote: full rankings, plan titles,
    digests' and briefs' items as objects, summaries' items as objects without their texts."""
    full = {cls: cls.to_json for cls in (BatchNotice, DigestNotice, BriefNotice, RankingBlock)}

    def item(i: BatchItem) -> dict:  # the previous release's `BatchItem.to_ref_json`
        out = {"id": i.id, "ref": i.ref, "kind": i.kind, "days": i.days}
        out |= {"due": i.due.isoformat() if i.due else None, "stage": i.stage}
        if i.ladder != "due":
            out["ladder"] = i.ladder
        if i.chased is not None:
            out["chased"] = i.chased.to_json()
        return out

    def batch(self: BatchNotice, *, lean: bool = False) -> dict:
        out = full[BatchNotice](self)
        out["items"] = [item(i) for i in self.items]
        return out

    monkeypatch.setattr(BatchNotice, "to_json", batch)
    for cls in (DigestNotice, BriefNotice, RankingBlock):
        monkeypatch.setattr(cls, "to_json", lambda self, *, lean=False, _f=full[cls]: _f(self))


async def _ledger(path):
    """The same ledger each time: a flooded 市卫健委 (a 逾期事项清单 and a 督办汇总 with its
    ranking), a few items of 市财政局 (an English-speaking liaison), one not acknowledged,
    one due soon; a digest for the leader, the coordinator and a group."""
    w = await staffed_world(path)
    await w.subscribe(-100123)
    both = ["市卫健委", "市财政局"]
    for k in range(1, 10):
        await w.item(f"SR-{k}", date(2025, 3, 24) - timedelta(days=3 * k), both)
    await w.item("SR-20", date(2025, 3, 10), ["市财政局"], acknowledged=False)
    await w.item("SR-21", date(2025, 3, 26), ["市财政局", "市卫健委"], acknowledged=False)
    await w.item("SR-22", date(2025, 4, 20), ["市财政局"])
    return w


async def _planned(path, policy, monkeypatch=None):
    w = await _ledger(path)
    if monkeypatch is not None:
        with monkeypatch.context() as patched:
            _previous_release(patched)
            await plan_due(w.session_maker, local(MONDAY), policy)
    else:
        await plan_due(w.session_maker, local(MONDAY), policy)
    return w


def _shown(row: Outbox) -> list[object]:
    out: list[object] = []
    for locale in ("zh_CN", "en"):
        rendered = render(row, locale=locale, zone=ZONE)
        out.append(rendered)  # text, buttons, caption
        out.append(picture_view(row, locale=locale, zone=ZONE))
    return out


@pytest.fixture
def brief_policy():
    return load_policy(overrides={"overdue": {"liaison_weekday": 0}})


async def test_every_kind_reads_the_same_from_a_lean_row_as_from_a_full_one(
    tmp_path, brief_policy, monkeypatch
):
    old = await _planned(tmp_path / "old.sqlite3", brief_policy, monkeypatch)
    new = await _planned(tmp_path / "new.sqlite3", brief_policy)
    try:
        old_rows = {r.key: r for r in await old.outbox()}
        new_rows = {r.key: r for r in await new.outbox()}
        assert old_rows.keys() == new_rows.keys()
        assert {r.kind for r in new_rows.values()} >= set(LISTED)
        sizes = {kind: [0, 0] for kind in LISTED}
        async with old.session_maker() as before, new.session_maker() as after:
            for key, row in new_rows.items():
                was = old_rows[key]
                if row.kind in LISTED:
                    sizes[row.kind][0] += len(json.dumps(was.payload, ensure_ascii=False))
                    sizes[row.kind][1] += len(json.dumps(row.payload, ensure_ascii=False))
                    assert row.payload != was.payload
                shown_then = await as_rendered(before, was)
                shown_now = await as_rendered(after, row)
                assert _shown(shown_now) == _shown(shown_then), key
                if row.kind == "digest":  # the previous release's digest: sent as stored
                    assert shown_then is was
        for kind, (full, lean) in sizes.items():
            assert lean < full * 0.5, (kind, full, lean)
    finally:
        await old.engine.dispose()
        await new.engine.dispose()


async def test_a_lean_row_shows_the_ledger_as_it_is_when_sent_an_old_one_what_it_copied(
    tmp_path, brief_policy, monkeypatch
):
    old = await _planned(tmp_path / "old.sqlite3", brief_policy, monkeypatch)
    new = await _planned(tmp_path / "new.sqlite3", brief_policy)
    try:
        for w in (old, new):  # renamed after planning, before sending
            async with w.session_maker() as s:
                plan = (await s.exec(select(Plan))).one()
                plan.title = "改名后的计划"
                unit = (await s.exec(select(Unit).where(Unit.short_name == "市卫健委"))).one()
                unit.short_name = "卫健委(新)"
                s.add_all([plan, unit])
                await s.commit()
        then = {r.key: r for r in await old.shown() if r.kind in LISTED}
        now = {r.key: r for r in await new.shown() if r.kind in LISTED}
        leaders = [k for k, r in now.items() if r.payload.get("ranking")]
        assert leaders
        for key in leaders:
            names = {row["unit"] for row in now[key].payload["ranking"]["rows"]}
            assert "卫健委(新)" in names and "市卫健委" not in names
            assert "市卫健委" in {row["unit"] for row in then[key].payload["ranking"]["rows"]}
        [digest] = [k for k, r in now.items() if r.kind == "digest" and r.chat_id == -100123]
        text = render(now[digest], locale="zh_CN", zone=ZONE).text
        assert "卫健委(新)" in text and "改名后的计划" in text
        assert "改名后的计划" not in render(then[digest], locale="zh_CN", zone=ZONE).text
    finally:
        await old.engine.dispose()
        await new.engine.dispose()
