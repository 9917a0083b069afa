"""Ship BANT, MEDDIC, CHAMP, ANUM and the "four core answers" as editable defaults.

BANT is the default (the catch-all): position 0, no teams, no segments, active. The others ship
inactive: an admin activates one and gives it the teams or segments it is for (MEDDIC for
Enterprise, say); shipped active with no teams, the first of them would replace BANT for everyone.
Weights add up to 100 in each framework so they read as percentages. Existing frameworks (by
slug) are left alone, so admin edits survive.
"""

from django.db import migrations

# Shared wording, reused where frameworks ask the same thing.
AUTHORITY_GUIDANCE = (
    "The name and title of the person who signs for a purchase like this, and how our contact relates "
    "to them: is that person, reports to them, or can get us a meeting. A title alone is not authority; "
    "note how the last similar purchase was approved. Partial: we know who signs but have not met them."
)
ECONOMIC_BUYER_GUIDANCE = (
    "The person who can approve the spend without asking anyone else, by name and title, and a record "
    "of direct contact: a meeting, a call, or a reply to us. Knowing the name without contact is partial; "
    "a contact who cannot say who approves spend is unknown."
)
DECISION_PROCESS_GUIDANCE = (
    "Named stakeholders and the steps from evaluation to signature, in order, with rough dates: "
    "technical evaluation, security review, legal, procurement, signature. 'Waiting on internal "
    "alignment' with no names and no dates is unknown, however friendly the calls are."
)
PAIN_GUIDANCE = (
    "The prospect describes today's workflow and what it costs them (hours, money, risk, missed "
    "targets) in specifics, without prompting. Quote them and note who said it. 'We're exploring "
    "options' or 'just researching' is unknown; 'it works fine today' is negative."
)
COMPELLING_EVENT_GUIDANCE = (
    "A dated event with a consequence if it is missed: a contract renewal, a go-live, a regulatory "
    "deadline, a board meeting, a new leader's mandate, a hiring plan. 'Sometime this year' is unknown; "
    "a date without a reason behind it is partial."
)

FRAMEWORKS = [
    {
        "name": "BANT",
        "slug": "bant",
        "is_default": True,
        "position": 0,
        "description": (
            "Budget, Authority, Need, Timeline. The default for straightforward B2B sales where the buying "
            "process is fairly standard. All four must be confirmed, or partially confirmed with evidence, "
            "before a lead is handed to an AE."
        ),
        "criteria": [
            ("need", "Need", 30, True,
             "Does the organisation have a pressing problem that our product solves?", PAIN_GUIDANCE),
            ("budget", "Budget", 25, True,
             "Is budget allocated, or can it be made available this cycle, to solve this problem?",
             "A named budget line, an approved project, or a buyer who confirms that our price range is "
             "acceptable against the value. 'We would need to find budget' is partial; 'no budget until "
             "next fiscal year' is negative: nurture and recycle at their planning round."),
            ("authority", "Authority", 25, True,
             "Are we talking to the person who decides, or do we have a path to them?", AUTHORITY_GUIDANCE),
            ("timeline", "Timeline", 20, True,
             "Is there a defined date by which they need a solution in place, and a reason for that date?",
             COMPELLING_EVENT_GUIDANCE),
        ],
    },
    {
        "name": "MEDDIC",
        "slug": "meddic",
        "active": False,
        "position": 10,
        "description": (
            "Metrics, Economic buyer, Decision criteria, Decision process, Identify pain, Champion. For "
            "complex enterprise sales with several stakeholders and a formal procurement process. SDRs "
            "confirm pain, access and process before handoff; AEs deepen the rest on accepted deals."
        ),
        "criteria": [
            ("metrics", "Metrics", 15, False,
             "What measurable outcome will the customer use to judge success?",
             "A number with a baseline and a target that someone at the customer owns: 'cut lead response "
             "time from two days to one hour', 'save three people's time on manual reconciliation'. The value "
             "is stated in their terms and can later justify the price."),
            ("economic-buyer", "Economic buyer", 20, True,
             "Who controls the budget for this purchase, and have we had access to them?",
             ECONOMIC_BUYER_GUIDANCE),
            ("decision-criteria", "Decision criteria", 15, False,
             "What criteria will they use to compare options and choose?",
             "Their list, written or spoken: technical requirements, security and compliance, integrations, "
             "price, vendor risk. Note which criteria favour us and which favour a competitor. A shared RFP "
             "or evaluation scorecard is strong evidence."),
            ("decision-process", "Decision process", 15, True,
             "How will the decision be made: which steps, which people, which approvals, by when?",
             DECISION_PROCESS_GUIDANCE),
            ("identify-pain", "Identify pain", 20, True,
             "What specific problem is the prospect facing, and what happens if they do nothing?",
             PAIN_GUIDANCE + " Pain confirmed by more than one person at the account is strong evidence."),
            ("champion", "Champion", 15, True,
             "Who inside the account is actively selling for us, and can they move the deal?",
             "A named person with power or influence and a personal stake in solving the pain, who has done "
             "something for us: shared internal information, arranged a meeting with the economic buyer, "
             "pushed a next step through. Friendly but passive is partial; a champion gone quiet is unknown."),
        ],
    },
    {
        "name": "CHAMP",
        "slug": "champ",
        "active": False,
        "position": 20,
        "description": (
            "Challenges, Authority, Money, Prioritization. Starts from the prospect's challenges rather than "
            "their budget; suits consultative and outbound motions where the problem has to be established "
            "before money is discussed."
        ),
        "criteria": [
            ("challenges", "Challenges", 30, True,
             "What challenges is the prospect trying to solve, and which of them can we address?",
             PAIN_GUIDANCE + " Note which challenges we solve and which we do not."),
            ("authority", "Authority", 25, True,
             "Who takes part in the decision, and who signs?",
             "The buying committee by name and role: who signs, who influences, who will use it, and where "
             "our contact sits among them. A title alone is not authority; note how the last similar "
             "purchase was approved. Partial: we know who signs but have not met them."),
            ("money", "Money", 20, False,
             "Is there money to solve these challenges, from an existing budget or by moving spend?",
             "A budget owner who confirms funds, or a price range tied to the value of solving the challenge. "
             "In CHAMP money can be found when the challenge is big enough, so a credible plan to secure "
             "budget, with its owner, is partial."),
            ("prioritization", "Prioritization", 25, True,
             "How high is solving this on their list, compared with the other projects competing for the same "
             "people and money?",
             "Where this sits among their current initiatives and what would move it up or down. A project "
             "with an owner, a start date and people assigned is a priority; 'nice to have, maybe next "
             "year' is negative."),
        ],
    },
    {
        "name": "ANUM",
        "slug": "anum",
        "active": False,
        "position": 30,
        "description": (
            "Authority, Need, Urgency, Money. Puts reaching the decision-maker first and money last: for "
            "sales where budget follows a strong case made to the right person."
        ),
        "criteria": [
            ("authority", "Authority", 30, True,
             "Are we in conversation with the decision-maker, or with someone who has a direct line to them?",
             AUTHORITY_GUIDANCE),
            ("need", "Need", 30, True,
             "Does the organisation have a need we can meet, confirmed by the people who would buy or use it?",
             PAIN_GUIDANCE),
            ("urgency", "Urgency", 25, True,
             "Why must this be solved now rather than next quarter?",
             COMPELLING_EVENT_GUIDANCE + " Without urgency the deal will slip: record it as unknown or negative."),
            ("money", "Money", 15, False,
             "Can they fund it, now or once the business case is made?",
             "A budget owner who confirms funds or a price range they accept against the value. A plan to "
             "secure budget after the business case, with its owner and date, is partial."),
        ],
    },
    {
        "name": "Four core answers",
        "slug": "four-core-answers",
        "active": False,
        "position": 40,
        "description": (
            "The four answers most frameworks come down to: problem severity, economic buyer access, "
            "decision process and compelling event. For teams who would rather log four good answers "
            "than argue about acronyms."
        ),
        "criteria": [
            ("problem-severity", "Problem severity", 25, True,
             "How severe is the problem, in the prospect's own words and numbers?", PAIN_GUIDANCE),
            ("economic-buyer-access", "Economic buyer access", 25, True,
             "Do we have access to the person who can approve the spend?", ECONOMIC_BUYER_GUIDANCE),
            ("decision-process", "Decision process", 25, True,
             "Do we know how they will decide, who is involved, and in what order?", DECISION_PROCESS_GUIDANCE),
            ("compelling-event", "Compelling event", 25, True,
             "Is there a dated event that forces a decision, and what happens if it is missed?",
             COMPELLING_EVENT_GUIDANCE),
        ],
    },
]


def create(apps, schema_editor):
    Framework = apps.get_model("frameworks", "Framework")
    Criterion = apps.get_model("frameworks", "Criterion")
    for spec in FRAMEWORKS:
        spec = dict(spec)
        criteria = spec.pop("criteria")
        framework, created = Framework.objects.get_or_create(slug=spec["slug"], defaults=spec)
        if not created:
            continue
        Criterion.objects.bulk_create(
            Criterion(
                framework=framework, key=key, position=position * 10, dimension=dimension, weight=weight,
                required_for_handoff=required, question=question, guidance=guidance, answer_type="status",
            )
            for position, (key, dimension, weight, required, question, guidance) in enumerate(criteria)
        )


class Migration(migrations.Migration):
    dependencies = [("frameworks", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
