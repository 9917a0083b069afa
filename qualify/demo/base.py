"""What the generator's parts share: the plan of one lead (its steps, touches and events), small
helpers for dates and weighted draws, and `GeneratorState`, the random streams and clock."""

from __future__ import annotations

import datetime
import random
import re
import unicodedata
from dataclasses import dataclass, field
from typing import IO, Any

from django.utils import timezone
from faker import Faker

from accounts.models import User
from qualify.demo.tables import COUNTRIES
from qualify.leads.models import DisqualifyReason, Event, Lead, Touch


@dataclass
class Step:
    to: str
    actor: str  # "system", "sdr" or "ae"
    why: str = ""
    reason: DisqualifyReason | None = None
    at: datetime.datetime | None = None
    raw: datetime.datetime | None = None  # before moving into working hours
    note: str = ""  # a handoff's note to the AE (the next step itself is `why`, as hand_off writes it)
    meet_in: int = 0  # a handoff's next step is this many business days after it


@dataclass
class Plan:
    lead: Lead
    steps: list[Step]
    sdr: User | None
    ae: User | None
    mql_trigger: str = ""  # "demo_request" when a demo request made it an MQL
    events: list[Event] = field(default_factory=list)
    touches: list[Touch] = field(default_factory=list)



def write_line(stdout: IO[str], message: str = "") -> None:
    stdout.write(message + "\n")  # Django's OutputWrapper does not add a second newline


def fold_ascii(text: str) -> str:
    text = text.replace("ß", "ss").replace("æ", "ae").replace("ø", "o")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


# Words a family name may start with in lower case ("Jan van der Berg", "Ana da Costa").
PARTICLES = frozenset({"van", "von", "der", "den", "de", "da", "das", "do", "dos", "del", "la", "le", "ter", "ten",
                       "het", "'t", "'s", "d'", "en", "und", "zu", "die"})
_INVERTED = re.compile(r"^(?P<name>[^,]+), (?P<particle>[^,]+)$")


def well_formed_last_name(name: str) -> bool:
    """One line, words single-spaced, no comma; the last word capitalised and any lower-case word
    before it a particle."""
    words = [w.removeprefix("d'") if len(w) > 2 else w for w in name.split(" ")]  # "d'Heripon"
    return (bool(name) and "," not in name and "' " not in name and all(words) and words[-1][:1].isupper()
            and all(w[:1].isupper() or w in PARTICLES for w in words))


def last_name(fake: Faker) -> str:
    """A family name as people write it. Faker's Dutch list files a few under their particle
    ("West-Francië, van") and spaces one apostrophe ("d' Heripon"): those are put the right way
    round ("van West-Francië", "d'Heripon"). Anything still odd ("auch Schlauchin", a German
    list's typo) is drawn again; the lists hold a handful of such names among thousands."""
    for _ in range(20):
        name = fake.last_name().strip()
        if m := _INVERTED.match(name):
            name = f"{m['particle']} {m['name']}"
        name = re.sub(r"' +", "'", name) if name.startswith("d' ") else name
        if well_formed_last_name(name):
            return name
    raise ValueError(f"no well-formed last name from {fake.locales}")  # the lists changed beyond recognition


def person_name(fake: Faker) -> tuple[str, str]:
    """A first and a well-formed last name from one locale's lists."""
    return fake.first_name(), last_name(fake)


def note_date(day: datetime.date) -> str:
    """How reps write a date in a note: 'Thu 14 Mar'."""
    return f"{day:%a} {day.day} {day:%b}"


def business_days_after(day: datetime.date, n: int) -> datetime.date:
    while n > 0:
        day += datetime.timedelta(days=1)
        n -= day.weekday() < 5
    return day


def log_uniform(rng: random.Random, lo: float, hi: float) -> float:
    return lo * (hi / lo) ** rng.random()


def pick(rng: random.Random, weighted: tuple[tuple[Any, float], ...] | list[tuple[Any, float]]) -> Any:
    items, weights = zip(*weighted, strict=True)
    return rng.choices(items, weights=weights)[0]


class GeneratorState:
    """What every part of the generator shares: the random streams, seeded Faker instances, "now"
    and the window of history. Each mixin beside it adds the methods for one kind of row."""

    def __init__(self, *, leads: int, accounts: int, days: int, seed: int, stdout: IO[str] | None) -> None:
        if days < 1:
            raise ValueError("days must be at least 1")
        self.n_leads, self.n_accounts, self.days = max(leads, 0), max(accounts, 1), days
        self.seed = seed
        self.rng = random.Random(seed)
        # Shifting times into working hours depends on what day "now" is; it draws from its own
        # stream so that everything else (people, stages, counts, notes) is the same on any day.
        self.time_rng = random.Random(seed * 7919 + 1)
        # Answers are planned after everything else, from a stream of their own (see plan_answers).
        self.qual_rng = random.Random(seed * 104729 + 3)
        self.fakers: dict[str, Faker] = {}
        for i, (_, _, _, locale, _) in enumerate(COUNTRIES.values()):
            fake = Faker(locale)
            fake.seed_instance(seed * 1000 + i)
            self.fakers[locale] = fake
        self.stdout = stdout
        self.phones: set[str] = set()  # the seeded phones' duplicate keys: no two leads share one
        self.now = timezone.now().replace(microsecond=0)
        self.today = timezone.localdate(self.now)
        # A few minutes inside the window, so "within the last `days`" still holds when checked later.
        self.window_start = self.now - datetime.timedelta(days=days) + datetime.timedelta(minutes=10)
        self.year = self.today.year

    def say(self, message: str) -> None:
        if self.stdout is not None:
            write_line(self.stdout, message)
