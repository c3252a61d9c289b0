"""Who may see what: role-gated views and the exempt-information rule (Schedule 12A)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from bot.decisions.kinds import NoticeType, Restriction
from bot.store.directory import EXEMPT_ROLES, OVERSIGHT_ROLES, Directory, PersonView
from bot.store.roles import Role

URGENT_NOTICES = frozenset({NoticeType.GENERAL_EXCEPTION, NoticeType.SPECIAL_URGENCY})


@dataclass(frozen=True)
class ItemParties:
    """The people tied to one decision, as the access rules need them."""

    directorate: str
    holder_email: str
    portfolio_director_email: str
    briefer_emails: frozenset[str]
    briefer_director_emails: frozenset[str]
    member_emails: frozenset[str]
    # The report's author and everyone who has briefed for it keep sight of an exempt item.
    lead_officer_email: str = ""
    former_briefer_emails: frozenset[str] = frozenset()
    notice_type: str = ""


class _DecisionLike(Protocol):
    portfolio: str
    portfolio_holder: str
    directorate: str
    lead_officer_email: str
    notice_type: str


class _BriefingLike(Protocol):
    briefer_email: str
    member_email: str
    former_briefers: list[str]


def parties_for(
    decision: _DecisionLike, briefings: Iterable[_BriefingLike], directory: Directory
) -> ItemParties:
    """The people tied to a decision, from its stored briefings and the directory."""
    briefings = list(briefings)
    portfolio = directory.portfolio(decision.portfolio) or directory.portfolio_of_holder(
        decision.portfolio_holder
    )
    briefers = frozenset(b.briefer_email for b in briefings)
    return ItemParties(
        directorate=decision.directorate,
        holder_email=portfolio.holder_email if portfolio else "",
        portfolio_director_email=portfolio.director_email if portfolio else "",
        briefer_emails=briefers,
        briefer_director_emails=frozenset(directory.director_of(e) for e in briefers) - {""},
        member_emails=frozenset(b.member_email for b in briefings),
        lead_officer_email=decision.lead_officer_email.lower(),
        former_briefer_emails=frozenset(e for b in briefings for e in b.former_briefers),
        notice_type=decision.notice_type,
    )


def sees_everything(person: PersonView) -> bool:
    return bool(person.roles & OVERSIGHT_ROLES)


def scrutinises(person: PersonView, parties: ItemParties) -> bool:
    """The scrutiny chair must be told of general exception and special urgency items
    (regs 10 and 11 in England), so sees them whole."""
    return person.has(Role.SCRUTINY_CHAIR) and parties.notice_type in URGENT_NOTICES


def can_see(person: PersonView, parties: ItemParties) -> bool:
    """Oversight roles see all; a director sees their directorate; the scrutiny chair sees
    urgent items; others their own items."""
    if sees_everything(person) or scrutinises(person, parties):
        return True
    email = person.email
    if email in parties.briefer_emails or email in parties.member_emails:
        return True
    if email == parties.lead_officer_email or email in parties.former_briefer_emails:
        return True
    if email == parties.holder_email:
        return True
    if person.has(Role.DIRECTOR):
        return (
            email in parties.briefer_director_emails
            or email == parties.portfolio_director_email
            or (bool(person.directorate) and person.directorate == parties.directorate)
        )
    return False


def entitled_to_exempt(person: PersonView | None, parties: ItemParties) -> bool:
    """Chief executive, monitoring officer, democratic services, the portfolio holder, members
    owed a briefing, the briefer and the briefer's director, the lead officer and every past
    briefer."""
    if person is None:
        return False
    if person.roles & EXEMPT_ROLES or scrutinises(person, parties):
        return True
    return person.email in (
        {parties.holder_email}
        | parties.member_emails
        | parties.briefer_emails
        | parties.briefer_director_emails
        | {parties.lead_officer_email}
        | parties.former_briefer_emails
    ) - {""}


def is_exempt(restriction: str) -> bool:
    return restriction != Restriction.OPEN
