"""Custom property values: coercion, validation and inference (qualify/leads/properties.py)."""

import pytest

from qualify.errors import DomainError
from qualify.leads import properties
from qualify.leads.models import Property, PropertyKind


def prop(kind, **kw):
    return Property(key=kw.pop("key", "p"), label=kw.pop("label", "P"), kind=kind, **kw)


@pytest.mark.parametrize(
    ("kind", "raw", "stored"),
    [
        (PropertyKind.NUMBER, "12", 12),
        (PropertyKind.NUMBER, "1,5", 1.5),
        (PropertyKind.NUMBER, "1,234.5", 1234.5),
        (PropertyKind.NUMBER, 3.0, 3),
        (PropertyKind.NUMBER, "-0.25", -0.25),
        (PropertyKind.YESNO, "yes", True),
        (PropertyKind.YESNO, "No", False),
        (PropertyKind.YESNO, False, False),
        (PropertyKind.DATE, "2024-03-01", "2024-03-01"),
        (PropertyKind.DATE, "01/03/2024", "2024-03-01"),
        (PropertyKind.TEXT, "  Google ", "Google"),
        (PropertyKind.TEXT, "", None),
    ],
)
def test_coerce_stores_the_json_shape(kind, raw, stored):
    assert properties.coerce(prop(kind), raw) == stored


def test_choice_keeps_the_defined_spelling_and_refuses_unknown_choices():
    p = prop(PropertyKind.CHOICE, choices=["Google", "Live chat"])
    assert properties.coerce(p, "google") == "Google"
    with pytest.raises(DomainError, match="not a choice of P"):
        properties.coerce(p, "Bing")


@pytest.mark.parametrize(
    ("kind", "raw"),
    [
        (PropertyKind.NUMBER, "twelve"),
        (PropertyKind.NUMBER, True),
        (PropertyKind.NUMBER, "nan"),
        (PropertyKind.NUMBER, "1e400"),
        (PropertyKind.NUMBER, 2**60),
        (PropertyKind.YESNO, "maybe"),
        (PropertyKind.DATE, "2024-13-45"),
        (PropertyKind.TEXT, "x" * (properties.TEXT_MAX_LENGTH + 1)),
        (PropertyKind.TEXT, {"nested": 1}),
    ],
)
def test_wrong_type_or_huge_value_is_a_clear_error(kind, raw):
    with pytest.raises(DomainError) as e:
        properties.coerce(prop(kind), raw)
    assert e.value.field == "p"


def test_clean_values_refuses_unknown_keys_and_leaves_the_current_dict_alone():
    known = {"visits": prop(PropertyKind.NUMBER, key="visits", label="Visits")}
    current = {"visits": 3}
    with pytest.raises(DomainError, match="Unknown lead property: nope"):
        properties.clean_values("lead", current, {"visits": "4", "nope": 1}, known=known)
    with pytest.raises(DomainError, match="Visits must be a number"):
        properties.clean_values("lead", current, {"visits": "many"}, known=known)
    assert current == {"visits": 3}
    assert properties.clean_values("lead", current, {"visits": "4"}, known=known) == {"visits": 4}
    assert properties.clean_values("lead", current, {"visits": ""}, known=known) == {}


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        (["yes", "no", "no"], PropertyKind.YESNO),
        (["1", "0", "1"], PropertyKind.NUMBER),
        (["12", "3.5", ""], PropertyKind.NUMBER),
        (["2024-01-02", "2023-12-31"], PropertyKind.DATE),
        (["admin.", "blue-collar", "admin."], PropertyKind.CHOICE),
        ([f"free text {i}" for i in range(50)], PropertyKind.TEXT),
        ([], PropertyKind.TEXT),
    ],
)
def test_infer_guesses_the_kind_of_a_column(values, kind):
    assert properties.infer(values)[0] == kind


def test_make_key_turns_a_header_into_a_slug():
    assert properties.make_key("Time on site (s)") == "time_on_site_s"
    assert properties.make_key("2nd visit") == "p_2nd_visit"
    assert properties.make_key("emp.var.rate") == "emp_var_rate"
