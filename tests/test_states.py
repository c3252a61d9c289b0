"""The briefing state machine: one table of transitions, one writer, illegal moves raise."""

from __future__ import annotations

import ast
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot.briefings.actions import ACTIONABLE
from bot.briefings.states import (
    ACTIVE,
    CLOSED,
    LIVE,
    TRANSITIONS,
    BriefingState,
    IllegalTransition,
    move,
    sources_of,
)
from bot.views.cards import ActionKind

S = BriefingState
ROOT = Path(__file__).resolve().parent.parent


def test_every_state_has_a_row_and_the_groups_cover_every_state() -> None:
    assert set(TRANSITIONS) == set(BriefingState)
    assert set(BriefingState) == ACTIVE | CLOSED
    assert not ACTIVE & CLOSED
    assert LIVE < ACTIVE


@pytest.mark.parametrize(
    ("start", "target"),
    [
        (S.WITHDRAWN, S.ACKNOWLEDGED),
        (S.NOT_NEEDED, S.OPEN),
        (S.ACKNOWLEDGED, S.BRIEFED),
        (S.ACKNOWLEDGED, S.WITHDRAWN),
        (S.BRIEFED, S.SNOOZED),
        (S.OPEN, S.DISPUTED),
    ],
)
def test_an_illegal_transition_raises_and_changes_nothing(start, target) -> None:
    briefing = SimpleNamespace(state=start.value)
    with pytest.raises(IllegalTransition):
        move(briefing, target)
    assert briefing.state == start.value


def test_allowed_transitions_move() -> None:
    briefing = SimpleNamespace(state=S.OPEN.value)
    for target in (S.BRIEFED, S.ACKNOWLEDGED, S.DISPUTED, S.SNOOZED, S.OPEN, S.WITHDRAWN):
        move(briefing, target)
        assert briefing.state == target


def test_where_each_action_may_be_taken_is_read_off_the_table() -> None:
    assert {
        ActionKind.LOG_BRIEFING: {
            S.OPEN,
            S.SNOOZED,
            S.DISPUTED,
            S.NOT_NEEDED,
            S.NOT_NEEDED_PENDING,
        },
        ActionKind.SNOOZE: {S.OPEN, S.SNOOZED, S.DISPUTED},
        ActionKind.NOT_NEEDED: {S.OPEN, S.SNOOZED, S.DISPUTED, S.BRIEFED},
        ActionKind.REASSIGN: {S.OPEN, S.SNOOZED, S.DISPUTED},
        ActionKind.ACKNOWLEDGE: {S.BRIEFED, S.OPEN, S.SNOOZED, S.DISPUTED},
        ActionKind.NOT_YET_BRIEFED: {S.BRIEFED, S.ACKNOWLEDGED},
        ActionKind.NEED_MORE_INFO: {S.BRIEFED, S.ACKNOWLEDGED},
        ActionKind.REMIND_BRIEFER: {S.OPEN, S.SNOOZED, S.DISPUTED},
        ActionKind.ASK_DIRECTOR: {S.OPEN, S.SNOOZED, S.DISPUTED},
        ActionKind.NOTED: {S.OPEN, S.SNOOZED, S.DISPUTED},
        ActionKind.APPROVE: {S.OPEN, S.SNOOZED, S.DISPUTED, S.NOT_NEEDED_PENDING},
        ActionKind.DECLINE: {S.OPEN, S.SNOOZED, S.DISPUTED, S.NOT_NEEDED_PENDING},
    } == ACTIONABLE
    assert sources_of(S.OPEN) == {
        S.SNOOZED,
        S.BRIEFED,
        S.ACKNOWLEDGED,
        S.WITHDRAWN,
        S.NOT_NEEDED_PENDING,
    }


def _state_writes(path: Path) -> list[str]:
    """Assignments to `<anything>.state` (and `state=` in an update's values) in one module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            if isinstance(target, ast.Attribute) and target.attr == "state":
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
        is_values = isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "values"
        if is_values and any(k.arg == "state" for k in node.keywords):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_only_the_state_machine_writes_a_briefings_state() -> None:
    writers = [
        where
        for path in sorted((ROOT / "bot").rglob("*.py"))
        if path != ROOT / "bot" / "briefings" / "states.py"
        for where in _state_writes(path)
    ]
    assert writers == [], f"Briefing.state written outside bot/briefings/states.py: {writers}"
