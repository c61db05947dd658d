"""Date phrases of plan prose → milestones; recurring duties → recurrence.

`milestones(text, ctx)` reads every date phrase of `text` and gives one `Milestone` per due
date (same-day targets joined with "；"), sorted by date:
- X年底 / X年底前 / X年末 / 到X年 / X年 → X-12-31; X年初 → X-01-31;
- X年Y月(底/前) → last day of month Y (上旬 → 10th, 中旬 → 20th, Z日 → that day);
- Y月底前 / Y月前 / Y月建成… / Y月：… without a year → month Y of the year named before it
  in the sentence (2024年6月底、12月底), else of the plan's year;
- (X年)上半年 → 06-30, 下半年 → 12-31, (X年)第三季度 → 09-30;
- 年内 / 年底前 / 今年 without a year → the plan's year (`ctx.year`);
- 三年内 / 十四五期间 / 规划期内 → the plan's last day; N年内 → end of year start+N-1;
- "分别" phrases: 到2023年底、2024年底、2025年底…分别达到60%、80%、100% (or 2023-2025年分别
  完成40、40、30个) → one milestone per year with its own target; several 分别 lists in one
  sentence are joined per year.
A phrase's target is its clause: from the sentence start (first phrase of the sentence) or
the clause start, up to the next phrase or the sentence end. Years before the plan's first
year (baselines such as "2020年") and after `ctx.latest` are ignored.
"""

from __future__ import annotations

import bisect
import calendar
import re
from dataclasses import dataclass
from datetime import date

from bot.core.plan import Milestone

_CN_DIGIT = {
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
    "十": 10,
}
_YEAR = r"(?<![\d.])(?P<y>(?:19|20)\d{2})\s*年"
_DATE = re.compile(
    r"(?P<range>(?<![\d.])(?P<y1>(?:19|20)\d{2})\s*(?:年)?\s*[-—–~～至到]\s*(?P<y2>(?:19|20)\d{2})\s*年"
    r"(?:度)?)"
    rf"|(?P<ymd>{_YEAR.replace('<y>', '<ya>')}(?P<m>1[0-2]|0?[1-9])\s*月(?:份)?"
    r"(?:(?P<d>[12]\d|3[01]|0?[1-9])\s*[日号])?(?P<part>上旬|中旬|下旬|底前|底|末|前|中)?)"
    rf"|(?P<yhalf>{_YEAR}(?P<half>上半年|下半年|年中|年底前|年底|年末|底前|底|末|初|内|前)?)"
    r"(?P<yq>(?:第)?(?P<q>[一二三四1-4])季度(?:末|底)?)?"
    r"|(?P<bare>(?:今年底|今年内|本年度|(?<![\u4e00-\u9fff])年内|年底前|(?<![\u4e00-\u9fff])年底"
    r"|上半年|下半年)"
    r"|(?:(?:第)?[一二三四1-4]季度(?:末|底)?))"
    r"|(?P<bm>(?<![\d年.\-~～—至到])(?P<m2>1[0-2]|[1-9])\s*月(?:份)?"
    r"(?:(?P<d2>[12]\d|3[01]|0?[1-9])\s*[日号](?=前|之前|底前|[，,。；;完建开启投实全]|$))?"
    r"(?(d2)|(?P<bpart>上旬|中旬|下旬|底前|底|末|前|(?=\s*[：:]|[建完开启投实全基动出举召组制形交验])))"
    r"(?!\d))"
    r"|(?P<end>(?:“|\")?十[四五六]五(?:”|\")?(?:期间|时期|末|期末)|规划期(?:内|末|间)|计划期(?:内|末)"
    r"|(?P<n>[一二两三四五六七八九十\d])年(?:内|时间|之内))"
    r"|(?P<num>(?<![\d.])(?P<yn>(?:19|20)\d{2})(?P<sep>[./-])(?P<mn>1[0-2]|0?[1-9])(?P=sep)"
    r"(?P<dn>3[01]|[12]\d|0?[1-9])(?![\d.]))"
)
_RECUR = re.compile(
    r"每(?:一)?(?:个)?(?:学期|季度|半年|年度|年|月|周|(?:[两二三四五2-5])年)|定期|常态化开展"
)
_SENTENCE = re.compile(r"[^。；;！？!?\n]+[。；;！？!?]?")
_CLAUSE_BREAK = re.compile(r"[，,：:]")
_VALUE = re.compile(
    r"[≥≤<>＞＜]?\d+(?:\.\d+)?(?:\s*[-~～—]\s*\d+(?:\.\d+)?)?\s*"
    r"(?:%|‰|个百分点|万人|亿元|万元|元|个|家|名|人|张|所|项|级|辆|倍|天|分钟|次|处|座|条|支|台|套|户"
    r"|间|床|平方米|亩|万亩)?(?:以上|以下|左右|及以上|及以下)?"
)
_TARGET_WINDOW = 1000  # per-year targets follow their date list closely; bounds the work
_LIST_GLUE = re.compile(r"^[、，,和及与至到\s]*(?:到|至)?$")


@dataclass(frozen=True)
class DateContext:
    """What relative phrases need: the plan's first/last day, its "current" year, and the
    latest due date accepted (later years are ignored as out of scope)."""

    start: date
    end: date
    year: int
    latest: date

    @classmethod
    def for_period(
        cls, start: date, end: date, issued: date | None = None, year: int | None = None
    ) -> DateContext:
        """`year` (given by the coordinator) wins; else the issue year inside the period,
        else the period's first year."""
        if year is None:
            year = issued.year if issued and start.year <= issued.year <= end.year else start.year
        latest = date(min(end.year + 10, 9999), 12, 31)
        return cls(start=start, end=end, year=year, latest=latest)


@dataclass(frozen=True)
class Phrase:
    """One date phrase found in a text: its span, due date(s) and wording."""

    start: int
    end: int
    dues: tuple[date, ...]
    words: tuple[str, ...]


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _day(year: int, month: int, day: str | None) -> int | None:
    """The day of '6月15日' when it exists in that month (6月31日 → None: month end)."""
    if not day:
        return None
    return int(day) if int(day) <= calendar.monthrange(year, month)[1] else None


def _quarter(q: str) -> int:
    return _CN_DIGIT.get(q) or int(q)


# after a year range, the words that make it one deadline per year
_EACH_YEAR = re.compile(r"[，,、\s]{0,2}(?:期间)?[，,\s]{0,2}(?:每年|逐年|分别|各年|年度|每一年)")


_CLAUSE_AFTER = re.compile(r"[^。；;\n]{0,80}")
# 2023-2025年…占比为75%、90%、100%: a value per year
_VALUE_LIST = re.compile(r"\d+(?:\.\d+)?\s*[%‰]?[^\d、，,。]{0,3}、\s*\d")


def _due_of(
    match: re.Match[str], ctx: DateContext, year_before: int | None = None
) -> tuple[tuple[date, ...], tuple[str, ...]]:
    """The due date(s) one regex match stands for (several for a year range). A month without
    a year is in `year_before` (named earlier: 2024年6月底、12月底), else the plan's."""
    text = match.group(0)
    if match.group("range"):
        y1, y2 = int(match.group("y1")), int(match.group("y2"))
        if not 0 < y2 - y1 <= 10:
            return (), ()
        clause = _CLAUSE_AFTER.match(match.string, match.end())
        if not _EACH_YEAR.match(match.string, match.end()) and not (
            clause and _VALUE_LIST.search(clause.group(0))
        ):
            return (date(y2, 12, 31),), (text,)  # 2023—2025年完成30所: by the range's end
        years = range(y1, y2 + 1)  # 2023—2025年每年 / 分别: one due date per year
        return tuple(date(y, 12, 31) for y in years), tuple(f"{y}年" for y in years)
    if match.group("num"):  # 2024.10.31 / 2024-10-31 / 2024/10/31 (tables, Excel)
        year, month = int(match.group("yn")), int(match.group("mn"))
        day = _day(year, month, match.group("dn"))
        return ((date(year, month, day),), (text,)) if day else ((), ())
    if match.group("ymd"):
        year, month = int(match.group("ya")), int(match.group("m"))
        part = match.group("part") or ""
        day = _day(year, month, match.group("d")) or {"上旬": 10, "中旬": 20, "中": 15}.get(part)
        due = date(year, month, day) if day else _month_end(year, month)
        return (due,), (text,)
    if match.group("yhalf") is not None and match.group("y"):
        year = int(match.group("y"))
        half = match.group("half") or ""
        if match.group("yq"):
            q = _quarter(match.group("q"))
            return (_month_end(year, q * 3),), (text,)
        if half in ("上半年", "年中"):
            return (date(year, 6, 30),), (text,)
        if half == "初":
            return (date(year, 1, 31),), (text,)
        return (date(year, 12, 31),), (text,)
    if match.group("bare"):
        year = ctx.year
        if "季度" in text:
            digit = re.search(r"[一二三四1-4]", text)
            assert digit is not None  # the bare pattern puts the number before 季度
            q = _quarter(digit.group(0))
            return (_month_end(year, q * 3),), (text,)
        if text in ("上半年", "年中"):
            return (date(year, 6, 30),), (text,)
        return (date(year, 12, 31),), (text,)
    if match.group("bm"):
        year, month = year_before or ctx.year, int(match.group("m2"))
        day = _day(year, month, match.group("d2")) or {"上旬": 10, "中旬": 20}.get(
            match.group("bpart") or ""
        )
        return (date(year, month, day) if day else _month_end(year, month),), (text,)
    if match.group("end"):
        n = match.group("n")
        if n:
            count = int(n) if n.isdigit() else _CN_DIGIT.get(n, 0)
            if count <= 0:
                return (), ()
            due = date(min(ctx.start.year + count - 1, ctx.end.year), 12, 31)
            return (min(due, ctx.end) if count >= 1 else ctx.end,), (text,)
        return (ctx.end,), (text,)
    return (), ()


def find_phrases(text: str, ctx: DateContext) -> list[Phrase]:
    """Every date phrase of `text` with its due date(s), in order; out-of-range ones dropped."""
    out: list[Phrase] = []
    year_before: int | None = None
    for match in _DATE.finditer(text):
        if match.group("yhalf") and match.group("y"):
            tail = text[match.end() : match.end() + 3]
            head = text[max(0, match.start() - 1) : match.start()]
            if not match.group("half") and not match.group("yq"):
                if tail.startswith(("以来", "起", "开始", "度", "版", "版", "的基础")):
                    continue
                if head in ("比", "较", "自", "从", "于") and not tail.startswith("底"):
                    continue
        dues, words = _due_of(match, ctx, year_before)
        named = match.group("ya") or match.group("y")
        if named:
            year_before = int(named)
        keep = [(d, w) for d, w in zip(dues, words, strict=True) if ctx.start <= d <= ctx.latest]
        if not keep and dues and match.group("end"):
            keep = [(ctx.end, words[0])]
        if not keep:
            continue
        out.append(
            Phrase(
                match.start(), match.end(), tuple(d for d, _ in keep), tuple(w for _, w in keep)
            )
        )
    return out


# standing duties (长期坚持, 持续推进, 常态化) report on this rung of the policy's periodic ladder
STANDING_REPORTS = "每季度"
_STANDING = re.compile(r"长期|持续|常态化|经常性|久久为功|不间断")


def standing_duty(text: str) -> str | None:
    """The periodic report word (a key of the policy's recurrences) of a deadline text that
    names no date: 每月 / 每季度 / 每年 … as written, 长期坚持 / 持续推进 / 常态化 → 每季度."""
    for word in recurrence(text):
        if word.startswith("每"):
            return word
    return STANDING_REPORTS if _STANDING.search(text) else None


def needs_year(text: str) -> bool:
    """Does `text` hold a date phrase that names no year (11月底前, 上半年, 第三季度, 年内,
    三年内 …)? Such phrases are read in the plan's year."""
    return any(
        match.group("bare") or match.group("bm") or match.group("end")
        for match in _DATE.finditer(text)
    )


def recurrence(text: str) -> list[str]:
    """Recurring duties named in `text` (每年, 每学期, 每两年, 每季度, 定期 …), in order."""
    seen: dict[str, None] = {}
    for match in _RECUR.finditer(text):
        word = match.group(0)
        if word == "每年度":
            word = "每年"
        seen.setdefault(word, None)
    return list(seen)


def _strip_clause(text: str) -> str:
    return text.strip().strip("，,、；;：:。 ").strip()


def _split_values(region: str) -> list[str]:
    """'达到60%、80%和100%以上' → ['达到60%', '80%', '100%以上'] (top-level 、/和 only)."""
    parts: list[str] = []
    depth = 0
    current = ""
    for i, ch in enumerate(region):
        if ch in "（(〔【[":
            depth += 1
        elif ch in "）)〕】]" and depth:
            depth -= 1
        is_and = (
            ch == "和"
            and i + 1 < len(region)
            and (region[i + 1].isdigit() or region[i + 1] in "≥≤<>")
        )
        if depth == 0 and (ch == "、" or is_and):
            parts.append(current)
            current = ""
            continue
        current += ch
    parts.append(current)
    return [p.strip() for p in parts]


def _respectively(values: list[str], count: int) -> list[str] | None:
    """Per-year targets of one '…分别<prefix>v1、v2、v3<suffix>' list, or None if it does
    not split into `count` values."""
    if len(values) != count or count < 2:
        return None
    # the last number of the first item is its value: the prefix ("达到总任务量的") precedes it
    matches = [m for m in _VALUE.finditer(values[0]) if re.match(r"[≥≤<>＞＜\d]", m.group(0))]
    if not matches:
        return None
    head = matches[-1]
    prefix = values[0][: head.start()]
    vals = [head.group(0).strip()]
    for middle in values[1:-1]:
        m = _VALUE.match(middle)
        if not m or not m.group(0).strip():
            return None
        vals.append(middle.strip())
    last = _VALUE.match(values[-1])
    if not last or not last.group(0).strip():
        return None
    vals.append(last.group(0).strip())
    suffix = values[-1][last.end() :]
    unit = re.search(r"[^\d.\s≥≤<>＞＜-].*$", vals[-1])
    if unit:  # "40、40、30个" → the unit of the last value belongs to all
        vals = [v if re.search(r"[^\d.\s≥≤<>＞＜-]", v) else v + unit.group(0) for v in vals]
    return [f"{prefix}{v}{suffix}".strip() for v in vals]


def _date_groups(phrases: list[Phrase], sentence: str) -> list[list[Phrase]]:
    """Consecutive phrases joined only by 、/和/， form one list ("2023年底、2024年底")."""
    groups: list[list[Phrase]] = []
    for phrase in phrases:
        if groups:
            gap = sentence[groups[-1][-1].end : phrase.start]
            if _LIST_GLUE.match(gap) and len(gap) <= 3:
                groups[-1].append(phrase)
                continue
        groups.append([phrase])
    return groups


def _respectively_targets(sentence: str, group_end: int, count: int) -> list[str] | None:
    """Targets per year for the 分别 lists (or a bare value list) after a date list."""
    rest = sentence[group_end : group_end + _TARGET_WINDOW]
    clauses: list[list[str]] = []
    cursor = 0
    for match in re.finditer("分别", rest):
        subject = _strip_clause(rest[cursor : match.start()])
        subject = re.sub(r"^(?:.*[，,；;])", "", subject) if len(subject) > 40 else subject
        tail = rest[match.end() :]
        stop = re.search(r"[，,；;。]", tail)
        region = tail[: stop.start()] if stop else tail
        per_year = _respectively(_split_values(region), count)
        if per_year is None:
            return None
        clauses.append([f"{subject}{t}" for t in per_year])
        cursor = match.end() + len(region)
    if not clauses:  # "2023-2025年完成…占比为75%、90%、100%": a value list without 分别
        body = rest
        values = re.search(
            r"((?:[≥≤<>]?\d+(?:\.\d+)?[^、，,；;。\d]{0,6}、){"
            + str(count - 1)
            + r"}[≥≤<>]?\d+(?:\.\d+)?\S*?)(?=$|[，,；;。])",
            body,
        )
        if not values:
            return None
        subject = _strip_clause(body[: values.start()])
        per_year = _respectively(_split_values(values.group(1)), count)
        if per_year is None:
            return None
        clauses.append([f"{subject}{t}" for t in per_year])
    return ["，".join(c[k] for c in clauses) for k in range(count)]


def milestones(text: str, ctx: DateContext) -> list[Milestone]:
    """The dated milestones of one item's text (see the module docstring); [] if none."""
    found: list[tuple[date, str, str]] = []
    for sentence_match in _SENTENCE.finditer(text):
        sentence = sentence_match.group(0)
        phrases = find_phrases(sentence, ctx)
        if not phrases:
            continue
        groups = _date_groups(phrases, sentence)
        # clause breaks once per sentence; bisect finds the ones around each group (linear)
        breaks = [m.end() for m in _CLAUSE_BREAK.finditer(sentence)]
        for index, group in enumerate(groups):
            dues = [d for p in group for d in p.dues]
            words = [w for p in group for w in p.words]
            if index == 0:
                start = 0
            else:
                before = bisect.bisect_right(breaks, group[0].start)
                start = max(groups[index - 1][-1].end, breaks[before - 1] if before else 0)
            nxt = groups[index + 1][0].start if index + 1 < len(groups) else len(sentence)
            if index + 1 < len(groups):
                last = bisect.bisect_right(breaks, nxt) - 1
                if last >= 0 and breaks[last] > group[-1].end:
                    nxt = breaks[last]
            clause = _strip_clause(sentence[start:nxt])
            if len(dues) > 1:
                per_year = _respectively_targets(sentence, group[-1].end, len(dues))
                if per_year is not None:
                    found += list(zip(dues, words, per_year, strict=True))
                    continue
            found += [(d, w, clause) for d, w in zip(dues, words, strict=True)]
    return merge(found)


def merge(found: list[tuple[date, str, str]]) -> list[Milestone]:
    """One milestone per due date: first phrase, distinct targets joined with "；"."""
    by_due: dict[date, tuple[str, list[str]]] = {}
    for due, phrase, target in found:
        slot = by_due.setdefault(due, (phrase, []))
        if target and target not in slot[1]:
            slot[1].append(target)
    return [
        Milestone(due=due, phrase=phrase, target="；".join(targets))
        for due, (phrase, targets) in sorted(by_due.items())
    ]
