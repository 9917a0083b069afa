"""Through a real Celery worker process (Redis broker, the test database): events posted to the
API become a score and an MQL within seconds, and a redelivered message changes nothing."""

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection
from django.utils import timezone

from qualify.celery import app
from qualify.leads.models import Lead, Stage
from qualify.scoring import ingest, tasks
from tests.conftest import login

REDIS = os.environ.get("SCORING_TEST_REDIS", "redis://127.0.0.1:6379/7")
ROOT = Path(__file__).resolve().parents[2]


def _redis_up() -> bool:
    try:
        import redis

        return redis.Redis.from_url(REDIS, socket_connect_timeout=1).ping()
    except Exception:
        return False


@pytest.fixture
def worker(settings):
    if not _redis_up():
        pytest.skip(f"no Redis at {REDIS}")
    import redis

    redis.Redis.from_url(REDIS).flushdb()
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(db),
        "CELERY_BROKER_URL": REDIS,
        "DJANGO_SETTINGS_MODULE": "qualify.settings",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "qualify", "worker", "-Q", "default,ingest,scoring,sla,io", "--pool", "solo", "--loglevel", "WARNING",
         "--without-heartbeat", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def _database_url(db) -> str:
    """The test database as a URL for the worker process (a socket directory as host works too)."""
    host = quote(db["HOST"] or "127.0.0.1", safe="")
    auth = quote(db["USER"] or "postgres", safe="") + (f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


def _send_via_redis(lead_ids):
    with app.connection_for_write(REDIS) as conn:
        tasks.score_leads.apply_async(args=[lead_ids], connection=conn)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_posted_events_are_scored_by_a_real_worker(client, alice, alices_lead, worker, monkeypatch):
    monkeypatch.setattr(ingest, "_enqueue", _send_via_redis)
    event = {"client_id": "w-1", "type": "demo_request", "occurred_at": timezone.now().isoformat(), "lead_id": alices_lead.pk}
    assert login(client, alice).post("/api/events/", [event], content_type="application/json").json()["created"] == 1
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        lead = Lead.objects.get(pk=alices_lead.pk)
        if lead.stage == Stage.MQL:
            break
        time.sleep(0.2)
    else:
        worker.terminate()
        pytest.fail("the worker did not score the lead in 30 s:\n" + worker.stdout.read().decode()[-3000:])
    assert lead.score_version_id is not None and lead.score_watermark > 0
    # A redelivered message (or a retried request) changes nothing.
    client.post("/api/events/", [event], content_type="application/json")
    _send_via_redis([alices_lead.pk])
    time.sleep(1.5)
    again = Lead.objects.get(pk=alices_lead.pk)
    assert again.stage_changes.filter(to_stage=Stage.MQL).count() == 1
    assert again.score_watermark == lead.score_watermark
