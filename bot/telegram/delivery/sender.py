# Over 400 lines: the delivery guarantees (claim, record, every failure path) read as one.
"""The outbox sender: delivers planned notifications once, from the user's point of view.

How a message is delivered once
-------------------------------
Planning writes each notification as an `Outbox` row with a unique idempotency key, so
planning the same stage twice, overlapping ticks or a restart never create a second row. The
sender then delivers rows whose `not_before` has come (project clock), oldest first, one
message at a time:

1. **Claim** the row in its own transaction: `UPDATE outbox SET status='sending',
   claimed_by=<this instance>, lease_until=<real now + claim_seconds> WHERE id=? AND (status=
   'pending' OR the previous claim's lease passed)`, on PostgreSQL after `SELECT … FOR UPDATE
   SKIP LOCKED` (`bot.storage.outbox.delivery.claim`). Only the sender that changed the row
   sends it, so two overlapping ticks, or two instances, cannot both send it; a claimer that
   is killed leaves a lease that expires, and the row is claimed again after it. Normally one
   instance sends at a time: the runtime sends only while it holds the database's sender
   lease (`bot.storage.lease`), so Telegram's per-bot limits are kept by one throttle.
2. **Send** it to Telegram, rendered at that moment in the recipient's language.
3. **Record** it right after Telegram accepts, in one transaction for that message alone:
   status `sent`, `sent_at`, the message id, and a `SentMessage` row (chat, message id,
   assignment) so replies and button presses on it reach the assignment. Nothing is batched:
   every message is committed before the next one is sent.

Telegram has no idempotent send, so one window remains: Telegram accepted a message and the
process died before step 3 committed. The row is then still `sending`, and on the next start
`recover()` puts every `sending` row back to `pending`, so it is sent again. We choose a
possible duplicate over a possible loss, and the window holds only the message actually in
flight: one message, since the sender sends one at a time. A message cancelled during shutdown
is treated the same way (it stays `sending` and is retried at the next start).

A message that is too long for one Telegram message (a digest) is sent in parts. Its parts are
rendered once and frozen on the row (`parts`), and `parts_sent` is committed after each part,
so a crash in the middle re-sends at most the part in flight and continues with the same text.

A digest and a leader's 督办汇总 are sent with a picture first: part 0 is a photo part (kind
"photo", its caption frozen like any text), drawn from the row's own frozen ranking
(`bot.telegram.notices.picture_view`), so the same exactly-once bookkeeping covers it. Each
distinct picture is drawn once (`Pictures.scorecard_once`: the recipients of one scope, week
and language share it) and uploaded once: the `file_id` Telegram gives back is reused for the
next recipients (`sendPhoto` takes a file_id; a refused one is forgotten and the picture is
uploaded again). Without a CJK font (or without `pictures`) no photo part is made: text only.
A photo Telegram refuses (400) or that cannot be drawn is skipped, never the text after it.

A chasing message (reminder, chase, overdue, escalation, periodic request) whose assignment was
reported done, closed (办结) or archived after it was planned — or an acknowledgement chase whose
item was acknowledged meanwhile — is marked `cancelled` with the reason instead of being sent.

Failures never drop a row silently; each outcome is stored on the row and logged:
- 429 Too Many Requests: the chat (and, when several chats flood, the whole bot) waits the
  `retry_after` Telegram gave; the row stays `pending` and is sent after it.
- 5xx, network errors and timeouts: the row stays `pending` with `attempts`, `last_error` and a
  later `not_before` (exponential back-off with jitter), retried until it goes through; five
  failures in a row with no success between pause all sending (1 s, 2 s, 4 s… up to 30 s).
- 403 Forbidden (blocked, or the user never started the bot): the person is marked inactive
  (a group's digest subscription is paused), the row becomes `failed` with the reason, and the
  plan's coordinators get a notice saying who could not be reached
  (`bot.services.unreachable`). Later rows for an inactive
  person are marked `failed` without sending.
- 400 Bad Request (and 404, 413): Telegram will never take this message; the row becomes
  `dead` with the error, logged as an error.
- A bug while rendering or any other unexpected error: retried with back-off, `dead` after
  `max_attempts`.

Telegram's flood limits (about 30 messages a second, 1 a second per chat, 20 a minute per group)
are kept by `bot.telegram.delivery.throttle.Throttle`. Error text is stored and logged without
the bot token (`bot.redact`): aiohttp's errors quote the request URL, which holds it.

The queries are `bot.storage.outbox.delivery`; messages are rendered by `bot.telegram.notices`
in the plans' time zone (`zone`, from the deployment's settings).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta, tzinfo
from functools import partial
from typing import Any

import aiohttp
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup, Message
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock, SystemClock
from bot.core.notices import OutboxStatus
from bot.redact import describe_error, redact
from bot.services.unreachable import recipient_unreachable
from bot.storage.models import Outbox
from bot.storage.outbox import delivery
from bot.storage.typed_sql import stored_id
from bot.telegram.delivery.throttle import Throttle, backoff_delay
from bot.telegram.limits import MAX_TEXT, split_html, utf16_len
from bot.telegram.notices import picture_view as notice_picture_view
from bot.telegram.notices import render as render_notice

log = logging.getLogger(__name__)

PENDING, SENDING, SENT = OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.SENT
FAILED, DEAD, CANCELLED = OutboxStatus.FAILED, OutboxStatus.DEAD, OutboxStatus.CANCELLED

Sleep = Callable[[float], Awaitable[None]]
RenderFn = Callable[..., Any]  # render(row, *, locale) -> Rendered | Sequence[Rendered]
ViewFn = Callable[..., Any]  # picture_view(row, *, locale) -> CardView | None

TEXT, PHOTO = "text", "photo"  # a part's kind
MAX_FILE_IDS = 256  # uploaded pictures remembered (file_id by picture)

# global pauses up to this long are waited for within a pass; longer ones end the pass
INLINE_PAUSE = 0.25

# this many transient failures in a row, with no success between, pause all sending
OUTAGE_STREAK = 5
OUTAGE_PAUSE_CAP = 30.0  # seconds

# worth retrying with back-off: Telegram's 5xx, the network, timeouts
TRANSIENT = (TelegramServerError, TelegramNetworkError, aiohttp.ClientError, TimeoutError)


@dataclass(frozen=True)
class Part:
    """One Telegram message of an outbox row: a text (HTML), or a photo (kind "photo": `text`
    is its plain-text caption, the picture is drawn from the row in `locale`)."""

    text: str
    reply_markup: InlineKeyboardMarkup | None = None
    assignment_id: int | None = None
    kind: str = TEXT
    locale: str | None = None

    def to_json(self) -> dict[str, Any]:
        markup = (
            self.reply_markup.model_dump(mode="json", exclude_none=True)
            if (self.reply_markup)
            else None
        )
        out = {"text": self.text, "reply_markup": markup, "assignment_id": self.assignment_id}
        if self.kind != TEXT:
            out |= {"kind": self.kind, "locale": self.locale}
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Part:
        markup = data.get("reply_markup")
        return cls(
            text=data["text"],
            reply_markup=InlineKeyboardMarkup.model_validate(markup) if markup else None,
            assignment_id=data.get("assignment_id"),
            kind=data.get("kind") or TEXT,
            locale=data.get("locale"),
        )


@dataclass
class DrainReport:
    """What one `drain()` did, counted per message part."""

    sent: int = 0  # parts Telegram accepted
    completed: int = 0  # rows now fully sent
    retried: int = 0  # 429 / 5xx / network: still pending
    failed: int = 0  # 403: recipient unreachable
    dead: int = 0  # 400 and the like: never deliverable
    photos: int = 0  # of `sent`, pictures
    uploads: int = 0  # of `photos`, uploaded (the others reused a file_id)
    errors: list[str] = field(default_factory=list)


def to_parts(rendered: Any) -> list[Part]:
    """Normalise what a renderer returns (one Rendered, several, or one with `.parts`) into
    message parts under Telegram's length limit; a keyboard stays on the last part."""
    if isinstance(rendered, Sequence) and not isinstance(rendered, str):
        items = list(rendered)
    elif hasattr(rendered, "parts") and not isinstance(rendered, Part):
        items = list(rendered.parts)
    else:
        items = [rendered]
    parts: list[Part] = []
    for item in items:
        text = str(item.text)
        markup = getattr(item, "reply_markup", None)
        assignment_id = getattr(item, "assignment_id", None)
        chunks = [text] if utf16_len(text) <= MAX_TEXT else split_html(text)
        for i, chunk in enumerate(chunks):
            last = i == len(chunks) - 1
            parts.append(Part(chunk, markup if last else None, assignment_id))
    if not parts:
        raise ValueError("the renderer returned no message")
    return parts


class Sender:
    """Delivers due outbox rows; see the module docstring for the guarantees.

    `drain()` sends everything that is due now (waiting only for short flood-limit pauses) and
    returns; the scheduler's tick calls it. `recover()` runs when the process takes the sender
    lease (the runtime does it; never beside another live sender), `stop()` at
    shutdown. `sleep` and `monotonic` are injectable so tests move time instead of sleeping.
    `zone`: the plans' time zone, for the instants messages show; `render` replaces
    `bot.telegram.notices.render` (tests). `pictures` (`bot.telegram.charts.Pictures`) draws
    the picture sent before a digest or a leader's 督办汇总 (None: text only); `picture_view`
    replaces `bot.telegram.notices.picture_view` (tests).
    """

    def __init__(
        self,
        *,
        bot: Bot,
        session_maker: Callable[[], AsyncSession],
        clock: Clock,
        zone: tzinfo,
        default_locale: str = "zh_CN",
        throttle: Throttle | None = None,
        render: RenderFn | None = None,
        sleep: Sleep | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        rng: Callable[[], float] = random.random,
        batch_size: int = 200,
        linger: float = 5.0,
        max_attempts: int = 8,
        request_timeout: float = 30.0,
        holder: str = "",
        claim_seconds: float = 60.0,
        wall: Clock | None = None,
        pictures: Any = None,
        picture_view: ViewFn | None = None,
    ) -> None:
        self.bot = bot
        self.session_maker = session_maker
        self.clock = clock
        self.default_locale = default_locale
        self.throttle = throttle or Throttle(monotonic=monotonic)
        self.zone = zone
        self._render: RenderFn = render or partial(render_notice, zone=zone)
        self._sleep_fn = sleep
        self._rng = rng
        self.batch_size = batch_size
        self.linger = linger  # wait for a flood-limit pause shorter than this within a drain
        self.max_attempts = max_attempts  # for unexpected errors; transient ones retry forever
        # a send must end well within its claim, or another sender could take the row again
        self.request_timeout = min(request_timeout, claim_seconds / 2)
        self.holder = holder  # claimed_by on the rows this sender claims (the instance's name)
        self.claim_seconds = claim_seconds
        self._wall = wall or SystemClock()  # claims' leases are real UTC, never the bot's clock
        self._lock = asyncio.Lock()
        self._stopping = asyncio.Event()
        # consulted before every message: False ends the drain (the runtime's sender lease)
        self.gate: Callable[[], bool] = lambda: True
        self._transient_streak = 0
        self.pictures = pictures
        self._picture_view: ViewFn = picture_view or partial(notice_picture_view, zone=zone)
        self._photos = False  # pictures can be drawn (a CJK font): decided at each drain
        self._file_ids: dict[str, str] = {}  # picture key → Telegram's file_id

    # --- lifecycle ------------------------------------------------------------------------
    async def recover(self) -> int:
        """Put rows left `sending` by a crash or a cancelled shutdown back to `pending`: those
        whose claim's lease has passed (or that have none: an older release's), and this
        sender's own. A live sender's row in flight is `sending` under a lease that has not
        passed, and stays.

        Their message may or may not have reached Telegram; sending again risks one duplicate
        per row, never a loss. Returns how many rows were recovered.
        """
        async with self.session_maker() as session:
            count = await delivery.requeue_sending(
                session, wall=self._wall.now(), holder=self.holder or None
            )
            await session.commit()
        if count:
            log.warning("recovered %d outbox row(s) interrupted while sending", count)
        return count

    async def release_claims(self) -> int:
        """This sender's rows still `sending` back to `pending` (a clean stop, after the send
        in flight ended or was cancelled), so the next sender need not wait for their lease."""
        if not self.holder:
            return 0
        async with self.session_maker() as session:
            count = await delivery.release_claims(session, self.holder)
            await session.commit()
        if count:
            log.warning("%d outbox row(s) interrupted while sending go back to the queue", count)
        return count

    def stop(self) -> None:
        """Send nothing new; the message in flight finishes (or is cancelled by the caller)."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    @property
    def busy(self) -> bool:
        return self._lock.locked()

    async def wait_idle(self, timeout: float) -> bool:
        """Wait until no drain runs (at most `timeout` seconds); True when idle."""
        try:
            async with asyncio.timeout(timeout):
                async with self._lock:
                    return True
        except TimeoutError:
            return False

    # --- the loop -------------------------------------------------------------------------
    async def drain(self) -> DrainReport:
        """Send every due row, one message at a time, oldest first, within the flood limits.

        One row per chat per pass keeps a chat's messages in order and lets other chats go
        while one waits. Returns when nothing is due, or what is due waits longer than
        `linger` (a later tick sends it), or on `stop()`.
        """
        report = DrainReport()
        async with self._lock:
            self._photos = await self._photos_available()
            while not self.stopping and self.gate():
                rows = await self._due_rows()
                if not rows:  # perhaps some are due in chats the throttle holds for a moment
                    held = await self._held_waits()
                    if not held or min(held) > self.linger:
                        break
                    await self._sleep(min(held))
                    continue
                progressed = False
                waits: list[float] = []
                for row_id, chat_id in rows:
                    if self.stopping or not self.gate():
                        break
                    wait = self.throttle.chat_wait(chat_id)
                    if wait > 0:
                        waits.append(wait)
                        continue
                    pause = self.throttle.global_wait()
                    if pause > INLINE_PAUSE:
                        # a hold (429 flood, outage): afterwards look again at what is due,
                        # this pass's list may no longer be the oldest first
                        waits.append(pause)
                        break
                    if pause > 0:  # the spacing of 30 a second
                        await self._sleep(pause)
                        if self.stopping:
                            break
                    if await self._deliver(row_id, report):
                        progressed = True
                if not progressed:
                    if not waits or min(waits) > self.linger:
                        break
                    await self._sleep(min(waits))
        return report

    async def _photos_available(self) -> bool:
        """Pictures can be drawn: `pictures` given and a CJK font found (looked for once, off
        the event loop; without one `Pictures` logs its one warning and we send text only)."""
        if self.pictures is None:
            return False
        if self.pictures.known_unavailable:
            return False
        return bool(await self.pictures.check())

    async def _due_rows(self) -> list[tuple[int, int]]:
        """The oldest due pending row of each chat that the throttle does not hold."""
        async with self.session_maker() as session:
            return await delivery.due_rows(
                session,
                self.clock.now(),
                self.throttle.held_chats(),
                self.batch_size,
                wall=self._wall.now(),
            )

    async def _held_waits(self) -> list[float]:
        """How long each held chat that has a due row must still wait."""
        held = self.throttle.held_chats()
        if not held:
            return []
        async with self.session_maker() as session:
            chats = await delivery.chats_with_due_rows(session, self.clock.now(), held)
        return [self.throttle.wait(chat) for chat in chats]

    async def _sleep(self, seconds: float) -> None:
        if self._sleep_fn is not None:
            await self._sleep_fn(seconds)
            return
        try:  # a stop() interrupts the pause
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
        except TimeoutError:
            pass

    # --- one message ----------------------------------------------------------------------
    async def _deliver(self, row_id: int, report: DrainReport) -> bool:
        """Claim the row, send its next part, record the outcome. False when the row was not
        ours to claim (another drain took it); True when it was handled, whatever the outcome."""
        claimed = await self._claim(row_id, report)
        if isinstance(claimed, bool):
            return claimed
        row, parts = claimed
        index = row.parts_sent
        part = parts[index]
        message: Message | None
        try:
            if part.kind == PHOTO:
                message = await self._send_photo(row, part, report)
            else:
                # the allowance is spent right before the request leaves (not before work that
                # may take a while, which would let the next sends bunch up at the server)
                self.throttle.sent(row.chat_id)
                message = await self.bot.send_message(
                    chat_id=row.chat_id,
                    text=part.text,
                    parse_mode="HTML",
                    reply_markup=part.reply_markup,
                    request_timeout=int(self.request_timeout),
                )
        except asyncio.CancelledError:
            # Shutdown: Telegram may or may not have it. The row stays `sending` and is sent
            # again after the next start (a possible duplicate, never a loss).
            log.warning("outbox %s: send cancelled in flight; it is retried after restart", row.id)
            raise
        except TelegramRetryAfter as exc:
            await self._on_retry_after(row, exc, report)
            return True
        except TelegramMigrateToChat as exc:
            await self._on_migrated(row, exc.migrate_to_chat_id)
            return True
        except TelegramForbiddenError as exc:
            await self._on_forbidden(row, exc.message, report)
            return True
        except (TelegramBadRequest, TelegramNotFound, TelegramEntityTooLarge) as exc:
            if part.kind == PHOTO and not isinstance(exc, TelegramNotFound):
                # the picture, not the chat: the text that follows still goes
                await self._skip_part(row, parts, index, self._describe(exc), report)
                return True
            await self._finish(row, DEAD, self._describe(exc), report)
            return True
        except TRANSIENT as exc:
            await self._on_transient(row, exc, report)
            return True
        except TelegramUnauthorizedError as exc:
            # The token is wrong or revoked: nothing can be sent; pause everything.
            await self._on_transient(row, exc, report, pause_all=True)
            return True
        except Exception as exc:  # recorded on the row, never dropped
            await self._on_unexpected(row, exc, report)
            return True
        self._transient_streak = 0
        if message is None:  # a picture that could not be drawn: the text goes on its own
            await self._skip_part(row, parts, index, "the picture could not be drawn", report)
            return True
        await self._record_sent(row, parts, index, message.message_id, part.assignment_id, report)
        return True

    async def _send_photo(self, row: Outbox, part: Part, report: DrainReport) -> Message | None:
        """Send a photo part: the picture drawn from the row (once per distinct picture), by
        the file_id of an earlier upload when there is one. None: nothing to draw."""
        locale = part.locale or self.default_locale
        try:
            # a planned row's ranking names no unit: the ledger's names, as in its text
            async with self.session_maker() as session:
                shown = await delivery.as_rendered(session, row)
            view = self._picture_view(shown, locale=locale)
            if view is None or self.pictures is None:
                return None
            key = self.pictures.key(view)
            file_id = self._file_ids.get(key)
            png = None if file_id else await self.pictures.scorecard_once(view)
        except Exception:  # a drawing bug must not hold back the text
            log.exception("outbox %s: drawing its picture failed; sending the text only", row.id)
            return None
        caption = part.text
        timeout = int(self.request_timeout)
        if file_id:
            try:
                self.throttle.sent(row.chat_id)
                message = await self.bot.send_photo(
                    chat_id=row.chat_id,
                    photo=file_id,
                    caption=caption,
                    parse_mode=None,
                    request_timeout=timeout,
                )
                report.photos += 1
                return message
            except TelegramBadRequest as exc:  # e.g. a file_id of an earlier server's
                log.warning("outbox %s: file_id refused (%s); uploading", row.id, exc.message)
                self._file_ids.pop(key, None)
                png = await self.pictures.scorecard_once(view)
        if png is None:
            return None
        self.throttle.sent(row.chat_id)
        message = await self.bot.send_photo(
            chat_id=row.chat_id,
            photo=BufferedInputFile(png, filename="scorecard.png"),
            caption=caption,
            parse_mode=None,
            request_timeout=timeout,
        )
        report.photos += 1
        report.uploads += 1
        if message.photo:
            self._file_ids[key] = message.photo[-1].file_id
            while len(self._file_ids) > MAX_FILE_IDS:
                self._file_ids.pop(next(iter(self._file_ids)))
        return message

    async def _skip_part(
        self, row: Outbox, parts: list[Part], index: int, reason: str, report: DrainReport
    ) -> None:
        """Go past a part that will not be sent (a picture): the row continues with the next."""
        done = index + 1 >= len(parts)
        now = self.clock.now()
        values: dict[str, Any] = {"parts_sent": index + 1, "status": SENT if done else PENDING}
        if done:
            values["sent_at"] = now
        await self._update(stored_id(row.id), **values)
        if done:
            report.completed += 1
        log.warning("outbox %s (%s): part %d skipped: %s", row.id, row.key, index + 1, reason)

    async def _claim(self, row_id: int, report: DrainReport) -> tuple[Outbox, list[Part]] | bool:
        """Mark the row `sending` (only if still pending) and work out its parts; False when
        it was not ours to claim, True when it was settled without sending."""
        async with self.session_maker() as session:
            wall = self._wall.now()
            row = await delivery.claim(
                session,
                row_id,
                holder=self.holder or None,
                wall=wall,
                lease_until=wall + timedelta(seconds=self.claim_seconds),
            )
            if row is None:
                await session.rollback()
                return False  # another sender took it, or it changed since we looked
            person = await delivery.recipient(session, row)
            inactive = person is not None and not person.active
            if not inactive and row.chat_id < 0:
                inactive = await delivery.group_paused(session, row.chat_id)
            moot = await delivery.moot_reason(session, row)
            if moot:
                row.status = CANCELLED
                row.last_error = moot
                await session.commit()
                log.info("outbox %s (%s) not sent: %s", row.id, row.key, moot)
                return True
            if inactive:
                row.status = FAILED
                row.last_error = (
                    "recipient is inactive (Telegram refused an earlier message); not sent"
                )
                await session.commit()
                report.failed += 1
                log.warning("outbox %s (%s) not sent: %s", row.id, row.key, row.last_error)
                return True
            try:
                if row.parts is not None:
                    parts = [Part.from_json(p) for p in row.parts]
                else:
                    locale = await delivery.locale_of(session, row, person, self.default_locale)
                    # its items as the ledger has them now (planned rows refer to them)
                    rendered = self._render(
                        await delivery.as_rendered(session, row), locale=locale
                    )
                    parts = to_parts(rendered)
                    photo = getattr(rendered, "photo", None)
                    if photo and self._photos:  # the picture first, then the whole text
                        parts.insert(0, Part(photo, kind=PHOTO, locale=locale))
                    if len(parts) > 1:  # freeze, so a resume continues the same text
                        row.parts = [p.to_json() for p in parts]
            except Exception as exc:  # a renderer's bug: retried, then dead
                session.expunge(row)  # keep its loaded values readable after the rollback
                await session.rollback()
                await self._on_unexpected(row, exc, report, stage="render")
                return True
            if row.parts_sent >= len(parts):  # nothing left (all parts were recorded)
                row.status = SENT
                row.sent_at = row.sent_at or self.clock.now()
                await session.commit()
                return True
            await session.commit()
            return row, parts

    async def _commit_retrying(self, write: Callable[[AsyncSession], Awaitable[None]]) -> None:
        """Run `write` in a fresh transaction and commit, retrying a failing database a few
        times: after Telegram accepted a message, losing this commit means a duplicate later."""
        delay = 0.05
        for attempt in range(5):
            try:
                async with self.session_maker() as session:
                    await write(session)
                    await session.commit()
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                if attempt == 4:
                    raise
                log.exception("outbox commit failed; retrying")
                await asyncio.sleep(delay)
                delay *= 4

    async def _record_sent(
        self,
        row: Outbox,
        parts: list[Part],
        index: int,
        message_id: int,
        assignment_id: int | None,
        report: DrainReport,
    ) -> None:
        now = self.clock.now()
        done = index + 1 >= len(parts)
        assignment_id = assignment_id if assignment_id is not None else row.assignment_id

        async def write(session: AsyncSession) -> None:
            await delivery.record_sent(
                session,
                row,
                parts_sent=index + 1,
                done=done,
                message_id=message_id,
                assignment_id=assignment_id,
                now=now,
            )

        await self._commit_retrying(write)
        report.sent += 1
        if done:
            report.completed += 1
            log.info(
                "outbox %s (%s) sent to chat %s as message %s%s",
                row.id,
                row.key,
                row.chat_id,
                message_id,
                f" ({len(parts)} parts)" if len(parts) > 1 else "",
            )

    def _describe(self, exc: BaseException) -> str:
        """`TypeName: message`, without the bot token (aiohttp's errors quote the URL)."""
        return describe_error(exc, (self.bot.token,))

    async def _update(self, row_id: int, **values: Any) -> None:
        if "last_error" in values:  # exception text quotes request URLs
            values["last_error"] = redact(values["last_error"], (self.bot.token,))[:1000]

        async def write(session: AsyncSession) -> None:
            await delivery.update_row(session, row_id, **values)

        await self._commit_retrying(write)

    async def _finish(self, row: Outbox, status: str, error: str, report: DrainReport) -> None:
        """A terminal failure: recorded on the row and logged."""
        error = redact(error, (self.bot.token,))
        await self._update(
            stored_id(row.id), status=status, last_error=error, attempts=row.attempts + 1
        )
        level = logging.ERROR if status == DEAD else logging.WARNING
        log.log(
            level,
            "outbox %s (%s) to chat %s is %s: %s",
            row.id,
            row.key,
            row.chat_id,
            status,
            error,
        )
        if status == DEAD:
            report.dead += 1
        else:
            report.failed += 1
        report.errors.append(f"{row.key}: {error}")

    async def _on_retry_after(
        self, row: Outbox, exc: TelegramRetryAfter, report: DrainReport
    ) -> None:
        everyone = self.throttle.retry_after(row.chat_id, exc.retry_after)
        await self._update(
            stored_id(row.id),
            status=PENDING,
            attempts=row.attempts + 1,
            last_error=f"429: retry after {exc.retry_after}s",
        )
        report.retried += 1
        log.warning(
            "outbox %s: 429 for chat %s, waiting %ss%s",
            row.id,
            row.chat_id,
            exc.retry_after,
            " (all chats)" if everyone else "",
        )

    async def _on_transient(
        self, row: Outbox, exc: Exception, report: DrainReport, *, pause_all: bool = False
    ) -> None:
        attempts = row.attempts + 1
        delay = backoff_delay(attempts, rng=self._rng)
        self._transient_streak += 1
        streak = self._transient_streak - OUTAGE_STREAK
        if pause_all or streak >= 0:
            # Several rows in a row failed: Telegram (or the network) is down, not one chat.
            # Pause everything, longer each time, instead of trying every row in turn.
            self.throttle.hold_all(min(2.0 ** max(streak, 0), OUTAGE_PAUSE_CAP))
        error = self._describe(exc)
        await self._update(
            stored_id(row.id),
            status=PENDING,
            attempts=attempts,
            last_error=error,
            not_before=self.clock.now() + timedelta(seconds=delay),
        )
        report.retried += 1
        log.warning("outbox %s: %s; retry %d in %.1fs", row.id, error, attempts, delay)

    async def _on_unexpected(
        self, row: Outbox, exc: Exception, report: DrainReport, *, stage: str = "send"
    ) -> None:
        attempts = row.attempts + 1
        error = f"{stage}: {self._describe(exc)}"
        log.error("outbox %s (%s): %s", row.id, row.key, error, exc_info=exc)
        if attempts >= self.max_attempts:
            await self._finish(row, DEAD, error, report)
            return
        delay = backoff_delay(attempts, rng=self._rng)
        await self._update(
            stored_id(row.id),
            status=PENDING,
            attempts=attempts,
            last_error=error,
            not_before=self.clock.now() + timedelta(seconds=delay),
        )
        report.retried += 1

    async def _on_migrated(self, row: Outbox, new_chat_id: int) -> None:
        """A group became a supergroup: follow it (row and subscription) and send again."""
        old = row.chat_id

        async def write(session: AsyncSession) -> None:
            await delivery.follow_migration(session, old, new_chat_id)

        await self._commit_retrying(write)
        log.warning("chat %s migrated to %s; its outbox rows follow it", old, new_chat_id)

    # --- 403 ------------------------------------------------------------------------------
    async def _on_forbidden(self, row: Outbox, reason: str, report: DrainReport) -> None:
        """Mark the recipient unreachable, fail the row and tell the plan's coordinators."""
        now = self.clock.now()
        notified: list[int] = []
        reason = redact(reason, (self.bot.token,))

        async def write(session: AsyncSession) -> None:
            notified[:] = await recipient_unreachable(
                session, row, reason, now=now, default_locale=self.default_locale
            )

        await self._commit_retrying(write)
        report.failed += 1
        report.errors.append(f"{row.key}: 403 {reason}")
        log.warning(
            "outbox %s (%s): chat %s unreachable (%s); recipient marked inactive, "
            "coordinators notified: %s",
            row.id,
            row.key,
            row.chat_id,
            reason,
            notified or "none",
        )
