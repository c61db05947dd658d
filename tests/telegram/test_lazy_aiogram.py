"""bot.lazy_aiogram: aiogram's types built on first use are the same models, and are lazy."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from pydantic import BaseModel

from bot.lazy_aiogram import import_aiogram

REPO = Path(__file__).resolve().parents[2]


def _describe_in_fresh_interpreters(*modes: str) -> dict[str, dict]:
    """Run tests.telegram.aiogram_models once per mode, concurrently (two cores)."""
    processes = {
        mode: subprocess.Popen(
            [sys.executable, "-m", "tests.telegram.aiogram_models", mode],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for mode in modes
    }
    results = {}
    for mode, process in processes.items():
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        results[mode] = json.loads(out)
    return results


def test_lazy_import_builds_the_same_models_as_aiogram_and_defers_them():
    found = _describe_in_fresh_interpreters("lazy", "eager")
    lazy, eager = found["lazy"], found["eager"]
    assert lazy["deferred"] is True
    assert lazy["models"] == eager["models"] > 500
    # aiogram builds every type at import; the lazy import builds (almost) none of them …
    assert eager["complete_after_import"] == eager["types"]
    assert lazy["complete_after_import"] < lazy["types"] // 10
    # … and each one, built when first used, is the model aiogram would have built
    assert lazy["schema_sha1"] == eager["schema_sha1"]


def test_the_patch_is_gone_after_the_import_and_a_second_call_does_nothing():
    assert import_aiogram() is False  # the suite's conftest imported aiogram already
    rebuild = BaseModel.__dict__["model_rebuild"].__func__
    assert rebuild.__module__ == "pydantic.main"


def test_the_bot_parses_updates_and_builds_requests_with_the_lazy_types():
    from aiogram.methods import EditMessageText, SendMessage
    from aiogram.methods.base import Response
    from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

    update = Update.model_validate(
        {
            "update_id": 1,
            "message": {
                "message_id": 7,
                "date": 0,
                "chat": {"id": 42, "type": "private"},
                "from": {"id": 42, "is_bot": False, "first_name": "张三"},
                "text": "已完成",
                "reply_to_message": {
                    "message_id": 6,
                    "date": 0,
                    "chat": {"id": 42, "type": "private"},
                },
            },
        }
    )
    assert update.message is not None and update.message.reply_to_message is not None
    assert update.message.from_user is not None and update.message.from_user.first_name == "张三"
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="进行中", callback_data="s:1:in_progress")]]
    )
    request = SendMessage(chat_id=42, text="<b>提醒</b>", reply_markup=keyboard)
    dumped = request.model_dump(exclude_none=True)
    assert dumped["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "s:1:in_progress"
    answer = Response[EditMessageText.__returning__].model_validate(
        {"ok": True, "result": {"message_id": 8, "date": 0, "chat": {"id": 42, "type": "private"}}}
    )
    assert isinstance(answer.result, Message)
