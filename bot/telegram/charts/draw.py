"""Drawing helpers shared by the pictures: a pixel canvas over a matplotlib Figure.

Matplotlib is imported here, on first use (it costs about a second); its Agg backend is used
through `FigureCanvasAgg` directly, without pyplot's global state, so pictures can be drawn in
worker threads. Every text is drawn with the chosen CJK font (`fonts.ChartFont`).
"""

from __future__ import annotations

import io
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
        self.texts: list[str] = []  # every text drawn, for the tests' glyph check

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
        self.texts.append(text)
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
        """A rounded bar (a track or its fill)."""
        from matplotlib.patches import FancyBboxPatch

        if w <= 0:
            return
        radius = min(h / 2, w / 2)
        self.ax.add_patch(
            FancyBboxPatch(
                (x + radius, y),
                max(w - 2 * radius, 0.01),
                h,
                boxstyle=f"round,pad=0,rounding_size={radius}",
                mutation_aspect=1,
                facecolor=color,
                edgecolor="none",
            )
        )

    def dot(self, x: float, y: float, r: float, color: str) -> None:
        from matplotlib.patches import Circle

        self.ax.add_patch(Circle((x, y), r, facecolor=color, edgecolor="none"))

    def line(self, x0: float, y0: float, x1: float, y1: float, color: str = RULE) -> None:
        self.ax.plot([x0, x1], [y0, y1], color=color, linewidth=1.5 * PT * 2)

    def png(self) -> bytes:
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=DPI, facecolor="white")
        return buffer.getvalue()


def new_figure(font: ChartFont, width: int, height: int) -> Any:
    """A plain Figure of `width` × `height` pixels on the Agg canvas (for charts with axes)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, facecolor="white")
    FigureCanvasAgg(figure)
    return figure
