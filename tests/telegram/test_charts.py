"""The pictures: drawn from the seed plans at the expected size, every text with a font whose
character map has every glyph used (no tofu), and text only when no CJK font is installed."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

import pytest

from bot.core.ranking import UnitScore, rank_units
from bot.core.stats import Rate
from bot.services import ranking, stats, trend
from bot.services.ranking import PlanRef, Ranking
from bot.telegram.charts import Pictures, fonts, without_missing_glyphs
from bot.telegram.charts.draw import WIDTH
from bot.telegram.charts.scorecard import BOTTOM, MAX_LINES, ROW, TOP, lines_drawn
from bot.telegram.charts.trend import HEIGHT
from bot.telegram.charts.views import caption, card_view, trend_view
from scripts.render_scorecard import ZONE, demo_ledger
from tests.dbs import database_url

AT = datetime(2025, 3, 19, 9, 30, tzinfo=UTC)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


@pytest.fixture(scope="module")
def font():
    found = fonts.find_font()
    if found is None:
        pytest.fail("no CJK font: install fonts-noto-cjk (CI does)")
    return found


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    """The seed plans with the demo's invented progress: rankings and trends to draw."""
    import asyncio

    async def build():
        path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
        demo = await demo_ledger(path, url=database_url(path))
        try:
            async with demo.session_maker() as session:
                every = await ranking.unit_ranking(
                    session, scope=stats.Scope(), at=demo.at, zone=ZONE
                )
                sr = next(p for p in every.plans if p.code == "SR")
                one = await ranking.unit_ranking(
                    session, scope=stats.Scope(plan_id=sr.plan_id), at=demo.at, zone=ZONE
                )
                weeks = await trend.trend(session, scope=stats.Scope(), at=demo.at, zone=ZONE)
                months = await trend.trend(
                    session,
                    scope=stats.Scope(plan_id=sr.plan_id),
                    at=demo.at,
                    zone=ZONE,
                    period="month",
                )
        finally:
            await demo.engine.dispose()
        return every, one, weeks, months

    return asyncio.run(build())


def assert_no_tofu(drawing, font):
    """Every text was drawn with the chosen family (its regular or bold face), and that face
    has a glyph for every character of it."""
    assert drawing.drawn
    for text, used in drawing.drawn:
        assert used.family == font.family, text
        assert used.missing(text) == set(), (text, used)


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_seed_scorecards_are_phone_sized_and_every_glyph_is_in_the_font(seeds, font, locale):
    every, one, _, _ = seeds
    pictures = Pictures(font=font)
    for result in (every, one):
        view = card_view(result, period="week", zone=ZONE, locale=locale)
        assert font.missing("".join(view.texts())) == set()  # nothing had to be replaced
        assert without_missing_glyphs(view, font) == view
        drawing = pictures.draw_scorecard(view)
        width, height = png_size(drawing.png)
        lines = len(lines_drawn(view.rows))
        assert width == WIDTH == 1080
        assert TOP + ROW * lines + BOTTOM <= height <= TOP + ROW * lines + BOTTOM + 80
        assert height <= 2560  # Telegram shows up to 2560 px without shrinking the photo
        assert_no_tofu(drawing, font)
        assert any(row.name in drawing.texts for row in result.rows[:3])


def test_seed_trends(seeds, font):
    _, one, weeks, months = seeds
    pictures = Pictures(font=font)
    for history, plans in ((weeks, []), (months, one.plans)):
        view = trend_view(history, plans, at=AT, zone=ZONE, locale="zh_CN")
        drawing = pictures.draw_trend(view)
        assert png_size(drawing.png) == (WIDTH, HEIGHT)
        assert_no_tofu(drawing, font)
    assert len(weeks.points) == 29 - 3 and weeks.points[-1].closed > weeks.points[0].closed


def synthetic(n: int) -> Ranking:
    scores = [
        UnitScore(
            i, f"第{i}测试单位", 10, i % 10, i % 4, Rate(i % 7, 6 if i % 9 else 0), Rate(i % 5, 4)
        )
        for i in range(n)
    ]
    return Ranking(AT, date(2025, 3, 19), rank_units(scores), [PlanRef(1, "SR", "实施意见")])


@pytest.mark.parametrize("n", [0, 1, 24, 100])
def test_long_lists_keep_head_and_laggards(font, n):
    view = card_view(synthetic(n), period="month", zone=ZONE, locale="zh_CN")
    drawing = Pictures(font=font).draw_scorecard(view)
    width, height = png_size(drawing.png)
    assert width == WIDTH and height <= 2560
    lines = lines_drawn(view.rows)
    assert len(lines) <= MAX_LINES
    ranked = [r for r in view.rows if r.rank != "—"]
    if ranked:
        assert ranked[-1].name in drawing.texts  # the last of the ranked units is in sight
    assert_no_tofu(drawing, font)


def test_the_marked_unit_stays_in_sight(font):
    result = synthetic(100)
    middle = result.ranked[40]
    view = card_view(result, period="week", zone=ZONE, locale="zh_CN", mine=middle.unit_id)
    drawing = Pictures(font=font).draw_scorecard(view)
    assert middle.name in drawing.texts


def test_a_character_the_font_lacks_is_replaced_not_boxed(font):
    unit = UnitScore(1, "市\U000f0001局", 1, 0, 1, Rate(0, 1), Rate(0, 0))  # private use
    result = Ranking(AT, date(2025, 3, 19), rank_units([unit]), [])
    drawing = Pictures(font=font).draw_scorecard(
        card_view(result, period="week", zone=ZONE, locale="zh_CN")
    )
    assert "市?局" in drawing.texts
    assert_no_tofu(drawing, font)


def test_caption_names_the_three_most_overdue(seeds):
    every, _, _, _ = seeds
    text = caption(every, period="week", locale="zh_CN")
    assert len(text) <= 1024 and "逾期最多" in text
    behind = sorted(every.rows, key=lambda r: -r.overdue)[:1]
    assert behind[0].name in text


def test_chart_font_setting_names_the_font(font, caplog):
    serif = fonts.find_font("Noto Serif CJK SC")
    assert serif is not None and serif.family == "Noto Serif CJK SC"
    by_file = fonts.find_font(font.path)
    assert by_file is not None and by_file.path == font.path
    with caplog.at_level(logging.WARNING):
        fallback = fonts.find_font("No Such Font")
    assert fallback == font
    assert "CHART_FONT 'No Such Font'" in caplog.text


async def test_no_cjk_font_one_warning_and_text_only(monkeypatch, caplog):
    monkeypatch.setattr(fonts, "_entries", lambda: [])
    monkeypatch.setattr(fonts, "_fontconfig_match", lambda: None)
    pictures = Pictures("No Such Font")
    with caplog.at_level(logging.WARNING):
        assert await pictures.check() is False
        view = card_view(synthetic(3), period="week", zone=ZONE, locale="zh_CN")
        assert await pictures.scorecard(view) is None
        assert (
            await pictures.trend(
                trend_view(trend.Trend("week", None, []), [], at=AT, zone=ZONE, locale="zh_CN")
            )
            is None
        )
    warnings = [r for r in caplog.records if r.getMessage() == fonts.NO_FONT_WARNING]
    assert len(warnings) == 1


def test_pictures_do_not_load_at_import():
    import subprocess
    import sys

    code = (
        "import sys; import bot.telegram.setup, bot.telegram.charts; "
        "print('matplotlib' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


async def test_a_distinct_picture_is_drawn_once(font):
    pictures = Pictures(font=font)
    first = card_view(synthetic(5), period="week", zone=ZONE, locale="zh_CN")
    other = card_view(synthetic(5), period="week", zone=ZONE, locale="en")
    pngs = [await pictures.scorecard_once(v) for v in (first, other, first, other, first)]
    assert pictures.drawn == 2
    assert pngs[0] == pngs[2] == pngs[4] and pngs[1] == pngs[3] and pngs[0] != pngs[1]
