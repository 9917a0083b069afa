"""A training whose broker message was lost, or whose worker died, does not block every later
training: the beat's sweep (versions.take_over_stalled) sends it again or takes it over, and gives
up with a reason after MAX_ATTEMPTS. Asking for a training with the broker down is not a 500."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from qualify.predictions import tasks, versions
from qualify.predictions.models import PredictionVersion, Status

from .helpers import make_leads

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    calls: list[tuple[str, int]] = []
    monkeypatch.setattr(tasks.train_version, "delay", lambda pk: calls.append(("train", pk)))
    monkeypatch.setattr(tasks.activate_version, "delay", lambda pk: calls.append(("activate", pk)))
    return calls


def _ago(minutes: int) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(minutes=minutes)


def test_a_queued_training_whose_message_was_lost_is_sent_again_once(db, sent, django_capture_on_commit_callbacks):
    version = versions.request_training(run=False)
    PredictionVersion.objects.filter(pk=version.pk).update(created_at=_ago(11))
    with django_capture_on_commit_callbacks(execute=True):
        assert versions.take_over_stalled() == 1
    assert sent == [("train", version.pk)]
    with django_capture_on_commit_callbacks(execute=True):
        assert versions.take_over_stalled() == 0  # not again every minute
    assert sent == [("train", version.pk)]
    version.refresh_from_db()
    assert version.status == Status.QUEUED


def test_a_fresh_queued_training_is_left_to_its_message(db, sent, django_capture_on_commit_callbacks):
    versions.request_training(run=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert versions.take_over_stalled() == 0
    assert sent == []


def test_a_training_whose_worker_died_is_taken_over_and_finishes(north, sent):
    make_leads(north, 1200, seed=11)
    version = versions.request_training(run=False)
    PredictionVersion.objects.filter(pk=version.pk).update(status=Status.TRAINING, attempts=1, heartbeat_at=_ago(16),
                                                           progress=25, progress_note="Training the global model")
    assert versions.run_training(version.pk) is None  # the message redelivered at the crash: still "running"
    assert versions.take_over_stalled() == 1
    done = versions.run_training(version.pk)
    assert done is not None and done.status == Status.ACTIVE, done and done.error
    assert done.attempts == 2


def test_a_redelivered_message_while_the_training_still_runs_does_nothing(db):
    version = versions.request_training(run=False)
    PredictionVersion.objects.filter(pk=version.pk).update(status=Status.TRAINING, attempts=1, heartbeat_at=_ago(1))
    assert versions.run_training(version.pk) is None
    version.refresh_from_db()
    assert (version.status, version.attempts) == (Status.TRAINING, 1)


def test_a_silent_training_is_sent_again_and_fails_with_a_reason_after_the_last_attempt(db, sent, django_capture_on_commit_callbacks):
    version = versions.request_training(run=False)
    PredictionVersion.objects.filter(pk=version.pk).update(status=Status.TRAINING, attempts=1, heartbeat_at=_ago(16))
    with django_capture_on_commit_callbacks(execute=True):
        assert versions.take_over_stalled() == 1
    assert sent == [("train", version.pk)]
    assert PredictionVersion.objects.get(pk=version.pk).status == Status.QUEUED
    PredictionVersion.objects.filter(pk=version.pk).update(status=Status.TRAINING, attempts=versions.MAX_ATTEMPTS,
                                                           heartbeat_at=_ago(16))
    with django_capture_on_commit_callbacks(execute=True):
        versions.take_over_stalled()
    version.refresh_from_db()
    assert version.status == Status.FAILED
    assert "stopped" in version.error and str(versions.MAX_ATTEMPTS) in version.error
    assert versions.request_training(run=False).pk != version.pk  # no longer blocks the next one


def test_a_silent_scoring_pass_is_sent_again(db, sent, django_capture_on_commit_callbacks):
    version = versions.request_training(run=False)
    PredictionVersion.objects.filter(pk=version.pk).update(status=Status.SCORING, attempts=1, heartbeat_at=_ago(16))
    with django_capture_on_commit_callbacks(execute=True):
        assert versions.take_over_stalled() == 1
    assert sent == [("activate", version.pk)]


def test_asking_for_a_training_with_the_broker_down_queues_it_for_the_sweep(client, rita, monkeypatch,
                                                                          django_capture_on_commit_callbacks):
    def down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.train_version, "delay", down)
    client.force_login(rita)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("predictions:train"), {"window_days": "365"})
    assert response.status_code == 302
    assert PredictionVersion.objects.get().status == Status.QUEUED
