"""Charts as inline SVG geometry: no script is needed to draw them, so the strict CSP stays as it is.

The board's page draws the chart from this geometry, and its JSON twin sends the same numbers so that the
page's script only moves points and labels; every number and time is formatted on the server.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

#: The plot area inside the SVG's view box: room on the left for the scale, at the bottom for the times.
WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 30
PLOT_WIDTH, PLOT_HEIGHT = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
#: Kept for the sparklines: a small margin around a line with no axes.
MARGIN = 2
SPARK_WIDTH, SPARK_HEIGHT = 120, 28


@dataclass(frozen=True)
class Tick:
    position: float  #: x for the time axis, y for the scale
    label: str


@dataclass(frozen=True)
class LineChart:
    points: str  #: the polyline's ``points`` attribute
    peak: float  #: the top of the scale (a round number at or above the highest value, at least 1)
    first: datetime | None
    last: datetime | None
    y_ticks: list[Tick] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM
    right: int = WIDTH - RIGHT


def nice_top(value: float) -> tuple[float, float]:
    """(top of the scale, step): a step of 1, 2 or 5 times a power of ten, the top at or above ``value``
    (at least 1) in at most 5 steps."""
    value = max(1.0, value)
    magnitude = 10 ** (math.floor(math.log10(value)) - 1)
    for power in (magnitude, magnitude * 10, magnitude * 100):
        for multiple in (1, 2, 5):
            step = multiple * power
            steps = math.ceil(value / step - 1e-9)
            if steps <= 5:
                return float(steps * step), float(step)
    return value, value  # not reached: 5 times the magnitude's hundredfold exceeds value


def line_chart(
    series: Sequence[tuple[datetime, float]],
    *,
    number: Callable[[float], str] = lambda v: f"{v:g}",
    clock: Callable[[datetime], str] = lambda t: t.strftime("%H:%M"),
    tick_every: timedelta = timedelta(minutes=10),
) -> LineChart:
    """Scale ``series`` (time order, equal steps) into the plot area, with a labelled scale and time axis.

    ``number`` and ``clock`` format the labels (the board passes the user's locale and Prague time).
    """
    if not series:
        return LineChart("", 1.0, None, None, [Tick(TOP + PLOT_HEIGHT, number(0)), Tick(TOP, number(1))])
    top, step = nice_top(max(value for _, value in series))
    first, last = series[0][0], series[-1][0]
    span = (last - first).total_seconds() or 1.0

    def x(instant: datetime) -> float:
        return LEFT + (instant - first).total_seconds() / span * PLOT_WIDTH

    def y(value: float) -> float:
        return TOP + PLOT_HEIGHT - value / top * PLOT_HEIGHT

    points = " ".join(f"{x(instant):.1f},{y(value):.1f}" for instant, value in series)
    y_ticks = [Tick(round(y(i * step), 1), number(i * step)) for i in range(round(top / step) + 1)]
    seconds = tick_every.total_seconds()
    tick = datetime.fromtimestamp(math.ceil(first.timestamp() / seconds) * seconds, tz=first.tzinfo)
    x_ticks = []
    while tick <= last:
        x_ticks.append(Tick(round(x(tick), 1), clock(tick)))
        tick += tick_every
    return LineChart(points, top, first, last, y_ticks, x_ticks)


def sparkline(values: Sequence[float], peak: float) -> str:
    """A small line of ``values`` against a shared ``peak``, as a polyline's ``points`` (no axes)."""
    if len(values) < 2:
        return ""
    peak = max(peak, 1e-9)
    step = (SPARK_WIDTH - 2 * MARGIN) / (len(values) - 1)
    inner = SPARK_HEIGHT - 2 * MARGIN
    return " ".join(
        f"{MARGIN + i * step:.1f},{MARGIN + inner - min(value, peak) / peak * inner:.1f}"
        for i, value in enumerate(values)
    )
