"""Drawing helpers shared by the pictures: a pixel canvas over a matplotlib Figure.

Matplotlib is imported here, on first use (it costs about a second); its Agg backend is used
through `FigureCanvasAgg` directly, without pyplot's global state, so pictures can be drawn in
worker threads. Every text is drawn with the chosen CJK font (`fonts.ChartFont`).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from bot.telegram.charts.fonts import ChartFont

WIDTH = 1080  # pixels: Telegram shows photos up to 1280 px wide; a phone fills its width
DPI = 100
PT = 72 / DPI  # points per pixel: sizes below are given in pixels

INK = "#1F2933"
MUTED = "#6B7785"
RULE = "#D9E0E8"
BAND = "#F1F5FA"
STRIPE = "#F8FAFC"
TRACK = "#E6ECF2"
LIGHT_COLOURS = {
    "red": "#D64545",
    "yellow": "#E3A008",
    "green": "#2E9E5B",
    "grey": "#A3ACB5",
}


@dataclass(frozen=True)
class Drawing:
    """A picture and, read back from the figure, every text on it with the font (file, face)
    that drew it: the tests check each text's glyphs against that font's character map."""

    png: bytes
    drawn: list[tuple[str, ChartFont]]

    @property
    def texts(self) -> list[str]:
        return [text for text, _ in self.drawn]

    @property
    def fonts(self) -> set[ChartFont]:
        return {font for _, font in self.drawn}


def finish(figure: Any) -> Drawing:
    """The PNG of `figure`, with its texts and their font files."""
    from matplotlib.font_manager import findfont
    from matplotlib.text import Text

    buffer = io.BytesIO()
    # light compression: flat colours compress well anyway, and encoding at the default
    # level took as long as drawing
    figure.savefig(
        buffer, format="png", dpi=DPI, facecolor="white", pil_kwargs={"compress_level": 1}
    )
    drawn = []
    for text in figure.findobj(Text):
        if not (text.get_visible() and text.get_text()):
            continue
        properties = text.get_fontproperties()
        found = findfont(properties)
        face = int(getattr(found, "face_index", 0) or 0)
        font = ChartFont(properties.get_family()[0], str(found), face)
        drawn.append((text.get_text(), font))
    return Drawing(png=buffer.getvalue(), drawn=drawn)


def text_width(text: str, size: float) -> float:
    """Approximate width in pixels: CJK and full-width characters one em, others ~0.58 em."""
    return sum(size if ord(ch) > 0x2E80 else size * 0.58 for ch in text)


def fit(text: str, size: float, width: float) -> str:
    """`text` cut with an ellipsis to fit `width` pixels."""
    if text_width(text, size) <= width:
        return text
    while text and text_width(text + "…", size) > width:
        text = text[:-1]
    return text + "…"


class Canvas:
    """A white page of `height` pixels; y grows downwards, units are pixels."""

    def __init__(self, font: ChartFont, height: int, width: int = WIDTH) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.font = font
        self.width = width
        self.height = height
        self.figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, facecolor="white")
        FigureCanvasAgg(self.figure)
        self.ax = self.figure.add_axes((0, 0, 1, 1))
        self.ax.set_xlim(0, width)
        self.ax.set_ylim(height, 0)
        self.ax.set_axis_off()

    def text(
        self,
        x: float,
        y: float,
        text: str,
        size: float,
        *,
        color: str = INK,
        bold: bool = False,
        ha: str = "left",
        va: str = "center",
    ) -> None:
        self.ax.text(
            x,
            y,
            text,
            fontproperties=self.font.properties(size * PT, bold=bold),
            color=color,
            ha=ha,
            va=va,
        )

    def rect(self, x: float, y: float, w: float, h: float, color: str) -> None:
        from matplotlib.patches import Rectangle

        self.ax.add_patch(Rectangle((x, y), w, h, facecolor=color, edgecolor="none"))

    def bar(self, x: float, y: float, w: float, h: float, color: str) -> None:
        """A bar with round ends (a track or its fill): a thick line with round caps, far
        cheaper to draw than a rounded box."""
        if w <= 0:
            return
        r = h / 2
        x0, x1 = x + r, max(x + r, x + w - r)
        self.ax.plot(
            [x0, x1],
            [y + r, y + r],
            color=color,
            linewidth=h * PT,
            solid_capstyle="round",
        )

    def dot(self, x: float, y: float, r: float, color: str) -> None:
        from matplotlib.patches import Circle

        self.ax.add_patch(Circle((x, y), r, facecolor=color, edgecolor="none"))

    def line(self, x0: float, y0: float, x1: float, y1: float, color: str = RULE) -> None:
        self.ax.plot([x0, x1], [y0, y1], color=color, linewidth=1.5 * PT * 2)

    def finish(self) -> Drawing:
        return finish(self.figure)


def new_figure(font: ChartFont, width: int, height: int) -> Any:
    """A plain Figure of `width` × `height` pixels on the Agg canvas (for charts with axes)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, facecolor="white")
    FigureCanvasAgg(figure)
    return figure
