from __future__ import annotations

from datetime import timedelta

import pytest

from bot.services import people
from bot.services.errors import ServiceError
from bot.storage.models import Membership

from .factories import NOW
from .racing import Rendezvous, racing_session_maker


async def test_invite_redeem_binds_liaison_with_real_name(ledger):
    async with ledger.session_maker() as s:
        invite = await people.create_invite(
            s, role="liaison", unit_id=ledger.units["sr_health"], name="张三", at=NOW, ttl_days=7
        )
        await s.commit()
    assert len(invite.token) <= 64 and invite.token.replace("-", "").replace("_", "").isalnum()
    assert invite.expires_at == NOW + timedelta(days=7)
    async with ledger.session_maker() as s:
        redeemed = await people.redeem_invite(
            s,
            invite.token,
            telegram_id=777,
            telegram_name="zs",
            username="zs",
            at=NOW + timedelta(days=1),
        )
        await s.commit()
        assert redeemed.person.name == "张三"
        assert redeemed.unit.name == "上饶市卫生健康委员会"
        roles = await people.roles_of(s, redeemed.person)
        assert roles.liaison_unit_ids == {ledger.units["sr_health"]}
    async with ledger.session_maker() as s:
        with pytest.raises(ServiceError) as err:
            await people.redeem_invite(s, invite.token, telegram_id=778, at=NOW)
        assert err.value.code == "invite_used"


@pytest.mark.parametrize(
    ("setup", "code"),
    [("expired", "invite_expired"), ("revoked", "invite_revoked"), ("unknown", "invite_unknown")],
)
async def test_invite_refusals(ledger, setup, code):
    async with ledger.session_maker() as s:
        invite = await people.create_invite(
            s, role="liaison", unit_id=ledger.units["sr_health"], at=NOW, ttl_days=7
        )
        if setup == "revoked":
            await people.revoke_invite(s, invite.token, at=NOW)
        await s.commit()
    token = "nope" if setup == "unknown" else invite.token
    at = NOW + timedelta(days=8) if setup == "expired" else NOW
    async with ledger.session_maker() as s:
        with pytest.raises(ServiceError) as err:
            await people.redeem_invite(s, token, telegram_id=9, at=at)
        assert err.value.code == code
        assert await people.person_by_telegram_id(s, 9) is None


async def test_revoke_twice_and_used(ledger):
    async with ledger.session_maker() as s:
        invite = await people.create_invite(s, role="coordinator", at=NOW, ttl_days=1)
        await people.revoke_invite(s, invite.token, at=NOW)
        with pytest.raises(ServiceError, match="invite_revoked"):
            await people.revoke_invite(s, invite.token, at=NOW)
        with pytest.raises(ServiceError, match="invite_unknown"):
            await people.revoke_invite(s, "missing", at=NOW)


async def test_invite_needs_a_target(ledger):
    async with ledger.session_maker() as s:
        with pytest.raises(ServiceError, match="unit_required"):
            await people.create_invite(s, role="liaison", at=NOW, ttl_days=1)
        with pytest.raises(ServiceError, match="target_required"):
            await people.create_invite(s, role="leader", at=NOW, ttl_days=1)
        with pytest.raises(ServiceError, match="unknown_role"):
            await people.create_invite(s, role="king", at=NOW, ttl_days=1)


async def test_leader_invite_for_plan_and_existing_person_keeps_roles(ledger):
    await ledger.person(50, "李四", role="coordinator")
    async with ledger.session_maker() as s:
        invite = await people.create_invite(
            s, role="leader", plan_id=ledger.plans["SR"], at=NOW, ttl_days=7
        )
        redeemed = await people.redeem_invite(s, invite.token, telegram_id=50, at=NOW)
        await s.commit()
        roles = await people.roles_of(s, redeemed.person)
        assert roles.coordinator_all and roles.leader_plan_ids == {ledger.plans["SR"]}
        assert redeemed.person.name == "李四"


async def test_liaisons_of_units_and_locale(ledger):
    pid = await ledger.person(60, "王五", role="liaison", unit="sr_finance")
    async with ledger.session_maker() as s:
        found = await people.liaisons_of_units(s, [ledger.units["sr_finance"], 999])
        assert [p.id for p in found[ledger.units["sr_finance"]]] == [pid]
        person = await people.person_by_telegram_id(s, 60)
        await people.set_locale(s, person, "en")
        await s.commit()
    async with ledger.session_maker() as s:
        assert (await people.person_by_telegram_id(s, 60)).locale == "en"
        membership = (await people.active_memberships(s, pid))[0]
        assert isinstance(membership, Membership)
        await people.revoke_membership(s, membership, at=NOW)
        await s.commit()
        assert not (await people.roles_of(s, await people.person_by_telegram_id(s, 60))).liaison


async def test_two_people_racing_for_one_invitation_make_one_liaison(ledger):
    """Both open the link at the same moment and both see it unused: exactly one is bound,
    the other is told it was used, and the invitation records the winner."""
    async with ledger.session_maker() as s:
        invite = await people.create_invite(
            s, role="liaison", unit_id=ledger.units["sr_finance"], at=NOW, ttl_days=7
        )
        await s.commit()
    rendezvous = Rendezvous(racers=2)
    racing = racing_session_maker(ledger.engine, rendezvous)

    async def open_link(telegram_id: int) -> people.Redeemed:
        async with racing() as s:
            redeemed = await people.redeem_invite(s, invite.token, telegram_id=telegram_id, at=NOW)
            await s.commit()
            return redeemed

    outcomes = await rendezvous.race(open_link(501), open_link(502))
    won = [o for o in outcomes if isinstance(o, people.Redeemed)]
    lost = [o for o in outcomes if not isinstance(o, people.Redeemed)]
    assert len(won) == 1, outcomes
    assert [type(o) for o in lost] == [ServiceError] and lost[0].code == "invite_used"
    async with ledger.session_maker() as s:
        bound = await people.liaisons_of_units(s, [ledger.units["sr_finance"]])
        stored = await people.invite_by_token(s, invite.token)
    assert [p.telegram_id for p in bound[ledger.units["sr_finance"]]] == [
        won[0].person.telegram_id
    ]
    assert stored.used_by == won[0].person.id and stored.used_at is not None


@pytest.mark.parametrize("revoke_first", [False, True])
async def test_revoking_while_someone_opens_the_link_leaves_one_outcome(ledger, revoke_first):
    """A coordinator revokes as the invitee opens the link, both having seen it unused: the
    first to write wins, never both (a revoked invitation with a member)."""
    async with ledger.session_maker() as s:
        invite = await people.create_invite(
            s, role="liaison", unit_id=ledger.units["sr_finance"], at=NOW, ttl_days=7
        )
        await s.commit()
    rendezvous = Rendezvous(racers=2)
    racing = racing_session_maker(ledger.engine, rendezvous)

    async def open_link() -> object:
        async with racing() as s:
            redeemed = await people.redeem_invite(s, invite.token, telegram_id=503, at=NOW)
            await s.commit()
            return redeemed

    async def revoke() -> object:
        async with racing() as s:
            revoked = await people.revoke_invite(s, invite.token, at=NOW)
            await s.commit()
            return revoked

    runs = (revoke(), open_link()) if revoke_first else (open_link(), revoke())
    first, second = await rendezvous.race(*runs)
    assert not isinstance(first, Exception), first
    assert isinstance(second, ServiceError), second
    assert second.code == ("invite_revoked" if revoke_first else "invite_used")
    async with ledger.session_maker() as s:
        stored = await people.invite_by_token(s, invite.token)
        bound = await people.liaisons_of_units(s, [ledger.units["sr_finance"]])
    members = [p.telegram_id for p in bound.get(ledger.units["sr_finance"], [])]
    assert (stored.used_at is None) != (stored.revoked_at is None)
    assert (503 in members) == (stored.used_at is not None)


async def test_binding_someone_makes_what_they_may_be_sent_due_again(ledger):
    """A liaison bound: their unit's assignments are recomputed at the next tick (next_at
    NULL), the others keep their instant; a coordinator of all plans: every assignment.
    The new person carries the invitation's name from the start."""
    from sqlmodel import select

    from bot.storage.models import Assignment

    async def next_ats(s) -> list[tuple[int, object]]:
        return list((await s.exec(select(Assignment.unit_id, Assignment.next_at))).all())

    async with ledger.session_maker() as s:
        for a in (await s.exec(select(Assignment))).all():
            a.next_at = NOW
            s.add(a)
        liaison = await people.create_invite(
            s, role="liaison", unit_id=ledger.units["sr_finance"], name="李四", at=NOW, ttl_days=7
        )
        coordinator = await people.create_invite(s, role="coordinator", at=NOW, ttl_days=7)
        await s.commit()
    async with ledger.session_maker() as s:
        redeemed = await people.redeem_invite(
            s, liaison.token, telegram_id=900, telegram_name="ls", at=NOW
        )
        await s.commit()
        assert redeemed.person.name == "李四" and redeemed.membership.id is not None
        assert (await people.person_by_telegram_id(s, 900)) is redeemed.person
        stamps = await next_ats(s)
    finance = ledger.units["sr_finance"]
    assert [at for unit, at in stamps if unit == finance] == [None, None]
    assert all(at is not None for unit, at in stamps if unit != finance)
    async with ledger.session_maker() as s:
        await people.redeem_invite(s, coordinator.token, telegram_id=900, at=NOW)
        await s.commit()
        assert {at for _, at in await next_ats(s)} == {None}
        roles = await people.roles_of(s, await people.person_by_telegram_id(s, 900))
        assert roles.coordinator_all and roles.liaison_unit_ids == {finance}
