"""The cast: two teams, the demo users (password `demo`) with their roles, and the logins table
`make run` prints."""

from __future__ import annotations

from typing import IO

from django.contrib.auth.hashers import make_password

from accounts.models import Membership, Role, Team, User
from qualify.demo.base import GeneratorState, write_line
from qualify.demo.tables import CAST, DEFAULT_AE, DEMO_USERNAMES, PASSWORD, TEAMS


def print_logins(stdout: IO[str]) -> None:
    """The table of demo logins (all with password `demo`). No URL: `make run` prints the one it serves
    on, and whoever runs the command by hand knows where their server is."""
    found = User.objects.filter(username__in=DEMO_USERNAMES).prefetch_related("memberships__team")
    users = {u.username: u for u in found}
    write_line(stdout)
    write_line(stdout, f"Demo logins (password for all: {PASSWORD}):")
    write_line(stdout, f"  {'username':<10} {'role':<14} team")
    write_line(stdout, f"  {'-' * 10} {'-' * 14} {'-' * 24}")
    for username, *_ in CAST:
        user = users.get(username)
        if user is None:
            continue
        memberships = sorted(user.memberships.all(), key=lambda m: m.team.name, reverse=True)
        roles = sorted({m.get_role_display() for m in memberships})
        teams = list(dict.fromkeys(m.team.name for m in memberships))
        write_line(stdout, f"  {username:<10} {', '.join(roles) or '-':<14} {', '.join(teams) or '-'}")


class CastMixin(GeneratorState):
    def create_cast(self) -> dict[str, User]:
        teams = {name: Team.objects.get_or_create(name=name)[0] for name in TEAMS}
        password = make_password(PASSWORD)  # hash once, reuse: hashing is deliberately slow
        users: dict[str, User] = {}
        for username, first, last, team_name, role in CAST:
            admin = role == Role.REVOPS
            user, _ = User.objects.update_or_create(
                username=username,
                defaults=dict(first_name=first, last_name=last, email=f"{username}@qualify.example", password=password,
                              is_active=True, is_staff=admin, is_superuser=admin),
            )
            users[username] = user
            for name in [team_name] if team_name else TEAMS:
                Membership.objects.get_or_create(user=user, team=teams[name], role=role)
        for name, username in DEFAULT_AE.items():
            if teams[name].default_ae_id != users[username].pk:
                teams[name].default_ae = users[username]
                teams[name].save(update_fields=["default_ae"])
        self.teams = teams
        self.sdrs = {name: [users[u] for u, _, _, t, r in CAST if t == name and r == Role.SDR] for name in TEAMS}
        self.aes = {name: [users[u] for u, _, _, t, r in CAST if t == name and r == Role.AE] for name in TEAMS}
        self.default_ae = {name: users[u] for name, u in DEFAULT_AE.items()}
        self.say(f"  {len(users)} demo users in {len(teams)} teams")
        return users

