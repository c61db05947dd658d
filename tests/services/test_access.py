"""Plan scope (bot.core.scope, bot.services.scope) and taking access away (bot.services.access).

The ledger: plan SR involves 上饶's 市卫健委 and 市财政局; plan LN involves 龙南's 市卫健委.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.config import load_settings
from bot.core.roles import Roles
from bot.core.scope import Grant, reaches_grant, reaches_unit
from bot.core.units import load_unit_directory
from bot.services import access, admins, members, people
from bot.services.errors import ServiceError
from bot.services.scope import PlanScope
from bot.storage.models import Membership, Person

from .factories import NOW

SR, LN = 1, 2  # plan ids of the template ledger (checked in the fixture below)


@pytest.fixture(scope="module")
def directory():
    return load_unit_directory()


@pytest.fixture
def ids(ledger):
    assert ledger.plans == {"SR": SR, "LN": LN}
    return ledger


def scoped(*plan_ids: int) -> Roles:
    return Roles(coordinator_plan_ids=frozenset(plan_ids))


ALL = Roles(coordinator_all=True)


# --- the rules (pure) ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grant", "unit_plans", "expected"),
    [
        (Grant("liaison", unit_id=7), {SR}, True),
        (Grant("liaison", unit_id=7), {SR, LN}, True),  # a unit of both plans
        (Grant("liaison", unit_id=7), {LN}, False),
        (Grant("liaison", unit_id=7), set(), False),  # a unit no plan involves
        (Grant("leader", unit_id=7), {LN}, False),
        (Grant("leader", plan_id=SR), set(), True),
        (Grant("leader", plan_id=LN), set(), False),
        (Grant("coordinator", plan_id=SR), set(), True),
        (Grant("coordinator", plan_id=LN), set(), False),
        (Grant("coordinator"), set(), False),  # every plan: beyond a scoped coordinator
    ],
)
def test_a_coordinator_of_one_plan_reaches_only_that_plan(grant, unit_plans, expected):
    assert reaches_grant(scoped(SR), grant, unit_plans) is expected
    assert reaches_grant(ALL, grant, unit_plans) is True
    assert reaches_grant(Roles(liaison_unit_ids=frozenset({7})), grant, unit_plans) is False


def test_reaches_unit():
    assert reaches_unit(scoped(SR), [LN, SR]) and not reaches_unit(scoped(SR), [LN])
    assert reaches_unit(ALL, [])


# --- PlanScope over the ledger -------------------------------------------------------------------


async def test_plan_scope_reads_the_units_of_the_coordinators_plans(ids, directory):
    reach = PlanScope(scoped(SR))
    async with ids.session_maker() as s:
        assert await reach.unit_ids(s) == {ids.units["sr_health"], ids.units["sr_finance"]}
        assert await reach.reaches_unit(s, ids.units["sr_finance"])
        assert not await reach.reaches_unit(s, ids.units["ln_health"])
        # 市卫健委 names two units; only 上饶's is in SR: no question to ask
        unit = await reach.resolve_unit(s, directory, "市卫健委")
        assert unit.id == ids.units["sr_health"]
        with pytest.raises(ServiceError) as err:
            await reach.resolve_unit(s, directory, "龙南市卫健委")
        assert err.value.code == "unit_out_of_scope"
        with pytest.raises(ServiceError) as err:
            await PlanScope(ALL).resolve_unit(s, directory, "市卫健委")
        assert err.value.code == "ambiguous_unit" and len(err.value.params["units"]) == 2


async def test_a_scoped_coordinator_withdraws_only_invitations_they_could_create(ids):
    async with ids.session_maker() as s:
        ln_invite = await people.create_invite(
            s, role="liaison", unit_id=ids.units["ln_health"], at=NOW, ttl_days=7
        )
        all_invite = await people.create_invite(s, role="coordinator", at=NOW, ttl_days=7)
        sr_invite = await people.create_invite(s, role="leader", plan_id=SR, at=NOW, ttl_days=7)
        for invite in (ln_invite, all_invite):
            with pytest.raises(ServiceError) as err:
                await access.withdraw_invite(s, PlanScope(scoped(SR)), invite.token, at=NOW)
            assert err.value.code == "invite_out_of_scope"
            assert invite.revoked_at is None
        await access.withdraw_invite(s, PlanScope(scoped(SR)), sr_invite.token, at=NOW)
        assert sr_invite.revoked_at == NOW
        await access.withdraw_invite(s, PlanScope(ALL), ln_invite.token, at=NOW)
        assert ln_invite.revoked_at == NOW


# --- ADMIN_IDS -----------------------------------------------------------------------------------


async def is_coordinator(ledger, telegram_id: int) -> bool:
    async with ledger.session_maker() as s:
        person = await people.person_by_telegram_id(s, telegram_id)
        return (await people.roles_of(s, person)).coordinator


async def test_an_id_taken_out_of_admin_ids_is_no_coordinator_after_the_next_start(ledger, caplog):
    """Through the start-up itself (bot.app.bootstrap), as `python -m bot run` does it."""
    from bot.app import bootstrap
    from bot.clock import VirtualClock

    clock = VirtualClock(NOW, rate=0)
    first = load_settings(env_file=None, bot_token="42:TEST", admin_ids=[42, 43])
    assert sorted(await bootstrap(first, ledger.session_maker, clock)) == [42, 43]

    clock.advance(timedelta(days=1))
    later = load_settings(env_file=None, bot_token="42:TEST", admin_ids=[42, 44])
    with caplog.at_level(logging.INFO, logger="bot.services.admins"):
        chat_ids = await bootstrap(later, ledger.session_maker, clock)

    assert sorted(chat_ids) == [42, 44]
    assert not await is_coordinator(ledger, 43)
    assert await is_coordinator(ledger, 42) and await is_coordinator(ledger, 44)
    assert any(
        "43" in r.getMessage() and "ADMIN_IDS" in r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING
    )
    async with ledger.session_maker() as s:
        person = await people.person_by_telegram_id(s, 43)
        rows = (await s.exec(select(Membership).where(Membership.person_id == person.id))).all()
    assert [(m.revoked_at, m.revoke_note) for m in rows] == [
        (NOW + timedelta(days=1), "ADMIN_IDS")
    ]


async def test_admin_ids_sync_is_idempotent_and_leaves_other_coordinators(ledger):
    await ledger.person(50, "李四", role="coordinator")  # invited, not from ADMIN_IDS
    async with ledger.session_maker() as s:
        first = await admins.sync_admins(s, [42, 42, 43], at=NOW)
        again = await admins.sync_admins(s, [42, 43], at=NOW)
        await s.commit()
    assert [p.telegram_id for p in first.added] == [42, 43]
    assert again.added == [] and again.removed == []
    async with ledger.session_maker() as s:
        outcome = await admins.sync_admins(s, [], at=NOW)
        await s.commit()
    assert sorted(p.telegram_id for p in outcome.removed) == [42, 43]
    assert await is_coordinator(ledger, 50)
    async with ledger.session_maker() as s:  # their chats' coordinator menus get dropped
        assert await admins.former_coordinators(s) == [42, 43]
    async with ledger.session_maker() as s:
        assert [p.telegram_id for p in await people.coordinators(s)] == [50]
        await admins.sync_admins(s, [43], at=NOW)  # back in the list: a coordinator again
        await s.commit()
        assert await admins.former_coordinators(s) == [42]
    assert await is_coordinator(ledger, 43)


# --- ending memberships --------------------------------------------------------------------------


async def memberships_of(ledger, telegram_id: int) -> list[Membership]:
    async with ledger.session_maker() as s:
        person = await people.person_by_telegram_id(s, telegram_id)
        result = await s.exec(select(Membership).where(Membership.person_id == person.id))
        return list(result.all())


async def test_a_coordinator_ends_a_liaisons_access_and_the_record_stays(ledger):
    await ledger.person(60, "王督办", role="coordinator", plan="SR")
    await ledger.person(100, "张三", role="liaison", unit="sr_health")
    async with ledger.session_maker() as s:
        invite = await people.create_invite(  # created by 张三 while he could (a test shortcut)
            s,
            role="liaison",
            unit_id=ledger.units["sr_finance"],
            at=NOW,
            ttl_days=7,
            created_by=await people.person_by_telegram_id(s, 100),
        )
        await s.commit()
    (membership,) = await memberships_of(ledger, 100)
    async with ledger.session_maker() as s:
        by = await people.person_by_telegram_id(s, 60)
        ended = await access.end_membership(s, PlanScope(scoped(SR)), membership.id, by=by, at=NOW)
        await s.commit()
    assert ended.member.name == "张三" and not ended.still_registered
    assert ended.pending_invites == 1
    (row,) = await memberships_of(ledger, 100)
    assert (row.revoked_at, row.revoke_note) == (NOW, "revoke_access")
    assert row.revoked_by == by.id
    async with ledger.session_maker() as s:
        person = await people.person_by_telegram_id(s, 100)
        assert not (await people.roles_of(s, person)).registered
        with pytest.raises(ServiceError, match="member_unknown"):
            await access.end_membership(s, PlanScope(scoped(SR)), membership.id, by=by, at=NOW)
        # the invitation 张三 created still works
        redeemed = await people.redeem_invite(s, invite.token, telegram_id=101, at=NOW)
        assert redeemed.membership.unit_id == ledger.units["sr_finance"]


async def test_ending_a_membership_is_refused_out_of_scope_for_oneself_and_for_admins(ledger):
    await ledger.person(60, "王督办", role="coordinator", plan="SR")
    await ledger.person(61, "赵督办", role="coordinator")  # all plans, invited
    await ledger.person(300, "刘洋", role="liaison", unit="ln_health")
    async with ledger.session_maker() as s:
        await admins.sync_admins(s, [1], at=NOW)
        await s.commit()
    (ln_liaison,) = await memberships_of(ledger, 300)
    (own,) = await memberships_of(ledger, 60)
    (admin,) = await memberships_of(ledger, 1)
    async with ledger.session_maker() as s:
        wang = await people.person_by_telegram_id(s, 60)
        zhao = await people.person_by_telegram_id(s, 61)
        cases = [
            (PlanScope(scoped(SR)), wang, ln_liaison.id, "member_out_of_scope"),
            (PlanScope(scoped(SR)), wang, admin.id, "member_out_of_scope"),
            (PlanScope(scoped(SR)), wang, own.id, "member_is_self"),
            (PlanScope(ALL), zhao, admin.id, "member_is_admin"),
            (PlanScope(ALL), zhao, 10_000, "member_unknown"),
        ]
        for reach, by, membership_id, code in cases:
            with pytest.raises(ServiceError) as err:
                await access.end_membership(s, reach, membership_id, by=by, at=NOW)
            assert err.value.code == code
        listed = await access.removable(s, PlanScope(scoped(SR)), by=wang)
        assert all(m.unit_name.startswith("上饶") for m in listed)
        assert await access.removable(s, PlanScope(ALL), by=zhao, name="刘") != []
    for membership in (*await memberships_of(ledger, 300), *await memberships_of(ledger, 1)):
        assert membership.revoked_at is None


async def test_command_line_removal_and_add_admin(ledger):
    await ledger.person(100, "张三", role="liaison", unit="sr_health")
    async with ledger.session_maker() as s:
        person = await people.person_by_telegram_id(s, 100)
        await people.add_membership(
            s, person, role="leader", unit_id=ledger.units["sr_health"], at=NOW
        )
        await admins.sync_admins(s, [100], at=NOW)
        removal = await access.remove_person(s, 100, role="liaison", at=NOW)
        assert [m.role for m in removal.ended] == ["liaison"]
        removal = await access.remove_person(s, 100, at=NOW)
        assert [m.role for m in removal.ended] == ["leader"]
        assert [m.source for m in removal.kept_admin] == ["admin"]
        for telegram_id, code in ((100, "member_is_admin"), (555, "person_unknown")):
            with pytest.raises(ServiceError) as err:
                await access.remove_person(s, telegram_id, at=NOW)
            assert err.value.code == code
        added, new = await admins.add_admin(s, 77, name="钱七", at=NOW)
        assert new and added.name == "钱七"
        assert (await admins.add_admin(s, 77, at=NOW))[1] is False
        await s.commit()
        listed = await members.everyone(s, include_ended=True)
    assert {(m.telegram_id, m.role, m.source, m.ended_by) for m in listed} >= {
        (100, "liaison", "invite", "cli"),
        (77, "coordinator", "cli", ""),
    }
    async with ledger.session_maker() as s:
        await admins.sync_admins(s, [], at=NOW)  # ADMIN_IDS does not govern CLI admins
        await s.commit()
    assert await is_coordinator(ledger, 77) and not await is_coordinator(ledger, 100)


async def test_a_removed_person_is_a_person_still(ledger):
    """Ending access never deletes the person (their history names them)."""
    await ledger.person(100, "张三", role="liaison", unit="sr_health")
    async with ledger.session_maker() as s:
        await access.remove_person(s, 100, at=NOW)
        await s.commit()
        assert (await s.exec(select(Person).where(Person.telegram_id == 100))).first()


async def test_messages_queued_for_an_ended_role_are_not_sent(ledger):
    """A reminder queued before the removal would still reach the person: it is cancelled.
    A liaison of two units who loses one keeps the other unit's messages."""
    from bot.storage.models import Outbox

    await ledger.person(100, "张三", role="liaison", unit="sr_health")
    await ledger.person(60, "王督办", role="coordinator")
    async with ledger.session_maker() as s:
        person = await people.person_by_telegram_id(s, 100)
        await people.add_membership(
            s, person, role="liaison", unit_id=ledger.units["sr_finance"], at=NOW
        )
        for key, unit in (("health", "sr_health"), ("finance", "sr_finance")):
            s.add(
                Outbox(
                    key=key,
                    kind="reminder",
                    chat_id=100,
                    person_id=person.id,
                    assignment_id=ledger.assignments[("SR-1", 0, unit)],
                    created_at=NOW,
                    not_before=NOW + timedelta(hours=16),
                )
            )
        s.add(Outbox(key="digest", kind="digest", chat_id=100, created_at=NOW, not_before=NOW))
        await s.commit()
    by_unit = {m.unit_id: m for m in await memberships_of(ledger, 100)}
    health, finance = by_unit[ledger.units["sr_health"]], by_unit[ledger.units["sr_finance"]]

    async def statuses() -> dict[str, str]:
        async with ledger.session_maker() as s:
            return {o.key: o.status for o in (await s.exec(select(Outbox))).all()}

    async with ledger.session_maker() as s:
        by = await people.person_by_telegram_id(s, 60)
        await access.end_membership(s, PlanScope(ALL), health.id, by=by, at=NOW)
        await s.commit()
    assert await statuses() == {"health": "cancelled", "finance": "pending", "digest": "pending"}
    async with ledger.session_maker() as s:
        await access.end_membership(s, PlanScope(ALL), finance.id, by=by, at=NOW)
        await s.commit()
    assert await statuses() == {
        "health": "cancelled",
        "finance": "cancelled",
        "digest": "cancelled",
    }
