"""What can happen to a briefing: its states, the groups they fall in, and the one table of
allowed transitions. Every write of `Briefing.state` goes through `move`."""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol


class BriefingState(StrEnum):
    OPEN = "open"  # the briefer is prompted, reminded, then the ladder escalates
    SNOOZED = "snoozed"  # until a time that never passes the due time
    BRIEFED = "briefed"  # logged by the officer; the member is asked to acknowledge
    ACKNOWLEDGED = "acknowledged"  # done
    DISPUTED = "disputed"  # the member says not yet briefed, or needs more: back to the officer
    NOT_NEEDED = "not_needed"  # with a reason, shown in status
    # "Not needed" on a portfolio holder's or the leader's briefing, until someone approves.
    NOT_NEEDED_PENDING = "not_needed_pending"
    WITHDRAWN = "withdrawn"  # the decision left the plan, or the rules no longer ask for it


S = BriefingState
# The officer still owes the briefing: the escalation ladder runs.
LIVE = frozenset({S.OPEN, S.SNOOZED, S.DISPUTED})
# Still in play: the sweep keeps these in step with the decision.
ACTIVE = LIVE | {S.BRIEFED, S.NOT_NEEDED_PENDING}
# Finished with, unless the decision changes or comes back.
CLOSED = frozenset({S.ACKNOWLEDGED, S.NOT_NEEDED, S.WITHDRAWN})

# from → the states it may move to. People's actions and the sweep both go through this table.
TRANSITIONS: dict[BriefingState, frozenset[BriefingState]] = {
    S.OPEN: frozenset(
        {S.BRIEFED, S.SNOOZED, S.NOT_NEEDED, S.NOT_NEEDED_PENDING, S.ACKNOWLEDGED, S.WITHDRAWN}
    ),
    S.SNOOZED: frozenset(
        {
            S.OPEN,
            S.BRIEFED,
            S.SNOOZED,
            S.NOT_NEEDED,
            S.NOT_NEEDED_PENDING,
            S.ACKNOWLEDGED,
            S.WITHDRAWN,
        }
    ),
    S.DISPUTED: frozenset(
        {S.BRIEFED, S.SNOOZED, S.NOT_NEEDED, S.NOT_NEEDED_PENDING, S.ACKNOWLEDGED, S.WITHDRAWN}
    ),
    # Approved, declined (back to the officer), logged after all, or the item left the plan.
    S.NOT_NEEDED_PENDING: frozenset({S.NOT_NEEDED, S.OPEN, S.BRIEFED, S.WITHDRAWN}),
    # A material change re-opens a briefed or acknowledged briefing.
    S.BRIEFED: frozenset(
        {S.ACKNOWLEDGED, S.DISPUTED, S.NOT_NEEDED, S.NOT_NEEDED_PENDING, S.OPEN, S.WITHDRAWN}
    ),
    S.ACKNOWLEDGED: frozenset({S.DISPUTED, S.OPEN}),
    S.NOT_NEEDED: frozenset({S.BRIEFED}),
    # A decision back on the plan revives its briefings.
    S.WITHDRAWN: frozenset({S.OPEN}),
}


class IllegalTransition(RuntimeError):
    """A bug: something tried to move a briefing in a way the table does not allow."""


class HasState(Protocol):
    state: str


def may_move(current: str, target: BriefingState) -> bool:
    """Whether the table allows moving from `current` to `target`."""
    return target in TRANSITIONS[BriefingState(current)]


def sources_of(target: BriefingState) -> frozenset[BriefingState]:
    """Every state a briefing may reach `target` from."""
    return frozenset(s for s, targets in TRANSITIONS.items() if target in targets)


def move(briefing: HasState, target: BriefingState) -> None:
    """Set a briefing's state, or raise IllegalTransition."""
    if not may_move(briefing.state, target):
        raise IllegalTransition(f"a briefing cannot go from {briefing.state} to {target}")
    briefing.state = target
