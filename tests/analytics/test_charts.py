"""Chart geometry: a funnel step's text sits on its bar only when it fits there."""

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
