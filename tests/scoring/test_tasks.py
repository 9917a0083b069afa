"""Scoring tasks retry transient database errors (a PostgreSQL restart) instead of losing the work."""

import pytest
from django.db import InterfaceError, OperationalError

from qualify.scoring import scores, tasks


@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_score_leads_retries_a_database_restart_and_then_scores(monkeypatch, error):
    calls = []

    def flaky(lead_ids):
        calls.append(list(lead_ids))
        if len(calls) < 3:
            raise error("server closed the connection unexpectedly")
        return len(lead_ids), []

    monkeypatch.setattr(scores, "score_leads", flaky)
    result = tasks.score_leads.apply(args=[[7, 8]])
    assert result.successful() and result.result == 2
    assert calls == [[7, 8]] * 3


def test_score_leads_does_not_retry_a_bug(monkeypatch):
    calls = []

    def broken(lead_ids):
        calls.append(lead_ids)
        raise ValueError("a bug, not an outage")

    monkeypatch.setattr(scores, "score_leads", broken)
    result = tasks.score_leads.apply(args=[[7]])
    assert result.failed() and len(calls) == 1


def test_retries_back_off_and_give_up_after_minutes():
    assert tasks.score_leads.autoretry_for == tasks.TRANSIENT_DB_ERRORS
    assert tasks.score_leads.retry_backoff and tasks.score_leads.retry_backoff_max == 60
    assert tasks.run_recompute.autoretry_for == tasks.TRANSIENT_DB_ERRORS
