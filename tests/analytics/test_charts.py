"""Chart geometry: a funnel step's text sits on its bar only when it fits there; column axes tick at round values."""

import pytest

from qualify.analytics import charts


def test_a_funnel_steps_text_goes_beside_a_bar_too_short_for_it():
    chart = charts.funnel("Funnel", [("Leads", 1284), ("MQL", 1071), ("Accepted", 311), ("Opportunity", 201), ("Won", 52)])
    by_label = {b.label: b for b in chart.bars}

    assert by_label["Leads"].inside and by_label["MQL"].inside
    for label in ("Accepted", "Opportunity", "Won"):
        bar = by_label[label]
        assert not bar.inside, label
        assert charts.text_width(bar.text) > bar.w  # it would have run over both ends of the bar
        assert bar.x2 + 6 + charts.text_width(bar.text) <= chart.width  # beside it, it stays in the chart
    assert by_label["Won"].text == "52 · 25.9% of previous"
    assert by_label["Accepted"].text == "311 · 29% of previous"  # one way of writing percentages


def test_rate_labels_on_columns_are_written_one_way():
    chart = charts.columns("Leads", [("Sep", 30), ("Oct", 164)], rate=[26.7, 19.0])
    assert [t for _, _, t in chart.dots] == ["26.7%", "19%"]


def test_a_half_card_pareto_is_drawn_at_half_width_and_shortens_its_labels_to_its_columns():
    """Per-source Paretos sit two to a row: drawn 1,100 units wide there, their text came out at half
    its size (about 5 px, unreadable at 1440 px). At WIDTH it stays near its size, and each label is
    cut to what its column holds."""
    reasons = [(f"Reason number {i}", 10 - i, 10.0 * (i + 1)) for i in range(10)]
    wide, half = charts.pareto_chart("All", reasons), charts.pareto_chart("Inbound", reasons, width=charts.WIDTH)
    assert (wide.width, half.width) == (charts.WIDE, charts.WIDTH)
    assert half.bars[-1].x2 <= charts.WIDTH
    slot = half.bars[1].x - half.bars[0].x
    assert half.label_chars * charts.TICK_CHAR_W <= slot < wide.label_chars * charts.TICK_CHAR_W
    assert charts.pareto_chart("Few", reasons[:3]).label_chars > len("Not enough discovery")  # room: not cut


@pytest.mark.parametrize(("vmax", "labels"), [
    (642, ["0", "200", "400", "600", "800"]),
    (30, ["0", "10", "20", "30"]),
    (1, ["0", "1"]),
    (0, ["0", "1"]),
    (7, ["0", "2", "4", "6", "8"]),
    (9_300, ["0", "2,500", "5,000", "7,500", "10,000"]),
])
def test_column_axes_tick_at_round_values_and_scale_the_columns_to_the_top_tick(vmax, labels):
    """The cohort chart's axis read 642 / 482 / 321 / 160 (quarters of the tallest column)."""
    chart = charts.columns("Leads", [("Sep", vmax), ("Oct", vmax / 2)])
    assert [label for _, label in chart.axis] == labels
    top = float(labels[-1].replace(",", ""))
    tallest = chart.bars[0]
    assert abs(tallest.h - (chart.plot_bottom - chart.plot_top) * vmax / top) < 0.01


def test_a_rate_line_has_its_own_percent_axis_on_the_right():
    """The cohort chart's lead → won line was scaled to its own maximum but drawn against the count
    axis: 19 % sat level with 164 leads. It now reads against a round percent axis of its own."""
    chart = charts.columns("Leads", [("Sep", 30), ("Oct", 164)], rate=[26.7, 19.0], count_name="Leads", rate_name="Lead → won %")
    assert [label for _, label in chart.rate_axis] == ["0%", "10%", "20%", "30%"]
    assert (chart.count_name, chart.rate_name) == ("Leads", "Lead → won %")
    assert chart.plot_right < chart.width - 30  # room for the ticks right of the plot
    assert all(b.x2 <= chart.plot_right for b in chart.bars)
    zero, top = chart.rate_axis[0][0], chart.rate_axis[-1][0]
    assert (zero, top) == (chart.plot_bottom, chart.plot_top)
    (_, y_sep, _), (_, y_oct, _) = chart.dots
    assert abs(y_sep - (zero - (zero - top) * 26.7 / 30)) < 0.01 and abs(y_oct - (zero - (zero - top) * 19 / 30)) < 0.01


def test_columns_without_a_rate_have_no_rate_axis_and_a_pareto_reads_0_to_100_percent():
    assert charts.columns("Leads", [("Sep", 30)]).rate_axis == []
    pareto = charts.pareto_chart("Reasons", [("No budget", 5, 50.0), ("Timing", 5, 100.0)])
    assert [label for _, label in pareto.rate_axis] == ["0%", "25%", "50%", "75%", "100%"]
    assert pareto.dots[-1][1] == pareto.plot_top
