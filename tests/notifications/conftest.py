import pytest

from qualify.leads.models import Stage
from qualify.notifications import delivery
from tests.factories import LeadFactory
from tests.handoff.conftest import qualify_fully
from tests.sla.conftest import frozen, make_mql  # noqa: F401 - fixtures

NEXT = "Demo Tuesday 10:00 with the CFO and IT lead"


@pytest.fixture
def qualified_lead(alice, north, erin):
    lead = LeadFactory(team=north, owner=alice, stage=Stage.WORKING, first_name="Wanda", last_name="Worked")
    qualify_fully(lead, alice)
    return lead


@pytest.fixture
def kicks(monkeypatch):
    """Each time a worker is asked to send e-mail (after a commit), instead of a broker."""
    asked: list[str] = []
    monkeypatch.setattr(delivery.current_app, "send_task", lambda name, *a, **k: asked.append(name))
    return asked


@pytest.fixture
def mailbox(settings):
    from django.core import mail

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox.clear()
    return mail.outbox
