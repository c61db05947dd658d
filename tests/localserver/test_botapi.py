"""The Bot API side, driven by a real aiogram Bot: formats, Telegram's checks, files."""

from __future__ import annotations

import asyncio
import io

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyParameters,
)

from bot.localserver import LocalBotApiServer, LocalServerClient

from .conftest import BOT_ID, TOKEN, make_bot


def keyboard(data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="b", callback_data=data)]]
    )


async def test_get_me_reports_the_bot(bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (BOT_ID, "duban_test_bot", True)


async def test_bad_token_is_unauthorized(server: LocalBotApiServer) -> None:
    intruder = make_bot(server, token="1:wrong")
    with pytest.raises(TelegramUnauthorizedError):
        await intruder.get_me()
    await intruder.session.close()


async def test_unknown_method_is_not_found(server: LocalBotApiServer) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{server.base_url}/bot{TOKEN}/sendDice", data={"chat_id": "1"}) as response,
    ):
        body = await response.json()
    assert response.status == 404
    assert body == {"ok": False, "error_code": 404, "description": "Not Found: method not found"}


async def test_html_message_round_trip(bot: Bot, client: LocalServerClient, alice: dict) -> None:
    sent = await bot.send_message(
        alice["id"],
        '<b>粗</b> <i>斜</i> <a href="https://example.org">链接</a> 😀 <code>x</code>',
        reply_markup=keyboard("ok"),
    )

    assert sent.text == "粗 斜 链接 😀 x"
    kinds = [(e.type, e.offset, e.length) for e in sent.entities]
    assert kinds == [("bold", 0, 1), ("italic", 2, 1), ("text_link", 4, 2), ("code", 10, 1)]
    assert sent.entities[2].url == "https://example.org/"
    assert sent.from_user.id == BOT_ID
    assert sent.reply_markup.inline_keyboard[0][0].callback_data == "ok"
    seen = await client.messages(alice["id"], only_bot=True)
    assert [m.text for m in seen] == ["粗 斜 链接 😀 x"]


@pytest.mark.parametrize(
    ("html", "detail"),
    [
        ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ('<span class="x">s</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ],
)
async def test_bad_html_is_rejected_like_telegram(
    bot: Bot, alice: dict, html: str, detail: str
) -> None:
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.send_message(alice["id"], html)
    assert caught.value.message == f"Bad Request: can't parse entities: {detail}"


async def test_text_length_counts_utf16_after_parsing(bot: Bot, alice: dict) -> None:
    await bot.send_message(alice["id"], "<b>" + "😀" * 2048 + "</b>")  # 4096 UTF-16 units
    with pytest.raises(TelegramBadRequest, match="Bad Request: message is too long"):
        await bot.send_message(alice["id"], "😀" * 2048 + "x")
    with pytest.raises(TelegramBadRequest, match="Bad Request: message text is empty"):
        await bot.send_message(alice["id"], "<b> </b>")


async def test_caption_limit(bot: Bot, alice: dict) -> None:
    file = BufferedInputFile(b"data", filename="a.txt")
    with pytest.raises(TelegramBadRequest, match="Bad Request: message caption is too long"):
        await bot.send_document(alice["id"], file, caption="字" * 1025)


async def test_callback_data_is_limited_to_64_bytes(bot: Bot, alice: dict) -> None:
    await bot.send_message(alice["id"], "ok", reply_markup=keyboard("键" * 21 + "x"))  # 64 bytes
    with pytest.raises(TelegramBadRequest, match="Bad Request: BUTTON_DATA_INVALID"):
        await bot.send_message(alice["id"], "no", reply_markup=keyboard("键" * 21 + "xy"))


async def test_who_may_be_messaged(bot: Bot, client: LocalServerClient, alice: dict) -> None:
    stranger = await client.create_user("Stranger")
    with pytest.raises(TelegramForbiddenError) as caught:
        await bot.send_message(stranger["id"], "hi")
    assert caught.value.message == "Forbidden: bot can't initiate conversation with a user"

    with pytest.raises(TelegramBadRequest, match="Bad Request: chat not found"):
        await bot.send_message(987654321, "hi")

    await client.block(alice["id"])
    with pytest.raises(TelegramForbiddenError, match="Forbidden: bot was blocked by the user"):
        await bot.send_message(alice["id"], "hi")


async def test_edits_keep_history_and_refuse_no_ops(
    bot: Bot, client: LocalServerClient, alice: dict
) -> None:
    sent = await bot.send_message(alice["id"], "v1", reply_markup=keyboard("a"))
    with pytest.raises(TelegramBadRequest, match="Bad Request: message is not modified: "):
        await bot.edit_message_text(
            text="v1", chat_id=alice["id"], message_id=sent.message_id, reply_markup=keyboard("a")
        )
    with pytest.raises(TelegramBadRequest, match="Bad Request: message to edit not found"):
        await bot.edit_message_text(text="v2", chat_id=alice["id"], message_id=999)

    edited = await bot.edit_message_text(
        text="<i>v2</i>",
        chat_id=alice["id"],
        message_id=sent.message_id,
        reply_markup=keyboard("b"),
    )
    await bot.edit_message_reply_markup(chat_id=alice["id"], message_id=sent.message_id)

    assert edited.edit_date is not None
    view = await client.message(alice["id"], sent.message_id)
    assert (view.text, view.version, view.buttons) == ("v2", 3, [])
    assert [h["text"] for h in view.history] == ["v1", "v2"]


async def test_delete_and_reply(bot: Bot, client: LocalServerClient, alice: dict) -> None:
    users_message = (await client.messages(alice["id"]))[0]
    reply = await bot.send_message(
        alice["id"], "reply", reply_parameters=ReplyParameters(message_id=users_message.message_id)
    )
    assert reply.reply_to_message.text == "/start"

    assert await bot.delete_message(alice["id"], reply.message_id)
    with pytest.raises(TelegramBadRequest, match="Bad Request: message to delete not found"):
        await bot.delete_message(alice["id"], reply.message_id)
    assert (await client.message(alice["id"], reply.message_id)).deleted


async def test_bot_document_downloads_intact(
    bot: Bot, client: LocalServerClient, alice: dict
) -> None:
    payload = b"%PDF-1.4\n" + bytes(range(256)) * 100
    sent = await bot.send_document(
        alice["id"], BufferedInputFile(payload, filename="报告.pdf"), caption="<b>周报</b>"
    )

    assert sent.document.file_name == "报告.pdf"
    assert sent.document.mime_type == "application/pdf"
    assert sent.document.file_size == len(payload)
    assert sent.caption == "周报"
    assert await client.download(sent.document.file_id) == payload
    again = await bot.send_document(alice["id"], sent.document.file_id)
    assert again.document.file_id == sent.document.file_id


async def test_user_file_via_get_file_and_download(
    bot: Bot, client: LocalServerClient, alice: dict, png_1600x900: bytes
) -> None:
    message = await client.send_file(alice["id"], b"hello world", file_name="note.txt")

    file = await bot.get_file(message.document["file_id"])
    buffer = io.BytesIO()
    await bot.download_file(file.file_path, buffer)

    assert buffer.getvalue() == b"hello world"
    assert file.file_size == 11

    photo = await bot.send_photo(alice["id"], BufferedInputFile(png_1600x900, "p.png"))
    assert (photo.photo[-1].width, photo.photo[-1].height) == (1280, 720)
    with pytest.raises(TelegramBadRequest, match="Bad Request: IMAGE_PROCESS_FAILED"):
        await bot.send_photo(alice["id"], BufferedInputFile(b"not an image", "x.png"))


async def test_get_file_refuses_files_over_20_mb(
    bot: Bot, server: LocalBotApiServer, alice: dict
) -> None:
    big = server.world.user_sends_file(
        alice["id"], b"\0" * (20 * 1024 * 1024 + 1), kind="document"
    )
    with pytest.raises(TelegramBadRequest, match="Bad Request: file is too big"):
        await bot.get_file(big.document.file_id)


async def test_commands_per_scope_and_language(bot: Bot) -> None:
    private = BotCommandScopeAllPrivateChats()
    await bot.set_my_commands([BotCommand(command="start", description="开始")])
    await bot.set_my_commands(
        [BotCommand(command="report", description="Report")], scope=private, language_code="en"
    )

    assert [c.command for c in await bot.get_my_commands()] == ["start"]
    assert [c.command for c in await bot.get_my_commands(scope=private, language_code="en")] == [
        "report"
    ]
    assert await bot.get_my_commands(scope=private) == []
    await bot.delete_my_commands()
    assert await bot.get_my_commands() == []
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Bad Command", description="x")])


async def test_profile_chat_and_actions(bot: Bot, client: LocalServerClient, alice: dict) -> None:
    assert await bot.set_my_description("督办助手")
    assert await bot.set_my_short_description("督办")
    assert (await bot.get_my_description()).description == "督办助手"
    assert await bot.send_chat_action(alice["id"], "typing")
    chat = await bot.get_chat(alice["id"])
    assert (chat.type, chat.first_name, chat.username) == ("private", "Alice", "alice")
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.close()

    await bot.send_message(
        alice["id"],
        "choose",
        reply_markup=ReplyKeyboardMarkup(keyboard=[[KeyboardButton(text="进行中")]]),
    )
    chats = {c["id"]: c for c in await client.chats()}
    assert chats[alice["id"]]["reply_keyboard"]["keyboard"][0][0]["text"] == "进行中"


async def test_get_updates_holds_until_an_update_arrives(
    bot: Bot, server: LocalBotApiServer, client: LocalServerClient, alice: dict
) -> None:
    first = await bot.get_updates(timeout=0)
    offset = first[-1].update_id + 1
    polls = server.world.poll_generation

    waiting = asyncio.create_task(bot.get_updates(offset=offset, timeout=5))
    await server.world.wait_until(lambda: server.world.poll_generation > polls, 2)
    await client.send_text(alice["id"], "你好")
    updates = await waiting

    assert [u.message.text for u in updates] == ["你好"]
    assert await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == []


async def test_a_newer_poller_ends_the_older_one(bot: Bot, server: LocalBotApiServer) -> None:
    older = asyncio.create_task(bot.get_updates(timeout=5))
    await server.world.wait_until(lambda: server.world.poll_generation == 1, 2)
    await bot.get_updates(timeout=0)

    with pytest.raises(Exception, match="Conflict: terminated by other getUpdates request"):
        await older


async def test_unknown_files(bot: Bot, server: LocalBotApiServer) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: invalid file_id"):
        await bot.get_file("nope")
    url = f"{server.base_url}/file/bot{TOKEN}/documents/file_404.txt"
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        assert response.status == 404


async def test_allowed_updates_filters_what_the_bot_receives(
    bot: Bot, client: LocalServerClient, alice: dict
) -> None:
    await bot.get_updates(offset=-1, timeout=0, allowed_updates=["callback_query"])
    await client.send_text(alice["id"], "ignored")
    sent = await bot.send_message(alice["id"], "menu", reply_markup=keyboard("pick"))
    await client.press(alice["id"], sent.message_id, "pick")

    updates = await bot.get_updates(timeout=0)

    assert [u.callback_query.data for u in updates] == ["pick"]
