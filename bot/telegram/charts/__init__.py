"""Pictures (PNG) of the ledger for people who read on a phone: the unit scorecard and the
trend. Drawn with matplotlib (Agg backend, imported on first use: the bot starts without it),
in a worker thread so the event loop keeps serving updates.

`Pictures` is made once per process (bot.app) and handed to handlers through the dispatcher:
it finds the CJK font once (`fonts.find_font`, `CHART_FONT`), and without one it draws
nothing: `scorecard()` and `trend()` return None and the caller sends text only; the start-up
check (`check()`) logs the one warning.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import logging
import threading
from collections import OrderedDict
from typing import Any, TypeVar

from bot.telegram.charts.draw import Drawing
from bot.telegram.charts.fonts import NO_FONT_WARNING, ChartFont, find_font
from bot.telegram.charts.scorecard import CardView, render_scorecard
from bot.telegram.charts.trend import TrendView, render_trend

log = logging.getLogger(__name__)

V = TypeVar("V")
_UNSET: Any = object()
REPLACEMENT = "?"  # drawn for a character the font lacks (a rare character in a unit name)
MEMO_SIZE = 64  # distinct pictures kept: one digest pass draws a few (one per scope and language)


def without_missing_glyphs(view: V, font: ChartFont) -> V:
    """`view` with every character the font cannot draw replaced (never a box)."""

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            missing = font.missing(value)
            return "".join(REPLACEMENT if ch in missing else ch for ch in value)
        if isinstance(value, list | tuple):
            return type(value)(clean(v) for v in value)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return dataclasses.replace(
                value, **{f.name: clean(getattr(value, f.name)) for f in dataclasses.fields(value)}
            )
        return value

    return clean(view)


class Pictures:
    """Draws the pictures; `font` given: that one (tests), else found on first use."""

    def __init__(self, font_name: str | None = None, *, font: Any = _UNSET) -> None:
        self.font_name = font_name
        self._font: ChartFont | None = font
        self._lock = threading.Lock()
        # one drawing at a time: matplotlib does not promise thread safety, and drawing is
        # CPU work under the GIL anyway
        self._drawing = threading.Lock()
        self._memo: OrderedDict[str, bytes | None] = OrderedDict()
        self.drawn = 0  # pictures drawn (not served from the memo): the benchmark counts them

    def font(self) -> ChartFont | None:
        """The font (looked for once; blocking: call it from a thread)."""
        with self._lock:
            if self._font is _UNSET:
                self._font = find_font(self.font_name)
                if self._font is None:
                    log.warning(NO_FONT_WARNING)
                else:
                    log.info("pictures drawn with %s (%s)", self._font.family, self._font.path)
            return self._font

    @property
    def known_unavailable(self) -> bool:
        """Checked already, and no font: say so without waiting for a thread."""
        return self._font is None

    async def check(self) -> bool:
        """Pictures can be drawn (a CJK font); looked for once, off the event loop (at
        start-up, and by the sender before each drain: answered at once after the first)."""
        if self._font is not _UNSET:
            return self._font is not None
        return await asyncio.to_thread(self.font) is not None

    def draw_scorecard(self, view: CardView) -> Drawing | None:
        font = self.font()
        if font is None:
            return None
        with self._drawing:
            return render_scorecard(without_missing_glyphs(view, font), font)

    def draw_trend(self, view: TrendView) -> Drawing | None:
        font = self.font()
        if font is None:
            return None
        with self._drawing:
            return render_trend(without_missing_glyphs(view, font), font)

    async def scorecard(self, view: CardView) -> bytes | None:
        """The scorecard PNG, drawn in a thread; None without a CJK font."""
        drawn = await asyncio.to_thread(self.draw_scorecard, view)
        self.drawn += drawn is not None
        return None if drawn is None else drawn.png

    @staticmethod
    def key(view: CardView) -> str:
        """What makes a picture distinct: everything it draws (scope, period, as-of time,
        language and every row)."""
        return hashlib.sha256(
            json.dumps(dataclasses.asdict(view), ensure_ascii=False, sort_keys=True).encode()
        ).hexdigest()

    async def scorecard_once(self, view: CardView) -> bytes | None:
        """Like `scorecard`, drawn once per distinct view: the recipients of one digest pass
        who see the same scope in the same language share one drawing."""
        key = self.key(view)
        if key in self._memo:
            self._memo.move_to_end(key)
            return self._memo[key]
        png = await self.scorecard(view)
        self._memo[key] = png
        while len(self._memo) > MEMO_SIZE:
            self._memo.popitem(last=False)
        return png

    async def trend(self, view: TrendView) -> bytes | None:
        drawn = await asyncio.to_thread(self.draw_trend, view)
        self.drawn += drawn is not None
        return None if drawn is None else drawn.png


__all__ = ["CardView", "ChartFont", "Drawing", "Pictures", "TrendView", "without_missing_glyphs"]
