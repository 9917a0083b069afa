"""The Olist funnel imported through the CSV importer matches an independent count of the files.

The reference figures are computed here with the csv module and collections only, straight from
../shared/datasets/olist/, never through the importer. Imports the real files (8,000 + 842 rows,
about 10 s).
"""

import csv
import datetime
import statistics
from collections import Counter, defaultdict

import pytest

from accounts.models import User
from qualify.analytics import metrics as m
from qualify.imports.management.commands.import_olist import DEFAULT_DIR, DEALS_FILE, MQL_FILE, RANGE, import_olist

pytestmark = pytest.mark.skipif(not (DEFAULT_DIR / MQL_FILE).exists(), reason=f"no Olist data at {DEFAULT_DIR}")


def read(name):
    with (DEFAULT_DIR / name).open(newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def reference():
    mqls = {r["mql_id"]: r for r in read(MQL_FILE)}
    deals = read(DEALS_FILE)
    origin_mqls = Counter(r["origin"] for r in mqls.values())
    origin_won = Counter(mqls[d["mql_id"]]["origin"] for d in deals)
    days = defaultdict(list)
    for d in deals:
        first = datetime.datetime.strptime(mqls[d["mql_id"]]["first_contact_date"], "%Y-%m-%d")
        won = datetime.datetime.strptime(d["won_date"], "%Y-%m-%d %H:%M:%S")
        delta = (won - first).total_seconds() / 86400
        days[mqls[d["mql_id"]]["origin"]].append(delta)
        days[None].append(delta)
    return {
        "mqls": len(mqls), "won": len(deals), "origin_mqls": origin_mqls, "origin_won": origin_won,
        "per_sdr": Counter(d["sdr_id"] for d in deals), "per_seller": Counter(d["sr_id"] for d in deals),
        "median": {k: statistics.median(v) for k, v in days.items()}, "mean": {k: statistics.mean(v) for k, v in days.items()},
        "negative": sum(1 for v in days[None] if v < 0),
    }


def test_olist_imported_through_the_importer_matches_the_files(db, reference):
    """One import (the slow part), three checks: funnel by origin and days to close, deals per
    SDR and seller, and the flagged quirk."""
    result = import_olist(DEFAULT_DIR)
    f = m.Filters(*RANGE, (result["team"].pk,))
    check_funnel(f, reference)
    check_people(f, reference)
    check_quirk(result, reference)


def check_funnel(f, reference):
    total = m.funnel_total(f)
    assert (total.leads, total.mql, total.won) == (reference["mqls"], reference["mqls"], reference["won"])
    assert round(100 * total.won / total.mql, 3) == 10.525

    by_origin = {r.key: r for r in m.funnel_by(f, "campaign")}
    assert {k: r.mql for k, r in by_origin.items()} == dict(reference["origin_mqls"])
    assert {k: r.won for k, r in by_origin.items() if r.won} == dict(reference["origin_won"])
    assert by_origin["social"].lead_to_won == 5.6 and by_origin["paid_search"].lead_to_won == 12.3

    medians = m.median_cycle_days(f, "campaign")
    for origin, expected in reference["median"].items():
        if origin is not None:
            assert medians[origin] == pytest.approx(expected, abs=0.006), origin
            assert by_origin[origin].avg_cycle_days == pytest.approx(reference["mean"][origin], abs=0.051), origin
    assert m.median_cycle_days(f)[""] == pytest.approx(reference["median"][None], abs=0.006) == pytest.approx(14.65, abs=0.006)


def check_people(f, reference):
    names = dict(User.objects.values_list("pk", "username"))
    per_sdr = {names[int(r.key)]: r.won for r in m.funnel_by(f, "sdr") if r.won}
    per_seller = {names[int(r.key)]: r.won for r in m.funnel_by(f, "ae") if r.won}
    assert per_sdr == dict(reference["per_sdr"])
    assert per_seller == dict(reference["per_seller"])


def check_quirk(result, reference):
    """The one deal won before its first contact is imported and flagged."""
    assert reference["negative"] == 1
    (warning,) = result["deals_job"].warnings
    assert "before the lead was created" in warning["message"]
