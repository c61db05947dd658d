"""Rendering Outbox rows into Telegram messages, in the recipient's language.

`render(row, *, locale, zone) -> Rendered` is called by the sender at send time. It reads only
the row (kind, stage, payload, read through its `bot.core.notices` model): no database, no
clock. `zone` is the plans' time zone (the instants a 督办 lists: who was chased when); the
sender gets it from the deployment's settings. Every plan or user text is HTML-escaped; every
sentence goes through `bot.i18n.gettext` with the explicit locale.

The shape:

    Rendered(text, reply_markup=None, assignment_id=None)
    Rendered.parts -> list[Rendered]   # the messages to send, in order

`text` is the whole message; `parts` is what to send: `[self]` unless the text is longer than
one Telegram message (a digest), then several parts cut by `bot.telegram.limits.split_html`
at line breaks, each well-formed HTML under 4096 characters and numbered "(1/3)", with the
keyboard (if any) on the last part. `assignment_id` tells the sender which assignment the
message is about (recorded in SentMessage so replies and button presses reach it).

One renderer per kind: `items` (reminder, ack_chase, overdue, escalation, periodic, chase,
notice, decision), `batches` (escalation_batch, overdue_batch), `digest`, `brief` (a liaison's
今日待办).

Pictures: a digest and a leader's 督办汇总 carry a units' ranking (`RankingBlock`); their
`Rendered.photo` is the caption of the scorecard picture the sender sends before the text, and
`picture_view(row, locale=…, zone=…)` is what the picture draws (a `CardView` from the same
frozen ranking: the same numbers as the text). The sender draws it (`bot.telegram.charts`);
without a CJK font it sends the text only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo
from typing import Any

from bot.core.notices import BatchNotice, DigestNotice, OutboxKind, read_payload
from bot.services.ranking import from_block
from bot.storage.models import Outbox
from bot.telegram.charts.scorecard import CardView
from bot.telegram.charts.views import card_view
from bot.telegram.notices import items
from bot.telegram.notices.batches import escalation_batch
from bot.telegram.notices.brief import brief
from bot.telegram.notices.common import Context, Rendered
from bot.telegram.notices.digest import digest

_RENDERERS: dict[str, Callable[[Outbox, Any, Context], Rendered]] = {
    OutboxKind.REMINDER: items.reminder,
    OutboxKind.ACK_CHASE: items.ack_chase,
    OutboxKind.OVERDUE: items.overdue,
    OutboxKind.ESCALATION: items.escalation,
    OutboxKind.ESCALATION_BATCH: escalation_batch,
    OutboxKind.OVERDUE_BATCH: escalation_batch,  # a liaison's 逾期事项清单: the same code
    OutboxKind.PERIODIC: items.periodic,
    OutboxKind.CHASE: items.chase,
    OutboxKind.DIGEST: digest,
    OutboxKind.NOTICE: items.notice,
    OutboxKind.DECISION: items.decision,
    OutboxKind.BRIEF: brief,
}


def render(row: Outbox, *, locale: str, zone: tzinfo) -> Rendered:
    """The message of an Outbox row in `locale`; raises LookupError for an unknown kind."""
    renderer = _RENDERERS.get(row.kind)
    if renderer is None:
        raise LookupError(f"no renderer for outbox kind {row.kind!r}")
    return renderer(row, read_payload(row.kind, row.payload), Context(locale, zone))


def picture_view(row: Outbox, *, locale: str, zone: tzinfo) -> CardView | None:
    """What the scorecard picture of a digest or a leader's 督办汇总 shows (None: the row has
    no ranking). Not highlighted for a unit: every recipient of the scope shares one picture."""
    if row.kind not in (OutboxKind.DIGEST, OutboxKind.ESCALATION_BATCH):
        return None
    notice = read_payload(row.kind, row.payload)
    block = notice.ranking if isinstance(notice, DigestNotice | BatchNotice) else None
    if block is None or not block.rows:
        return None
    ranking = from_block(block, zone)
    return card_view(ranking, period="week", zone=zone, locale=locale)


__all__ = ["Context", "Rendered", "picture_view", "render"]
