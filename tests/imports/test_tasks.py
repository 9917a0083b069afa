from qualify.celery import app
from qualify.imports import tasks
from qualify.imports.models import ImportJob


def test_the_moved_task_answers_to_its_old_name_on_the_io_queue():
    """Messages queued before imports became an app name 'analytics.run_import'."""
    assert tasks.run_import.name == "analytics.run_import"
    assert app.tasks["analytics.run_import"].run.__module__ == "qualify.imports.tasks"
    route = app.amqp.router.route({}, "analytics.run_import", (1,), {})
    assert route["queue"].name == "io"


def test_import_jobs_keep_their_table():
    assert (ImportJob._meta.app_label, ImportJob._meta.db_table) == ("imports", "analytics_importjob")
