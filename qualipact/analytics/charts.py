"""Chart geometry for server-rendered SVG: the template draws it, no script runs in the page.

Coordinates are formatted here as strings, so template localisation never touches them.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date


def _n(value: float) -> str:
    return f"{value:.1f}"


@dataclass(frozen=True)
class GridLine:
    y: str
    label: str


@dataclass(frozen=True)
class AxisLabel:
    x: str
    label: str
    anchor: str


@dataclass(frozen=True)
class Dot:
    x: str
    y: str
    title: str


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    left: int
    right: int
    baseline: str
    grid: list[GridLine]
    x_labels: list[AxisLabel]
    label_y: str
    # One polyline per run of published days; a hidden day breaks the line.
    segments: list[str]
    dots: list[Dot]


@dataclass(frozen=True)
class Bar:
    label: str
    full_label: str
    value: int
    y: str
    text_y: str
    length: str
    value_x: str


@dataclass(frozen=True)
class BarChart:
    width: int
    height: int
    label_x: int
    bar_x: int
    bar_height: int
    bars: list[Bar]


def nice_scale(largest: int, steps: int = 4) -> tuple[int, int]:
    """A round top value and step for an axis that has room for `largest`."""
    raw = max(largest, 1) / steps
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    return step * max(math.ceil(largest / step), 1), step


def line_chart(
    series: Sequence[tuple[date, int | None]], *, width: int = 640, height: int = 240
) -> LineChart:
    """Values per day; None (no data or below the threshold) leaves a gap."""
    left, right, top, bottom = 48, width - 16, 16, height - 32
    largest = max((value for _, value in series if value is not None), default=0)
    top_value, step = nice_scale(largest)

    def y_of(value: float) -> float:
        return bottom - (bottom - top) * value / top_value

    def x_of(index: int) -> float:
        if len(series) < 2:
            return (left + right) / 2
        return left + (right - left) * index / (len(series) - 1)

    grid = [GridLine(_n(y_of(v)), str(v)) for v in range(0, top_value + 1, step)]
    segments: list[str] = []
    dots: list[Dot] = []
    run: list[str] = []
    for index, (day, value) in enumerate(series):
        if value is None:
            if run:
                segments.append(" ".join(run))
            run = []
            continue
        x, y = _n(x_of(index)), _n(y_of(value))
        run.append(f"{x},{y}")
        dots.append(Dot(x, y, f"{day.isoformat()}: {value} visitors"))
    if run:
        segments.append(" ".join(run))
    last = len(series) - 1
    label_indexes = sorted({0, last // 2, last}) if series else []
    x_labels = [
        AxisLabel(
            _n(x_of(i)),
            series[i][0].strftime("%d %b"),
            "middle" if last == 0 else "start" if i == 0 else "end" if i == last else "middle",
        )
        for i in label_indexes
    ]
    return LineChart(
        width=width,
        height=height,
        left=left,
        right=right,
        baseline=_n(bottom),
        grid=grid,
        x_labels=x_labels,
        label_y=_n(height - 10),
        segments=segments,
        dots=dots,
    )


def bar_chart(
    items: Sequence[tuple[str, int]],
    *,
    width: int = 640,
    label_width: int = 220,
    row: int = 26,
    max_label: int = 30,
) -> BarChart:
    """Horizontal bars, longest first as given, labelled on the left with their value."""
    bar_height = row - 8
    room = width - label_width - 64
    largest = max((value for _, value in items), default=0) or 1
    bars = []
    for index, (label, value) in enumerate(items):
        short = label if len(label) <= max_label else label[: max_label - 1] + "…"
        length = max(room * value / largest, 1.0)
        y = 4 + index * row
        bars.append(
            Bar(
                label=short,
                full_label=label,
                value=value,
                y=_n(y),
                text_y=_n(y + bar_height - 4),
                length=_n(length),
                value_x=_n(label_width + length + 6),
            )
        )
    return BarChart(
        width=width,
        height=max(len(items), 1) * row + 8,
        label_x=label_width - 8,
        bar_x=label_width,
        bar_height=bar_height,
        bars=bars,
    )
