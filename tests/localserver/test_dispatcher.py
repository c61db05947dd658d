"""A real aiogram Dispatcher polls the local server while the client plays users."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator

import pytest_asyncio
from aiogram import Bot, Dispatcher, F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import (
    CallbackQuery,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)

from bot.localserver import LocalBotApiServer, LocalServerClient

from .conftest import BOT_ID


def build_router(seen: list[str]) -> Router:
    """A tiny bot: greets on /start, echoes deep links, handles a button, hashes files."""
    router = Router()

    @router.message(CommandStart(deep_link=True))
    async def start_with_payload(message: Message, command: CommandObject) -> None:
        await message.answer(f"payload={command.args}")

    @router.message(CommandStart())
    async def start(message: Message) -> None:
        keyboard = InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="完成 Done", callback_data="done:SR-12")]]
        )
        await message.answer(
            f"你好, <b>{message.from_user.first_name}</b>!", reply_markup=keyboard
        )

    @router.callback_query(F.data.startswith("done:"))
    async def done(query: CallbackQuery) -> None:
        await query.message.edit_text(f"Marked {query.data.split(':')[1]} done")
        await query.answer("已标记")

    @router.message(Command("where"))
    async def where(message: Message) -> None:
        await message.reply(f"chat {message.chat.type}")

    @router.message(F.document)
    async def document(message: Message, bot: Bot) -> None:
        data = await bot.download(message.document.file_id)
        digest = hashlib.sha256(data.read()).hexdigest()
        await message.answer(f"{message.document.file_name} {digest}")

    @router.message(F.photo)
    async def photo(message: Message) -> None:
        largest = message.photo[-1]
        await message.answer(f"photo {largest.width}x{largest.height} {message.caption}")

    @router.my_chat_member()
    async def member(update: ChatMemberUpdated) -> None:
        seen.append(f"{update.from_user.id}:{update.new_chat_member.status}")

    return router


@pytest_asyncio.fixture
async def polling(bot: Bot) -> AsyncIterator[list[str]]:
    """Run the dispatcher for the duration of a test; yields the my_chat_member log."""
    seen: list[str] = []
    dispatcher = Dispatcher()
    dispatcher.include_router(build_router(seen))
    task = asyncio.create_task(
        dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False)
    )
    yield seen
    await dispatcher.stop_polling()
    await task


async def test_start_is_answered_with_a_keyboard(client: LocalServerClient, polling) -> None:
    user = await client.create_user("Alice")
    sent = await client.send_text(user["id"], "/start")

    answer = await client.next_bot_message(user["id"], after=sent.message_id)

    assert answer.text == "你好, Alice!"
    assert {"type": "bold", "offset": 4, "length": 5} in answer.entities
    assert answer.message["from"]["id"] == BOT_ID
    assert answer.button_data("Done") == "done:SR-12"


async def test_button_press_returns_the_callback_answer(
    client: LocalServerClient, polling
) -> None:
    user = await client.create_user("Bob")
    sent = await client.send_text(user["id"], "/start")
    menu = await client.next_bot_message(user["id"], after=sent.message_id)

    result = await client.press(
        user["id"], menu.message_id, menu.button_data("Done"), wait_answer=5
    )

    assert result.text == "已标记"
    edited = await client.message(user["id"], menu.message_id)
    assert edited.text == "Marked SR-12 done"
    assert edited.buttons == []  # editMessageText without reply_markup drops the keyboard
    assert edited.version == 2
    assert edited.history[0]["text"] == "你好, Bob!"


async def test_deep_link_payload_reaches_the_handler(client: LocalServerClient, polling) -> None:
    user = await client.create_user("Carol")
    sent = await client.send_text(user["id"], "/start invite-42")

    answer = await client.next_bot_message(user["id"], after=sent.message_id)

    assert answer.text == "payload=invite-42"


async def test_group_command_gets_a_reply(client: LocalServerClient, polling) -> None:
    alice = await client.create_user("Alice")
    bob = await client.create_user("Bob")
    group = await client.create_group("督办群", [alice["id"], bob["id"]])
    sent = await client.send_text(bob["id"], "/where@duban_test_bot", chat_id=group["id"])

    answer = await client.next_bot_message(group["id"], after=sent.message_id)

    assert answer.text == "chat group"
    assert answer.message["reply_to_message"]["message_id"] == sent.message_id


async def test_user_document_reaches_the_bot_intact(client: LocalServerClient, polling) -> None:
    user = await client.create_user("Dan")
    payload = bytes(range(256)) * 40
    sent = await client.send_file(user["id"], payload, file_name="台账.xlsx")

    answer = await client.next_bot_message(user["id"], after=sent.message_id)

    assert answer.text == f"台账.xlsx {hashlib.sha256(payload).hexdigest()}"


async def test_user_photo_arrives_as_photo_sizes(
    client: LocalServerClient, polling, png_1600x900: bytes
) -> None:
    user = await client.create_user("Eve")
    sent = await client.send_file(
        user["id"], png_1600x900, kind="photo", file_name="p.png", caption="现场"
    )

    answer = await client.next_bot_message(user["id"], after=sent.message_id)

    assert answer.text == "photo 1280x720 现场"
    assert [size["width"] for size in sent.photo] == [90, 320, 800, 1280]


async def test_blocking_sends_my_chat_member(
    client: LocalServerClient, server: LocalBotApiServer, polling
) -> None:
    user = await client.create_user("Fay")
    await client.send_text(user["id"], "/start")
    await client.block(user["id"])
    await client.unblock(user["id"])

    await server.world.wait_until(lambda: len(polling) == 2, 5)

    assert polling == [f"{user['id']}:kicked", f"{user['id']}:member"]
