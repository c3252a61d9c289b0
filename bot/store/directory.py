"""The council's people: roles, portfolios, wards, and who manages whom."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import select

from bot.store import tables_core
from bot.store.reads import Reads, connection
from bot.store.roles import Role

# Roles that see every item in /surprises and status.
OVERSIGHT_ROLES = frozenset(
    {Role.CHIEF_EXECUTIVE, Role.LEADER, Role.MONITORING_OFFICER, Role.DEMOCRATIC_SERVICES}
)
# Roles entitled to exempt details of every item (the leader is not, unless owed a briefing).
EXEMPT_ROLES = frozenset({Role.CHIEF_EXECUTIVE, Role.MONITORING_OFFICER, Role.DEMOCRATIC_SERVICES})


# The rules look up every item's portfolio and wards by these keys: a few hundred distinct
# names, asked hundreds of thousands of times in a sweep.
@lru_cache(maxsize=8192)
def _key(text: str) -> str:
    return " ".join(text.lower().replace("cllr ", "").replace("councillor ", "").split())


@dataclass(frozen=True)
class PersonView:
    email: str
    name: str
    roles: frozenset[str]
    job_title: str = ""
    directorate: str = ""
    wards: tuple[str, ...] = ()
    manager_email: str = ""
    channels: tuple[str, ...] = ()  # the platforms to try, in order; empty: chat, then email
    language: str = ""  # en or cy; empty: the council's default

    def has(self, role: Role | str) -> bool:
        return str(role) in self.roles

    @property
    def display(self) -> str:
        return self.name


@dataclass(frozen=True)
class PortfolioView:
    name: str
    holder_email: str
    director_email: str = ""
    aliases: tuple[str, ...] = ()


@dataclass
class Directory:
    """An in-memory snapshot of the directory, indexed for the rules engine."""

    people: dict[str, PersonView] = field(default_factory=dict)
    portfolios: list[PortfolioView] = field(default_factory=list)
    fingerprint: str = ""

    def __post_init__(self) -> None:
        self._by_name = {_key(p.name): p for p in self.people.values()}
        self._portfolio_index: dict[str, PortfolioView] = {}
        for portfolio in self.portfolios:
            for alias in (portfolio.name, *portfolio.aliases):
                self._portfolio_index.setdefault(_key(alias), portfolio)
        self._holder_index = {
            _key(self.people[p.holder_email].name): p
            for p in self.portfolios
            if p.holder_email in self.people
        }
        wards: dict[str, list[str]] = defaultdict(list)
        self._directors: dict[str, list[str]] = defaultdict(list)
        for person in self.people.values():
            if person.has(Role.WARD_COUNCILLOR):
                for ward in person.wards:
                    wards[_key(ward)].append(person.email)
            if person.has(Role.DIRECTOR) and person.directorate:
                self._directors[_key(person.directorate)].append(person.email)
        self._wards = {k: sorted(v) for k, v in wards.items()}
        self.leaders = sorted(p.email for p in self.people.values() if p.has(Role.LEADER))
        self.chief_executives = sorted(
            p.email for p in self.people.values() if p.has(Role.CHIEF_EXECUTIVE)
        )
        # director_of, worked out once per person: the sweep and status ask thousands of times.
        self._director_of: dict[str, str] = {}

    def person(self, email: str) -> PersonView | None:
        return self.people.get(email.lower())

    def name_of(self, email: str) -> str:
        """Their name, or the address itself when the directory does not know them."""
        person = self.person(email)
        return person.name if person else email

    def person_by_name(self, name: str) -> PersonView | None:
        return self._by_name.get(_key(name))

    def find(self, email_or_name: str) -> PersonView | None:
        """A person by email, exact name, or a unique part of a name."""
        text = email_or_name.strip()
        found = self.person(text) or self.person_by_name(text)
        if found:
            return found
        matches = [p for p in self.people.values() if _key(text) in _key(p.name)]
        return matches[0] if len(matches) == 1 else None

    def portfolio(self, name: str) -> PortfolioView | None:
        return self._portfolio_index.get(_key(name)) if name else None

    def portfolio_of_holder(self, holder_name: str) -> PortfolioView | None:
        return self._holder_index.get(_key(holder_name)) if holder_name else None

    def ward_councillors(self, ward: str) -> list[str]:
        return self._wards.get(_key(ward), [])

    def director_of(self, email: str) -> str:
        """The director above an officer: first director up the management chain."""
        found = self._director_of.get(email)
        if found is None:
            found = self._director_of[email] = self._find_director(email)
        return found

    def _find_director(self, email: str) -> str:
        seen: set[str] = set()
        person = self.person(email)
        while person is not None and person.email not in seen:
            seen.add(person.email)
            if person.has(Role.DIRECTOR) and person.email != email:
                return person.email
            person = self.person(person.manager_email) if person.manager_email else None
        origin = self.person(email)
        if origin and origin.directorate:
            for director in self._directors.get(_key(origin.directorate), []):
                if director != email:
                    return director
        return ""


@lru_cache(maxsize=1)
def _stored_fingerprint() -> Any:
    state = tables_core.directorystate
    return select(state.c.fingerprint).where(state.c.id == 1)


def stored_fingerprint(session: Reads) -> str:
    """The fingerprint of the directory as last imported ("" before any import): read on
    every answer, so one plain statement built once, not an ORM look-up (issue 15)."""
    return connection(session).execute(_stored_fingerprint()).scalar() or ""


@lru_cache(maxsize=1)
def _people_and_portfolios() -> tuple[Any, Any]:
    person, portfolio = tables_core.person, tables_core.portfolio
    people = select(
        person.c.email,
        person.c.name,
        person.c.roles,
        person.c.job_title,
        person.c.directorate,
        person.c.wards,
        person.c.manager_email,
        person.c.channels,
        person.c.language,
    ).order_by(person.c.id)
    portfolios = select(
        portfolio.c.name, portfolio.c.holder_email, portfolio.c.director_email, portfolio.c.aliases
    ).order_by(portfolio.c.name)
    return people, portfolios


def load_directory(session: Reads) -> Directory:
    """Read the directory tables into a snapshot (plain statements: no table model is needed)."""
    read_people, read_portfolios = _people_and_portfolios()
    rows = connection(session)
    people = {
        p.email: PersonView(
            email=p.email,
            name=p.name,
            roles=frozenset(p.roles),
            job_title=p.job_title,
            directorate=p.directorate,
            wards=tuple(p.wards),
            manager_email=p.manager_email,
            channels=tuple(p.channels),
            language=p.language,
        )
        for p in rows.execute(read_people)
    }
    portfolios = [
        PortfolioView(p.name, p.holder_email, p.director_email, tuple(p.aliases))
        for p in rows.execute(read_portfolios)
    ]
    return Directory(
        people=people, portfolios=portfolios, fingerprint=fingerprint(people, portfolios)
    )


def fingerprint(people: dict[str, PersonView], portfolios: list[PortfolioView]) -> str:
    payload = json.dumps(
        [
            sorted(
                (
                    p.email,
                    p.name,
                    sorted(p.roles),
                    p.directorate,
                    list(p.wards),
                    p.manager_email,
                    p.job_title,
                    list(p.channels),
                    p.language,
                )
                for p in people.values()
            ),
            sorted((p.name, p.holder_email, p.director_email, list(p.aliases)) for p in portfolios),
        ],
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:32]
