"""Chart geometry for the server-rendered SVG."""

from datetime import date, timedelta

import pytest

from qualipact.analytics import charts


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
    assert chart.dots[0].title == "2026-03-01: 12 visitors"
    assert [label.anchor for label in chart.x_labels] == ["start", "middle", "end"]


def test_it_draws_bars_in_proportion_and_shortens_long_labels():
    chart = charts.bar_chart([("/" + "long/" * 10, 200), ("/", 50)], width=640, label_width=220)
    first, second = chart.bars
    assert float(first.length) == 640 - 220 - 64
    assert float(second.length) == float(first.length) / 4
    assert first.label.endswith("…") and len(first.label) == 30
    assert first.full_label == "/" + "long/" * 10
