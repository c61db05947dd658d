"""Properties of bot.core.replies on generated text: it never fails, percentages stay within
0–100, relative dates never fall before today, and width or case never change a reading."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.replies import Status, read_reply

CODES = {"SR", "LN"}

FRAGMENTS = [
    "已完成",
    "完成",
    "进行中",
    "正在推进",
    "有困难",
    "资金未到位",
    "申请延期",
    "延期至",
    "推迟到",
    "收到",
    "好的",
    "还没",
    "未",
    "不",
    "吗",
    "？",
    "?",
    "，",
    "。",
    "；",
    "\n",
    " ",
    "%",
    "％",
    "百分之",
    "成",
    "一半",
    "过半",
    "基本",
    "争取",
    "将",
    "前",
    "底",
    "月",
    "年",
    "日",
    "号",
    "周",
    "下周",
    "本周内",
    "月底",
    "年底",
    "上半年",
    "季度",
    "明年",
    "SR-",
    "sr",
    "LN",
    "-",
    "—",
    "８",
    "0",
    "1",
    "2",
    "3",
    "5",
    "9",
    "12",
    "30",
    "31",
    "100",
    "2026",
    "一",
    "二",
    "三",
    "十",
    "百",
    "✅",
    "👍",
    "ok",
    "done",
    "个",
    "家",
    "工作日",
    "天内",
    "个月内",
    "分之",
]
RELATIVE_DATES = [
    "月底",
    "本月底",
    "下月底",
    "下个月底",
    "月中",
    "本月内",
    "年底",
    "年内",
    "今年底",
    "明年底",
    "上半年",
    "下半年",
    "明年上半年",
    "第一季度",
    "二季度",
    "四季度",
    "本周内",
    "这周",
    "下周",
    "周五",
    "下周五",
    "周末",
    "下周一",
    "今天",
    "明天",
    "后天",
    "3天内",
    "十天内",
    "两周内",
    "一个月内",
    "半个月内",
    "5个工作日内",
    "3月底",
    "6月30日",
    "六月底",
    "12月31日",
    "1月上旬",
    "2月29日",
    "2月底",
    "下月15日",
    "本月20号",
    "6.30前",
]

days = st.dates(min_value=date(2001, 1, 1), max_value=date(2090, 12, 31))
noisy = st.lists(st.sampled_from(FRAGMENTS), max_size=12).map("".join)


def _check(readings, today: date) -> None:
    for r in readings:
        assert r.candidates, r
        for c in r.candidates:
            assert isinstance(c.status, Status)
            if c.percent is not None:
                assert 0 <= c.percent <= 100 and c.status is Status.DOING
            if c.date is not None:
                assert isinstance(c.date, date)
        if r.ref is not None:
            assert r.ref == r.ref.upper() and "-" in r.ref


@settings(max_examples=400, deadline=None)
@given(text=st.text(max_size=200), today=days)
def test_any_text_reads_without_failing(text, today):
    _check(read_reply(text, today=today, plan_codes=CODES), today)


@settings(max_examples=600, deadline=None)
@given(text=noisy, today=days)
def test_liaison_like_noise_reads_without_failing(text, today):
    _check(read_reply(text, today=today, plan_codes=CODES), today)


@settings(max_examples=400, deadline=None)
@given(
    before=st.sampled_from(["申请延期至", "推迟到", "延期到", "进行中，预计", "争取"]),
    phrase=st.sampled_from(RELATIVE_DATES),
    after=st.sampled_from(["", "完成", "前完成", "。", "报送"]),
    today=days,
)
def test_relative_dates_are_real_and_never_before_today(before, phrase, after, today):
    readings = read_reply(f"{before}{phrase}{after}", today=today, plan_codes=CODES)
    assert readings or (before == "争取" and "完成" not in after), (before, phrase, after)
    for r in readings:
        for c in r.candidates:
            assert c.date is not None and c.date >= today, (phrase, today, c.date)


@settings(max_examples=300, deadline=None)
@given(n=st.integers(min_value=-1000, max_value=1000), status=st.sampled_from(["进行中", "进度"]))
def test_a_number_is_a_percentage_only_from_0_to_100(n, status):
    readings = read_reply(f"{status}{n}%", today=date(2026, 1, 5), plan_codes=CODES)
    percents = [c.percent for r in readings for c in r.candidates]
    if 0 <= n < 100:
        assert percents == [n]
    elif n == 100:
        assert [c.status for r in readings for c in r.candidates] == [Status.DONE]
    else:
        assert all(p is None for p in percents)


def _wide(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


@settings(max_examples=300, deadline=None)
@given(text=noisy, today=days)
def test_full_width_reads_the_same(text, today):
    plain = read_reply(text, today=today, plan_codes=CODES)
    assert read_reply(_wide(text), today=today, plan_codes=CODES) == plain


@settings(max_examples=200, deadline=None)
@given(
    code=st.sampled_from(["SR", "sr", "Sr", "ＳＲ", "ｓｒ"]),
    dash=st.sampled_from(["-", "－", "—", "", " "]),
    number=st.integers(min_value=1, max_value=999),
    status=st.sampled_from(["已完成", "进行中 40%", "有困难"]),
)
def test_refs_in_any_case_and_width(code, dash, number, status):
    (r,) = read_reply(f"{code}{dash}{number} {status}", today=date(2026, 1, 5), plan_codes=CODES)
    assert r.ref == f"SR-{number}"
