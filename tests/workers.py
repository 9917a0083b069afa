"""Real Celery processes for the `worker` tests: a worker (and beat) on the test database and the
configured Redis, under a key prefix of their own that is deleted afterwards, so a test run never
touches anyone else's keys in a shared Redis. Also a private redis-server the tests may stop."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from bench.common import broker_key_prefix, delete_broker_keys
from qualify.celery import app

ROOT = Path(__file__).resolve().parents[1]
QUEUES = "default,ingest,scoring,sla,io"
# Another virtualenv's python runs the Celery processes under other celery/kombu/redis versions.
WORKER_PYTHON = os.environ.get("QUALIFY_TEST_WORKER_PYTHON", sys.executable)


def redis_url() -> str:
    """SCORING_TEST_REDIS, else CELERY_BROKER_URL when it is Redis; skips the test otherwise."""
    url = os.environ.get("SCORING_TEST_REDIS") or os.environ.get("CELERY_BROKER_URL", "")
    if not url.startswith("redis://"):
        pytest.skip("worker tests need SCORING_TEST_REDIS or CELERY_BROKER_URL pointing at Redis")
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception:
        pytest.skip(f"no Redis at {url}")
    return url


def database_url() -> str:
    """The test database as a URL for a child process (a socket directory as host works too)."""
    db = connection.settings_dict
    host = quote(db["HOST"] or "127.0.0.1", safe="")
    auth = quote(db["USER"] or "postgres", safe="") + (f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


@dataclass
class Broker:
    url: str
    prefix: str
    procs: list[subprocess.Popen] = field(default_factory=list)

    def env(self, **extra: str) -> dict[str, str]:
        return {**os.environ, "DATABASE_URL": database_url(), "CELERY_BROKER_URL": self.url,
                "CELERY_BROKER_KEY_PREFIX": self.prefix, "DJANGO_SETTINGS_MODULE": "qualify.settings", **extra}

    def worker(self, *args: str, name: str = "w", **env: str) -> subprocess.Popen:
        """A worker for every queue; `args` adds or overrides options (e.g. '--concurrency', '2')."""
        opts = list(args) or ["--pool", "solo", "--without-heartbeat", "--without-gossip", "--without-mingle"]
        return self._start(["worker", "-Q", QUEUES, "-n", f"{name}-{self.prefix}@%h", *opts], env)

    def beat(self, **env: str) -> subprocess.Popen:
        return self._start(["beat", "-S", "django_celery_beat.schedulers:DatabaseScheduler", "--max-interval", "1"], env)

    def _start(self, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = tempfile.NamedTemporaryFile(prefix="qualify-worker-test-", suffix=".log", delete=False)
        proc = subprocess.Popen(
            [WORKER_PYTHON, "-m", "celery", "-A", "qualify", *args, "--loglevel", "INFO"],
            cwd=ROOT, env=self.env(**env), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        proc.log_path = log.name  # type: ignore[attr-defined]
        self.procs.append(proc)
        return proc

    def send(self, task, *args, **kwargs) -> None:
        """Publish like beat or an after-commit hook would, to this broker and prefix."""
        with app.connection_for_write(self.url, transport_options={"global_keyprefix": self.prefix}) as conn:
            task.apply_async(args=args, kwargs=kwargs, connection=conn)

    def stop(self, proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
        if proc.poll() is None:
            os.killpg(proc.pid, sig)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def log_of(proc: subprocess.Popen) -> str:
    return Path(proc.log_path).read_text(errors="replace")  # type: ignore[attr-defined]


@contextmanager
def own_broker(url: str | None = None) -> Iterator[Broker]:
    broker = Broker(url or redis_url(), broker_key_prefix("test"))
    try:
        yield broker
    finally:
        for proc in broker.procs:
            broker.stop(proc)
        try:
            delete_broker_keys(broker.url, broker.prefix)
        except Exception:
            pass  # a private server the test already stopped


def wait_for(check, seconds: float, what: str, procs: list[subprocess.Popen] = ()) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    logs = "\n".join(log_of(p)[-3000:] for p in procs)
    pytest.fail(f"{what} not within {seconds} s\n{logs}")


class PrivateRedis:
    """A redis-server on a free port that only this test uses, so it can be stopped and restarted
    (never the machine's shared Redis)."""

    def __init__(self) -> None:
        if not shutil.which("redis-server"):
            pytest.skip("no redis-server binary")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.dir = tempfile.mkdtemp(prefix="qualify-redis-")
        self.proc: subprocess.Popen | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
             "--appendfsync", "everysec", "--dir", self.dir],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        import redis

        wait_for(lambda: _ping(redis.Redis.from_url(self.url)), 10, "redis-server start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def _ping(client) -> bool:
    try:
        return client.ping()
    except Exception:
        return False
