"""What accounts contribute to the account page, the lead page, the queue and the account API
(qualify/leads/panels.py names these paths; the core never imports this app)."""

from __future__ import annotations

from typing import Any

from django.utils import formats, timezone

from accounts.models import User

from qualify.scoring.engine import display

from .measures import Summary, summary_for
from .models import AccountScore


def _mqa(account_id: int) -> AccountScore | None:
    return AccountScore.objects.filter(account_id=account_id).first()


def account_page_context(account, people, user) -> dict[str, Any]:
    """Engagement by department and persona, the committee and the MQA state; each person in the
    page's table gets `engagement_now`, `engaged` and the `roles` they fill. 5 queries."""
    summary = summary_for(account.pk)
    by_id = {p.lead_id: p for p in summary.people}
    fills = {}
    for role in summary.roles:
        for p in role.filled_by + role.known:
            fills.setdefault(p.lead_id, []).append(role.name)
    for lead in people:
        person = by_id.get(lead.pk)
        lead.engagement_now = person.engagement if person else 0.0
        lead.engaged = bool(person and person.engaged)
        lead.active_week = bool(person and person.active_week)
        lead.roles = fills.get(lead.pk, [])
    return {"abm": summary, "abm_score": _mqa(account.pk)}


OTHERS_SHOWN = 8


def lead_committee_context(lead, user) -> dict[str, Any]:
    """The lead page's compact panel: the buying committee at the lead's account, its MQA state, and
    who owns the account's other people (the most engaged first). 6 queries."""
    summary = summary_for(lead.account_id)
    others = sorted((p for p in summary.people if p.lead_id != lead.pk), key=lambda p: (-p.engagement, p.lead_id))
    names = {u.pk: str(u) for u in User.objects.filter(pk__in={p.owner_id for p in others[:OTHERS_SHOWN] if p.owner_id})}
    return {
        "committee": summary,
        "account_score": _mqa(lead.account_id),
        "account_others": [(p, names.get(p.owner_id, "team pool")) for p in others[:OTHERS_SHOWN]],
        "account_others_more": max(0, len(others) - OTHERS_SHOWN),
    }


def decorate_queue_rows(leads, user) -> None:
    """'MQA · 3 engaged this week' beside a company in the queue: 1 query per page, of the two
    columns `signal` reads."""
    stored = {s.account_id: s for s in AccountScore.objects.filter(account_id__in={lead.account_id for lead in leads})
              .only("account_id", "mqa_at", "engaged_this_week")}
    for lead in leads:
        s = stored.get(lead.account_id)
        lead.account_signal = signal(s) if s else ""
        lead.account_mqa = bool(s and s.mqa_at)


def signal(s: AccountScore) -> str:
    parts = []
    if s.mqa_at:
        parts.append("MQA")
    if s.engaged_this_week >= 2:
        parts.append(f"{s.engaged_this_week} people engaged this week")
    return " · ".join(parts)


def account_api_detail(account, user) -> dict[str, Any]:
    summary = summary_for(account.pk)
    stored = _mqa(account.pk)
    return {"qualification": as_json(summary, stored)}


def as_json(s: Summary, stored: AccountScore | None) -> dict[str, Any]:
    return {
        "computed_at": timezone.now().isoformat(),
        "engagement": round(s.engagement, 3),
        "engagement_shown": display(s.engagement),
        "by_department": [{"department": d, "engagement": round(v, 3), "people": n} for d, v, n in s.by_department],
        "by_persona": [{"persona": d, "engagement": round(v, 3), "people": n} for d, v, n in s.by_persona],
        "people": len(s.people),
        "engaged_people": s.engaged_people,
        "departments_engaged": s.departments_engaged,
        "engaged_this_week": s.engaged_this_week,
        "fit": round(s.fit, 3),
        "committee": [
            {"role": r.name, "covered": r.covered, "filled_by": [p.lead_id for p in r.filled_by],
             "known_not_engaged": [p.lead_id for p in r.known]}
            for r in s.roles
        ],
        "roles_covered": s.roles_covered,
        "score": s.account_score,
        "score_lines": [{"rule": label, "points": points} for label, points in s.lines],
        "mqa_threshold": s.mqa_threshold,
        "mqa_at": stored.mqa_at.isoformat() if stored and stored.mqa_at else None,
    }


def score_signals(lead) -> list[str]:
    """Beside the lead's score explanation: its account's MQA and this week's activity (1 query)."""
    stored = AccountScore.objects.filter(account_id=lead.account_id).select_related("account").first()
    if stored is None:
        return []
    name = stored.account.name
    out = []
    if stored.mqa_at:
        out.append(f"{name} is a marketing-qualified account (since {formats.date_format(timezone.localtime(stored.mqa_at), 'DATE_FORMAT')}; "
                   f"account score {stored.score}, {stored.roles_covered} of {stored.roles_total} committee roles covered).")
    if stored.engaged_this_week >= 2:
        out.append(f"{stored.engaged_this_week} people at {name} engaged this week.")
    return out
