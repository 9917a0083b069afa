"""The files that start Qualify: Procfiles, the embedded database URL, the database itself."""

import importlib.util
import re
from pathlib import Path

import environ
import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def _procfile(name: str) -> dict[str, str]:
    lines = (ROOT / name).read_text().splitlines()
    return dict(line.split(":", 1) for line in lines if line.strip() and not line.startswith("#"))


def _devdb():
    spec = importlib.util.spec_from_file_location("devdb", ROOT / "scripts" / "devdb.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_production_procfile_runs_exactly_one_beat():
    commands = _procfile("Procfile").values()
    assert sum(" beat " in command for command in commands) == 1


def test_production_procfile_consumes_every_queue_the_dev_worker_does():
    def queues(command: str) -> set[str]:
        match = re.search(r"-Q (\S+)", command)
        return set(match.group(1).split(",")) if match else set()

    dev_worker = _procfile("Procfile.dev")["worker"]
    production = set().union(*(queues(c) for c in _procfile("Procfile").values()))
    assert queues(dev_worker) <= production
    assert {"default", "scoring", "ingest", "sla"} <= production


def test_embedded_database_url_reaches_psycopg_as_a_socket_folder():
    url = _devdb().database_url(Path("/srv/my app/var/pgdata"))

    config = environ.Env.db_url_config(url)

    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert config["NAME"] == "qualify"
    assert config["USER"] == "postgres"
    assert config["OPTIONS"] == {"host": "/srv/my app/var/pgdata"}


@pytest.mark.django_db
def test_tests_run_on_postgresql():
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        assert int(cursor.fetchone()[0]) >= 150000


def test_every_routed_queue_has_a_worker_in_both_procfiles():
    from django.conf import settings

    def queues(command: str) -> set[str]:
        match = re.search(r"-Q (\S+)", command)
        return set(match.group(1).split(",")) if match else set()

    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()} | {settings.CELERY_TASK_DEFAULT_QUEUE}
    production = set().union(*(queues(c) for c in _procfile("Procfile").values()))
    assert routed <= production
    assert routed <= queues(_procfile("Procfile.dev")["worker"])
