"""factory-boy factories for the domain; tests build data only through these."""

import datetime

import factory
from django.utils import timezone

from accounts.models import Membership, Role, Team, User
from qualify.leads.models import Account, Event, Lead, Segment, Source, Stage, Touch


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Team {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")

    @factory.post_generation
    def password(self, create, value, **kwargs):
        self.set_password(value or "pw")
        if create:
            self.save(update_fields=["password"])

    @classmethod
    def with_role(cls, role: str, team: Team, **kwargs) -> User:
        user = cls(**kwargs)
        Membership.objects.get_or_create(user=user, team=team, role=role)
        return user


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Faker("company")
    domain = factory.Sequence(lambda n: f"company{n}.example")
    industry = "Software"
    employee_count = 250
    country = "US"
    region = "NA"
    segment = Segment.MID_MARKET
    team = factory.SubFactory(TeamFactory)


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"lead{n}@company.example")
    title = "VP Operations"
    source = Source.INBOUND
    account = factory.SubFactory(AccountFactory, team=factory.SelfAttribute("..team"))
    team = factory.SubFactory(TeamFactory)
    stage = Stage.NEW
    recycle_on = factory.LazyAttribute(
        lambda o: timezone.localdate() + datetime.timedelta(days=30) if o.stage == Stage.NURTURE else None
    )


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    lead = factory.SubFactory(LeadFactory)
    type = "page_view"
    properties = factory.LazyFunction(lambda: {"page_category": "pricing"})
    occurred_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(hours=1))


class TouchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Touch

    lead = factory.SubFactory(LeadFactory)
    author = factory.SubFactory(UserFactory)
    kind = "call"
    outcome = "connected"


__all__ = ["Role"]
