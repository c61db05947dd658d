"""Parsing of command arguments (pure): what a user typed → what they mean, or a ServiceError
with a code that the handler turns into one line. No aiogram here."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from bot.core.status import Action
from bot.services.errors import ServiceError

STATUS_WORDS: dict[str, Action] = {
    # 进行中
    "进行中": Action.PROGRESS,
    "推进中": Action.PROGRESS,
    "在办": Action.PROGRESS,
    "doing": Action.PROGRESS,
    "progress": Action.PROGRESS,
    "in-progress": Action.PROGRESS,
    "inprogress": Action.PROGRESS,
    # 已完成
    "已完成": Action.DONE,
    "完成": Action.DONE,
    "done": Action.DONE,
    "finished": Action.DONE,
    "complete": Action.DONE,
    "completed": Action.DONE,
    # 有困难
    "有困难": Action.BLOCKED,
    "困难": Action.BLOCKED,
    "blocked": Action.BLOCKED,
    "stuck": Action.BLOCKED,
    # 申请延期
    "申请延期": Action.EXTEND,
    "延期": Action.EXTEND,
    "extend": Action.EXTEND,
    "extension": Action.EXTEND,
    # 签收 and notes
    "签收": Action.ACK,
    "ack": Action.ACK,
    "acknowledge": Action.ACK,
    "备注": Action.NOTE,
    "note": Action.NOTE,
}

_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def normalize(text: str) -> str:
    """NFKC (full-width digits, ％, －) and trimmed."""
    return unicodedata.normalize("NFKC", text).strip()


def parse_date(text: str) -> date:
    """`2026-03-31`, `2026/3/31`, `2026.3.31`, `2026年3月31日`, `20260331`. Code: bad_date."""
    raw = normalize(text)
    for pattern in _DATE_PATTERNS:
        match = pattern.match(raw)
        if match:
            try:
                return date(*(int(g) for g in match.groups()))
            except ValueError:
                break
    raise ServiceError("bad_date", text=text.strip())


# A percentage at the start of a text, in any width, signed or not, glued to what follows
# ("50%今天开会") or not: the sign and fraction are read so that they can be refused, never
# mistaken for the start of a note.
_LEADING_PERCENT = re.compile(
    r"([+\-−－﹣＋]?)([0-9０-９]+(?:[.．][0-9０-９]+)?)\s*(?:%|％|percent\b)", re.IGNORECASE
)
# The status words, longest first (已完成 before 完成, 申请延期 before 延期), each ending the
# word: followed by a space, the end, a number or punctuation ("进行中50%", "已完成，"), so
# that 完成率 is no status.
_LEADING_STATUS = re.compile(
    "(?:"
    + "|".join(re.escape(w) for w in sorted(STATUS_WORDS, key=len, reverse=True))
    + r")(?=$|\s|[0-9０-９+\-−－﹣＋,，:：;；.。、!！])",
    re.IGNORECASE,
)


def _leading_percent(text: str) -> tuple[int | None, str]:
    """(percentage, the rest) when `text` starts with one, else (None, text). A negative, a
    fraction or more than 100 is refused (code progress_range), not taken as a note."""
    match = _LEADING_PERCENT.match(text)
    if match is None:
        return None, text
    sign, digits = match.group(1), normalize(match.group(2))
    shown = normalize(match.group(0)).replace(" ", "")
    if sign in ("-", "−", "－", "﹣") or "." in digits:
        raise ServiceError("progress_range", progress=shown)
    value = int(digits)
    if value > 100:
        raise ServiceError("progress_range", progress=shown)
    return value, _after(text[match.end() :])


def _after(text: str) -> str:
    """What follows a status or a percentage, without the separator typed before it."""
    return text.strip().lstrip(",，:：;；、").strip()


@dataclass(frozen=True)
class ReportArgs:
    ref: str
    action: Action
    progress: int | None = None
    new_due: date | None = None
    note: str = ""


def parse_report(args: str | None) -> ReportArgs:
    """`/report REF STATUS [60%] [note]`; `申请延期` takes a date next. `/report REF 60%` means
    进行中 60%. The percentage may be glued to the status or to the note ("进行中50%今天开会");
    the note is kept as typed. Codes: report_usage, unknown_status, bad_date, progress_range,
    extension_date_required, empty_note."""
    head = (args or "").strip().split(maxsplit=1)
    if len(head) < 2:
        raise ServiceError("report_usage")
    ref, text = head[0], head[1]
    progress, rest = _leading_percent(text)
    if progress is not None:
        action = Action.PROGRESS
    else:
        found = _LEADING_STATUS.match(text)
        if found is None:
            raise ServiceError("unknown_status", word=text.split()[0])
        action = STATUS_WORDS[found.group(0).lower()]
        rest = _after(text[found.end() :])
    new_due = None
    if action is Action.EXTEND:
        if not rest:
            raise ServiceError("extension_date_required")
        first, *after = rest.split(maxsplit=1)
        new_due = parse_date(first)
        rest = after[0].strip() if after else ""
    if progress is None and action in (Action.PROGRESS, Action.BLOCKED):
        progress, rest = _leading_percent(rest)
    if action is Action.NOTE and not rest:
        raise ServiceError("empty_note")
    return ReportArgs(ref=ref, action=action, progress=progress, new_due=new_due, note=rest)


def parse_lang(args: str | None) -> str:
    """`zh` / `中文` / `zh_CN` → zh_CN, `en` / `English` → en. Code: lang_usage."""
    word = normalize(args or "").lower().replace("-", "_")
    if word in ("zh", "zh_cn", "cn", "中文", "汉语", "chinese"):
        return "zh_CN"
    if word in ("en", "english", "英文", "英语"):
        return "en"
    raise ServiceError("lang_usage")


@dataclass(frozen=True)
class InviteArgs:
    role: str  # liaison | leader | coordinator
    target: str = ""  # unit (liaison), unit or plan (leader), plan or "" (coordinator)
    name: str = ""


def parse_invite(args: str | None) -> InviteArgs:
    """`/invite UNIT [NAME]`, `/invite leader UNIT|PLAN [NAME]`, `/invite coordinator [PLAN]
    [NAME]` (the handler decides whether a coordinator's first word is a plan). Code:
    invite_usage."""
    tokens = normalize(args or "").split()
    if not tokens:
        raise ServiceError("invite_usage")
    head = tokens[0].lower()
    if head in ("leader", "领导"):
        if len(tokens) < 2:
            raise ServiceError("invite_usage")
        return InviteArgs("leader", tokens[1], " ".join(tokens[2:]))
    if head in ("coordinator", "督办员"):
        return InviteArgs(
            "coordinator", tokens[1] if len(tokens) > 1 else "", " ".join(tokens[2:])
        )
    if head in ("liaison", "联络员"):
        if len(tokens) < 2:
            raise ServiceError("invite_usage")
        tokens = tokens[1:]
    return InviteArgs("liaison", tokens[0], " ".join(tokens[1:]))


def parse_single(args: str | None, usage: str) -> str:
    """Exactly one argument (a ref, a token). Code: `usage`."""
    tokens = (args or "").split()
    if len(tokens) != 1:
        raise ServiceError(usage)
    return tokens[0]
