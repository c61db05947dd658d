"""Reading a liaison's free-text reply (pure): which items it reports on, and what it says.

`read_reply(text, today=..., plan_codes=...)` returns one `Reading` per item the text reports a
status for: the ref (None = the item the message replies to), the status, a percentage and a
date, and whether the reading is ambiguous (then `candidates` lists what it may mean, the most
likely first). Text that reports nothing gives no reading: it stays a note.

What is understood (after NFKC, so full-width digits and punctuation read as half-width):
- status: 已完成 / 办结了 / 全部完成 → done; 进行中 / 推进中 / 正在… / 已启动 → doing;
  有困难 / 卡住了 / 资金未到位 / 无法完成 → blocked; 申请延期 / 延期至… / 申请推迟到… →
  extension (a bare 推迟到… / 顺延至… may be said of a meeting: asked back);
  收到 / 好的 / 已收到 / 👍 → 签收 (acknowledged).
- percentages: 80%, ８０％, 80.5% (rounded), 百分之八十, 八成, 七成多 (70), 一半 (50), 三分之二
  (67), "进度80" (a bare number after 进度 / 完成率 / 完成度). A negative number or one above
  100 is not a percentage. 过半 and 大部分 say "more than half" without a number: doing, no
  percent.
- dates, relative to `today`: 2026年6月30日, 2026-06-30, 6月30日 / 6月30号, 3月底(前), 6月份,
  5月上旬 / 中旬 / 下旬, 月底 / 本月底 / 下月底, 年底 / 明年底 / 2026年底, 上半年 / 下半年,
  第三季度, 本周内 (this week's Friday, next week's once it has passed), 周末, (下)周五,
  今天 / 明天 / 后天, 3天内, 两周内, 一个月内. A date without a year is its next occurrence
  on or after `today`; relative phrases never give a date before `today` (an explicit year
  may).

The rules that keep it honest:
- 已完成 with a percentage under 100 is doing at that percentage (已完成80% → doing 80,
  已完成一半 → doing 50); 100% is done.
- Negations do not count: 还没完成 / 未完成 / 尚未全部完成 are not done (doing or blocked: asked),
  不需要延期 is no extension, 没有困难 is not blocked.
- Questions report nothing (完成了吗？, 是否已完成); an extension asked as a question
  (能否延期到6月底？) is read as a request but asked back.
- Promises are not facts: 争取月底前完成 / 将于6月底完成 is doing (or only 签收), not done.
- Wording that may mean something else is asked back: 推迟到下周 (the item or a meeting?),
  克服困难 / 困难已解决 are not 有困难, 完成情况如下 / 完成时限 state nothing, and a percentage
  after 覆盖率 / 同比增长 is an indicator's value, not the progress.
- Conflicting statements are ambiguous: 基本完成 (done or doing?), 已完成3家 (a count: doing?),
  已完成招标 (the item, or one step of it?), 一期已完成，二期正在推进, ✅ alone (done or
  签收?), two different percentages.
- 申请延期 wins over everything else in the same part (its date is the one after the word).
- Several refs: each part from a ref to the next one reports on that ref ("SR-3 已完成；SR-5
  进行中60%"); refs listed together share what follows ("SR-3、SR-5 均已完成"); text before the
  first ref applies to refs that say nothing themselves ("已完成：SR-3、SR-5").
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


class Status(StrEnum):
    DONE = "done"
    DOING = "doing"
    BLOCKED = "blocked"
    EXTEND = "extend"
    ACK = "ack"


@dataclass(frozen=True)
class Candidate:
    """One meaning of a reply: a status, with a percentage (doing only) and a date."""

    status: Status
    percent: int | None = None
    date: date | None = None


@dataclass(frozen=True)
class Reading:
    """What a reply says about one item. `ref` None: the item the message replies to."""

    ref: str | None
    candidates: tuple[Candidate, ...]
    ambiguous: bool = False

    @property
    def best(self) -> Candidate:
        return self.candidates[0]

    @property
    def status(self) -> Status:
        return self.best.status

    @property
    def percent(self) -> int | None:
        return self.best.percent

    @property
    def date(self) -> date | None:
        return self.best.date


# --- signals ----------------------------------------------------------------------------------

# what a keyword says, before its context (negation, promise, question) is looked at
_DONE, _DOING, _BLOCKED, _EXTEND, _ACK = "done", "doing", "blocked", "extend", "ack"
_MAYBE_DONE = "maybe_done"  # 基本完成: done or nearly
_CHECK = "check"  # ✅ alone: done or 签收
_PROGRESS_KEY = "progress_key"  # 进度 / 完成率: a bare number after it is a percentage
_NEUTRAL = "neutral"  # 完成情况, 完成时限: no statement
_EXTEND_SOFT = "extend_soft"  # 推迟到…: an extension, or something else put off
# derived from context
_NEG_DONE, _FUT_DONE, _PART_DONE, _ASK_EXTEND = "neg_done", "fut_done", "part_done", "ask_ext"
_STEP_DONE = "step_done"  # 已完成招标: done, or one step of it

_KEYWORDS: dict[str, tuple[str, ...]] = {
    _DONE: (
        "已完成",
        "已经完成",
        "完成了",
        "全部完成",
        "全面完成",
        "均已完成",
        "都已完成",
        "已全部完成",
        "顺利完成",
        "圆满完成",
        "如期完成",
        "按期完成",
        "按时完成",
        "提前完成",
        "超额完成",
        "已办结",
        "办结了",
        "办结",
        "已办完",
        "办完了",
        "已做完",
        "做完了",
        "弄完了",
        "搞定了",
        "已搞定",
        "已落实",
        "落实到位",
        "已建成",
        "建成投用",
        "已投用",
        "投入使用",
        "已竣工",
        "竣工验收",
        "已完工",
        "完工了",
        "已实现",
        "已达标",
        "已验收",
        "通过验收",
        "已上线",
        "搞定",
        "搞定啦",
        "弄好了",
        "做好了",
        "办好了",
        "已办好",
        "已做好",
        "已弄好",
        "搞好了",
        "完事了",
        "已达到目标值",
        "已达到目标",
        "达到目标值",
        "完成",
        "done",
        "finished",
        "completed",
        "complete",
    ),
    _DOING: (
        "进行中",
        "推进中",
        "正在推进",
        "正在进行",
        "正在办理",
        "正在实施",
        "正在建设",
        "正在开展",
        "正在落实",
        "正在",
        "在办",
        "办理中",
        "实施中",
        "建设中",
        "施工中",
        "在建",
        "开展中",
        "有序推进",
        "稳步推进",
        "加快推进",
        "持续推进",
        "积极推进",
        "全力推进",
        "扎实推进",
        "已启动",
        "启动了",
        "已开工",
        "开工了",
        "已开始",
        "开始了",
        "在做",
        "处理中",
        "筹备中",
        "部分完成",
        "大部分完成",
        "已完成部分",
        "完成部分",
        "完成大部分",
        "已完成大部分",
        "完成过半",
        "已过半",
        "过半",
        "大半",
        "接近完成",
        "即将完成",
        "快完成",
        "马上完成",
        "大部分已完成",
        "部分已完成",
        "大多已完成",
        "在推进",
        "正推进",
        "抓紧推进",
        "加紧推进",
        "在弄",
        "在搞",
        "还在做",
        "快好了",
        "还差一点",
        "克服困难",
        "困难已解决",
        "问题已解决",
        "已协调解决",
        "doing",
        "in progress",
        "ongoing",
        "wip",
    ),
    _MAYBE_DONE: ("基本完成", "初步完成", "基本办结", "基本建成", "基本落实", "差不多了"),
    _BLOCKED: (
        "有困难",
        "遇到困难",
        "存在困难",
        "困难",
        "卡住了",
        "卡住",
        "卡在",
        "受阻",
        "阻碍",
        "停滞",
        "停工",
        "暂停",
        "搁置",
        "资金未到位",
        "资金不到位",
        "资金没到位",
        "资金缺口",
        "缺资金",
        "缺少资金",
        "缺钱",
        "没钱",
        "经费不足",
        "资金不足",
        "人手不足",
        "缺人",
        "未到位",
        "不到位",
        "没到位",
        "无法推进",
        "推进困难",
        "难以推进",
        "推不动",
        "无法完成",
        "完成不了",
        "完不成",
        "难以完成",
        "不能完成",
        "无法按期完成",
        "不能按期完成",
        "未能按期完成",
        "难以按期",
        "存在问题",
        "遇到问题",
        "有问题",
        "需要协调",
        "需协调",
        "请求协调",
        "请协调",
        "需要支持",
        "请求支持",
        "未批复",
        "未获批",
        "审批未通过",
        "无法启动",
        "无法开工",
        "不能开工",
        "无法开展",
        "难以开展",
        "无法实施",
        "尚未下达",
        "未下达",
        "没下达",
        "指标不足",
        "协调解决",
        "暂缓",
        "资金问题",
        "stuck",
        "blocked",
    ),
    _EXTEND: (
        "申请延期",
        "请求延期",
        "需要延期",
        "需延期",
        "延期至",
        "延期到",
        "延期",
        "延至",
        "申请推迟",
        "需要推迟",
        "需推迟",
        "请求推迟",
        "申请顺延",
        "需要顺延",
        "需顺延",
        "申请延长",
        "extension",
        "extend",
    ),
    # may be said of anything (会议推迟到下周): asked back
    _EXTEND_SOFT: (
        "推迟到",
        "推迟至",
        "推迟",
        "延后",
        "延迟到",
        "延迟至",
        "顺延至",
        "顺延到",
        "顺延",
        "延长至",
        "延长到",
        "宽限至",
        "宽限到",
        "宽限",
        "往后延",
        "postpone",
    ),
    _ACK: (
        "收到",
        "已收到",
        "收到了",
        "好的",
        "好滴",
        "好嘞",
        "知道了",
        "知悉",
        "已知悉",
        "明白",
        "收悉",
        "已收悉",
        "签收",
        "已签收",
        "了解",
        "遵照执行",
        "照办",
        "马上落实",
        "立即落实",
        "抓紧落实",
        "马上办",
        "没问题",
        "已阅",
        "已读",
        "阅知",
        "已阅知",
        "嗯嗯",
        "嗯",
        "ok",
        "okay",
        "roger",
        "noted",
        "received",
        "👌",
        "👍",
        "🫡",
        "🙏",
        "🙆",
    ),
    _CHECK: ("✅", "✔", "☑"),
    _PROGRESS_KEY: ("进度", "完成率", "完成度", "完成比例", "完成进度", "进展"),
    # headings and nouns that contain a status word but state nothing (完成情况如下：…)
    _NEUTRAL: (
        "完成情况",
        "完成时限",
        "完成时间",
        "完成标准",
        "完成目标",
        "完成期限",
        "完成节点",
        "进展情况",
        "推进情况",
        "困难和问题",
        "存在的困难",
        "延期申请表",
    ),
}


def _keyword_patterns(
    keywords: dict[str, tuple[str, ...]],
) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Chinese and emoji keywords (plain alternatives, longest first: the regex engine scans
    them fast), and Latin ones (whole words only, matched on lower-cased text)."""
    words = sorted({w for ws in keywords.values() for w in ws}, key=len, reverse=True)
    other = "|".join(re.escape(w) for w in words if not w.isascii())
    latin = "|".join(re.escape(w) for w in words if w.isascii())
    return re.compile(other), re.compile(rf"(?<![a-z])(?:{latin})(?![a-z])")


_KIND_OF = {w: kind for kind, ws in _KEYWORDS.items() for w in ws}
_KEYWORD, _LATIN_KEYWORD = _keyword_patterns(_KEYWORDS)
_HAS_LATIN = re.compile(r"[A-Za-z]")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _keywords(text: str) -> list[tuple[int, int, str]]:
    """(start, end, keyword) of every keyword in `text`, in order."""
    found = [(m.start(), m.end(), m.group(0)) for m in _KEYWORD.finditer(text)]
    if _HAS_LATIN.search(text):
        lowered = text.translate(_ASCII_LOWER)  # same length, same positions
        found += [(m.start(), m.end(), m.group(0)) for m in _LATIN_KEYWORD.finditer(lowered)]
        found.sort()
    return found


# immediately before a keyword: it is denied (还没完成, 不需要延期, 没有困难, 待完成)
_NEGATED = re.compile(
    r"(?:未|没|尚未|还没|仍未|并未|暂未|从未|不|无法|不能|无|暂无|别|待|不存在|没有|并没有)"
    r"(?:能|有|会|用|需|按期|按时|如期|全部|全面|彻底|完全|全|都)?\s*$"
)
# before a bare 完成 / 办结 (no 已, no 了): a promise, not a fact (争取月底前完成, 将于…完成)
_PROMISE = re.compile(
    r"将|预计|争取|计划|力争|确保|拟|准备|打算|可以|有望|能够|即将|马上|尽快|抓紧|预期|会|要在|"
    r"应该|应当|需要|需|才能|可望|可|能"
)
_DATE_JUST_BEFORE = re.compile(r"(?:底|末|日|号|前|内|旬|周[一二三四五六日天]|天|月|年)\s*$")
# after 完成: a number that is not a percentage (已完成3家, 完成了80): a count, so maybe not all
_COUNT_AFTER = re.compile(
    r"\s*了?\s*(?:约|近|超过|共)?\s*(?:\d+(?:\.\d+)?|[一二两三四五六七八九十百千]+)"
    r"(?!\s*(?:%|percent|pct|[\d.]|成|半|分之|个点))"
)
# after 完成: what was completed is named (已完成招标): maybe one step only; unless it names the
# whole (已完成全部任务, 已完成年度目标)
_OBJECT_AFTER = re.compile(r"\s*(?:了)?\s*[\u4e00-\u9fff]")
_WHOLE_AFTER = re.compile(
    r"\s*(?:了)?\s*(?:全部|所有|各项|全年|年度|既定|目标|任务|工作|本项|该项|此项|这项|上述|相关工作|"
    r"[了的啦喽哈呀啊哦吧嘞呢滴~]|[,。;!?\s]|$)"
)
_PARTLY = re.compile(r"部分|大多|多数|少数|个别")
_QUESTION = re.compile(
    r"(?:吗|么)\s*$|是否|是不是|能否|可否|能不能|可不可以|要不要|需不需要|有没有|怎么|如何|"
    r"什么|哪些|哪个|为何|为什么"
)
_CLAUSE = re.compile(r"[^,;。!?\n]+[,;。!?\n]*")

# --- numbers ----------------------------------------------------------------------------------

_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_NUM = r"(?:\d{1,4}|[零〇一二两三四五六七八九十百]{1,4})"


def cn_int(text: str) -> int | None:
    """`12`, `十二`, `三十`, `二十五`, `一百`, `百` → int; None when it is not a number."""
    if text.isdigit():
        return int(text)
    total, current = 0, 0
    for ch in text:
        if ch in _CN_DIGITS:
            current = current * 10 + _CN_DIGITS[ch] if ch in "零〇" else _CN_DIGITS[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
        else:
            return None
    return total + current


_PCT_SIGN = re.compile(r"(-|负|减)?\s*(\d+(?:\.\d+)?)\s*(?:%|percent|pct|个点)", re.IGNORECASE)
# before a percentage: it measures something else than the progress of the work
_METRIC = re.compile(
    r"(?<!完成)(?:率|比例|比重|占比)|增长|增幅|下降|降低|提高|提升|同比|环比|减少|增加|超过|不低于"
)
_PCT_WORDS = re.compile(r"(负)?百分之\s*(\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百点]+)")
_PCT_TENTHS = re.compile(r"(\d|[一二两三四五六七八九十])\s*成(?![功果绩立本员效为])")
_PCT_FRACTION = re.compile(r"([一二三四五六七八九十]+)分之([一二三四五六七八九十]+)")
_PCT_HALF = re.compile(r"(?<![大过])一半")
_PCT_AFTER_KEY = re.compile(
    r"(?:进度|完成率|完成度|完成比例|完成进度|进展)\s*(?:已|为|是|达到?|约|:|大概|大约|了|在)*\s*"
    r"(-?\d{1,4}(?:\.\d+)?)(?![\d.]|\s*(?:%|成|分之|个|家|所|项|处|月|日|号|年|天|周|万|亿|人|元))"
)


def _cn_decimal(text: str) -> float | None:
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return float(text)
    whole, _, frac = text.partition("点")
    value = cn_int(whole) if whole else None
    if value is None:
        return None
    if frac:
        digits = [_CN_DIGITS.get(ch) for ch in frac]
        if any(d is None for d in digits):
            return None
        return float(f"{value}.{''.join(str(d) for d in digits)}")
    return float(value)


def _round(value: float) -> int:
    return int(value + 0.5)


def percentages(text: str) -> tuple[list[int], bool]:
    """The percentages in normalized text, in order, each once, and whether some number was
    written as one but is not (negative or above 100)."""
    found: list[int] = []
    invalid = False

    def add(value: float | None, negative: bool = False) -> None:
        nonlocal invalid
        if value is None:
            return
        if negative or value < 0 or value > 100:
            invalid = True
            return
        pct = _round(value)
        if pct not in found:
            found.append(pct)

    # each form is looked for only when its telltale is in the text: most replies have none
    if "%" in text or "个点" in text or _HAS_LATIN.search(text):
        for m in _PCT_SIGN.finditer(text):
            if _METRIC.search(text[max(0, m.start() - 8) : m.start()]):
                continue  # 覆盖率达到95%, 同比增长20%: an indicator's value, not the progress
            add(float(m.group(2)), bool(m.group(1)))
    if "分之" in text:
        for m in _PCT_WORDS.finditer(text):
            add(_cn_decimal(m.group(2)), bool(m.group(1)))
        for m in _PCT_FRACTION.finditer(text):
            den, num = cn_int(m.group(1)), cn_int(m.group(2))
            if den and num is not None and text[max(0, m.start() - 1) : m.start()] != "百":
                add(100 * num / den)
    if "成" in text:
        for m in _PCT_TENTHS.finditer(text):
            tenths = cn_int(m.group(1))
            add(None if tenths is None else tenths * 10)
    if "一半" in text and _PCT_HALF.search(text):
        add(50)
    if "进" in text or "完成" in text:
        for m in _PCT_AFTER_KEY.finditer(text):
            raw = float(m.group(1))
            add(abs(raw), raw < 0)
    return found, invalid


# --- dates ------------------------------------------------------------------------------------


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _safe(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _next_occurrence(today: date, day_of: Callable[[int], date | None]) -> date | None:
    """The day `day_of(year)` gives, this year or the first later year where it is a date on
    or after `today`."""
    for year in range(today.year, min(today.year + 5, 9999)):  # 2月29日: the next leap year
        found = day_of(year)
        if found is not None and found >= today:
            return found
    return None


def _year_of(word: str | None, today: date) -> int | None:
    if not word:
        return None
    if word.isdigit():
        return int(word)
    return {"今": today.year, "本": today.year, "明": today.year + 1, "后": today.year + 2}.get(
        word
    )


def _in_month(part: str, year: int, month: int) -> date | None:
    if not 1 <= month <= 12:
        return None
    if part in ("底", "末", "下旬", "份", "内", ""):
        return _month_end(year, month)
    if part == "中旬" or part == "中":
        return date(year, month, 20) if part == "中旬" else date(year, month, 15)
    if part in ("上旬", "初"):
        return date(year, month, 10)
    return None


_WEEKDAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": 6}
_WEEKDAY.update({str(i + 1): i for i in range(7)})


def _weekday(today: date, which: str, weekday: int) -> date:
    monday = today - timedelta(days=today.weekday())
    if which in ("下", "下个"):
        return monday + timedelta(days=7 + weekday)
    found = monday + timedelta(days=weekday)
    return found if found >= today else found + timedelta(days=7)


def _plus_workdays(today: date, n: int) -> date:
    day = today
    while n > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


_DateRule = Callable[[re.Match[str], date], date | None]  # the date a matched phrase names


def _rules() -> list[tuple[re.Pattern[str], _DateRule, str]]:
    def full(m: re.Match[str], today: date) -> date | None:
        year, month, day = (cn_int(g) for g in m.groups())
        if year is None or month is None or day is None:
            return None
        return _safe(year, month, day)

    def month_part(m: re.Match[str], today: date) -> date | None:
        year = _year_of(m.group(1), today)
        month = cn_int(m.group(2))
        if month is None or not 1 <= month <= 12:
            return None
        part = m.group(3) or ""
        if year is not None:
            return _in_month(part, year, month)
        return _next_occurrence(today, lambda y: _in_month(part, y, month))

    def month_day(m: re.Match[str], today: date) -> date | None:
        month, day = cn_int(m.group(1)), cn_int(m.group(2))
        if month is None or day is None:
            return None
        return _next_occurrence(today, lambda y: _safe(y, month, day))

    def year_end(m: re.Match[str], today: date) -> date | None:
        year = _year_of(m.group(1), today) or today.year
        return date(year, 12, 31) if 1 <= year <= 9999 else None

    def half_year(m: re.Match[str], today: date) -> date | None:
        year = _year_of(m.group(1), today)
        month = 6 if m.group(2) in ("上半年", "年中") else 12
        if year is not None:
            return _month_end(year, month)
        return _next_occurrence(today, lambda y: _month_end(y, month))

    def quarter(m: re.Match[str], today: date) -> date | None:
        year, q = _year_of(m.group(1), today), cn_int(m.group(2))
        if q is None or not 1 <= q <= 4:
            return None
        if year is not None:
            return _month_end(year, q * 3)
        return _next_occurrence(today, lambda y: _month_end(y, q * 3))

    def this_month(m: re.Match[str], today: date) -> date | None:
        which, part = m.group(1) or "", m.group(2) or "底"
        base = _add_months(today.replace(day=1), 1 if which.startswith("下") else 0)
        found = _in_month(part, base.year, base.month)
        if found is not None and found < today:
            nxt = _add_months(base, 1)
            found = _in_month(part, nxt.year, nxt.month)
        return found

    def day_of_month(m: re.Match[str], today: date) -> date | None:
        base = _add_months(today.replace(day=1), 1 if (m.group(1) or "").startswith("下") else 0)
        day = cn_int(m.group(2))
        if day is None:
            return None
        found = _safe(base.year, base.month, day)
        if found is not None and found < today:
            nxt = _add_months(base, 1)
            found = _safe(nxt.year, nxt.month, day)
        return found

    def week(m: re.Match[str], today: date) -> date | None:
        which = m.group(1) or ""
        day = _WEEKDAY.get(m.group(2) or "", 4)  # 本周(内) → Friday
        return max(today, _weekday(today, which, day))

    def named_day(m: re.Match[str], today: date) -> date | None:
        offset = {"今": 0, "当": 0, "明": 1, "次": 1, "后": 2, "大后": 3}[m.group(1)]
        return today + timedelta(days=offset)

    def within(m: re.Match[str], today: date) -> date | None:
        n = 0.5 if m.group(1) == "半" else cn_int(m.group(1))
        unit = m.group(2)
        if n is None or n > 3660:
            return None
        if unit == "工作日":
            return _plus_workdays(today, int(n))
        if unit in ("天", "日"):
            return today + timedelta(days=int(n))
        if unit in ("周", "星期", "礼拜"):
            return today + timedelta(days=int(n * 7))
        return today + timedelta(days=15) if n == 0.5 else _add_months(today, int(n))

    y = r"(\d{4}|[今本明后])\s*年\s*"
    md = r"(?<![\d./])(1[0-2]|0?[1-9])[./](3[01]|[12]\d|0?[1-9])(?=\s*(?:前|之前|以前|号|日))"
    span = r"\s*个?\s*(工作日|天|日|周|星期|礼拜|月)\s*(?:内|之内|以内|后)"
    # the first rule that matches a stretch of text decides it
    return [
        (re.compile(r"(\d{4})\s*年\s*" + rf"({_NUM})\s*月\s*({_NUM})\s*[日号]"), full, "年"),
        (re.compile(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)"), full, "0123456789"),
        (re.compile(r"(?<!\d)(\d{4})(\d{2})(\d{2})(?!\d)"), full, "0123456789"),
        (re.compile(rf"({_NUM}|半){span}"), within, "内后"),
        (re.compile(rf"({_NUM})\s*月\s*({_NUM})\s*[日号]"), month_day, "月"),
        (re.compile(rf"(本|这个|这|当|下个|下)月\s*({_NUM})\s*[日号]"), day_of_month, "月"),
        (re.compile(md), month_day, "./"),
        (
            re.compile(rf"(?:{y})?({_NUM})\s*月\s*(底|末|下旬|中旬|上旬|初|份|中)?"),
            month_part,
            "月",
        ),
        (re.compile(r"(?:(\d{4}|[今本明后])\s*年\s*)(?:年底|年末|年内|底|末|内)"), year_end, "年"),
        (re.compile(r"()(?:年底|年末|年内)"), year_end, "年"),
        (re.compile(rf"(?:{y})?(上半年|下半年|年中)"), half_year, "年"),
        (re.compile(rf"(?:{y})?第?([一二三四1-4])\s*季度"), quarter, "季"),
        (
            re.compile(r"(本|这个|这|当|下个|下)?月(底|末|内|中旬|下旬|上旬|中|初)"),
            this_month,
            "月",
        ),
        (
            re.compile(r"(本|这个|这|下个|下)?(?:周|星期|礼拜)([一二三四五六日天1-7末])"),
            week,
            "周星礼",
        ),
        (re.compile(r"(本|这个|这|下个|下)(?:周|星期|礼拜)(?:内|之内)?()"), week, "周星礼"),
        (re.compile(r"(大后|今|当|明|次|后)[天日](?!期)"), named_day, "天日"),
        (re.compile(rf"(下个|下)月()(?!\s*(?:{_NUM}|份))"), this_month, "月"),
    ]


_DATE_RULES = [(p, h, frozenset(needs)) for p, h, needs in _rules()]


def dates(text: str, today: date) -> list[tuple[int, int, date]]:
    """(start, end, date) of every date phrase in normalized text, in order, not overlapping."""
    spans: list[tuple[int, int, date]] = []
    taken: list[tuple[int, int]] = []  # a phrase that is no date (2月30日) hides its parts too
    chars = set(text)
    for pattern, handler, needs in _DATE_RULES:
        if needs.isdisjoint(chars):
            continue  # cheaper than scanning for a phrase that cannot be there
        for m in pattern.finditer(text):
            if any(s < m.end() and m.start() < e for s, e in taken):
                continue
            taken.append((m.start(), m.end()))
            found = handler(m, today)
            if found is not None and date.min < found < date.max:
                spans.append((m.start(), m.end(), found))
    spans.sort()
    return spans


# --- refs -------------------------------------------------------------------------------------

_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212_~"


def normalize(text: str) -> str:
    """NFKC: full-width digits, letters and punctuation to half-width (。and 、 stay)."""
    return unicodedata.normalize("NFKC", text)


def ref_pattern(plan_codes: Iterable[str]) -> re.Pattern[str]:
    """A ref of a known plan in any case and width, with or without its dash; or anything
    written like a ref (two or three capitals, a dash, a number: XR-5), so that a mistyped ref
    is told apart from the text around it."""
    codes = sorted({normalize(c).strip() for c in plan_codes if c and c.strip()}, key=len)
    known = "|".join(re.escape(c) for c in reversed(codes)) or r"(?!x)x"
    dash = f"[{re.escape(_DASHES)}]"
    return re.compile(
        rf"(?<![A-Za-z0-9])(?:(?i:({known}))\s*{dash}?\s*|([A-Z]{{2,3}}){dash})"
        r"((?i:p)?\d+(?:\.\d+)*)(?![\d%])"
    )


PlanCodes = Collection[str] | re.Pattern[str]  # codes, or `ref_pattern(codes)` made once


def find_refs(text: str, plan_codes: PlanCodes) -> list[tuple[int, int, str]]:
    """(start, end, ref) of every ref in normalized text: `sr-3`, `ＳＲ－３`, `SR3`, `sr 3` all
    give `SR-3` (the form bot.services.lookup.task_by_ref finds); see `ref_pattern`."""
    pattern = plan_codes if isinstance(plan_codes, re.Pattern) else ref_pattern(plan_codes)
    return [
        (m.start(), m.end(), f"{(m.group(1) or m.group(2)).upper()}-{m.group(3).upper()}")
        for m in pattern.finditer(text)
    ]


def named_refs(text: str, plan_codes: PlanCodes) -> list[str]:
    """The refs `text` names, each once, in order."""
    out: list[str] = []
    for _, _, ref in find_refs(normalize(text), plan_codes):
        if ref not in out:
            out.append(ref)
    return out


# --- reading ----------------------------------------------------------------------------------


def _signals(part: str) -> set[str]:
    """The kinds of statement in one part of a reply, context applied clause by clause."""
    found: set[str] = set()
    keywords = _keywords(part)
    if not keywords:
        return found
    clauses = [(m.start(), m.end()) for m in _CLAUSE.finditer(part)]
    questions: dict[int, bool] = {}
    at = 0  # the clause of the current keyword (keywords come in order)
    for start, end, word in keywords:
        while at < len(clauses) and clauses[at][1] <= start:
            at += 1
        if at == len(clauses):
            break
        c_start, c_end = clauses[at]
        if at not in questions:
            clause = part[c_start:c_end]
            questions[at] = "?" in clause or bool(_QUESTION.search(clause.rstrip(",;。!\n ")))
        kind = _KIND_OF[word]
        before = part[max(c_start, start - 12) : start]
        if kind in (_PROGRESS_KEY, _NEUTRAL):
            continue
        if questions[at]:
            if kind in (_EXTEND, _EXTEND_SOFT) and not _NEGATED.search(before):
                found.add(_ASK_EXTEND)
            continue
        if _NEGATED.search(before):
            if kind in (_DONE, _MAYBE_DONE):
                found.add(_NEG_DONE)
            continue  # 不需要延期, 没有困难, 不在办…: says nothing
        if kind == _DONE:
            kind = _done_in_context(part, word, before[-8:], end, c_end)
        found.add(kind)
    return found


def _done_in_context(part: str, word: str, window: str, end: int, clause_end: int) -> str:
    """What a done word (ending at `end`) says, given the words before it and after it."""
    bare = "已" not in word and "了" not in word and "经" not in word
    if (
        bare
        and "已" not in window
        and (_PROMISE.search(window) or _DATE_JUST_BEFORE.search(window))
    ):
        return _FUT_DONE
    if _PARTLY.search(window):
        return _DOING  # 部分项目已完成, 大多已完成
    if _COUNT_AFTER.match(part, end, clause_end):
        return _PART_DONE
    if (
        "完" in word
        and _OBJECT_AFTER.match(part, end, clause_end)
        and not _WHOLE_AFTER.match(part, end, clause_end)
    ):
        return _STEP_DONE  # 已完成招标: the whole item, or one step of it?
    return _DONE


def _candidates(
    signals: set[str], percents: list[int], invalid: bool, when: date | None
) -> tuple[tuple[Candidate, ...], bool]:
    """The candidate readings of a part (most likely first) and whether they are ambiguous."""

    def c(status: Status, percent: int | None = None) -> Candidate:
        return Candidate(status, percent if status is Status.DOING else None, when)

    if _EXTEND in signals:
        return (c(Status.EXTEND),), False
    if _ASK_EXTEND in signals or _EXTEND_SOFT in signals:
        return (c(Status.EXTEND),), True
    blocked, done = _BLOCKED in signals, _DONE in signals
    doingish = signals & {_DOING, _NEG_DONE, _FUT_DONE, _PART_DONE, _MAYBE_DONE, _STEP_DONE}
    if len(percents) > 1:
        return tuple(c(Status.DONE) if p == 100 else c(Status.DOING, p) for p in percents), True
    if percents:
        pct = percents[0]
        base = c(Status.DONE) if pct == 100 else c(Status.DOING, pct)
        if blocked:
            return (c(Status.BLOCKED), base), True
        return (base,), invalid
    if blocked:
        if done:
            return (c(Status.BLOCKED), c(Status.DONE)), True
        return (c(Status.BLOCKED),), invalid
    if done:
        if doingish:
            return (c(Status.DOING), c(Status.DONE)), True
        return (c(Status.DONE),), False  # 超额完成120%: done, the number aside
    if _DOING in signals and signals & {_STEP_DONE, _PART_DONE, _MAYBE_DONE}:
        return (c(Status.DOING), c(Status.DONE)), True
    if _MAYBE_DONE in signals:
        return (c(Status.DONE), c(Status.DOING)), True
    if _PART_DONE in signals:
        return (c(Status.DOING), c(Status.DONE)), True
    if _STEP_DONE in signals:
        return (c(Status.DONE), c(Status.DOING)), True
    if _DOING in signals:
        return (c(Status.DOING),), invalid
    if _NEG_DONE in signals:
        return (c(Status.DOING), c(Status.BLOCKED)), True
    if _FUT_DONE in signals:
        if _ACK in signals:
            return (c(Status.ACK),), False
        return (c(Status.DOING), c(Status.ACK)), True
    if _ACK in signals:
        return (c(Status.ACK),), False
    if _CHECK in signals:
        return (c(Status.DONE), c(Status.ACK)), True
    return (), False  # "-5%" alone says nothing


def _read_part(part: str, today: date) -> tuple[tuple[Candidate, ...], bool]:
    signals = _signals(part)
    percents, invalid = percentages(part)
    if not signals and not percents:
        return (), False
    found = dates(part, today)
    when = found[0][2] if found else None
    if signals & {_EXTEND, _ASK_EXTEND, _EXTEND_SOFT}:
        # the date after the extension word is the new due date
        at = _keywords(part)
        start = next((s for s, _, w in at if _KIND_OF[w] in (_EXTEND, _EXTEND_SOFT)), 0)
        after = [d for s, _, d in found if s >= start]
        when = after[0] if after else when
    return _candidates(signals, percents, invalid, when)


_SEPARATORS = re.compile(r"^[\s、,;:/&和及与以及还有跟]*$")


def read_reply(text: str, *, today: date, plan_codes: PlanCodes = ()) -> list[Reading]:
    """The readings of a reply, in the order of the refs (one reading with ref None when the
    text names no ref). `plan_codes`: the codes of the plans, or `ref_pattern(codes)` made
    once when reading many replies. Never raises on any text."""
    norm = normalize(text)
    refs = find_refs(norm, plan_codes)
    if not refs:
        candidates, ambiguous = _read_part(norm, today)
        return [Reading(None, candidates, ambiguous)] if candidates else []
    # refs listed together ("SR-3、SR-5 均已完成") share the part that follows them
    groups: list[tuple[list[str], str]] = []
    pending: list[str] = []
    for i, (_, end, ref) in enumerate(refs):
        next_start = refs[i + 1][0] if i + 1 < len(refs) else len(norm)
        between = norm[end:next_start]
        pending.append(ref)
        if i + 1 < len(refs) and _SEPARATORS.match(between):
            continue
        groups.append((pending, between))
        pending = []
    prefix: tuple[tuple[Candidate, ...], bool] | None = None
    readings: list[Reading] = []
    seen: set[str] = set()
    for group_refs, part in groups:
        candidates, ambiguous = _read_part(part, today)
        if not candidates:
            if prefix is None:
                prefix = _read_part(norm[: refs[0][0]], today)
            candidates, ambiguous = prefix
        if not candidates:
            continue
        for ref in group_refs:
            if ref not in seen:
                seen.add(ref)
                readings.append(Reading(ref, candidates, ambiguous))
    return readings
