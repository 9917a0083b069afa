import pytest

from qualify.frameworks.models import Framework
from qualify.frameworks.selection import framework_for, frameworks_for_team
from qualify.leads.models import Segment
from tests.factories import AccountFactory, LeadFactory
from tests.frameworks.factories import FrameworkFactory


@pytest.fixture
def enterprise_lead(north):
    return LeadFactory(team=north, account=AccountFactory(team=north, segment=Segment.ENTERPRISE))


@pytest.fixture
def specific(db, north, south):
    """Team- and segment-specific frameworks; BANT stays at position 0."""
    south_fw = FrameworkFactory(name="South way", position=10)
    south_fw.teams.add(south)
    enterprise_fw = FrameworkFactory(name="Enterprise", position=20, segments=[Segment.ENTERPRISE])
    return {"south": south_fw, "enterprise": enterprise_fw}


def test_bant_applies_to_every_lead_by_default(alices_lead, south_lead):
    assert framework_for(alices_lead).slug == "bant"
    assert framework_for(south_lead).slug == "bant"


def test_team_specific_framework_applies_only_to_that_team(specific, alices_lead, south_lead):
    assert framework_for(south_lead) == specific["south"]
    assert framework_for(alices_lead).slug == "bant"


def test_segment_specific_framework_applies_only_to_that_segment(specific, enterprise_lead, alices_lead):
    assert alices_lead.account.segment == Segment.MID_MARKET
    assert framework_for(enterprise_lead) == specific["enterprise"]
    assert framework_for(alices_lead).slug == "bant"


def test_team_and_segment_must_both_match(specific, north, south, enterprise_lead):
    specific["enterprise"].teams.add(south)

    assert framework_for(enterprise_lead).slug == "bant"

    specific["enterprise"].teams.add(north)
    assert framework_for(enterprise_lead) == specific["enterprise"]


def test_lowest_position_wins_among_matches(specific, south_lead):
    specific["enterprise"].segments = []
    specific["enterprise"].position = 5
    specific["enterprise"].save()

    assert framework_for(south_lead) == specific["enterprise"]


def test_inactive_frameworks_are_skipped(specific, south_lead):
    Framework.objects.filter(pk=specific["south"].pk).update(active=False)

    assert framework_for(south_lead).slug == "bant"


def test_the_default_is_tried_last_whatever_its_position(specific, south_lead):
    bant = Framework.objects.get(slug="bant")
    assert bant.position < specific["south"].position

    assert framework_for(south_lead) == specific["south"]


def test_without_a_default_unmatched_leads_get_no_framework(specific, alices_lead):
    Framework.objects.filter(slug="bant").update(is_default=False, active=False)

    assert framework_for(alices_lead) is None


def test_activating_a_shipped_framework_for_a_segment_is_enough(enterprise_lead, alices_lead):
    meddic = Framework.objects.get(slug="meddic")
    meddic.active = True
    meddic.segments = [Segment.ENTERPRISE]
    meddic.save()

    assert framework_for(enterprise_lead) == meddic
    assert framework_for(alices_lead).slug == "bant"


def test_nothing_applies_when_no_active_framework_matches(alices_lead):
    Framework.objects.update(active=False)

    assert framework_for(alices_lead) is None


def test_frameworks_for_team_lists_what_covers_each_segment(specific, north, south):
    north_view = [(fw.name, segments) for fw, segments in frameworks_for_team(north.pk)]
    south_view = [(fw.name, segments) for fw, segments in frameworks_for_team(south.pk)]

    assert north_view == [("Enterprise", ["Enterprise"]), ("BANT", ["SMB", "Mid-market", "Unsegmented"])]
    assert south_view == [("South way", ["SMB", "Mid-market", "Enterprise", "Unsegmented"])]
