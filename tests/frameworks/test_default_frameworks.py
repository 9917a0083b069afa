from qualify.frameworks.models import Framework

EXPECTED = {
    "bant": ["Need", "Budget", "Authority", "Timeline"],
    "meddic": ["Metrics", "Economic buyer", "Decision criteria", "Decision process", "Identify pain", "Champion"],
    "champ": ["Challenges", "Authority", "Money", "Prioritization"],
    "anum": ["Authority", "Need", "Urgency", "Money"],
    "four-core-answers": ["Problem severity", "Economic buyer access", "Decision process", "Compelling event"],
}


def test_default_frameworks_exist_after_migrate(db):
    frameworks = {f.slug: f for f in Framework.objects.prefetch_related("criteria")}

    assert set(EXPECTED) <= set(frameworks)
    for slug, dimensions in EXPECTED.items():
        criteria = list(frameworks[slug].criteria.all())
        assert [c.dimension for c in criteria] == dimensions
        assert sum(c.weight for c in criteria) == 100
        assert all(c.question.endswith("?") and len(c.guidance) > 80 for c in criteria)
        assert all(c.active and c.version == 1 for c in criteria)


def test_only_bant_ships_active_the_others_wait_for_teams_or_segments(db):
    assert list(Framework.objects.filter(active=True).values_list("slug", flat=True)) == ["bant"]


def test_bant_is_the_catch_all_default_with_all_four_required(bant):
    assert (bant.is_default, bant.active, bant.position, list(bant.teams.all()), bant.segments) == (
        True, True, 0, [], [],
    )
    assert all(c.required_for_handoff for c in bant.criteria.all())
    assert Framework.objects.filter(is_default=True).count() == 1


def test_meddic_requires_pain_economic_buyer_champion_and_process(db):
    meddic = Framework.objects.get(slug="meddic")

    required = {c.dimension for c in meddic.criteria.all() if c.required_for_handoff}
    assert required == {"Identify pain", "Economic buyer", "Champion", "Decision process"}
