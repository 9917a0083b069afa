"""RevOps edits frameworks and criteria in admin; answers are read-only there."""

import pytest

from qualify.frameworks.answers import record_answer
from qualify.frameworks.models import Criterion, CriterionRevision, Framework


def form_data(response) -> dict:
    """What the browser would post back unchanged: the main form and every inline formset."""
    data = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        forms.append(formset.management_form)
        forms.extend(formset.forms)
    for form in forms:
        for name, field in form.fields.items():
            value = form[name].value()
            if value is None or value is False:
                continue
            key = form.add_prefix(name)
            if isinstance(value, (list, tuple)) and not isinstance(value, str):
                data[key] = [getattr(v, "pk", v) for v in value]
            else:
                data[key] = field.prepare_value(value) if hasattr(field, "prepare_value") else value
    return data


@pytest.mark.parametrize(
    "path",
    [
        "/admin/frameworks/framework/",
        "/admin/frameworks/criterion/",
        "/admin/frameworks/answer/",
        "/admin/frameworks/framework/add/",
        "/admin/frameworks/criterion/?framework__id__exact=1",
        "/admin/frameworks/answer/?q=dana",
    ],
)
def test_admin_pages_render(admin_client, path, alices_lead, alice, bant_criteria):
    record_answer(alices_lead, criterion=bant_criteria["need"], by=alice, status="unknown")

    assert admin_client.get(path).status_code == 200


def test_framework_change_page_shows_criteria_inline(admin_client, bant):
    response = admin_client.get(f"/admin/frameworks/framework/{bant.pk}/change/")

    assert response.status_code == 200
    assert "Is budget allocated" in response.content.decode()


def test_rewording_a_criterion_in_admin_keeps_the_old_wording(admin_client, bant_criteria):
    budget = bant_criteria["budget"]
    change_url = f"/admin/frameworks/criterion/{budget.pk}/change/"
    data = form_data(admin_client.get(change_url))
    data["question"] = "Has a budget owner confirmed funds for this project?"

    response = admin_client.post(change_url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    budget.refresh_from_db()
    assert budget.version == 2
    assert CriterionRevision.objects.get(criterion=budget).question.startswith("Is budget allocated")
    page = admin_client.get(change_url).content.decode()
    assert "Earlier wordings" in page
    assert "Is budget allocated" in page


def test_rewording_through_the_framework_inline_also_bumps_the_version(admin_client, bant, bant_criteria):
    change_url = f"/admin/frameworks/framework/{bant.pk}/change/"
    data = form_data(admin_client.get(change_url))
    need_form = next(k for k, v in data.items() if k.endswith("-key") and v == "need").removesuffix("-key")
    data[f"{need_form}-question"] = "What problem hurts enough to fix this quarter?"

    response = admin_client.post(change_url, data)

    assert response.status_code == 302
    need = Criterion.objects.get(pk=bant_criteria["need"].pk)
    assert (need.version, need.question) == (2, "What problem hurts enough to fix this quarter?")
    assert Criterion.objects.get(pk=bant_criteria["budget"].pk).version == 1


def test_choice_criterion_needs_choices(admin_client, bant_criteria):
    change_url = f"/admin/frameworks/criterion/{bant_criteria['budget'].pk}/change/"
    data = form_data(admin_client.get(change_url))
    data["answer_type"] = "choice"
    data["choices"] = "Approved\n"

    response = admin_client.post(change_url, data)

    assert response.status_code == 200
    assert "at least two choices" in response.content.decode()
    assert Criterion.objects.get(pk=bant_criteria["budget"].pk).version == 1

    data["choices"] = "Approved\nIn planning, with a date\nNone"
    assert admin_client.post(change_url, data).status_code == 302
    assert Criterion.objects.get(pk=bant_criteria["budget"].pk).choices == [
        "Approved", "In planning, with a date", "None",
    ]


def test_the_default_framework_cannot_be_limited_to_teams(admin_client, bant, north):
    change_url = f"/admin/frameworks/framework/{bant.pk}/change/"
    data = form_data(admin_client.get(change_url))
    data["teams"] = [north.pk]

    response = admin_client.post(change_url, data)

    assert response.status_code == 200
    assert "leave teams empty" in response.content.decode()
    assert not Framework.objects.get(pk=bant.pk).teams.exists()


def test_answers_cannot_be_added_changed_or_deleted_in_admin(admin_client, alices_lead, alice, bant_criteria):
    answer = record_answer(alices_lead, criterion=bant_criteria["need"], by=alice, status="unknown")

    assert admin_client.get("/admin/frameworks/answer/add/").status_code == 403
    assert admin_client.get(f"/admin/frameworks/answer/{answer.pk}/delete/").status_code == 403
    view = admin_client.get(f"/admin/frameworks/answer/{answer.pk}/change/")
    assert view.status_code == 200
    assert 'name="_save"' not in view.content.decode()
    assert admin_client.post(f"/admin/frameworks/answer/{answer.pk}/change/", {"status": "confirmed"}).status_code == 403
