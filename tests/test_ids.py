"""Ids posted in forms or query strings: anything but ASCII digits is an id that does not exist.

Each door below answered a 500 before: int("²") raises although "²".isdigit() is true, and
filter(pk="abc") raises a ValueError.
"""

import pytest

from qualify.handoff.models import Handoff
from qualify.handoff.workflow import hand_off
from qualify.ids import MAX_ID, given_id, posted_id
from qualify.leads.models import Stage
from qualify.pipeline.models import LeadOpportunityStage, OpportunityStage
from qualify.reviews.models import Verdict
from tests.conftest import login
from tests.factories import LeadFactory
from tests.handoff.conftest import qualify_fully
from tests.reviews.conftest import flags, north_sqls, plan, queue  # noqa: F401 - fixtures

ODD = ["abc", "²", "١", "1.5", "1e5", "-1", " ", "9" * 30, str(MAX_ID + 1)]
NEXT = "Demo Tuesday 10:00 with the CFO and IT lead"


def test_posted_id_reads_ascii_digits_up_to_bigint_only():
    assert [posted_id(v) for v in ("7", " 42 ", "0", str(MAX_ID))] == [7, 42, 0, MAX_ID]
    assert [posted_id(v) for v in [*ODD, "", None, 7, ["1"]]] == [None] * (len(ODD) + 4)


@pytest.fixture
def worked(north, alice, erin):
    lead = LeadFactory(team=north, owner=alice, stage=Stage.WORKING)
    qualify_fully(lead, alice)
    return lead


@pytest.mark.parametrize("value", ODD)
def test_the_ae_to_hand_to(client, alice, worked, value):
    r = login(client, alice).post(f"/leads/{worked.pk}/hand-off/", {"to_user": value, "next_step": NEXT})
    assert r.status_code == 400 and "Choose the AE to hand this lead to." in r.content.decode()
    assert not Handoff.objects.exists()


@pytest.mark.parametrize("value", ODD)
def test_a_rejections_reason(client, alice, erin, worked, value):
    h = hand_off(worked, to=erin, by=alice, next_step=NEXT)
    r = login(client, erin).post(f"/handoffs/{h.pk}/reject/", {"reason": value, "note": "Not the buyer at all, sorry"})
    assert r.status_code == 200 and "reason" in r.content.decode().lower()
    h.refresh_from_db()
    assert h.status == "pending"


@pytest.mark.parametrize("value", ODD)
def test_an_opportunitys_sub_stage(client, north, maria, value):
    lead = LeadFactory(team=north, stage=Stage.OPPORTUNITY)
    r = login(client, maria).post(f"/leads/{lead.pk}/opportunity-stage/", {"stage": value}, follow=True)
    assert r.status_code == 200 and "Choose a sub-stage." in r.content.decode()
    assert not LeadOpportunityStage.objects.exists()


@pytest.mark.parametrize("value", ["²", "١"])
def test_a_verdicts_red_flag(client, queue, maria, value):  # noqa: F811 - the fixture
    item = queue.items.first()
    r = login(client, maria).post(f"/reviews/items/{item.pk}/verdict/", {"verdict": Verdict.CONFIRMED, "flags": value})
    assert r.status_code == 302
    item.refresh_from_db()
    assert item.verdict == Verdict.CONFIRMED and not item.flags.exists()


@pytest.mark.parametrize("value", [v for v in ODD if v.strip()])
@pytest.mark.parametrize("path", [*(f"/calibration/?{n}=" for n in ("days", "model", "team")),
                                  *(f"/calibration/leads/?{n}=" for n in ("rule", "reason", "band")),
                                  "/calibration/leads/?band=²-5&x="])
def test_the_calibration_pages_numbers(client, maria, path, value):
    r = login(client, maria).get(path + value)
    assert r.status_code in (400, 404), (path, value, r.status_code)


# A lead id in other digits: int("١٢") and int("１２") are 12, so a door that read ids with int()
# (access_lead, the bulk bar's selection, DRF's IntegerField) answered lead 12 under another name.
NON_ASCII = [str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"), str.maketrans("0123456789", "０１２３４５６７８９")]


@pytest.mark.parametrize("digits", NON_ASCII)
def test_a_lead_id_in_other_digits_names_no_lead(client, alice, erin, worked, digits):
    other = str(worked.pk).translate(digits)
    login(client, alice)
    for path in (f"/api/leads/{other}/", f"/api/leads/{other}/history/", f"/api/assignments/?lead={other}",
                 f"/api/sla-clocks/?lead={other}"):
        assert client.get(path).status_code == 404, path
    r = client.post("/api/handoffs/", {"lead": other, "to_user": erin.pk, "next_step": NEXT}, content_type="application/json")
    assert r.status_code == 400 and "lead" in r.json()
    r = client.post("/queue/bulk/", {"action": "claim", "ids": [other]}, follow=True)
    assert "The selection is not a list of lead ids." in r.content.decode()
    assert not Handoff.objects.exists()
    worked.refresh_from_db()
    assert worked.stage == Stage.WORKING


def test_given_id_takes_a_whole_number_as_it_is_and_text_as_posted_id_does():
    assert [given_id(v) for v in (7, 0, MAX_ID, "12", " 12 ")] == [7, 0, MAX_ID, 12, 12]
    assert [given_id(v) for v in (True, -1, MAX_ID + 1, 1.0, "١٢", "１２", None)] == [None] * 7


@pytest.mark.parametrize("digits", NON_ASCII)
def test_a_handoff_or_opportunity_lead_id_in_other_digits_names_nothing(client, alice, erin, maria, north, worked, digits):
    h = hand_off(worked, to=erin, by=alice, next_step=NEXT)
    assert login(client, alice).get(f"/api/handoffs/{str(h.pk).translate(digits)}/").status_code == 404
    assert client.get(f"/api/handoffs/{h.pk}/").status_code == 200
    opportunity = LeadFactory(team=north, stage=Stage.OPPORTUNITY)
    stage = OpportunityStage.objects.order_by("id").first()
    r = login(client, maria).post("/api/requalifications/move-sub-stage/",
                                  {"lead": str(opportunity.pk).translate(digits), "stage": stage.pk}, content_type="application/json")
    assert r.status_code == 400 and "lead" in r.json()
    assert not LeadOpportunityStage.objects.exists()
