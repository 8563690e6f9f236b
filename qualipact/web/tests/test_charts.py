"""Chart geometry for the server-rendered SVG."""

from datetime import date, timedelta

import pytest

from qualipact.web import charts


@pytest.mark.parametrize(
    ("largest", "scale"),
    [(0, (1, 1)), (9, (10, 5)), (37, (40, 10)), (210, (300, 100)), (12345, (15000, 5000))],
)
def test_it_picks_a_round_axis_with_room_for_the_largest_value(largest, scale):
    assert charts.nice_scale(largest) == scale


def test_it_breaks_the_line_on_a_hidden_day():
    start = date(2026, 3, 1)
    values = [12, 15, None, 20, None, None, 11]
    chart = charts.line_chart([(start + timedelta(days=i), v) for i, v in enumerate(values)])
    assert [len(segment.split()) for segment in chart.segments] == [2, 1, 1]
    assert len(chart.dots) == 4
    assert chart.dots[0].title == "2026-03-01: 12"
    assert [label.anchor for label in chart.x_labels] == ["start", "middle", "end"]


def test_it_draws_bars_in_proportion_and_shortens_long_labels():
    chart = charts.bar_chart([("/" + "long/" * 10, 200), ("/", 50)], width=640, label_width=220)
    first, second = chart.bars
    assert float(first.length) == 640 - 220 - 64
    assert float(second.length) == float(first.length) / 4
    assert first.label.endswith("…") and len(first.label) == 30
    assert first.full_label == "/" + "long/" * 10


def test_it_titles_and_labels_points_as_the_caller_says():
    months = [date(2026, m, 1) for m in (1, 2, 3)]
    chart = charts.line_chart(
        list(zip(months, [2.5, None, 10.25], strict=True)),
        point_title=lambda month, days: f"{month:%b}: {days:.1f} days",
        x_label=lambda month: month.strftime("%b %Y"),
    )
    assert [dot.title for dot in chart.dots] == ["Jan: 2.5 days", "Mar: 10.2 days"]
    assert [label.label for label in chart.x_labels] == ["Jan 2026", "Feb 2026", "Mar 2026"]
    assert chart.grid[-1].label == "15"  # a fractional largest value still fits the axis


def test_it_puts_columns_of_each_series_side_by_side_in_proportion():
    chart = charts.column_chart(["W1", "W2"], [("Grants", [4, 0]), ("Withdrawals", [2, 1])])
    assert [c.title for c in chart.columns] == [
        "W1, Grants: 4",
        "W2, Grants: 0",
        "W1, Withdrawals: 2",
        "W2, Withdrawals: 1",
    ]
    grants_w1, _, withdrawals_w1, _ = chart.columns
    assert float(grants_w1.height) == 2 * float(withdrawals_w1.height)
    assert float(withdrawals_w1.x) == float(grants_w1.x) + float(grants_w1.width)
    assert [c.series for c in chart.columns] == [0, 0, 1, 1]
    assert [item.label for item in chart.legend] == ["Grants", "Withdrawals"]


def test_it_names_no_legend_for_a_single_series_and_thins_crowded_labels():
    periods = [f"P{i}" for i in range(24)]
    chart = charts.column_chart(periods, [("Complaints", [1] * 24)], width=640)
    assert chart.legend == []
    assert chart.columns[0].title == "P0: 1"
    assert 1 < len(chart.x_labels) < 24
    assert chart.x_labels[0].label == "P0"


def test_it_stacks_segments_per_series_and_skips_zeros():
    chart = charts.stacked_bar_chart(
        [("Access", [3, 0, 1]), ("Erasure", [0, 0, 0])], ["Received", "Refused", "Completed"]
    )
    access, erasure = chart.bars
    assert (access.total, erasure.total) == (4, 0)
    assert [s.series for s in access.segments] == [0, 2]
    first, second = access.segments
    assert float(first.length) == 3 * float(second.length)
    assert float(second.x) == float(first.x) + float(first.length)
    assert first.title == "Access, Received: 3"
    assert erasure.segments == []
    long = charts.stacked_bar_chart([("A copy to take elsewhere", [1])], ["Received"], max_label=10)
    assert (long.bars[0].label, long.bars[0].full_label) == (
        "A copy to…",
        "A copy to take elsewhere",
    )


def test_it_wraps_a_long_legend_onto_more_rows():
    names = [f"A status with a long name {i}" for i in range(6)]
    chart = charts.stacked_bar_chart([("Access", [1] * 6)], names, width=640)
    rows = {item.y for item in chart.legend}
    assert len(rows) > 1
    assert all(float(item.x) + 18 + 7 * len(item.label) <= 640 for item in chart.legend)
    assert float(chart.bars[0].y) > max(float(y) for y in rows)
