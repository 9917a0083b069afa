"""CSV exports: every CSV download goes through `csv_response`, which neutralises formulas.

A cell that begins with =, +, -, @, a tab or a carriage return is run as a formula by Excel,
LibreOffice and Google Sheets (=HYPERLINK(...) sending data away, =cmd|... on old Excel). Lead
names, companies and notes come from web forms and CSV imports, so exported text is prefixed with
a single quote, as OWASP's "CSV injection" page advises: spreadsheets then show it as text. Imports
keep such values exactly as typed; only what leaves as CSV is changed. Numbers are left alone
(a negative number is not a formula), and so is text that is only a number ("-3.5").
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from typing import Any

from django.http import HttpResponse

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def safe_cell(value: Any) -> Any:
    """`value`, or the text prefixed with ' when a spreadsheet would run it as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> HttpResponse:
    """An attachment download of `header` and `rows`, every cell through safe_cell."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    w = csv.writer(response)
    w.writerow([safe_cell(h) for h in header])
    w.writerows([safe_cell(v) for v in row] for row in rows)
    return response
