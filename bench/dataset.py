"""The benchmark data set: two teams, their SDRs, managers and AEs, 1 lead in 20 an account, and N
leads with a realistic stage mix, loaded with COPY and reused across runs.

Shape at N = 1,000,000: 50,000 accounts split 55/45 between "Bench North" and "Bench South"; 50
SDRs, 1 manager and 3 AEs per team; 15 % of leads in their team's pool (no owner), the rest spread
over the team's SDRs with weights from 0.5 to 1.5 (so one SDR's queue is clearly the longest);
75 % of leads in the SDR stages (new 30 %, MQL 25 %, working 20 %), the rest handed off, accepted,
opportunity, won, lost, nurture (with a recycle date) or disqualified; scores 0-100 leaning low.
Generation is deterministic for a given seed.

Loading 1 M rows costs about a minute on 2 cores, so a marker table `bench_dataset` records what
was loaded and `ensure()` reuses it. The load runs in one transaction with
`session_replication_role = replica`, which skips the pghistory insert triggers (a million audit
rows nobody reads) and the foreign-key checks (the generator only writes ids it created); the
secondary indexes are dropped before COPY and rebuilt after it, which is several times faster than
maintaining them row by row. Benchmarks that write to these tables must call `invalidate()`.
"""

from __future__ import annotations

import datetime
import json
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction
from django.db.models import NOT_PROVIDED

from accounts.models import Membership, Role, Team, User
from qualify.leads.models import Account, DisqualifyReason, Lead, Property, ReasonAction

DATA_VERSION = 3  # bump when the generator or the tables' storage changes, so old data sets are reloaded
TEAMS = ("Bench North", "Bench South")
TEAM_SHARE = 0.55  # of accounts (and so of leads) in the first team
POOL_SHARE = 0.15
ADMIN = "bench_admin"
CHUNK = 20_000

# Stage mix, in percent.
STAGE_WEIGHTS = {
    "new": 30, "mql": 25, "working": 20, "handed_off": 3, "accepted": 2,
    "opportunity": 3, "won": 2, "lost": 3, "nurture": 6, "disqualified": 6,
}
POST_HANDOFF = {"handed_off", "accepted", "opportunity", "won", "lost"}
SOURCE_WEIGHTS = {"inbound": 40, "outbound": 25, "partner": 10, "product_led": 15, "event": 10}

SYLLABLES = [
    "ab", "ac", "al", "ar", "bel", "bri", "cor", "dex", "dyn", "el", "fin", "gal", "hex", "in", "jet",
    "kor", "lum", "mar", "nov", "or", "pax", "quin", "ros", "sol", "tec", "ul", "ver", "wex", "zen", "vo",
]
INDUSTRY_NOUNS = [
    ("Software", "Software"), ("Analytics", "Software"), ("Robotics", "Manufacturing"),
    ("Logistics", "Transportation"), ("Health", "Healthcare"), ("Bank", "Financial services"),
    ("Energy", "Energy"), ("Foods", "Retail"), ("Media", "Media"), ("Labs", "Biotech"),
    ("Systems", "Software"), ("Networks", "Telecommunications"), ("Insurance", "Financial services"),
    ("Motors", "Automotive"), ("Security", "Software"), ("Capital", "Financial services"),
    ("Retail", "Retail"), ("Pharma", "Biotech"), ("Cloud", "Software"), ("Industries", "Manufacturing"),
]
REGIONS = [("US", "NA"), ("CA", "NA"), ("GB", "EMEA"), ("DE", "EMEA"), ("FR", "EMEA"), ("JP", "APAC"), ("AU", "APAC"), ("BR", "LATAM")]
FIRST = [
    "Ada", "Ben", "Cara", "Dan", "Eva", "Finn", "Gia", "Hugo", "Ines", "Jon", "Kai", "Lena", "Max", "Nora",
    "Omar", "Pia", "Quinn", "Rosa", "Sam", "Tara", "Uma", "Vik", "Wes", "Xena", "Yuri", "Zoe", "Alex",
    "Bea", "Cole", "Dina", "Eli", "Faye", "Gus", "Hana", "Ivan", "Jade", "Kurt", "Lia", "Milo", "Nia",
]
LAST = [
    "Adams", "Baker", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Hughes", "Ito", "Jones", "Khan",
    "Lopez", "Meyer", "Nguyen", "Olsen", "Patel", "Quinn", "Rossi", "Silva", "Tanaka", "Usman", "Varga",
    "Weber", "Xu", "Young", "Zimmer", "Novak", "Berg", "Costa", "Dubois", "Eriksen", "Fontaine",
]
TITLES = [
    ("CTO", "c_level", "Engineering"), ("CFO", "c_level", "Finance"), ("VP Engineering", "vp", "Engineering"),
    ("VP Sales", "vp", "Sales"), ("Director of IT", "director", "IT"), ("Director of Operations", "director", "Operations"),
    ("Engineering Manager", "manager", "Engineering"), ("IT Manager", "manager", "IT"),
    ("Software Engineer", "individual", "Engineering"), ("Data Analyst", "individual", "Data"),
    ("Marketing Manager", "manager", "Marketing"), ("Student", "student", ""), ("", "", ""),
]
PERSONAS = ["economic_buyer", "champion", "technical_evaluator", "end_user", "influencer", ""]
CAMPAIGNS = ["", "webinar-q1", "ebook-pipeline", "paid-search", "newsletter", "trial-signup", "conf-2025"]
# Custom properties (qualify/leads/properties.py) like a marketing export's: half the leads carry
# them (imported), the other half none (created in the app). Occupation: 60/20/10/10 %.
PROPERTIES = [
    ("visits", "Total visits", "number", []),
    ("occupation", "Occupation", "choice", ["Working Professional", "Unemployed", "Student", "Businessman"]),
    ("newsletter", "Newsletter", "yesno", []),
]
PROPERTY_SHARE = 0.5
OCCUPATIONS = ["Working Professional"] * 6 + ["Unemployed"] * 2 + ["Student", "Businessman"]
PARTNERS = ["Northwind Partners", "Contoso Consulting", "Fabrikam Resellers"]


@dataclass
class Dataset:
    leads: int
    accounts: int
    seed: int
    loaded_at: str
    load_seconds: float
    reused: bool

    def team(self, index: int = 0) -> Team:
        return Team.objects.get(name=TEAMS[index])

    def admin(self) -> User:
        return User.objects.get(username=ADMIN)

    def manager(self, team: Team) -> User:
        return User.objects.get(username=f"bench_mgr_{_tag(team.name)}")


def sizes(leads: int) -> dict[str, int]:
    return {
        "leads": leads,
        "accounts": max(20, leads // 20),
        "sdrs_per_team": max(2, min(50, leads // 10_000)),
        "aes_per_team": 3,
    }


def _ensure_marker_table() -> None:
    with connection.cursor() as c:
        c.execute(
            """CREATE TABLE IF NOT EXISTS bench_dataset (
                   id int PRIMARY KEY DEFAULT 1 CHECK (id = 1),
                   leads int NOT NULL, accounts int NOT NULL, seed int NOT NULL, version int NOT NULL,
                   loaded_at timestamptz NOT NULL DEFAULT now(), load_seconds float NOT NULL)"""
        )


def invalidate() -> None:
    """Forget the loaded data set, so the next run reloads it (for benchmarks that write)."""
    _ensure_marker_table()
    with connection.cursor() as c:
        c.execute("DELETE FROM bench_dataset")


def current() -> Dataset | None:
    _ensure_marker_table()
    with connection.cursor() as c:
        c.execute("SELECT leads, accounts, seed, version, loaded_at, load_seconds FROM bench_dataset")
        row = c.fetchone()
    if not row or row[3] != DATA_VERSION:
        return None
    return Dataset(leads=row[0], accounts=row[1], seed=row[2], loaded_at=str(row[4]), load_seconds=row[5], reused=True)


def ensure(leads: int, *, seed: int = 42, reload: bool = False, out: Callable[[str], None] = print) -> Dataset:
    """The data set with `leads` leads: reused when already loaded with that size and seed (and
    the lead table still holds them), loaded otherwise."""
    existing = current()
    if existing and not reload and existing.leads == leads and existing.seed == seed:
        if Lead.objects.count() == leads:
            out(f"reusing data set: {leads:,} leads, {existing.accounts:,} accounts (loaded {existing.loaded_at})")
            return existing
        out("data set marker does not match the lead table; reloading")
    return load(leads, seed=seed, out=out)


def load(leads: int, *, seed: int = 42, out: Callable[[str], None] = print) -> Dataset:
    n = sizes(leads)
    rnd = random.Random(seed)
    t0 = time.perf_counter()
    out(f"loading {leads:,} leads, {n['accounts']:,} accounts, {n['sdrs_per_team']} SDRs per team ...")
    _ensure_marker_table()
    with transaction.atomic():
        with connection.cursor() as c:
            c.execute("DELETE FROM bench_dataset")
            # Leads, accounts and everything hanging off them (events, touches, handoffs, clocks...).
            # Users and teams stay: rows other benchmarks or data migrations keep (scoring models,
            # SLA policies) may point at them, and TRUNCATE ... CASCADE would wipe those too.
            c.execute("TRUNCATE leads_lead, leads_account RESTART IDENTITY CASCADE")
            # Skips user triggers (pghistory) and FK checks for this transaction only.
            c.execute("SET LOCAL session_replication_role = replica")
            c.execute("SET LOCAL maintenance_work_mem = '512MB'")
        people = _create_people(n)
        reasons = list(
            DisqualifyReason.objects.filter(action=ReasonAction.CLOSE).values_list("id", flat=True)
        )
        saved = _drop_secondary_indexes(["leads_account", "leads_lead"])
        account_team = _copy_accounts(n["accounts"], people["teams"], rnd)
        t_copy = time.perf_counter()
        _copy_leads(leads, account_team, people, reasons, rnd)
        t_index = time.perf_counter()
        out(f"  generated and copied in {t_index - t0:.1f} s (leads COPY {t_index - t_copy:.1f} s)")
        with connection.cursor() as c:
            for sql in saved:
                c.execute(sql)
        out(f"  rebuilt {len(saved)} indexes in {time.perf_counter() - t_index:.1f} s")
    t_vacuum = time.perf_counter()
    tables = "leads_account, leads_lead, accounts_user, accounts_membership, accounts_team"
    with connection.cursor() as c:
        # Sets the visibility map (index-only scans) and fresh statistics, like a table in steady
        # state. Inside an outer transaction (the smoke test) VACUUM is not allowed; ANALYZE is.
        c.execute(f"ANALYZE {tables}" if connection.in_atomic_block else f"VACUUM (ANALYZE) {tables}")
    out(f"  vacuum analyze {time.perf_counter() - t_vacuum:.1f} s")
    seconds = round(time.perf_counter() - t0, 1)
    with connection.cursor() as c:
        c.execute(
            "INSERT INTO bench_dataset (leads, accounts, seed, version, load_seconds) VALUES (%s, %s, %s, %s, %s)",
            [leads, n["accounts"], seed, DATA_VERSION, seconds],
        )
    out(f"  loaded in {seconds} s")
    ds = current()
    assert ds is not None
    ds.reused = False
    return ds


def _tag(team_name: str) -> str:
    return team_name.split()[-1].lower()


def _create_people(n: dict[str, int]) -> dict:
    """Teams, users and memberships, created when missing and reused otherwise (a few hundred
    rows; a reload with more leads adds SDRs, one with fewer leaves the extra ones without leads)."""
    password = make_password(None)  # unusable: benchmarks log in with force_login
    teams = [Team.objects.get_or_create(name=name)[0] for name in TEAMS]
    User.objects.get_or_create(
        username=ADMIN,
        defaults={"is_superuser": True, "is_staff": True, "password": password, "first_name": "Bench", "last_name": "Admin"},
    )
    plan: list[tuple[int, str, str]] = []  # (team index, role, username)
    for t, team in enumerate(teams):
        tag = _tag(team.name)
        plan.append((t, Role.MANAGER, f"bench_mgr_{tag}"))
        plan += [(t, Role.AE, f"bench_ae_{tag}_{k}") for k in range(1, n["aes_per_team"] + 1)]
        plan += [(t, Role.SDR, f"bench_sdr_{tag}_{k:03d}") for k in range(1, n["sdrs_per_team"] + 1)]
    existing = {u.username: u for u in User.objects.filter(username__in=[u for _, _, u in plan])}
    User.objects.bulk_create(
        [User(username=u, password=password, first_name=u.split("_")[1].upper(), last_name=u.split("_")[-1])
         for _, _, u in plan if u not in existing]
    )
    by_name = {u.username: u for u in User.objects.filter(username__in=[u for _, _, u in plan])}
    have = set(Membership.objects.filter(user__in=by_name.values()).values_list("user_id", "team_id", "role"))
    Membership.objects.bulk_create(
        [Membership(user=by_name[u], team=teams[t], role=role) for t, role, u in plan
         if (by_name[u].pk, teams[t].pk, role) not in have]
    )
    return {
        "teams": [team.pk for team in teams],
        "sdrs": [[by_name[u].pk for tt, r, u in plan if tt == t and r == Role.SDR] for t in range(len(teams))],
        "aes": [[by_name[u].pk for tt, r, u in plan if tt == t and r == Role.AE] for t in range(len(teams))],
    }


def _drop_secondary_indexes(tables: list[str]) -> list[str]:
    """Drop the indexes that back no constraint; return the statements that recreate them."""
    with connection.cursor() as c:
        c.execute(
            """SELECT i.relname, pg_get_indexdef(x.indexrelid)
                 FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
                WHERE x.indrelid = ANY(%s::regclass[])
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)""",
            [tables],
        )
        rows = c.fetchall()
        for name, _ in rows:
            c.execute(f'DROP INDEX "{name}"')
    return [sql for _, sql in rows]


def _escape(value: object) -> str:
    """A constant in COPY text format."""
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if hasattr(value, "obj"):  # psycopg Jsonb wrapper from JSONField
        value = json.dumps(value.obj)
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _other_columns(model: type[models.Model], generated: list[str]) -> tuple[list[str], str]:
    """Columns this generator does not know (added by later migrations) and their defaults, so the
    loader keeps working when a concept adds a field to Lead or Account."""
    names, values = [], []
    for f in model._meta.concrete_fields:
        if f.primary_key or f.column in generated or f.db_default is not NOT_PROVIDED:
            continue
        names.append(f.column)
        values.append(_escape(f.get_db_prep_save(f.get_default(), connection)))
    return names, "".join("\t" + v for v in values)


def _copy(table: str, columns: list[str], lines: Iterator[str]) -> None:
    cols = ", ".join(f'"{c}"' for c in columns)
    with connection.cursor() as c:
        with c.cursor.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
            for block in lines:
                copy.write(block)


def _weighted_slots(weights: dict[str, int]) -> list[str]:
    return [k for k, w in weights.items() for _ in range(w)]


def _timestamps(rnd: random.Random, count: int, start: datetime.datetime, days: int) -> list[str]:
    stamps = sorted(start + datetime.timedelta(seconds=rnd.randrange(days * 86400)) for _ in range(count))
    return [s.strftime("%Y-%m-%d %H:%M:%S+00") for s in stamps]


def _copy_accounts(count: int, teams: list[int], rnd: random.Random) -> list[int]:
    """COPY `count` accounts with ids 1..count; returns the team id of each (index = id)."""
    columns = ["id", "name", "domain", "industry", "employee_count", "revenue_band", "country", "region",
               "segment", "created_at", "owner_id", "team_id"]
    extra_cols, extra = _other_columns(Account, columns)
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    stamps = _timestamps(rnd, 2000, now - datetime.timedelta(days=1500), 1500)
    segments = _weighted_slots({"smb": 50, "mid_market": 35, "enterprise": 15})
    bands = ["lt1m", "1m_10m", "10m_50m", "50m_250m", "250m_1b", "gt1b", ""]
    account_team = [0] * (count + 1)

    def lines() -> Iterator[str]:
        buf: list[str] = []
        for i in range(1, count + 1):
            team = teams[0] if rnd.random() < TEAM_SHARE else teams[-1]
            account_team[i] = team
            word = "".join(rnd.choice(SYLLABLES) for _ in range(2 + (i % 2))).capitalize()
            noun, industry = INDUSTRY_NOUNS[rnd.randrange(len(INDUSTRY_NOUNS))]
            country, region = REGIONS[rnd.randrange(len(REGIONS))]
            buf.append(
                f"{i}\t{word} {noun}\t{word.lower()}{i}.example\t{industry}\t{rnd.randrange(5, 50_000)}\t"
                f"{bands[rnd.randrange(len(bands))]}\t{country}\t{region}\t{segments[rnd.randrange(100)]}\t"
                f"{stamps[rnd.randrange(2000)]}\t\\N\t{team}{extra}\n"
            )
            if len(buf) >= CHUNK:
                yield "".join(buf)
                buf.clear()
        if buf:
            yield "".join(buf)

    _copy("leads_account", columns + extra_cols, lines())
    with connection.cursor() as c:
        c.execute("SELECT setval(pg_get_serial_sequence('leads_account', 'id'), %s)", [count])
    return account_team


def _properties(rnd: random.Random) -> str:
    """A lead's custom property values as JSON text (COPY format: no tabs or backslashes in it)."""
    return json.dumps({
        "visits": int(rnd.expovariate(1 / 8)),
        "occupation": OCCUPATIONS[rnd.randrange(len(OCCUPATIONS))],
        "newsletter": rnd.random() < 0.3,
    })


def _copy_leads(count: int, account_team: list[int], people: dict, reasons: list[int], rnd: random.Random) -> None:
    columns = ["first_name", "last_name", "email", "phone", "title", "seniority", "department", "persona",
               "source", "campaign", "partner_name", "partner_contact", "external_id", "stage",
               "stage_changed_at", "recycle_on", "score", "last_touch_at", "created_at", "updated_at",
               "account_id", "ae_id", "disqualify_reason_id", "owner_id", "team_id", "properties"]
    extra_cols, extra = _other_columns(Lead, columns)
    for key, label, kind, choices in PROPERTIES:
        Property.objects.update_or_create(entity="lead", key=key, defaults={"label": label, "kind": kind, "choices": choices})
    teams: list[int] = people["teams"]
    # 1000 owner slots per team: POOL_SHARE of them empty (the pool), the rest SDRs weighted 0.5-1.5.
    owner_slots: dict[int, list[str]] = {}
    for t, team in enumerate(teams):
        sdrs = people["sdrs"][t]
        weights = [0.5 + k / max(len(sdrs) - 1, 1) for k in range(len(sdrs))]
        pool = int(1000 * POOL_SHARE)
        owner_slots[team] = [r"\N"] * pool + [str(s) for s in rnd.choices(sdrs, weights=weights, k=1000 - pool)]
    sdr_strs = {team: [str(s) for s in people["sdrs"][t]] for t, team in enumerate(teams)}
    ae_strs = {team: [str(a) for a in people["aes"][t]] for t, team in enumerate(teams)}
    stages = _weighted_slots(STAGE_WEIGHTS)
    sources = _weighted_slots(SOURCE_WEIGHTS)
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    n_stamps = 5000
    stamps = _timestamps(rnd, n_stamps, now - datetime.timedelta(days=730), 730)
    today = now.date()
    recycle_dates = [(today + datetime.timedelta(days=d)).isoformat() for d in range(1, 366)]
    updated = now.strftime("%Y-%m-%d %H:%M:%S+00")
    domains_needed = len(account_team)
    reason_strs = [str(r) for r in reasons] or [r"\N"]
    n_accounts = domains_needed - 1

    # Its own generator, so the other columns are the same as before properties existed.
    prnd = random.Random(7)

    def lines() -> Iterator[str]:
        r = rnd.random
        rr = rnd.randrange
        buf: list[str] = []
        for i in range(1, count + 1):
            account = rr(1, n_accounts + 1)
            team = account_team[account]
            stage = stages[rr(100)]
            owner = owner_slots[team][rr(1000)]
            ae = r"\N"
            if stage in POST_HANDOFF:
                ae = ae_strs[team][rr(len(ae_strs[team]))]
                if owner == r"\N":
                    owner = sdr_strs[team][rr(len(sdr_strs[team]))]
            first, last = FIRST[rr(len(FIRST))], LAST[rr(len(LAST))]
            title, seniority, department = TITLES[rr(len(TITLES))]
            source = sources[rr(100)]
            partner = PARTNERS[i % 3] if source == "partner" else ""
            created = rr(n_stamps)
            touched = stamps[rr(created, n_stamps)] if stage != "new" and r() < 0.7 else r"\N"
            buf.append(
                f"{first}\t{last}\t{first.lower()}.{last.lower()}{i}@lead{account}.example\t\t{title}\t"
                f"{seniority}\t{department}\t{PERSONAS[rr(6)]}\t{source}\t{CAMPAIGNS[rr(7)]}\t{partner}\t\t"
                f"{'crm-' + str(i) if i % 2 else ''}\t{stage}\t{stamps[rr(created, n_stamps)]}\t"
                f"{recycle_dates[rr(365)] if stage == 'nurture' else chr(92) + 'N'}\t"
                f"{min(100, int(rnd.triangular(0, 101, 30)))}\t{touched}\t{stamps[created]}\t{updated}\t{account}\t{ae}\t"
                f"{reason_strs[rr(len(reason_strs))] if stage == 'disqualified' else chr(92) + 'N'}\t"
                f"{owner}\t{team}\t{_properties(prnd) if prnd.random() < PROPERTY_SHARE else '{}'}{extra}\n"
            )
            if len(buf) >= CHUNK:
                yield "".join(buf)
                buf.clear()
        if buf:
            yield "".join(buf)

    _copy("leads_lead", columns + extra_cols, lines())


def bulk_copy(table: str, columns: list[str], blocks: Iterator[str]) -> None:
    """COPY text-format blocks into `table` the fast way: its secondary indexes dropped and rebuilt
    around the load, triggers and foreign-key checks off for it (session_replication_role)."""
    saved = _drop_secondary_indexes([table])
    with connection.cursor() as c:
        c.execute("SET session_replication_role = replica")
        try:
            _copy(table, columns, blocks)
        finally:
            c.execute("SET session_replication_role = DEFAULT")
        for sql in saved:
            c.execute(sql)
