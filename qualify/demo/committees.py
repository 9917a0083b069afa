"""Buying committees and account rules for the demo's scoring models, and the account figures the
account pages and the queue show on day one (an MQA is recorded when it was reached: at seeding)."""

from __future__ import annotations

from qualify.abm.models import AccountRule, AccountScoring, CommitteeRole, Measure, PendingAccount
from qualify.abm.refresh import refresh_accounts
from qualify.leads.models import Account, Persona
from qualify.scoring.models import ScoringModel

# (name, personas, departments, title keywords): persona first, the title for people with none.
ROLES = (
    ("Economic buyer", Persona.ECONOMIC_BUYER, "", "CEO, CFO, COO, Chief, VP of Finance"),
    ("Champion", Persona.CHAMPION, "Sales Operations, Revenue Operations", "Head, Director"),
    ("Technical evaluator", Persona.TECHNICAL_EVALUATOR, "IT, Engineering, Data", "Engineer, Architect, IT Manager"),
    ("User", Persona.END_USER, "Sales", "SDR, Representative, Account Executive"),
)
# (measure, at least, points), 100 in all. The demo's people are busy (median engagement 36 points
# now), so "engaged" means 30 points and an MQA needs 90: about a quarter of the accounts.
RULES = (
    (Measure.ENGAGED_PEOPLE, 3, 25),
    (Measure.ENGAGED_PEOPLE, 5, 10),
    (Measure.DEPARTMENTS, 3, 15),
    (Measure.COVERAGE, 75, 20),
    (Measure.COVERAGE, 100, 10),
    (Measure.FIT, 30, 10),
    (Measure.ACTIVE_WEEK, 3, 10),
)
ENGAGED_POINTS, MQA_THRESHOLD = 30, 90


class CommitteesMixin:
    def create_buying_committees(self) -> int:
        """The same committee and rules for every active scoring model (RevOps edits them in admin)."""
        made = 0
        for model in ScoringModel.objects.filter(active=True):
            scoring, created = AccountScoring.objects.get_or_create(model=model, defaults={"engaged_points": ENGAGED_POINTS,
                                                                                          "mqa_threshold": MQA_THRESHOLD})
            if not created:
                continue
            CommitteeRole.objects.bulk_create([
                CommitteeRole(scoring=scoring, position=i, name=name, personas=persona, departments=departments,
                              title_keywords=keywords)
                for i, (name, persona, departments, keywords) in enumerate(ROLES, 1)
            ])
            AccountRule.objects.bulk_create([AccountRule(scoring=scoring, measure=m, at_least=v, points=p) for m, v, p in RULES])
            made += 1
        return made


def refresh_all_accounts() -> list[int]:
    """Every account's figures now (what the rescore marked pending is done with it); returns the
    ids that became MQAs."""
    became = refresh_accounts(Account.objects.values_list("pk", flat=True))
    PendingAccount.objects.all().delete()
    return became
