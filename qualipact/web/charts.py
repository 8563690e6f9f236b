"""Chart geometry for server-rendered SVG: the template draws it, no script runs in the page.

Coordinates are formatted here as strings, so template localisation never touches them.
Colours come from CSS classes (`web/charts.css`: `chart-series-0` to `chart-series-7`),
never from inline styles, so the strict CSP holds. Every chart is drawn next to a table
of its numbers; the charts carry native `<title>` tooltips for pointer users.

Shared by the staff pages that draw charts (site statistics, the DPO dashboard).
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

# How many series colours web/charts.css defines; further series reuse them in turn.
SERIES_COLOURS = 8


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


def _point_title(day: date, value: float) -> str:
    return f"{day.isoformat()}: {value:g}"


def _day_label(day: date) -> str:
    return day.strftime("%d %b")


def line_chart(
    series: Sequence[tuple[date, float | None]],
    *,
    width: int = 640,
    height: int = 240,
    point_title: Callable[[date, float], str] = _point_title,
    x_label: Callable[[date], str] = _day_label,
) -> LineChart:
    """Values per period (a day, a month: `series` in order); None (no data, or below a
    threshold) leaves a gap. `point_title(period, value)` is each point's tooltip and
    `x_label(period)` labels the first, middle and last period."""
    left, right, top, bottom = 48, width - 16, 16, height - 32
    largest = max((value for _, value in series if value is not None), default=0)
    top_value, step = nice_scale(math.ceil(largest))

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
        dots.append(Dot(x, y, point_title(day, value)))
    if run:
        segments.append(" ".join(run))
    last = len(series) - 1
    label_indexes = sorted({0, last // 2, last}) if series else []
    x_labels = [
        AxisLabel(
            _n(x_of(i)),
            x_label(series[i][0]),
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


def _shortened(label: str, most: int) -> str:
    return label if len(label) <= most else label[: most - 1] + "…"


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
        short = _shortened(label, max_label)
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


@dataclass(frozen=True)
class LegendItem:
    x: str
    y: str  # the swatch's top; the text's baseline is 10 below
    text_x: str
    text_y: str
    label: str
    series: int  # the colour class: chart-series-<series>


LEGEND_LINE = 20


@dataclass(frozen=True)
class Column:
    x: str
    y: str
    width: str
    height: str
    series: int
    title: str


@dataclass(frozen=True)
class ColumnChart:
    width: int
    height: int
    left: int
    right: int
    baseline: str
    grid: list[GridLine]
    x_labels: list[AxisLabel]
    label_y: str
    columns: list[Column]
    legend: list[LegendItem]


def _legend(names: Sequence[str], *, left: int, right: int) -> tuple[list[LegendItem], int]:
    """Swatches and names in rows from the top, wrapped at `right`; and the height used."""
    # Room for each name at about 7 pixels a character, plus the swatch.
    items: list[LegendItem] = []
    x, y = float(left), 4.0
    for index, name in enumerate(names):
        needed = 18 + 7 * len(name)
        if x > left and x + needed > right:
            x, y = float(left), y + LEGEND_LINE
        items.append(LegendItem(_n(x), _n(y), _n(x + 16), _n(y + 10), name, index % SERIES_COLOURS))
        x += needed + 12
    return items, (int(y) + LEGEND_LINE if items else 0)


def column_chart(
    periods: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    *,
    width: int = 640,
    height: int = 240,
) -> ColumnChart:
    """Vertical columns per period ("Mar 2026", "week of 2 Mar"), one beside the other for
    each series `(name, counts)` (each with one count per period); a legend names the
    series when there are several. Every column's tooltip says its series, period and count.
    Periods are labelled below the axis, every n-th one when they would not fit."""
    legend, legend_room = _legend(
        [name for name, _ in series] if len(series) > 1 else [], left=48, right=width - 16
    )
    height += legend_room
    left, right, top, bottom = 48, width - 16, 16 + legend_room, height - 32
    largest = max((count for _, counts in series for count in counts), default=0)
    top_value, step = nice_scale(largest)
    slot = (right - left) / max(len(periods), 1)
    gap = min(slot * 0.2, 8.0)
    column_width = (slot - gap) / max(len(series), 1)

    def y_of(value: float) -> float:
        return bottom - (bottom - top) * value / top_value

    grid = [GridLine(_n(y_of(v)), str(v)) for v in range(0, top_value + 1, step)]
    columns = []
    for s_index, (name, counts) in enumerate(series):
        for p_index, (period, count) in enumerate(zip(periods, counts, strict=True)):
            x = left + p_index * slot + gap / 2 + s_index * column_width
            y = y_of(count)
            title = f"{period}, {name}: {count}" if len(series) > 1 else f"{period}: {count}"
            columns.append(
                Column(
                    _n(x), _n(y), _n(column_width), _n(bottom - y), s_index % SERIES_COLOURS, title
                )
            )
    # At most about one label per 70 pixels.
    every = max(math.ceil(len(periods) * 70 / (right - left)), 1)
    x_labels = [
        AxisLabel(_n(left + (i + 0.5) * slot), period, "middle")
        for i, period in enumerate(periods)
        if i % every == 0
    ]
    return ColumnChart(
        width=width,
        height=height,
        left=left,
        right=right,
        baseline=_n(bottom),
        grid=grid,
        x_labels=x_labels,
        label_y=_n(height - 10),
        columns=columns,
        legend=legend,
    )


@dataclass(frozen=True)
class Segment:
    x: str
    length: str
    series: int
    title: str


@dataclass(frozen=True)
class StackedBar:
    label: str
    full_label: str
    total: int
    y: str
    text_y: str
    total_x: str
    segments: list[Segment]


@dataclass(frozen=True)
class StackedBarChart:
    width: int
    height: int
    label_x: int
    bar_x: int
    bar_height: int
    bars: list[StackedBar]
    legend: list[LegendItem]


def stacked_bar_chart(
    rows: Sequence[tuple[str, Sequence[int]]],
    series: Sequence[str],
    *,
    width: int = 640,
    label_width: int = 220,
    row: int = 26,
    max_label: int = 30,
) -> StackedBarChart:
    """Horizontal bars, one per row `(label, counts)` in the order given, each split into
    one segment per series (`counts[i]` belongs to `series[i]`), with the row's total at
    its end; a legend names the series above the bars. Zero counts draw no segment.
    Labels longer than `max_label` characters are shortened (`full_label` keeps them)."""
    bar_height = row - 8
    legend, legend_room = _legend(series, left=8, right=width - 8)
    room = width - label_width - 64
    largest = max((sum(counts) for _, counts in rows), default=0) or 1
    bars = []
    for index, (label, counts) in enumerate(rows):
        y = legend_room + 4 + index * row
        x = float(label_width)
        segments = []
        for s_index, (name, count) in enumerate(zip(series, counts, strict=True)):
            if not count:
                continue
            length = room * count / largest
            segments.append(
                Segment(_n(x), _n(length), s_index % SERIES_COLOURS, f"{label}, {name}: {count}")
            )
            x += length
        bars.append(
            StackedBar(
                label=_shortened(label, max_label),
                full_label=label,
                total=sum(counts),
                y=_n(y),
                text_y=_n(y + bar_height - 4),
                total_x=_n(x + 6),
                segments=segments,
            )
        )
    return StackedBarChart(
        width=width,
        height=legend_room + max(len(rows), 1) * row + 8,
        label_x=label_width - 8,
        bar_x=label_width,
        bar_height=bar_height,
        bars=bars,
        legend=legend,
    )
