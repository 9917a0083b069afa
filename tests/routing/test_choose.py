"""The pure choosers: fairness, skipping and caps, exhaustively with hypothesis."""

from hypothesis import given, settings
from hypothesis import strategies as st

from qualify.routing.choose import Candidate, least_loaded, round_robin, single


def reps(*ids, **overrides):
    return [Candidate(user_id=i, **overrides.get(i, {})) for i in ids]


def test_round_robin_takes_turns_in_id_order_and_wraps():
    cands = reps(3, 1, 2)
    assert round_robin(cands, None) == 1
    assert round_robin(cands, 1) == 2
    assert round_robin(cands, 3) == 1


def test_round_robin_skips_the_unavailable():
    cands = [Candidate(1), Candidate(2, away=True), Candidate(3, load=5, cap=5), Candidate(4)]
    assert round_robin(cands, 1) == 4


def test_round_robin_after_a_rep_who_left_continues_after_their_id():
    assert round_robin(reps(1, 5, 9), 6) == 9


def test_nobody_available_is_none():
    assert round_robin([Candidate(1, away=True)], None) is None
    assert least_loaded([Candidate(1, load=3, cap=3)], None) is None
    assert round_robin([], None) is None


def test_least_loaded_picks_the_fewest_open_leads():
    assert least_loaded([Candidate(1, load=4), Candidate(2, load=1), Candidate(3, load=2)], None) == 2


def test_least_loaded_breaks_ties_round_robin():
    cands = [Candidate(1, load=2), Candidate(2, load=2), Candidate(3, load=5)]
    assert least_loaded(cands, 1) == 2
    assert least_loaded(cands, 2) == 1


def test_single_is_them_if_available():
    assert single(Candidate(7)) == 7
    assert single(Candidate(7, away=True)) is None
    assert single(Candidate(7, on_team=False)) is None
    assert single(None) is None


def test_why_not_explains_the_skip():
    assert Candidate(1, away=True).why_not() == "out of office"
    assert Candidate(1, load=3, cap=3).why_not() == "at capacity (3/3)"
    assert Candidate(1, on_team=False).why_not() == "not on the lead's team"
    assert Candidate(1, active=False).why_not() == "deactivated" and not Candidate(1, active=False).available


@st.composite
def teams(draw):
    n = draw(st.integers(1, 8))
    ids = draw(st.lists(st.integers(1, 1000), min_size=n, max_size=n, unique=True))
    return [
        Candidate(user_id=i, load=draw(st.integers(0, 5)), cap=draw(st.one_of(st.none(), st.integers(1, 12))),
                  away=draw(st.booleans()) if draw(st.integers(0, 3)) == 0 else False)
        for i in ids
    ]


def simulate(chooser, team, leads):
    """Route `leads` one by one, updating loads as a real assignment would."""
    state = {c.user_id: c for c in team}
    last, got = None, {c.user_id: 0 for c in team}
    for _ in range(leads):
        picked = chooser(list(state.values()), last)
        if picked is None:
            break
        c = state[picked]
        assert c.available, "picked someone unavailable"
        state[picked] = Candidate(c.user_id, c.load + 1, c.cap, c.away, c.on_team)
        got[picked] += 1
        last = picked
    return got, state


@settings(max_examples=300, deadline=None)
@given(team=teams(), leads=st.integers(0, 60))
def test_round_robin_is_even_within_one_lead_among_uncapped_reps(team, leads):
    team = [Candidate(c.user_id, c.load, None, c.away) for c in team]
    got, _ = simulate(round_robin, team, leads)
    present = [got[c.user_id] for c in team if not c.away]
    if present:
        assert max(present) - min(present) <= 1
        assert sum(present) == leads
    assert all(got[c.user_id] == 0 for c in team if c.away)


@settings(max_examples=300, deadline=None)
@given(team=teams(), leads=st.integers(0, 60))
def test_least_loaded_picks_a_least_loaded_available_rep_and_respects_caps(team, leads):
    state = {c.user_id: c for c in team}
    last = None
    for _ in range(leads):
        picked = least_loaded(list(state.values()), last)
        available = [c for c in state.values() if c.available]
        if picked is None:
            assert not available
            break
        assert state[picked].load == min(c.load for c in available)
        c = state[picked]
        state[picked] = Candidate(c.user_id, c.load + 1, c.cap, c.away, c.on_team)
        last = picked
    for original in team:
        if original.cap is not None:
            assert state[original.user_id].load <= max(original.cap, original.load)


@settings(max_examples=200, deadline=None)
@given(team=teams(), leads=st.integers(1, 60))
def test_least_loaded_from_equal_loads_is_even_within_one(team, leads):
    team = [Candidate(c.user_id, 0, None, False) for c in team]
    got, _ = simulate(least_loaded, team, leads)
    assert max(got.values()) - min(got.values()) <= 1
