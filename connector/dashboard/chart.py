"""Deliveries per minute as stacked bars: the geometry of an inline SVG, drawn by the template."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from ..services.dashboard import CHART_OUTCOMES, MinuteCounts

COLORS = {"succeeded": "#2e7d32", "pending": "#f2a900", "failed": "#c62828", "cancelled": "#8a8a8a"}
WIDTH, HEIGHT, LEFT, BOTTOM = 640, 140, 36, 18


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    outcome: str
    count: int
    minute: str  # HH:MM UTC


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    peak: int  # the y axis' top
    total: dict[str, int]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    bottom: int = BOTTOM

    @property
    def plot_height(self) -> int:
        return self.height - self.bottom

    @property
    def colors(self) -> dict[str, str]:
        return COLORS


def build(counts: MinuteCounts) -> Chart:
    peak = max([sum(m.values()) for m in counts.minutes] + [1])
    plot_w, plot_h = WIDTH - LEFT, HEIGHT - BOTTOM
    slot = plot_w / len(counts.minutes)
    bars = []
    for i, minute in enumerate(counts.minutes):
        y = float(plot_h)
        label = (counts.start + timedelta(minutes=i)).strftime("%H:%M")
        for outcome in CHART_OUTCOMES:
            n = minute[outcome]
            if not n:
                continue
            h = n / peak * plot_h
            y -= h
            bars.append(Bar(round(LEFT + i * slot + 1, 1), round(y, 1), round(slot - 2, 1), round(h, 1), outcome, n, label))
    total = {o: sum(m[o] for m in counts.minutes) for o in CHART_OUTCOMES}
    return Chart(bars, peak, total)
