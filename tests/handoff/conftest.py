import pytest

from qualify.frameworks.answers import record_answer
from qualify.frameworks.selection import framework_for
from qualify.leads.models import Stage
from tests.factories import LeadFactory


def qualify_fully(lead, by):
    """Confirm every required criterion of the lead's framework, with evidence."""
    framework = framework_for(lead)
    for c in framework.criteria.filter(active=True, required_for_handoff=True):
        if c.answer_type == "status":
            record_answer(lead, criterion=c, by=by, status="confirmed", evidence=f"{c.dimension}: confirmed on the call with the VP")
        elif c.answer_type == "choice":
            record_answer(lead, criterion=c, by=by, value=c.choices[0], evidence="Confirmed on the discovery call")
        elif c.answer_type == "number":
            record_answer(lead, criterion=c, by=by, value="50000", evidence="Confirmed on the discovery call")
        else:
            record_answer(lead, criterion=c, by=by, value="Written answer", evidence="Confirmed on the discovery call")


@pytest.fixture
def worked_lead(alice, north, erin):
    north.default_ae = erin
    north.save()
    return LeadFactory(team=north, owner=alice, stage=Stage.WORKING, first_name="Wanda", last_name="Worked")


@pytest.fixture
def qualified_lead(worked_lead, alice):
    qualify_fully(worked_lead, alice)
    return worked_lead
