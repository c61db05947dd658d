"""/scorecard and /status's 📊 button through the real dispatcher (recorded Bot API calls):
a picture with buttons, or the same ranking as text when no CJK font is installed."""

from __future__ import annotations

import logging

from aiogram.methods import SendMessage, SendPhoto

from bot.telegram.charts import fonts
from bot.telegram.charts.draw import WIDTH
from bot.telegram.scorecard import parse_args
from tests.services.factories import add_person

from .conftest import COORDINATOR, LIAISON, STRANGER


def photos(sent) -> list[SendPhoto]:
    return [c for c in sent.calls if isinstance(c, SendPhoto)]


def photo_buttons(photo: SendPhoto) -> list[tuple[str, str]]:
    rows = photo.reply_markup.inline_keyboard if photo.reply_markup else []
    return [(b.text, b.callback_data) for row in rows for b in row]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_arguments_in_either_order():
    assert parse_args(None) == (None, "week")
    assert parse_args("SR month") == ("SR", "month")
    assert parse_args("月 SR") == ("SR", "month")
    assert parse_args("all week") == (None, "week")
    assert parse_args("全部") == (None, "week")


async def test_scorecard_is_a_picture_with_buttons(hc):
    sent = await hc.send(COORDINATOR, "/scorecard")
    (photo,) = photos(sent)
    assert not sent.messages
    width, height = png_size(photo.photo.data)
    assert width == WIDTH and 600 < height < 2600
    assert "上饶市卫生健康委员会" in photo.caption and "市财政局" in photo.caption
    labels = [label for label, _ in photo_buttons(photo)]
    assert any("SR" in label for label in labels) and any("LN" in label for label in labels)
    trend_button = next(data for label, data in photo_buttons(photo) if "📈" in label)
    trend = await hc.press(COORDINATOR, trend_button)
    (trend_photo,) = photos(trend)
    assert png_size(trend_photo.photo.data)[0] == WIDTH
    month = next(data for label, data in photo_buttons(photo) if "月" in label)
    assert photos(await hc.press(COORDINATOR, month))


async def test_one_plan_and_a_plan_out_of_reach(hc):
    assert photos(await hc.send(COORDINATOR, "/scorecard SR month"))
    unknown = await hc.send(COORDINATOR, "/scorecard XX")
    assert not photos(unknown) and "XX" in unknown.text
    await add_person(hc.ledger, 300, "王五", role="coordinator", plan="LN")
    refused = await hc.send(300, "/scorecard SR")
    assert not photos(refused) and "SR" in refused.text
    own = await hc.send(300, "/scorecard")
    (photo,) = photos(own)
    assert "龙南" in photo.caption and "上饶" not in photo.caption


async def test_leaders_see_the_plans_of_their_unit_and_others_are_refused(hc):
    await add_person(hc.ledger, 400, "赵六", role="leader", unit="sr_finance")
    (photo,) = photos(await hc.send(400, "/scorecard"))
    assert "市财政局" in photo.caption and "龙南" not in photo.caption
    for who in (LIAISON, STRANGER):
        sent = await hc.send(who, "/scorecard")
        assert not photos(sent) and len(sent.messages) == 1
        assert "市财政局" not in sent.text


async def test_status_has_a_picture_button_of_the_same_scope(hc):
    status = await hc.send(COORDINATOR, "/status 上饶市财政局")
    picture = await hc.press(COORDINATOR, status.button("📊"))
    (photo,) = photos(picture)
    assert png_size(photo.photo.data)[0] == WIDTH
    assert "市财政局" in photo.caption


async def test_without_a_cjk_font_the_ranking_goes_out_as_text(hc, monkeypatch, caplog):
    monkeypatch.setattr(fonts, "_entries", lambda: [])
    monkeypatch.setattr(fonts, "_fontconfig_match", lambda: None)
    monkeypatch.setattr("bot.telegram.charts.find_font", fonts.find_font)
    with caplog.at_level(logging.WARNING):
        sent = await hc.send(COORDINATOR, "/scorecard")
    assert not photos(sent)
    (message,) = [c for c in sent.calls if isinstance(c, SendMessage)]
    lines = message.text.splitlines()
    assert "上饶市卫生健康委员会" in lines[1] and "市财政局" in lines[2]
    assert "龙南市卫生健康委员会" in lines[3] and lines[3].startswith("—")
    warnings = [r for r in caplog.records if "no CJK font" in r.getMessage()]
    assert len(warnings) == 1
    again = await hc.send(COORDINATOR, "/scorecard SR")  # said once, not per request
    assert not photos(again)
    assert len([r for r in caplog.records if "no CJK font" in r.getMessage()]) == 1
