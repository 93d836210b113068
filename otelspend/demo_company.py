"""The demo company: teams, people and their keys, members, and budgets with exceptions.

Everything goes through the same store APIs the CLI uses (identity keys, members, budgets),
so the demo exercises the real paths; only the traffic is synthetic.
"""

from __future__ import annotations

import getpass
import random
from dataclasses import dataclass

from sqlalchemy import Engine

from store.budgets import BudgetSpec, set_budget
from store.identity import create_key
from store.members import add_member, resolve_actor
from store.subjects import find_org, resolve_subject, set_org_timezone

ORG = "acme"
ZONE = "Europe/Berlin"
NANO_PER_USD = 1_000_000_000
TEAMS = ("platform", "payments", "mobile", "data", "web", "infra")
FIRST = (
    "ana",
    "ben",
    "chen",
    "dara",
    "eli",
    "fatima",
    "gus",
    "hana",
    "ivan",
    "jade",
    "kofi",
    "lena",
    "mo",
    "nora",
    "omar",
    "pia",
    "quinn",
    "rosa",
    "sam",
    "tara",
    "uma",
    "vik",
    "wen",
    "xavi",
    "yara",
    "zeno",
)
LAST = (
    "silva",
    "okafor",
    "nguyen",
    "schmidt",
    "kowalski",
    "haddad",
    "tanaka",
    "moreau",
    "rossi",
    "jensen",
    "patel",
    "garcia",
    "novak",
    "weber",
)
TEAM_AGENTS = {  # each team's preferred agents
    "platform": ("claude-code", "codex"),
    "payments": ("claude-code", "claude-code", "gemini-cli"),
    "mobile": ("codex", "gemini-cli"),
    "data": ("claude-code", "gemini-cli"),
    "web": ("claude-code", "codex", "gemini-cli"),
    "infra": ("codex", "claude-code"),
}


@dataclass(frozen=True)
class Person:
    """A developer, the agent they mostly use, their key and how busy they are."""

    name: str
    team: str
    agent: str
    key: str
    sessions_per_day: float


@dataclass(frozen=True)
class Company:
    """The people, the support bot's and evaluator's keys, and who is special."""

    people: list[Person]
    bot_key: str
    evaluator_key: str
    overspender: Person
    runaway: Person


def _names(n: int, rng: random.Random) -> list[str]:
    pool = [f"{f}.{last}" for f in FIRST for last in LAST]
    rng.shuffle(pool)
    return [f"{p}@acme.dev" for p in pool[:n]]


def build_company(engine: Engine, users: int, rng: random.Random) -> Company:
    """Org, workspaces, people with keys, the bot, the evaluator, members (audited)."""
    people = []
    for i, name in enumerate(_names(max(3, users), rng)):
        team = TEAMS[i % len(TEAMS)]
        agent = rng.choice(TEAM_AGENTS[team])
        token, _ = create_key(engine, org=ORG, workspace=team, user=name, label=f"{agent} laptop")
        people.append(Person(name, team, agent, token, rng.uniform(0.6, 2.6)))
    bot, _ = create_key(engine, org=ORG, workspace="support", user="support-bot", label="service")
    evaluator, _ = create_key(
        engine, org=ORG, workspace="platform", user=None, trusted=True, label="ci evaluator"
    )
    overspender = people[1]
    runaway = (
        next(p for p in people[2:] if p.agent == "claude-code")
        if any(p.agent == "claude-code" for p in people[2:])
        else people[2]
    )
    people[1] = Person(overspender.name, overspender.team, "claude-code", overspender.key, 3.5)
    runaway = Person(
        runaway.name, runaway.team, "claude-code", runaway.key, runaway.sessions_per_day
    )
    _members(engine, people)
    return Company(people, bot, evaluator, people[1], runaway)


def _members(engine: Engine, people: list[Person]) -> None:
    with engine.begin() as conn:
        org = find_org(conn, ORG)
        set_org_timezone(conn, org, ZONE, "demo")
        org = find_org(conn, ORG)
        admin = resolve_actor(conn, org, getpass.getuser() or "admin")  # the first: admin
        add_member(conn, org, admin, "cto@acme.dev", "admin", "")
        for p in people[:6]:
            add_member(conn, org, admin, p.name, "member", p.name)


def set_budgets(engine: Engine, company: Company) -> None:
    """Defaults for everyone, exceptions for a few, an org-wide monthly budget."""
    usd = NANO_PER_USD
    with engine.begin() as conn:
        org = find_org(conn, ORG)
        over = resolve_subject(conn, org.id, "user", company.overspender.name)
        busy = resolve_subject(conn, org.id, "user", company.people[0].name)
        data = resolve_subject(conn, org.id, "workspace", "data")
        specs = [
            BudgetSpec(
                org.id, "org", org.id, "month", 150 * usd * len(company.people), mode="soft"
            ),
            BudgetSpec(org.id, "org", org.id, "day", 8 * usd * len(company.people), mode="soft"),
            BudgetSpec(org.id, "user", 0, "day", 25 * usd, mode="soft"),  # the default
            BudgetSpec(org.id, "user", 0, "month", 300 * usd, mode="soft"),
            BudgetSpec(org.id, "user", busy, "day", 60 * usd, mode="soft"),  # an exception
            BudgetSpec(org.id, "user", over, "day", 10 * usd, mode="hard"),  # the overspender
            BudgetSpec(org.id, "workspace", data, "month", 900 * usd, agent="claude-code"),
        ]
        for spec in specs:
            set_budget(conn, spec, "demo", ORG)
