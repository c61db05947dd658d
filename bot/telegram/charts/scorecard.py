"""The scorecard picture: units ranked, one line each, readable on a phone.

Layout (1080 px wide): a band with the title (plans), the period and the headline numbers; a
header row; one line per unit (rank, its light, name, 按时办结率 as a bar and a number,
及时签收率, overdue count); a footer with the "as of" time and the ranking rule. At most
`MAX_LINES` lines: a longer list keeps the head and the tail of the ranked units (the laggards
a 通报 is about), says how many are left out between them, and counts the units with nothing
due yet in one line; the full list is in the data (`CardView.rows`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.telegram.charts.draw import (
    BAND,
    INK,
    LIGHT_COLOURS,
    MUTED,
    RULE,
    STRIPE,
    TRACK,
    WIDTH,
    Canvas,
    Drawing,
    fit,
)
from bot.telegram.charts.fonts import ChartFont

MINE = "#FFF3C4"
MAX_LINES = 24  # keeps the picture under ~2.3 : 1, which Telegram shows without shrinking
HEAD_LINES = 12
ROW = 78
TOP = 300  # the band and the header row
BOTTOM = 96

TITLE_PX, SUB_PX, BODY_PX, HEAD_PX, FOOT_PX = 46, 30, 33, 26, 24

# x positions (pixels)
RANK_X, DOT_X, NAME_X, NAME_W = 64, 122, 150, 360
BAR_X, BAR_W, ONTIME_TEXT_X = 528, 150, 690
ACK_RIGHT, OVERDUE_RIGHT = 935, 1040


@dataclass(frozen=True)
class CardRow:
    rank: str  # "1", or "—" when nothing is due yet
    name: str
    on_time: float | None  # 0..1, the bar; None: nothing judged
    on_time_text: str
    ack_text: str
    overdue: int
    light: str  # bot.core.lights.Light value
    mine: bool = False  # the unit the picture is about (a /status UNIT scope): highlighted


@dataclass(frozen=True)
class CardView:
    """Everything drawn, already in the reader's language."""

    title: str
    subtitle: str
    summary: str
    headers: tuple[str, str, str, str, str]  # rank, unit, on-time, acknowledgement, overdue
    rows: list[CardRow]
    footer: str
    hidden: str = "⋯ {n} ⋯"  # the line standing for left-out units; {n}: how many
    waiting: str = "+ {n}"  # the line counting left-out units with nothing due yet
    empty: str = ""  # said when there are no units at all
    notes: list[str] = field(default_factory=list)  # footer lines after the first

    def texts(self) -> list[str]:
        """Every text the picture may draw (for the glyph check)."""
        out = [self.title, self.subtitle, self.summary, *self.headers, self.footer, self.empty]
        out += [*self.notes, self.hidden.format(n=len(self.rows))]
        out.append(self.waiting.format(n=len(self.rows)))
        for row in self.rows:
            out += [row.rank, row.name, row.on_time_text, row.ack_text, str(row.overdue)]
        return [t for t in out if t]


HIDDEN, WAITING = "hidden", "waiting"


def lines_drawn(rows: list[CardRow]) -> list[CardRow | tuple[str, int]]:
    """The rows drawn, with (HIDDEN, n) where ranked units are left out and (WAITING, n)
    for the units with nothing due yet when they do not fit."""
    if len(rows) <= MAX_LINES:
        return list(rows)
    ranked = [row for row in rows if row.rank != "—" or row.mine]
    waiting = len(rows) - len(ranked)
    budget = MAX_LINES - (1 if waiting else 0)
    lines: list[CardRow | tuple[str, int]] = list(ranked)
    if len(ranked) > budget:
        tail = budget - HEAD_LINES - 1
        mine = next((i for i, row in enumerate(ranked) if row.mine), None)
        if mine is None or mine < HEAD_LINES or mine >= len(ranked) - tail:
            hidden = len(ranked) - HEAD_LINES - tail
            lines = [*ranked[:HEAD_LINES], (HIDDEN, hidden), *ranked[-tail:]]
        else:  # the marked unit stays in sight, between two gaps
            head = HEAD_LINES - 2
            before, after = mine - head, len(ranked) - tail - mine - 1
            lines = [*ranked[:head], (HIDDEN, before), ranked[mine], (HIDDEN, after)]
            lines += ranked[-tail:]
    if waiting:
        lines.append((WAITING, waiting))
    return [line for line in lines if not (isinstance(line, tuple) and line[1] == 0)]


def render_scorecard(view: CardView, font: ChartFont) -> Drawing:
    lines = lines_drawn(view.rows) or [(HIDDEN, 0)]
    footer_lines = [view.footer, *view.notes]
    height = TOP + ROW * len(lines) + BOTTOM + 34 * (len(footer_lines) - 1)
    c = Canvas(font, height)
    # the band: title, period, headline numbers
    c.rect(0, 0, WIDTH, 228, BAND)
    c.rect(0, 0, 12, 228, LIGHT_COLOURS["red"])
    c.text(40, 62, fit(view.title, TITLE_PX, WIDTH - 80), TITLE_PX, bold=True)
    c.text(40, 122, fit(view.subtitle, SUB_PX, WIDTH - 80), SUB_PX, color=MUTED)
    c.text(40, 180, fit(view.summary, SUB_PX, WIDTH - 80), SUB_PX)
    # the header row
    y = 264
    rank_h, unit_h, on_time_h, ack_h, overdue_h = view.headers
    c.text(RANK_X, y, rank_h, HEAD_PX, color=MUTED, bold=True, ha="center")
    c.text(NAME_X, y, unit_h, HEAD_PX, color=MUTED, bold=True)
    c.text(BAR_X, y, on_time_h, HEAD_PX, color=MUTED, bold=True)
    c.text(ACK_RIGHT, y, ack_h, HEAD_PX, color=MUTED, bold=True, ha="right")
    c.text(OVERDUE_RIGHT, y, overdue_h, HEAD_PX, color=MUTED, bold=True, ha="right")
    c.line(32, TOP - 2, WIDTH - 32, TOP - 2)
    for i, line in enumerate(lines):
        top = TOP + i * ROW
        mid = top + ROW / 2
        if not isinstance(line, tuple) and line.mine:
            c.rect(0, top, WIDTH, ROW, MINE)
        elif i % 2:
            c.rect(0, top, WIDTH, ROW, STRIPE)
        if isinstance(line, tuple):
            kind, n = line
            text = (view.hidden if kind == HIDDEN else view.waiting).format(n=n)
            c.text(WIDTH / 2, mid, text if n else view.empty, HEAD_PX, color=MUTED, ha="center")
            continue
        ranked = line.rank != "—"
        ink = INK if ranked else MUTED
        colour = LIGHT_COLOURS.get(line.light, LIGHT_COLOURS["grey"])
        c.text(RANK_X, mid, line.rank, BODY_PX, color=ink, bold=ranked, ha="center")
        c.dot(DOT_X, mid, 12, colour)
        name = fit(line.name, BODY_PX, NAME_W)
        c.text(NAME_X, mid, name, BODY_PX, color=ink, bold=line.mine)
        c.bar(BAR_X, mid - 11, BAR_W, 22, TRACK)
        if line.on_time is not None:
            c.bar(BAR_X, mid - 11, BAR_W * max(0.0, min(1.0, line.on_time)), 22, colour)
        c.text(ONTIME_TEXT_X, mid, line.on_time_text, BODY_PX, color=ink)
        c.text(ACK_RIGHT, mid, line.ack_text, BODY_PX, color=ink, ha="right")
        overdue_colour = LIGHT_COLOURS["red"] if line.overdue else MUTED
        c.text(
            OVERDUE_RIGHT,
            mid,
            str(line.overdue),
            BODY_PX,
            color=overdue_colour,
            bold=bool(line.overdue),
            ha="right",
        )
    bottom = TOP + ROW * len(lines)
    c.line(32, bottom + 2, WIDTH - 32, bottom + 2, RULE)
    for j, text in enumerate(footer_lines):
        c.text(40, bottom + 48 + 34 * j, fit(text, FOOT_PX, WIDTH - 80), FOOT_PX, color=MUTED)
    return c.finish()
