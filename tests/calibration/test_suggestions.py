"""Suggestions only above the sample floor and only on clear evidence; the examples of the issue."""

from qualify.calibration.stats import RuleCounts
from qualify.calibration.suggestions import threshold_suggestion, weight_suggestion


def test_a_rule_whose_leads_convert_at_2_percent_against_9_goes_from_15_to_5():
    s = weight_suggestion(7, "Form fill", 15, RuleCounts(eligible=1000, eligible_won=90, fired=100, fired_won=2), 30)
    assert s is not None
    assert s.headline == "Form fill: +15 → +5"
    assert s.key == "rule:7:15:5" and (s.current, s.suggested, s.rule_id, s.sample) == (15, 5, 7, 1000)
    assert s.evidence.startswith("leads it fired on converted at 2% (95% interval 0.6%–7%) against a base of 9%; 100 closed")


def test_nothing_is_suggested_below_the_sample_floor_on_either_side():
    clear = RuleCounts(eligible=1000, eligible_won=90, fired=40, fired_won=0)  # 0 of 40: interval 0-8.8 %
    assert weight_suggestion(7, "Form fill", 15, clear, 40).headline == "Form fill: +15 → 0"
    assert weight_suggestion(7, "Form fill", 15, clear, 41) is None  # 40 fired, floor 41
    everyone = RuleCounts(eligible=100, eligible_won=50, fired=80, fired_won=10)
    assert weight_suggestion(7, "Form fill", 15, everyone, 21) is None  # only 20 it did not fire on
    assert weight_suggestion(7, "Form fill", 15, everyone, 20) is not None


def test_nothing_is_suggested_when_the_interval_holds_the_base_or_the_rule_is_worth_nothing():
    # 12 % of 100 against a 10 % base: the 95 % interval (7-20 %) holds it.
    assert weight_suggestion(7, "Webinar", 10, RuleCounts(1000, 100, 100, 12), 30) is None
    assert weight_suggestion(7, "Webinar", 0, RuleCounts(1000, 100, 100, 60), 30) is None
    assert weight_suggestion(7, "Webinar", 10, RuleCounts(1000, 0, 100, 0), 30) is None  # nobody won


def test_a_strong_rule_at_most_doubles():
    s = weight_suggestion(3, "Demo request", 30, RuleCounts(1000, 100, 100, 60), 30)
    assert (s.current, s.suggested, s.headline) == (30, 60, "Demo request: +30 → +60")


def test_a_penalty_on_leads_that_convert_above_the_base_is_dropped_and_one_below_grows():
    s = weight_suggestion(4, "Careers page", -5, RuleCounts(1000, 100, 200, 60), 30)
    assert (s.suggested, s.headline) == (0, "Careers page: -5 → 0")
    s = weight_suggestion(4, "Free mail", -10, RuleCounts(1000, 100, 200, 8), 30)
    assert s.suggested == -20  # 4 % against 10 %: 1/lift = 2.5, at most ×2


def _mql_histogram():
    """100 won: 80 at 72, 10 at 65, 10 at 50; 110 lost: 60 at 62, 50 at 72."""
    return {72: (130, 80), 65: (10, 10), 62: (60, 0), 50: (10, 10)}


def test_raising_the_threshold_keeps_80_percent_of_won_and_cuts_mqls_by_35():
    s = threshold_suggestion(_mql_histogram(), 60, 30, 0.8)
    assert s.headline == "MQL at 70 instead of 60"
    assert s.key == "threshold:60:70" and (s.current, s.suggested, s.sample) == (60, 70, 210)
    assert s.evidence == "keeps 80% of won leads (90% at 60) and cuts MQLs by 35%: 200 → 130 of 210 closed leads reached it"


def test_lowering_the_threshold_when_it_loses_too_many_won_leads():
    s = threshold_suggestion(_mql_histogram(), 75, 30, 0.8)
    assert s.headline == "MQL at 70 instead of 75" and s.suggested == 70
    assert s.evidence.startswith("keeps 80% of won leads instead of 0%")


def test_no_threshold_suggestion_below_the_floor_of_won_leads_or_when_the_cut_is_small():
    assert threshold_suggestion(_mql_histogram(), 60, 101, 0.8) is None  # 100 won < 101
    assert threshold_suggestion(_mql_histogram(), 60, 100, 0.8) is not None
    assert threshold_suggestion(_mql_histogram(), 70, 30, 0.8) is None  # already there
    # Raising to 70 would cut only 70 → 65 MQLs (7 %): not worth a change.
    assert threshold_suggestion({72: (65, 40), 62: (5, 0), 40: (10, 10)}, 60, 30, 0.8) is None
