"""The trend picture: closed (cumulative) and overdue counts per week or month, two lines with
the latest values written at their ends, 1080 × 760 px."""

from __future__ import annotations

from dataclasses import dataclass

from bot.telegram.charts.draw import (
    INK,
    LIGHT_COLOURS,
    MUTED,
    PT,
    RULE,
    WIDTH,
    Drawing,
    finish,
    new_figure,
)
from bot.telegram.charts.fonts import ChartFont

HEIGHT = 760
TITLE_PX, SUB_PX, TICK_PX, LEGEND_PX, FOOT_PX = 44, 28, 24, 26, 22


@dataclass(frozen=True)
class TrendView:
    title: str
    subtitle: str
    labels: list[str]  # one per point: the period's first day, short
    closed: list[int]
    overdue: list[int]
    closed_label: str
    overdue_label: str
    footer: str
    empty: str = ""

    def texts(self) -> list[str]:
        out = [self.title, self.subtitle, self.closed_label, self.overdue_label, self.footer]
        out += [*self.labels, self.empty]
        out += [str(n) for n in (*self.closed, *self.overdue)]
        return [t for t in out if t]


def _tick_every(n: int) -> int:
    """Label every k-th point so that at most ~8 labels share the width."""
    return max(1, -(-n // 8))


def render_trend(view: TrendView, font: ChartFont) -> Drawing:
    figure = new_figure(font, WIDTH, HEIGHT)

    def text(x: float, y: float, s: str, px: float, **kw: object) -> None:
        figure.text(
            x / WIDTH,
            1 - y / HEIGHT,
            s,
            fontproperties=font.properties(px * PT, bold=bool(kw.pop("bold", False))),
            **kw,
        )

    text(40, 58, view.title, TITLE_PX, bold=True, color=INK, va="center")
    text(40, 108, view.subtitle, SUB_PX, color=MUTED, va="center")
    ax = figure.add_axes((100 / WIDTH, 120 / HEIGHT, 900 / WIDTH, 470 / HEIGHT))
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(RULE)
    ax.grid(axis="y", color=RULE, linewidth=1)
    ax.set_axisbelow(True)
    n = len(view.labels)
    xs = list(range(n))
    if n == 0:
        ax.set_xticks([])
        ax.set_yticks([])
        text(WIDTH / 2, 380, view.empty, SUB_PX, color=MUTED, ha="center", va="center")
    else:
        series = (
            (view.closed, view.closed_label, LIGHT_COLOURS["green"]),
            (view.overdue, view.overdue_label, LIGHT_COLOURS["red"]),
        )
        for values, label, colour in series:
            ax.plot(xs, values, color=colour, linewidth=4, marker="o", markersize=8, label=label)
            ax.annotate(
                str(values[-1]),
                (xs[-1], values[-1]),
                xytext=(10, 0),
                textcoords="offset points",
                va="center",
                color=colour,
                fontproperties=font.properties(LEGEND_PX * PT, bold=True),
            )
        every = _tick_every(n)
        ticks = [x for x in xs if (n - 1 - x) % every == 0]
        ax.set_xticks(ticks, [view.labels[x] for x in ticks])
        top = max([*view.closed, *view.overdue, 1])
        ax.set_ylim(0, top * 1.15)
        ax.set_xlim(-0.3, n - 0.7 + 0.6)
        ax.yaxis.get_major_locator().set_params(integer=True)
        legend = ax.legend(
            loc="upper left",
            frameon=False,
            prop=font.properties(LEGEND_PX * PT),
            ncols=2,
            bbox_to_anchor=(0, 1.1),
        )
        for item in legend.get_texts():
            item.set_color(INK)
    # tick labels are made when drawn: the family goes to the axis, not to today's labels
    ax.tick_params(
        axis="both",
        labelsize=TICK_PX * PT,
        labelcolor=MUTED,
        labelfontfamily=font.family,
        color=RULE,
    )
    text(40, HEIGHT - 40, view.footer, FOOT_PX, color=MUTED, va="center")
    return finish(figure)
