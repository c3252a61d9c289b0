"""What a council's ModernGov site says about its councillors, compared with the directory.

Councillors, their wards and parties come from GetCouncillorsByWard; a portfolio from the
config's mapping, else from the role the executive committee's last meeting lists for them,
else from their key posts ("Portfolio Holder for Housing").
Officers are left alone: they come from people.csv. Planning is pure; nothing is written here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from bot.intake.moderngov_xml import Councillor, councillor_name
from bot.store.models import Role

COUNCILLOR_ROLES = frozenset({Role.WARD_COUNCILLOR, Role.CABINET_MEMBER, Role.LEADER})
_PORTFOLIO_POST = re.compile(
    r"(?i)^(?:deputy leader and )?(?:portfolio holder|cabinet member|executive member|"
    r"lead member|executive councillor|cabinet lead)\s+for\s+(.+?)\.?$"
)
_LEADER_POST = re.compile(r"(?i)^leader(\s+of\s+the\s+(council|executive))?\.?$")


class DirectoryChangeKind(StrEnum):
    ADDED = "added"
    LEFT = "left"
    MOVED_WARD = "moved ward"
    PARTY = "party changed"
    NEW_PORTFOLIO = "new portfolio"
    PORTFOLIO_HOLDER = "portfolio holder changed"
    DETAILS = "details changed"  # people.csv: name, roles, job title, wards or manager


@dataclass(frozen=True)
class CurrentPerson:
    """A person as the directory holds them now."""

    email: str
    name: str
    roles: frozenset[str]
    wards: tuple[str, ...] = ()
    party: str = ""


@dataclass(frozen=True)
class CurrentPortfolio:
    name: str
    holder_email: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Change:
    """One line of the diff, and one row of the directory's history once applied."""

    kind: DirectoryChangeKind
    email: str
    name: str
    old: str = ""
    new: str = ""

    def as_dict(self) -> dict[str, str]:
        return {
            "kind": self.kind.value,
            "email": self.email,
            "name": self.name,
            "old": self.old,
            "new": self.new,
        }

    def __str__(self) -> str:
        if self.old or self.new:
            return (
                f"{self.kind.value}: {self.name}: {self.old or '(none)'} → {self.new or '(none)'}"
            )
        return f"{self.kind.value}: {self.name}"


@dataclass(frozen=True)
class PersonAfter:
    """A councillor as the directory will hold them."""

    email: str
    name: str
    roles: frozenset[str]
    wards: tuple[str, ...]
    party: str


@dataclass
class DirectoryPlan:
    """The diff, and what applying it writes."""

    changes: list[Change] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    people: dict[str, PersonAfter] = field(default_factory=dict)  # added or changed
    departed: dict[str, frozenset[str]] = field(default_factory=dict)  # email → roles kept
    portfolio_holders: dict[str, str] = field(default_factory=dict)  # portfolio → holder

    def as_dict(self) -> dict[str, object]:
        return {
            "changes": [c.as_dict() for c in self.changes],
            "warnings": list(self.warnings),
        }


def _key(name: str) -> str:
    return " ".join(councillor_name(name).lower().split())


def portfolio_of(councillor: Councillor, mapping: Mapping[str, str]) -> str:
    """The portfolio a councillor holds: the config's mapping first, else their key posts."""
    mapped = {_key(k): v for k, v in mapping.items()}
    if _key(councillor.name) in mapped:
        return mapped[_key(councillor.name)]
    for post in councillor.key_posts:
        match = _PORTFOLIO_POST.match(post.strip())
        if match:
            return match.group(1).strip()
    return ""


def plan_directory_sync(
    *,
    current: list[CurrentPerson],
    portfolios: list[CurrentPortfolio],
    councillors: list[Councillor],
    mapping: Mapping[str, str],
) -> DirectoryPlan:
    """Compare the site's councillors with the directory: who arrived, left, moved ward,
    changed party, or took a portfolio."""
    plan = DirectoryPlan()
    by_email = {p.email: p for p in current}
    by_name = {_key(p.name): p for p in current}
    seen: set[str] = set()
    for councillor in councillors:
        known = by_name.get(_key(councillor.name)) or by_email.get(councillor.email)
        email = known.email if known else councillor.email
        if not email:
            plan.warnings.append(
                f"Cllr {councillor.name} ({'; '.join(councillor.wards)}) has no email address on "
                "the council's site and is not in people.csv: add them to people.csv"
            )
            continue
        seen.add(email)
        portfolio = portfolio_of(councillor, mapping)
        roles = set(known.roles if known else ()) | {Role.WARD_COUNCILLOR}
        if portfolio:
            roles.add(Role.CABINET_MEMBER)
        if any(_LEADER_POST.match(post.strip()) for post in councillor.key_posts):
            roles.add(Role.LEADER)
        party = councillor.party or (known.party if known else "")
        after = PersonAfter(
            email,
            known.name if known else councillor.name,
            frozenset(roles),
            councillor.wards,
            party,
        )
        if known is None:
            plan.changes.append(
                Change(DirectoryChangeKind.ADDED, email, after.name, "", _summary(after))
            )
        else:
            if sorted(known.wards) != sorted(after.wards):
                plan.changes.append(
                    Change(
                        DirectoryChangeKind.MOVED_WARD,
                        email,
                        after.name,
                        "; ".join(known.wards),
                        "; ".join(after.wards),
                    )
                )
            if councillor.party and known.party != councillor.party:
                plan.changes.append(
                    Change(DirectoryChangeKind.PARTY, email, after.name, known.party, party)
                )
        if known is None or (known.roles, tuple(sorted(known.wards)), known.party) != (
            after.roles,
            tuple(sorted(after.wards)),
            after.party,
        ):
            plan.people[email] = after
        if portfolio:
            _portfolio_change(plan, portfolios, by_email, portfolio, after)
    for person in current:
        if Role.WARD_COUNCILLOR in person.roles and person.email not in seen:
            plan.changes.append(
                Change(DirectoryChangeKind.LEFT, person.email, person.name, "; ".join(person.wards))
            )
            plan.departed[person.email] = person.roles - COUNCILLOR_ROLES
    return plan


def _summary(person: PersonAfter) -> str:
    return ", ".join(part for part in ("; ".join(person.wards), person.party) if part)


def _portfolio_change(
    plan: DirectoryPlan,
    portfolios: list[CurrentPortfolio],
    people: dict[str, CurrentPerson],
    portfolio: str,
    holder: PersonAfter,
) -> None:
    wanted = _key(portfolio)
    existing = next(
        (p for p in portfolios if wanted in {_key(n) for n in (p.name, *p.aliases)}), None
    )
    if existing is None:
        plan.changes.append(
            Change(DirectoryChangeKind.NEW_PORTFOLIO, holder.email, holder.name, "", portfolio)
        )
        plan.portfolio_holders[portfolio] = holder.email
    elif existing.holder_email != holder.email:
        before = people.get(existing.holder_email)
        plan.changes.append(
            Change(
                DirectoryChangeKind.PORTFOLIO_HOLDER,
                holder.email,
                holder.name,
                f"{existing.name}: {before.name if before else existing.holder_email}",
                f"{existing.name}: {holder.name}",
            )
        )
        plan.portfolio_holders[existing.name] = holder.email
