"""Accounts: company names in the country's language, their domains, size, revenue band, segment,
team and owning AE."""

from __future__ import annotations

import datetime
import math
import random
import re

from faker import Faker

from qualify.demo.base import GeneratorState, fold_ascii, log_uniform, pick
from qualify.demo.tables import BATCH, COUNTRIES, GOV_TLD, INDUSTRIES, LEGAL_WORDS, REVENUE_BANDS
from qualify.leads.models import Account, RevenueBand, Segment


LEGAL_FORMS = {
    "inc", "llc", "ltd", "plc", "group", "gmbh", "ag", "kg", "kgaa", "ev", "sa", "sas", "sarl", "bv", "nv", "ab",
    "hb", "kb", "sl", "slu", "scoop", "scom", "ltda", "me", "epp", "eireli", "ei", "snc", "sca", "scs", "sa.",
}


def with_suffix(name: str, suffix: str) -> str:
    """'Margraf GmbH' + 'Bank' -> 'Margraf Bank GmbH': the industry word goes before the legal form."""
    head, dash, tail = name.partition(" - ")
    tokens = head.split(" ")
    for i, token in enumerate(tokens[1:], start=1):
        if re.sub(r"[^a-z]", "", fold_ascii(token)) in LEGAL_FORMS:
            return " ".join([*tokens[:i], suffix, *tokens[i:]]) + dash + tail
    return f"{head} {suffix}{dash}{tail}"



class AccountsMixin(GeneratorState):
    def create_accounts(self) -> list[Account]:
        rng = self.rng
        used_domains = set(Account.objects.exclude(domain="").values_list("domain", flat=True))
        used_names: set[str] = set()
        country_choices = [(c, spec[0]) for c, spec in COUNTRIES.items()]
        industry_choices = [(i, spec[0]) for i, spec in INDUSTRIES.items()]
        accounts: list[Account] = []
        for _ in range(self.n_accounts):
            country = pick(rng, country_choices)
            _, team_name, region, locale, tld = COUNTRIES[country]
            industry = pick(rng, industry_choices)
            if industry == "Government":
                tld = GOV_TLD.get(country, tld)
            fake = self.fakers[locale]
            name = self.company_name(fake, industry, used_names)
            employees = max(3, min(250_000, int(math.exp(rng.gauss(5.6, 1.6)))))
            segment = Segment.SMB if employees < 200 else Segment.MID_MARKET if employees < 2000 else Segment.ENTERPRISE
            low, high = INDUSTRIES[industry][2]
            revenue = employees * rng.uniform(low, high) * 1000
            band = next((b for limit, b in REVENUE_BANDS if revenue < limit), RevenueBand.OVER_1B)
            owner_chance = {Segment.SMB: 0.2, Segment.MID_MARKET: 0.45, Segment.ENTERPRISE: 0.85}[segment]
            owner = rng.choice(self.aes[team_name]) if rng.random() < owner_chance else None
            accounts.append(Account(
                name=name, domain=self.domain(name, tld, used_domains), industry=industry, employee_count=employees,
                revenue_band=band, country=country, region=region, segment=segment, team=self.teams[team_name],
                owner=owner, created_at=self.now - datetime.timedelta(days=days_ago(rng, self.days)),
            ))
        Account.objects.bulk_create(accounts, batch_size=BATCH)
        self.say(f"  {len(accounts)} accounts")
        return accounts

    def company_name(self, fake: Faker, industry: str, used: set[str]) -> str:
        rng = self.rng
        suffixes = INDUSTRIES[industry][1]
        for attempt in range(50):
            if industry == "Government":
                city = fake.city()
                name = rng.choice((f"City of {city}", f"{city} County", f"{city} Transit Authority",
                                   f"{city} Public Works"))
            else:
                name = fake.company()
                bare = not re.search(r"[\s\-&,]", name)
                if bare or rng.random() < 0.3 or attempt > 10:
                    name = with_suffix(name, rng.choice(suffixes))
            if name not in used:
                used.add(name)
                return name
        raise RuntimeError("could not find a unique company name")  # pragma: no cover

    def domain(self, name: str, tld: str, used: set[str]) -> str:
        words = [w for w in re.findall(r"[a-z0-9]+", fold_ascii(name)) if w not in LEGAL_WORDS and len(w) > 2]
        words = words or ["company"]
        first = words[0]
        bases = [first]
        if len(words) > 1:
            second = words[1]
            bases = [first + second, first, f"{first}-{second}"] if self.rng.random() < 0.5 else [first, first + second]
        bases += [f"{first}hq", f"get{first}", f"{first}group"]
        for base in bases:
            domain = f"{base}.{tld}"
            if domain not in used:
                used.add(domain)
                return domain
        n = 2
        while f"{first}{n}.{tld}" in used:
            n += 1
        used.add(f"{first}{n}.{tld}")
        return f"{first}{n}.{tld}"

    # --- leads -------------------------------------------------------------------------------


def days_ago(rng: random.Random, window: int) -> float:
    """Accounts predate their leads: created a little before the window up to two years before."""
    return window + log_uniform(rng, 1, 730)
