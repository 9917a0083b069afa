"""The arithmetic on hand-made counts: Wilson intervals, deciles with ties, lift, rounding."""

import math

import pytest

from qualify.calibration import stats
from qualify.calibration.stats import Band, RuleCounts, deciles, wilson


def test_wilson_interval_of_textbook_cases():
    # 5 of 10 and 0 of 10 at 95 %: (0.2366, 0.7634) and (0, 0.2775), as tabulated (Newcombe 1998, method 3).
    assert wilson(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert wilson(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson(10, 10) == pytest.approx((0.7225, 1.0), abs=1e-4)


@pytest.mark.parametrize("k, n", [(2, 100), (90, 1000), (1, 3), (37, 41)])
def test_wilson_bounds_solve_the_score_equation(k, n):
    """The Wilson bounds are the p where the score test is exactly at z: |k/n - p| = z·sqrt(p(1-p)/n)."""
    for p in wilson(k, n):
        assert abs(k / n - p) == pytest.approx(stats.Z95 * math.sqrt(p * (1 - p) / n), abs=1e-12)


def test_wilson_of_nothing_is_empty_and_never_leaves_zero_to_one():
    assert wilson(0, 0) == (0.0, 0.0)
    for n in (1, 2, 7, 50):
        for k in range(n + 1):
            lo, hi = wilson(k, n)
            assert 0.0 <= lo <= k / n <= hi <= 1.0


def test_a_hundred_distinct_scores_make_ten_bands_of_ten():
    histogram = {s: (1, int(s > 80)) for s in range(1, 101)}
    bands = deciles(histogram)
    assert [(b.number, b.low, b.high, b.leads) for b in bands] == [(i + 1, 10 * i + 1, 10 * i + 10, 10) for i in range(10)]
    assert bands[-1].won == 10 and bands[-1].conversion == 1.0
    assert bands[7].won == 0 and bands[8].won == 10


def test_tied_scores_stay_in_one_band_and_empty_deciles_are_left_out():
    # Half the leads at 0: decile 1 takes them all, deciles 2-5 are empty, the rest split evenly.
    histogram = {0: (50, 1), **{s: (1, 1) for s in range(51, 101)}}
    bands = deciles(histogram)
    assert bands[0] == Band(1, 0, 0, 50, 1)
    assert [b.number for b in bands] == [1, 6, 7, 8, 9, 10]
    assert [(b.low, b.high, b.leads) for b in bands[1:]] == [(51, 60, 10), (61, 70, 10), (71, 80, 10), (81, 90, 10), (91, 100, 10)]
    assert sum(b.leads for b in bands) == 100


def test_a_band_starts_at_the_decile_of_its_first_lead():
    # 3 leads at 10, 3 at 20, 4 at 30: edges fall inside ties; a score is never split.
    bands = deciles({10: (3, 0), 20: (3, 1), 30: (4, 2)})
    assert [(b.number, b.low, b.high, b.leads, b.won) for b in bands] == [(1, 10, 10, 3, 0), (4, 20, 20, 3, 1), (7, 30, 30, 4, 2)]


def test_one_score_for_everyone_is_one_band_and_no_leads_no_band():
    assert deciles({42: (7, 3)}) == [Band(1, 42, 42, 7, 3)]
    assert deciles({}) == []
    assert deciles({5: (0, 0)}) == []


def test_lift_is_conversion_when_fired_over_the_base():
    c = RuleCounts(eligible=1000, eligible_won=90, fired=100, fired_won=2)
    assert c.base == 0.09 and c.fired_rate == 0.02
    assert c.not_fired == 900 and c.not_fired_won == 88
    assert c.lift == pytest.approx(0.02 / 0.09)
    assert RuleCounts(10, 0, 5, 0).lift is None  # no won lead at all: no base to compare with
    assert RuleCounts(10, 2, 0, 0).lift is None and RuleCounts(10, 2, 0, 0).fired_rate is None


def test_points_round_to_five_from_ten_up_and_to_one_below():
    assert stats.round_points(3.33, 15) == 5
    assert stats.round_points(2.4, 15) == 0
    assert stats.round_points(27.5, 20) == 30
    assert stats.round_points(6.4, 4) == 6
    assert stats.round_points(-20.0, -10) == -20
    assert stats.round_points(-12.4, -10) == -10


def test_shares_are_written_as_people_read_them():
    assert stats.pct(0.09) == "9%" and stats.pct(0.02) == "2%" and stats.pct(0.025) == "2.5%"
    assert stats.pct(0.0) == "0%" and stats.pct(None) == "—" and stats.pct(0.8) == "80%" and stats.pct(0.193) == "19.3%"
