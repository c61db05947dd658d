"""The chat review of a plan upload (/import): a state machine over `PendingImport` rows.

    /import [CODE] ──► waiting for the file ──(document)──► under review ──► confirm | cancel
                                                              │   ▲
                              Year / Unit / Code button ──►  asking ─(plain text)─┘
                              Replace / Keep new ─────────────────────────────────┘

Each row holds the uploaded bytes, the options the coordinator chose (bot.services.plan_upload
.ImportOptions) and the last parse, so a restart or another instance continues the review.
Every change of the options parses the file again (out of process, through the injected
parser) and bumps `version`; buttons carry the version, so pressing one of an older summary is
refused instead of acting on a plan the coordinator has not seen. Rows expire after `TTL`; a
coordinator keeps at most `PER_OWNER` uploads at once.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import delete
from sqlalchemy.orm import defer
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.plan import Plan, plan_from_dict, plan_to_dict
from bot.services import plan_upload as up
from bot.services.errors import ServiceError
from bot.services.plan_loading import child_url
from bot.storage.loader import PlanLoadResult
from bot.storage.models import PendingImport

TTL = timedelta(hours=24)
PER_OWNER = 3
FIELDS = ("year", "unit", "code")
AWAITING_FILE = "file"
MAX_UNIT = 60
YEARS = range(1990, 2101)
CLEAR = {"-", "—", "无", "none", "auto", "自动"}

# `await parse(data, file_name, options, taken)` → ParsedUpload; raises ServiceError (codes of
# plan_upload.parse_upload) or the parse runner's ParseTimeout / ParseFailed.
ParseFn = Callable[[bytes, str, up.ImportOptions, frozenset[str]], Awaitable[up.ParsedUpload]]

_KEYWORDS = {
    "year": r"year|年份|年度|年",
    "unit": r"unit|default unit|默认单位|责任单位|单位",
    "code": r"code|plan code|代码|编号|计划代码",
}
_KEYED = re.compile(
    r"^\s*(?:(?P<year>"
    + _KEYWORDS["year"]
    + r")|(?P<unit>"
    + _KEYWORDS["unit"]
    + r")|(?P<code>"
    + _KEYWORDS["code"]
    + r"))"
    r"(?:\s*[:：=]\s*|\s+|(?=[0-9A-Za-z]))(?P<value>.+?)\s*$",
    re.IGNORECASE | re.DOTALL,
)
_YEAR = re.compile(r"^((?:19|20)\d{2})\s*年?$")


def parse_fix(text: str, awaiting: str) -> tuple[str, str | None]:
    """(field, value) of a coordinator's answer: `年份 2024`, `code JJ`, `unit 市卫健委`, a bare
    year, or any text when the bot asked for `awaiting`. Value None: back to what the text
    says (`-`). Codes: import_fix_unknown, import_bad_year, import_bad_code, import_bad_unit."""
    text = (text or "").strip()
    match = _KEYED.match(text)
    if match and not (awaiting in FIELDS and not _keyed_value_ok(match)):
        field = next(f for f in FIELDS if match.group(f))
        raw = match.group("value")
    elif awaiting in FIELDS:
        field, raw = awaiting, text
    elif _YEAR.match(text):
        field, raw = "year", text
    else:
        raise ServiceError("import_fix_unknown")
    if raw.strip().lower() in CLEAR:
        return field, None
    return field, _valid(field, raw.strip())


def _keyed_value_ok(match: re.Match[str]) -> bool:
    """A keyword answer to a question is taken as keyed only when its value is sensible
    (`单位 市卫健委` asked for a unit is "市卫健委"; `年底` is not the keyword 年)."""
    field = next(f for f in FIELDS if match.group(f))
    try:
        _valid(field, match.group("value").strip())
    except ServiceError:
        return False
    return True


def _valid(field: str, raw: str) -> str:
    if field == "year":
        found = _YEAR.match(raw)
        if not found or int(found.group(1)) not in YEARS:
            raise ServiceError("import_bad_year", value=raw[:20])
        return found.group(1)
    if field == "code":
        code = raw.upper()
        from bot.importer.meta import valid_code  # the importer loads when a plan is uploaded

        if not code.isascii() or not valid_code(code):
            raise ServiceError("import_bad_code", value=raw[:20])
        return code
    if "\n" in raw or len(raw) > MAX_UNIT or raw.startswith("/"):
        raise ServiceError("import_bad_unit", max=MAX_UNIT)
    return raw


def with_fix(options: up.ImportOptions, field: str, value: str | None) -> up.ImportOptions:
    """The options after one answer; a new code is a new plan (no replacing)."""
    if field == "year":
        return replace(options, year=int(value) if value else None)
    if field == "unit":
        return replace(options, default_unit=value)
    return replace(options, code=value, replace=False)


@dataclass(frozen=True)
class Review:
    """One state of a review, for rendering: the summary and what confirm would do."""

    token: str
    version: int
    file_name: str
    options: up.ImportOptions
    summary: up.PlanSummary
    taken: up.ExistingPlan | None  # the plan whose code the text led to (a free one is used)
    replacing: up.ExistingPlan | None  # the plan confirm replaces (options.replace)


@dataclass(frozen=True)
class Loaded:
    result: PlanLoadResult
    replaced: up.ExistingPlan | None


class ImportReviews:
    """The review service for one update: its session, the parser and the instant."""

    def __init__(
        self,
        session: AsyncSession,
        *,
        parse: ParseFn,
        tasks_data: Path,
        now: datetime,
        ttl: timedelta = TTL,
        loader: Any = None,
    ) -> None:
        """`loader` (bot.services.plan_loading.load_runner): confirm writes and loads the plan
        off the event loop, in a worker thread with its own engine; None: on this loop."""
        self.loader = loader
        self.session = session
        self.parse = parse
        self.tasks_data = Path(tasks_data)
        self.now = now
        self.ttl = ttl

    # --- rows ----------------------------------------------------------------------------

    async def _expire(self, owner: int | None = None) -> None:
        await self.session.exec(
            delete(PendingImport).where(col(PendingImport.updated_at) < self.now - self.ttl)
        )
        if owner is None:
            return
        rows = (
            await self.session.exec(
                select(PendingImport.id)
                .where(PendingImport.owner == owner)
                .order_by(col(PendingImport.updated_at).desc(), col(PendingImport.id).desc())
            )
        ).all()
        if len(rows) >= PER_OWNER:
            await self.session.exec(
                delete(PendingImport).where(col(PendingImport.id).in_(rows[PER_OWNER - 1 :]))
            )

    async def _row(
        self, token: str, owner: int, version: int | None = None, *, light: bool = False
    ) -> PendingImport:
        """The owner's live row of `token` (`light`: without the file and the plan, whose
        decoding alone takes 0.15 s at 10,000 items). Codes: upload_expired, import_outdated."""
        query = select(PendingImport).where(PendingImport.token == token)
        if light:
            data, plan = cast(Any, PendingImport.data), cast(Any, PendingImport.plan)
            query = query.options(defer(data), defer(plan))  # the mapped attributes
        row = (await self.session.exec(query)).first()
        if row is None or row.owner != owner or row.updated_at < self.now - self.ttl:
            raise ServiceError("upload_expired")
        if version is not None and row.version != version:
            raise ServiceError("import_outdated")
        return row

    async def _commit(self) -> None:
        """End the transaction before a long parse (a reader must not hold SQLite's WAL)."""
        await self.session.commit()

    # --- waiting for the file ---------------------------------------------------------------

    async def open(self, *, owner: int, chat_id: int, code: str | None) -> None:
        """`/import [CODE]` without a file: the owner's next document is the plan."""
        await self._expire(owner)
        await self.session.exec(
            delete(PendingImport).where(
                col(PendingImport.owner) == owner, col(PendingImport.awaiting) == AWAITING_FILE
            )
        )
        self.session.add(
            PendingImport(
                token=secrets.token_urlsafe(6),
                owner=owner,
                chat_id=chat_id,
                options=up.ImportOptions(code=code).to_dict(),
                awaiting=AWAITING_FILE,
                created_at=self.now,
                updated_at=self.now,
            )
        )
        await self._commit()

    async def waiting_for_file(self, owner: int) -> PendingImport | None:
        return (
            await self.session.exec(
                select(PendingImport).where(
                    PendingImport.owner == owner,
                    PendingImport.awaiting == AWAITING_FILE,
                    col(PendingImport.updated_at) >= self.now - self.ttl,
                )
            )
        ).first()

    async def receive(
        self,
        *,
        owner: int,
        chat_id: int,
        file_name: str,
        data: bytes,
        code: str | None = None,
        waiting: PendingImport | None = None,
    ) -> Review:
        """Parse an uploaded plan and keep it for review. `code` (a caption's) wins over the
        code given to `/import` (`waiting`). Codes: see parse_upload."""
        options = up.ImportOptions.from_dict(waiting.options if waiting else None)
        if code:
            options = replace(options, code=code)
        if waiting is not None:
            await self.session.delete(waiting)
        await self._expire(owner)
        taken = await up.taken_codes(self.session, self.tasks_data)
        await self._commit()
        parsed = await self.parse(data, file_name, options, taken)
        row = PendingImport(
            token=secrets.token_urlsafe(6),
            owner=owner,
            chat_id=chat_id,
            file_name=file_name,
            data=data,
            options=options.to_dict(),
            created_at=self.now,
            updated_at=self.now,
        )
        self._store(row, parsed)
        self.session.add(row)
        await self._commit()
        return await self._view(row)

    def _store(self, row: PendingImport, parsed: up.ParsedUpload) -> None:
        row.plan = {"taken_code": parsed.taken_code, "plan": plan_to_dict(parsed.plan)}
        row.version += 1
        row.awaiting = ""
        row.updated_at = self.now

    @staticmethod
    def plan_of(row: PendingImport) -> Plan:
        assert row.plan is not None
        return plan_from_dict(row.plan["plan"])

    async def _view(self, row: PendingImport) -> Review:
        plan = self.plan_of(row)
        options = up.ImportOptions.from_dict(row.options)
        taken_code = (row.plan or {}).get("taken_code")
        taken = replacing = None
        if taken_code:
            taken = await up.existing_plan(self.session, taken_code) or up.ExistingPlan(
                taken_code, "", 0
            )
        if options.replace:
            replacing = await up.existing_plan(self.session, plan.info.code)
        return Review(
            token=row.token,
            version=row.version,
            file_name=row.file_name,
            options=options,
            summary=up.summarize(plan),
            taken=taken,
            replacing=replacing,
        )

    # --- fixes ------------------------------------------------------------------------------

    async def ask(self, token: str, *, owner: int, version: int, field: str) -> PendingImport:
        """A Year / Unit / Code button: the owner's next plain text answers it."""
        if field not in FIELDS:
            raise ServiceError("upload_expired")
        row = await self._row(token, owner, version)
        row.awaiting = field
        row.updated_at = self.now
        self.session.add(row)
        await self._commit()
        return row

    async def remember_message(
        self, token: str, message_id: int, *, summary: bool = False
    ) -> int | None:
        """The message a reply may answer: the latest summary or question of this upload.
        For a summary, returns the previous summary's id (its buttons are out of date)."""
        row = (
            await self.session.exec(select(PendingImport).where(PendingImport.token == token))
        ).first()
        if row is None:
            return None
        previous = row.summary_id
        row.message_id = message_id
        if summary:
            row.summary_id = message_id
        self.session.add(row)
        await self._commit()
        return previous if summary and previous != message_id else None

    async def answer_target(self, *, owner: int, reply_to: int | None) -> PendingImport | None:
        """The upload a plain text of `owner` answers: the one whose summary or question it
        replies to, else the one waiting for an answer."""
        query = select(PendingImport).where(
            PendingImport.owner == owner,
            col(PendingImport.updated_at) >= self.now - self.ttl,
            col(PendingImport.plan).is_not(None),
        )
        if reply_to is not None:
            query = query.where(
                (col(PendingImport.message_id) == reply_to)
                | (col(PendingImport.summary_id) == reply_to)
            )
        else:
            query = query.where(col(PendingImport.awaiting).in_(FIELDS))
        return (
            await self.session.exec(query.order_by(col(PendingImport.updated_at).desc()))
        ).first()

    async def fix(self, row: PendingImport, text: str) -> Review:
        """Apply a typed answer and parse again. Codes: those of parse_fix and parse_upload."""
        field, value = parse_fix(text, row.awaiting)
        options = with_fix(up.ImportOptions.from_dict(row.options), field, value)
        return await self._reparse(row, options)

    async def set_replace(self, token: str, *, owner: int, version: int, on: bool) -> Review:
        """Replace the plan whose code the text led to, or keep the upload a new plan."""
        row = await self._row(token, owner, version)
        options = up.ImportOptions.from_dict(row.options)
        taken_code = (row.plan or {}).get("taken_code")
        if on and taken_code:
            options = replace(options, code=taken_code, replace=True)
        else:
            options = replace(options, replace=False)
        return await self._reparse(row, options)

    async def _reparse(self, row: PendingImport, options: up.ImportOptions) -> Review:
        assert row.data is not None
        taken = await up.taken_codes(self.session, self.tasks_data)
        data, file_name, row_id = row.data, row.file_name, row.id
        await self._commit()
        parsed = await self.parse(data, file_name, options, taken)
        row = await self.session.get(PendingImport, row_id) or row
        row.options = options.to_dict()
        self._store(row, parsed)
        self.session.add(row)
        await self._commit()
        return await self._view(row)

    async def view(self, token: str, *, owner: int) -> Review:
        return await self._view(await self._row(token, owner))

    # --- the end -----------------------------------------------------------------------------

    async def cancel(self, token: str, *, owner: int, version: int) -> None:
        row = await self._row(token, owner, version)
        await self.session.delete(row)
        await self._commit()

    async def confirm(
        self,
        token: str,
        *,
        owner: int,
        version: int,
        session_maker: Any,
        directory: Any,
    ) -> Loaded | Review:
        """Write and load the reviewed plan; the upload is then gone. When the plan's code was
        taken in the meantime (and replacing was not asked), parse again and return the new
        Review instead of loading anything."""
        url = child_url(session_maker) if self.loader is not None else None
        if url is not None:
            return await self._confirm_off_loop(url, token, owner, version, directory)
        row = await self._row(token, owner, version)
        plan = self.plan_of(row)
        options = up.ImportOptions.from_dict(row.options)
        replaced = None
        if options.replace:
            replaced = await up.existing_plan(self.session, plan.info.code)
        await self._commit()
        try:
            result = await up.commit_plan(
                plan,
                session_maker=session_maker,
                directory=directory,
                tasks_data=self.tasks_data,
                at=self.now,
                replace=options.replace,
            )
        except ServiceError as exc:
            if exc.code != "plan_code_taken":
                raise
            return await self._reparse(row, options)
        await self.session.exec(delete(PendingImport).where(col(PendingImport.token) == token))
        await self._commit()
        return Loaded(result, replaced)

    async def _confirm_off_loop(
        self, url: str, token: str, owner: int, version: int, directory: Any
    ) -> Loaded | Review:
        """`confirm` with the plan decoded, written and loaded by the loader (a worker thread,
        or a child process) that reads the upload itself with its own engine (bot.services.
        plan_loading.commit_job): nothing large is decoded, encoded or loaded on this loop."""
        from bot.services.parse_runner import ParseRejected
        from bot.services.plan_loading import commit_job

        row = await self._row(token, owner, version, light=True)
        options = up.ImportOptions.from_dict(row.options)
        await self._commit()
        try:
            result, replaced = await self.loader.run(
                commit_job, url, token, directory, str(self.tasks_data), self.now, options.replace
            )
        except (ParseRejected, ServiceError) as exc:  # a child reports a ServiceError so
            if exc.code != "plan_code_taken":
                if isinstance(exc, ServiceError):
                    raise
                raise ServiceError(exc.code, **exc.params) from exc
            return await self._reparse(await self._row(token, owner, version), options)
        await self.session.exec(delete(PendingImport).where(col(PendingImport.token) == token))
        await self._commit()
        return Loaded(result, replaced)


async def purge_expired(session_maker: Any, *, now: datetime, ttl: timedelta = TTL) -> int:
    """Delete uploads nobody finished within `ttl` (their files included); at start-up."""
    async with session_maker() as session:
        result = await session.exec(
            delete(PendingImport).where(col(PendingImport.updated_at) < now - ttl)
        )
        await session.commit()
        return int(result.rowcount or 0)


def parse_out_of_process(parser: Any, *, directory: Any, today: date) -> ParseFn:
    """The ParseFn of a bot.services.parse_runner.ProcessParser: plan_upload.parse_job in a
    child process; its failures become ServiceErrors (import_too_slow, import_failed, or the
    parse's own code)."""
    from bot.services.parse_runner import ParseFailed, ParseRejected, ParseTimeout

    async def parse(
        data: bytes, file_name: str, options: up.ImportOptions, taken: frozenset[str]
    ) -> up.ParsedUpload:
        try:
            return await parser.run(
                up.parse_job, data, file_name, options, directory, taken, today
            )
        except ParseTimeout:
            raise ServiceError("import_too_slow", seconds=int(parser.timeout)) from None
        except ParseRejected as exc:
            raise ServiceError(exc.code, **exc.params) from None
        except ParseFailed as exc:
            raise ServiceError("import_failed", reason=str(exc)) from None

    return parse
