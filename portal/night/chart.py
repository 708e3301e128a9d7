"""A line chart as inline SVG: no script, so the strict Content-Security-Policy stays as it is."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

WIDTH, HEIGHT, MARGIN = 720, 180, 4


@dataclass(frozen=True)
class LineChart:
    points: str  #: the polyline's ``points`` attribute
    peak: float  #: the top of the scale
    first: datetime | None
    last: datetime | None
    width: int = WIDTH
    height: int = HEIGHT


def line_chart(series: Sequence[tuple[datetime, float]]) -> LineChart:
    """Scale ``series`` (time order, equal steps) into the chart's box; the top is the peak, at least 1."""
    if not series:
        return LineChart("", 1.0, None, None)
    peak = max(1.0, max(value for _, value in series))
    step = (WIDTH - 2 * MARGIN) / max(1, len(series) - 1)
    inner = HEIGHT - 2 * MARGIN
    points = " ".join(
        f"{MARGIN + i * step:.1f},{MARGIN + inner - value / peak * inner:.1f}" for i, (_, value) in enumerate(series)
    )
    return LineChart(points, peak, series[0][0], series[-1][0])
