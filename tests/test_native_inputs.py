"""Each field a button asks for says what it is, so every platform can offer its own control."""

from __future__ import annotations

from bot.views.bilingual import draw_each
from bot.views.cards import ActionKind, Card, InputKind
from bot.views.renderer import button


def _kinds(kind: ActionKind, card: Card | None = None) -> dict[str, InputKind]:
    drawn = card.buttons[0] if card else button(kind, "p")
    return {i.name: i.kind for i in drawn.inputs}


def test_each_button_input_says_what_kind_of_value_it_is():
    assert _kinds(ActionKind.LOG_BRIEFING) == {
        "when": InputKind.DATETIME,
        "how": InputKind.CHOICE,
        "note": InputKind.TEXT,
    }
    assert _kinds(ActionKind.REASSIGN) == {"to": InputKind.PERSON, "why": InputKind.TEXT}
    assert _kinds(ActionKind.SNOOZE) == {"until": InputKind.DAYS}
    assert _kinds(ActionKind.RECORD_URGENCY) == {"who": InputKind.CHOICE}


def test_the_kind_survives_a_bilingual_card_and_a_stored_card():
    def build() -> Card:
        return Card(title="t", buttons=(button(ActionKind.LOG_BRIEFING, "p"),))

    bilingual = draw_each("cy+en", build)
    assert _kinds(ActionKind.LOG_BRIEFING, bilingual)["when"] == InputKind.DATETIME
    stored = Card.from_dict(bilingual.to_dict())
    assert _kinds(ActionKind.LOG_BRIEFING, stored) == {
        "when": InputKind.DATETIME,
        "how": InputKind.CHOICE,
        "note": InputKind.TEXT,
    }
