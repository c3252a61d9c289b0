"""Card.to_dict is written field by field for speed: it must give what dataclasses.asdict gives."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import pytest

from bot.views.cards import (
    ActionKind,
    Button,
    Card,
    CardField,
    CardSection,
    Input,
    InputKind,
)

_INPUTS = (
    Input(name="when", label="When", required=True, kind=InputKind.DATETIME),
    Input(
        name="method",
        label="How",
        options=("meeting", "call"),
        option_labels=("In person", "By phone"),
        kind=InputKind.CHOICE,
        placeholder="Pick one",
    ),
    Input(name="notes", label="Notes", multiline=True, search="signed-key"),
)
_BUTTONS = (
    Button(
        label="Log", kind=ActionKind.LOG_BRIEFING, payload="p1", style="primary", inputs=_INPUTS
    ),
    Button(label="Not needed", kind=ActionKind.NOT_NEEDED, payload="p2", style="danger"),
)
_FIELDS = (CardField(label="Due", value="Tue 4 Feb"), CardField(label="Ward", value="Abbey"))

CARDS = {
    "bare": Card(title="Hello"),
    "everything": Card(
        title="Budget 2027",
        lines=("One", "Two"),
        fields=_FIELDS,
        rag="amber",
        buttons=_BUTTONS,
        footer="Ref 12",
        briefing_id=7,
        language="cy+en",
        calendar_url="https://example.test/c",
        sections=(
            CardSection(
                title="Cllr A",
                lines=("Due Tue 4 Feb",),
                fields=_FIELDS,
                rag="red",
                buttons=_BUTTONS,
                briefing_id=8,
            ),
            CardSection(title="Cllr B"),
        ),
    ),
    # Not the declared types, but asdict copies a list rather than sharing it.
    "lists": Card(title="Lists", lines=["a", "b"]),  # type: ignore[arg-type]
}


def _typed(value: Any) -> Any:
    """The value with every container's and scalar's type made visible, so == cannot hide a
    tuple given for a list or an enum for its string."""
    if isinstance(value, dict):
        return ("dict", [(k, _typed(v)) for k, v in value.items()])
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [_typed(v) for v in value])
    return (type(value).__name__, value)


@pytest.mark.parametrize("name", sorted(CARDS))
def test_to_dict_is_asdict(name: str) -> None:
    card = CARDS[name]
    mine, theirs = card.to_dict(), asdict(card)
    assert _typed(mine) == _typed(theirs)
    assert json.dumps(mine) == json.dumps(theirs)
    assert Card.from_dict(mine) == card or name == "lists"


def test_to_dict_does_not_share_mutable_values() -> None:
    card = CARDS["lists"]
    drawn = card.to_dict()
    drawn["lines"].append("c")
    assert list(card.lines) == ["a", "b"]
