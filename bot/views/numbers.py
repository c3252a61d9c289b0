"""Button numbers for text-only platforms (the console): one number means one button — this
action on this briefing (or heads-up) — however often its card is redrawn and across restarts,
so a scripted conversation such as the README's demo works on a fresh or an existing database.

The number is the target's id followed by the action's digits: `901` is action 01 on 9.
"""

from __future__ import annotations

from bot.views.cards import ActionKind

_KINDS = list(ActionKind)
_BASE = 10 ** len(str(len(_KINDS)))  # digits 1…len(kinds) always fit


def number_for(kind: ActionKind, target_id: int) -> int:
    """The number shown beside this action on this briefing (or heads-up)."""
    return target_id * _BASE + _KINDS.index(kind) + 1


def read_number(number: int) -> tuple[ActionKind, int] | None:
    """The action and target a number names, or None if it names none."""
    target_id, digit = divmod(number, _BASE)
    if target_id <= 0 or not 1 <= digit <= len(_KINDS):
        return None
    return _KINDS[digit - 1], target_id
