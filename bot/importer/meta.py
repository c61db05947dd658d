"""Plan facts from the document head: title, issuer, issue date, period, jurisdiction, code.

- title: the plan's own title line (ends in 规划/意见/计划/方案…), else the 《…》 of the notice
  title (关于印发《X》的通知), else the notice title itself, else the file name;
- issuer: "X关于印发…" of the notice title, else a signature line (…人民政府);
- issued: the first line that is only a full date (2023年5月8日, 2022年5月11日印发), or None;
- period: "2023-2025年" in the title → 2023-01-01..2025-12-31; 十四五 → 2021..2025; one year
  → that year; else the years the text names (with a warning);
- jurisdiction: the leading place of the issuer, else of the title (上饶市);
- code: given, else the directory's table (上饶市 → SR), else the file name's letters.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bot.core.units import UnitDirectory, jurisdiction_of
from bot.importer.lines import Line

_HEAD_LINES = 60
_TITLE_LINE = re.compile(
    r"(规划|意见|计划|方案|要点|办法|纲要|细则|清单|分解表|一览表|任务表|责任表|台账|任务分工"
    r"|责任分工|任务分解|责任分解|工作任务)"
    r"(（[^）]*）|\([^)]*\))*$"
)
_NOTICE = re.compile(
    r"^(?P<issuer>.{2,40}?)?关于(?:印发|征求|转发)?(?P<body>.+?)(?:的通知|意见建议的通知|的函)?$"
)
_BOOK = re.compile(r"《(.+)》")
_BOOK_ANY = re.compile(r"《([^《》]+)》")
_ISSUER = re.compile(
    r"^(.{2,30}?(?:人民政府办公室|人民政府办公厅|人民政府|办公室|办公厅|委员会|局|管委会|领导小组))$"
)
_FULL_DATE = re.compile(
    r"^(?P<y>(?:19|20)\d{2})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日\s*(印发|发布|印)?$"
    r"|^(?P<y2>(?:19|20)\d{2})[-./](?P<m2>\d{1,2})[-./](?P<d2>\d{1,2})$"
)
# publication metadata: 发文日期：2021-03-08, 成文日期 | 2021年3月8日 (also in an index table row)
_LABELLED_DATE = re.compile(
    r"(?:发文|成文|印发|发布)(?:日期|时间)[\s:：|\t]*(?P<y>(?:19|20)\d{2})\s*[-年./]\s*"
    r"(?P<m>\d{1,2})\s*[-月./]\s*(?P<d>\d{1,2})"
)
# 自2020年起3年内 / 从2023年开始，用三年时间: a period stated once, relative phrases follow it
_RELATIVE_PERIOD = re.compile(
    r"[自从](?P<y>(?:19|20)\d{2})年(?:起|开始)[，,]?(?:用|力争用|再用)?"
    r"(?P<n>[一二两三四五六七八九十\d])年(?:内|时间|左右)"
)
_CN_COUNT = {
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
_RANGE = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*(?:年)?\s*[-—–~～至到]\s*((?:19|20)\d{2})\s*年")
_FIVE_YEAR = {"十三五": (2016, 2020), "十四五": (2021, 2025), "十五五": (2026, 2030)}
_OUTLINE = re.compile(
    r"^(第[一二三四五六七八九十]+[章部]|[一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[）)])"
)
_CODE = re.compile(r"^[A-Z][A-Z0-9]{0,5}$")


@dataclass(frozen=True)
class PlanMeta:
    """The facts of the plan head; `notes` are warnings worth showing the coordinator."""

    title: str
    issuer: str
    issued: date | None
    start: date
    end: date
    jurisdiction: str
    notes: tuple[tuple[int | None, str], ...] = ()
    year: int | None = None  # the year relative dates are read in, when the coordinator gave it


def _head(lines: list[Line]) -> list[Line]:
    out = [ln for ln in lines if ln.text.strip() and "\t" not in ln.text]
    return out[:_HEAD_LINES]


def _notice_title(head: list[Line]) -> str:
    """The notice title, glued back when the document broke it over lines."""
    for k, line in enumerate(head[:8]):
        if "关于" in line.text:
            text = line.text.strip()
            j = k + 1
            while not re.search(r"(通知|函|意见|规划|方案)$", text) and j < min(len(head), k + 4):
                text += head[j].text.strip()
                j += 1
            return text
    return ""


def _whole_title(line: str, head: list[Line]) -> str:
    """A title broken over two lines ('…全面提升' / '三年行动计划(2023-2025年)'): the 《…》 of the
    head that ends with the title line, when there is one."""
    key = re.sub(r"[\s()（）]", "", line)
    for candidate in head:
        books: list[str] = _BOOK_ANY.findall(candidate.text)
        for book in books:
            squeezed = re.sub(r"[\s()（）]", "", book)
            if squeezed.endswith(key) and len(squeezed) > len(key) and len(book) <= 90:
                return book.strip()
    return line


def find_title(lines: list[Line], fallback: str) -> str:
    """The plan's title (see the module docstring)."""
    head = _head(lines)
    for line in head:
        text = line.text.strip()
        if _OUTLINE.match(text):
            break  # the title comes before the first heading of the body
        if (
            len(text) <= 90
            and "。" not in text
            and not text.endswith(("通知", "函"))
            and not re.match(r"^(附件|附表|专栏)", text)
            and "关于印发" not in text
            and _TITLE_LINE.search(text)
        ):
            return _whole_title(text, head)
    notice = _notice_title(head)
    if notice:
        book = _BOOK.search(notice)
        if book:
            return book.group(1)
        match = _NOTICE.match(notice)
        if match and match.group("body"):
            return re.sub(r"^(印发|征求|转发)", "", match.group("body")).strip()
        return notice
    return fallback


def find_issuer(lines: list[Line]) -> str:
    """The issuing office (上饶市人民政府), or ""."""
    head = _head(lines)
    notice = _notice_title(head)
    if notice:
        match = re.match(r"^(.{2,40}?)关于", notice)
        if match and _ISSUER.match(match.group(1)):
            return match.group(1)
    for line in head[:20]:
        text = line.text.strip()
        if len(text) <= 30 and _ISSUER.match(text) and not text.startswith(("各", "关于")):
            if not text.endswith("文件"):
                return text
    return ""


def _valid(y: str, m: str, d: str) -> date | None:
    try:
        return date(int(y), int(m), int(d))
    except ValueError:
        return None


def find_issued(lines: list[Line]) -> date | None:
    """The first line that is only a full date, else a labelled publication date
    (发文日期 / 成文日期 …), or None."""
    for line in lines:
        match = _FULL_DATE.match(line.text.strip())
        if match:
            found = (
                _valid(match.group("y"), match.group("m"), match.group("d"))
                if match.group("y")
                else _valid(match.group("y2"), match.group("m2"), match.group("d2"))
            )
            if found is not None:
                return found
    for line in lines:
        if "日期" in line.text or "时间" in line.text:
            match = _LABELLED_DATE.search(line.text)
            if match:
                found = _valid(match.group("y"), match.group("m"), match.group("d"))
                if found is not None:
                    return found
    return None


def is_date_line(text: str) -> bool:
    """A line that is only a full date (2022年4月12日, 2022-04-12): a signature or issue date."""
    return bool(_FULL_DATE.match(text.strip()))


_COLOPHON = re.compile(
    r"^(?:抄送|主送|报送|分送|发送)\s*[:：]"
    r"|^.{0,40}?(?:19|20)\d{2}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日\s*(?:印发|印|发布)$"
    r"|^[（(]此件[^）)]{0,20}[）)]$"
)


def is_colophon(text: str) -> bool:
    """A line of the document's closing block (版记): 抄送：…, "某办公室 2024年2月20日印发",
    （此件公开发布）. It ends the item before it and belongs to none."""
    text = text.strip()
    return len(text) <= 200 and bool(_COLOPHON.match(text))


def ends_item(text: str) -> bool:
    """A date line (a signature's date) or a colophon line: never part of an item."""
    return is_date_line(text) or is_colophon(text)


def is_signature(text: str) -> bool:
    """A short line naming an office (某镇人民政府), as signed above a date."""
    text = text.strip()
    return len(text) <= 30 and bool(_ISSUER.match(text))


def _relative_period(text: str) -> tuple[int, int] | None:
    """(first year, last year) of 自2020年起3年内, or None."""
    match = _RELATIVE_PERIOD.search(text)
    if not match:
        return None
    n = match.group("n")
    count = int(n) if n.isdigit() else _CN_COUNT.get(n, 0)
    if count <= 0:
        return None
    first = int(match.group("y"))
    return first, first + count - 1


def find_period(
    title: str, text: str, issued: date | None
) -> tuple[date, date, str | None] | None:
    """(start, end, note) of the plan, or None when nothing names a year."""
    squeezed = re.sub(r"[“”\"\s]", "", title)
    match = _RANGE.search(squeezed)
    if match:
        y1, y2 = int(match.group(1)), int(match.group(2))
        if 0 <= y2 - y1 <= 15:
            return date(y1, 1, 1), date(y2, 12, 31), None
    for words, (y1, y2) in _FIVE_YEAR.items():
        if words in squeezed:
            return date(y1, 1, 1), date(y2, 12, 31), None
    body = re.sub(r"[“”\"\s]", "", text[:4000])
    relative = _relative_period(body)
    single = re.search(r"(?<!\d)((?:19|20)\d{2})\s*年", squeezed)
    if single:
        year = int(single.group(1))
        if relative and relative[0] == year:
            return date(year, 1, 1), date(relative[1], 12, 31), None
        return date(year, 1, 1), date(year, 12, 31), None
    if relative:
        y1, y2 = relative
        return date(y1, 1, 1), date(y2, 12, 31), f"period {y1}-{y2} taken from the text"
    for words, (y1, y2) in _FIVE_YEAR.items():
        if words in body[:600]:
            return date(y1, 1, 1), date(y2, 12, 31), f"period taken from {words} in the text"
    years = sorted({int(y) for y in re.findall(r"(?<!\d)((?:19|20)\d{2})年", text)})
    if issued is not None:
        years = [y for y in years if y >= issued.year]
        if not years:
            year = issued.year
            return (
                date(year, 1, 1),
                date(year, 12, 31),
                f"year {year} taken from the document's date {issued.isoformat()}",
            )
    if years:
        y1, y2 = years[0], min(years[-1], years[0] + 10)
        return date(y1, 1, 1), date(y2, 12, 31), f"period {y1}-{y2} guessed from the years named"
    return None


def derive_code(
    code: str | None,
    jurisdiction: str,
    source: str,
    directory: UnitDirectory | None,
) -> tuple[str, str | None]:
    """(plan code, note) — the note says how a code was derived when none was given."""
    if code:
        return code.strip().upper(), None
    if directory is not None and jurisdiction:
        known = directory.code_for(jurisdiction)
        if known:
            return known, f"plan code {known} derived from {jurisdiction} (use --code to change)"
    letters = [w[0] for w in re.findall(r"[A-Za-z][A-Za-z0-9]*", Path(source).stem)]
    derived = "".join(letters)[:3].upper() or "PLAN"
    return derived, f"plan code {derived} derived from the file name (use --code to change)"


def valid_code(code: str) -> bool:
    """Codes are short upper-case ASCII: SR, LN, NC2."""
    return bool(_CODE.match(code))


def read_meta(
    lines: list[Line],
    source: str,
    *,
    year: int | None = None,
    today: date | None = None,
    needs_year: Callable[[str], bool] = lambda text: True,
    issued: date | None = None,
) -> PlanMeta | None:
    """The plan head facts. The period comes from the document; `year` (the coordinator's
    --year) overrides the year relative dates are read in, and becomes the period when the
    document's period does not contain it. With neither, `today`'s year is used, with a note
    when `needs_year(text)` says some date needs one. None when no year can be found at all
    (no `year`, no `today`). `issued` is the issue date found elsewhere (index metadata the
    lines no longer hold), used when the lines name none."""
    title = find_title(lines, Path(source).stem)
    issuer = find_issuer(lines)
    issued = find_issued(lines) or issued
    text = "\n".join(ln.text for ln in lines)
    period = find_period(title, text, issued)
    notes: list[tuple[int | None, str]] = []
    if year is not None:
        if period is None or not period[0].year <= year <= period[1].year:
            period = (date(year, 1, 1), date(year, 12, 31), None)
    elif period is None:
        if today is None:
            return None
        period = (date(today.year, 1, 1), date(today.year, 12, 31), None)
        if needs_year(text):
            notes.append(
                (
                    None,
                    f"no year in the title or text: dates without a year are read "
                    f"as {today.year}, this year on the bot's clock (use --year "
                    "to change)",
                )
            )
    start, end, note = period
    if note:
        notes.insert(0, (None, note))
    jurisdiction = jurisdiction_of(issuer) or jurisdiction_of(title)
    return PlanMeta(title, issuer, issued, start, end, jurisdiction, tuple(notes), year)
