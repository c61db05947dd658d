"""A coordinator of one plan stays within it (invite, the unit-pick button, /revoke, /unit), and
coordinators end people's access with /revoke_access (alias /remove).

The ledger: plan SR involves 上饶's 市卫健委 and 市财政局; plan LN involves 龙南's 市卫健委.
"""

from __future__ import annotations

import re

import pytest
from aiogram.methods import DeleteMyCommands, EditMessageText, SendMessage
from sqlmodel import select

from bot.services import people
from bot.storage.models import Invite, Membership
from bot.telegram.access_view import AccessConfirm, AccessList, AccessPick
from bot.telegram.callbacks import InvitePick
from tests.services.factories import add_person

from .conftest import COORDINATOR, LIAISON

SCOPED = 300  # 王督办, coordinator of plan SR only
LN_LIAISON = 400  # 刘洋, liaison of 龙南市卫生健康委员会 (plan LN)


@pytest.fixture
async def hs(h):
    await add_person(h.ledger, SCOPED, "王督办", role="coordinator", plan="SR")
    await add_person(h.ledger, LN_LIAISON, "刘洋", role="liaison", unit="ln_health")
    return h


def shown(sent) -> str:
    """Every text the bot sent or edited in answer."""
    return "\n".join(c.text for c in sent.calls if isinstance(c, SendMessage | EditMessageText))


def token_in(text: str) -> str | None:
    found = re.search(r"/start (\S+?)</code>", text)
    return found.group(1) if found else None


async def invites(h) -> list[Invite]:
    async with h.ledger.session_maker() as s:
        return list((await s.exec(select(Invite))).all())


async def membership_of(h, telegram_id: int, role: str) -> Membership:
    async with h.ledger.session_maker() as s:
        person = await people.person_by_telegram_id(s, telegram_id)
        result = await s.exec(
            select(Membership).where(Membership.person_id == person.id, Membership.role == role)
        )
        return result.one()


# --- finding 3: plan scope -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        "/invite 龙南市卫健委 钱七",
        "/invite liaison 龙南市卫生健康委员会",
        "/invite leader 龙南市卫健委",
        "/invite leader LN",
        "/invite coordinator LN",
        "/invite coordinator 钱七",  # a coordinator of every plan
    ],
)
async def test_a_scoped_coordinator_cannot_invite_for_another_plans_unit(hs, command):
    sent = await hs.send(SCOPED, command)

    assert token_in(sent.text) is None and "/start" not in sent.text
    assert "规划" in sent.text  # says the unit / plan is outside their plans
    assert await invites(hs) == []


async def test_an_ambiguous_unit_is_narrowed_to_the_coordinators_plans(hs):
    sent = await hs.send(SCOPED, "/invite 市卫健委 钱七")

    assert "龙南" not in sent.text and sent.buttons() == []
    assert "上饶市卫生健康委员会" in sent.text and token_in(sent.text)
    (invite,) = await invites(hs)
    assert invite.unit_id == hs.ledger.units["sr_health"]


async def test_the_unit_pick_button_is_checked_again(hs):
    """A forged (or stale) pick of another plan's unit: refused, nothing created."""
    data = InvitePick(role="liaison", unit_id=hs.ledger.units["ln_health"], name="钱七").pack()

    sent = await hs.press(SCOPED, data)

    assert sent.messages == [] and "规划" in sent.alerts[0]
    assert await invites(hs) == []
    # the coordinator of every plan still picks either
    sent = await hs.press(COORDINATOR, data)
    assert token_in(sent.text) and "龙南市卫生健康委员会" in sent.text


async def test_a_scoped_coordinator_cannot_withdraw_another_plans_invitation(hs):
    sent = await hs.send(COORDINATOR, "/invite 龙南市卫健委 钱七")
    token = token_in(sent.text)

    refused = await hs.send(SCOPED, f"/revoke {token}")

    assert "规划" in refused.text and "已撤销" not in refused.text
    (invite,) = await invites(hs)
    assert invite.revoked_at is None
    joined = await hs.send(555, f"/start {token}")  # the link still works
    assert "龙南市卫生健康委员会" in joined.text


async def test_unit_shows_a_scoped_coordinator_only_units_of_their_plans(hs):
    sent = await hs.send(SCOPED, "/unit 龙南市卫健委")
    assert "刘洋" not in sent.text and "规划" in sent.text
    sent = await hs.send(SCOPED, "/unit 上饶市卫健委")
    assert "张三" in sent.text
    assert "刘洋" in (await hs.send(COORDINATOR, "/unit 龙南市卫健委")).text
    for command in ("/status 龙南市卫健委", "/overdue 龙南市卫健委"):  # the same check
        assert "规划" in (await hs.send(SCOPED, command)).text


# --- finding 4: ending access --------------------------------------------------------------------


async def test_a_coordinator_removes_a_liaison_by_unit_and_name(hs):
    assert "SR-1" in (await hs.send(LIAISON, "/my")).text
    membership = await membership_of(hs, LIAISON, "liaison")

    prompt = await hs.send(SCOPED, "/revoke_access 上饶市卫健委 张三")
    assert "张三" in prompt.text and "上饶市卫生健康委员会" in prompt.text
    done = await hs.press(SCOPED, prompt.button("移除"))

    assert "张三" in shown(done) and "不再是" in shown(done)
    stranger = await hs.send(LIAISON, "/my")
    assert "邀请" in stranger.text and "SR-1" not in stranger.text
    ended = await membership_of(hs, LIAISON, "liaison")
    assert ended.id == membership.id and ended.revoked_at is not None
    assert ended.revoke_note == "revoke_access"
    async with hs.ledger.session_maker() as s:
        remover = await people.person_by_telegram_id(s, SCOPED)
    assert ended.revoked_by == remover.id


async def test_remove_alone_lists_buttons_pick_then_cancel_changes_nothing(hs):
    listing = await hs.send(SCOPED, "/remove")
    labels = [label for label, _ in listing.buttons()]
    assert any("张三" in label for label in labels) and any("李四" in label for label in labels)
    assert not any("刘洋" in label for label in labels)  # LN's liaison: not in SR
    assert not any("U1" in label or "王督办" in label for label in labels)  # admin, oneself

    prompt = await hs.press(SCOPED, listing.button("李四"))
    edited = [c for c in prompt.calls if isinstance(c, EditMessageText)]
    assert edited and "李四" in edited[0].text and "上饶市财政局" in edited[0].text
    cancel = edited[0].reply_markup.inline_keyboard[0][1].callback_data
    assert "已取消" in shown(await hs.press(SCOPED, cancel))
    assert (await membership_of(hs, 200, "liaison")).revoked_at is None


async def test_forged_buttons_cannot_reach_another_plans_people(hs):
    ln = await membership_of(hs, LN_LIAISON, "liaison")
    for button in (AccessPick, AccessConfirm):
        data = button(membership_id=ln.id).pack()
        sent = await hs.press(SCOPED, data)
        assert sent.messages == [] and "规划" in sent.alerts[0]
    page = await hs.press(SCOPED, AccessList(unit_id=hs.ledger.units["ln_health"]).pack())
    assert "规划" in page.alerts[0]
    assert (await membership_of(hs, LN_LIAISON, "liaison")).revoked_at is None
    by_name = await hs.send(SCOPED, "/revoke_access 刘洋")
    assert by_name.buttons() == [] and "没有" in by_name.text  # no match within SR


async def test_admins_and_oneself_are_not_removable_in_the_chat(hs):
    admin = await membership_of(hs, COORDINATOR, "coordinator")
    await add_person(hs.ledger, 301, "赵督办", role="coordinator")  # all plans, invited
    sent = await hs.press(301, AccessConfirm(membership_id=admin.id).pack())
    assert "ADMIN_IDS" in sent.alerts[0]
    own = await membership_of(hs, SCOPED, "coordinator")
    sent = await hs.press(SCOPED, AccessConfirm(membership_id=own.id).pack())
    assert "自己" in sent.alerts[0]
    assert (await membership_of(hs, COORDINATOR, "coordinator")).revoked_at is None


async def test_removing_a_coordinator_drops_their_menu_and_their_commands(hs):
    scoped = await membership_of(hs, SCOPED, "coordinator")
    assert "SR" in (await hs.send(SCOPED, "/status")).text

    done = await hs.press(COORDINATOR, AccessConfirm(membership_id=scoped.id).pack())

    dropped = [c for c in done.calls if isinstance(c, DeleteMyCommands)]
    assert dropped and all(c.scope.chat_id == SCOPED for c in dropped)
    assert "邀请" in (await hs.send(SCOPED, "/status")).text  # a stranger now
    again = await hs.press(COORDINATOR, AccessConfirm(membership_id=scoped.id).pack())
    assert "已" in again.alerts[0]  # already ended: nothing happens twice


async def test_only_coordinators_may_remove_and_only_in_a_private_chat(hs):
    assert "督办员" in (await hs.send(LIAISON, "/revoke_access 上饶市财政局")).text
    in_group = await hs.send(COORDINATOR, "/remove", chat_type="group")
    assert "私聊" in in_group.text and in_group.buttons() == []
    assert (await membership_of(hs, 200, "liaison")).revoked_at is None


async def test_pending_invitations_of_a_removed_coordinator_stay_valid(hs):
    sent = await hs.send(SCOPED, "/invite 上饶市财政局 钱七")
    token = token_in(sent.text)
    scoped = await membership_of(hs, SCOPED, "coordinator")
    done = await hs.press(COORDINATOR, AccessConfirm(membership_id=scoped.id).pack())
    assert "1 个邀请仍然有效" in shown(done)
    joined = await hs.send(556, f"/start {token}")
    assert "上饶市财政局" in joined.text
