"""Who may decide what: a second pair of eyes on "not needed" and on exempt hand-overs, and
who reads (and acts on) an escalation. Pure: read from the directory and the rows given."""

from __future__ import annotations

from typing import Protocol

from bot.decisions.rules import is_portfolio_holder_or_leader
from bot.store.directory import Directory, PersonView
from bot.store.models import Restriction, Role

NOT_NEEDED = "not_needed"
REASSIGN = "reassign"


class _Briefing(Protocol):
    briefer_email: str
    reasons: list[str]
    approval_kind: str
    approval_requested_by: str


class _Decision(Protocol):
    portfolio: str
    portfolio_holder: str
    directorate: str
    restriction: str


def _portfolio_director(decision: _Decision, directory: Directory) -> str:
    portfolio = directory.portfolio(decision.portfolio) or directory.portfolio_of_holder(
        decision.portfolio_holder
    )
    return portfolio.director_email if portfolio else ""


def _with_role(directory: Directory, *roles: Role) -> set[str]:
    return {p.email for p in directory.people.values() if any(p.has(r) for r in roles)}


def needs_not_needed_approval(reasons: list[str]) -> bool:
    """A portfolio holder's or the leader's briefing needs approval to be "not needed"."""
    return is_portfolio_holder_or_leader(reasons)


def approvers(briefing: _Briefing, decision: _Decision, directory: Directory) -> set[str]:
    """Who may approve what is awaiting approval: never the person who asked."""
    director = directory.director_of(briefing.briefer_email)
    if briefing.approval_kind == NOT_NEEDED:
        found = {director} | _with_role(
            directory, Role.MONITORING_OFFICER, Role.DEMOCRATIC_SERVICES
        )
    elif briefing.approval_kind == REASSIGN:
        found = {director, _portfolio_director(decision, directory)}
    else:
        return set()
    return found - {"", briefing.approval_requested_by}


def possible_approvers(briefing: _Briefing, decision: _Decision, directory: Directory) -> set[str]:
    """Everyone who could approve a request on this briefing, whatever is asked."""
    return (
        {directory.director_of(briefing.briefer_email), _portfolio_director(decision, directory)}
        | _with_role(directory, Role.MONITORING_OFFICER, Role.DEMOCRATIC_SERVICES)
    ) - {""}


def handover_needs_approval(
    decision: _Decision,
    target: PersonView,
    actor_email: str,
    briefer_email: str,
    directory: Directory,
) -> bool:
    """An exempt item passed to an officer outside the item's and the portfolio's directorate
    needs the director's approval, unless a director of the item does it themself."""
    if decision.restriction == Restriction.OPEN:
        return False
    portfolio_director = _portfolio_director(decision, directory)
    home = {decision.directorate.lower()}
    director = directory.person(portfolio_director) if portfolio_director else None
    if director is not None:
        home.add(director.directorate.lower())
    if target.directorate.lower() in home - {""}:
        return False
    return actor_email not in {directory.director_of(briefer_email), portfolio_director} - {""}


def escalation_readers(
    briefer_emails: set[str], decision: _Decision, directory: Directory
) -> set[str]:
    """Directors who hear of the decision's escalations, and the chief executive."""
    directors = {directory.director_of(e) for e in briefer_emails}
    directors.add(_portfolio_director(decision, directory))
    return (directors | set(directory.chief_executives)) - {""}


def may_ask_director(person: PersonView) -> bool:
    """The chief executive (and the monitoring officer) can ask a director to chase."""
    return person.has(Role.CHIEF_EXECUTIVE) or person.has(Role.MONITORING_OFFICER)
