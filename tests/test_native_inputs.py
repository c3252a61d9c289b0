"""Each field a button asks for says what it is, so every platform can offer its own control."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from livebot import email, make_bot, sqlite_url

from adapters.slack.blocks import modal_view
from adapters.teams.cards import adaptive_card
from bot.briefings.escalate import run_sweep_tick
from bot.service import form_for
from bot.views.bilingual import draw_each
from bot.views.cards import ActionKind, Card, InputKind
from bot.views.renderer import button

START = datetime(2027, 1, 26, 9, 30, tzinfo=ZoneInfo("Europe/London"))


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


async def test_only_a_sound_reassign_button_lists_people_to_pass_to(tmp_path: Path):
    bot = make_bot(sqlite_url(tmp_path), START)
    with bot.app.session() as session:
        run_sweep_tick(app=bot.app, session=session)  # the briefings are worked out
    owen, helen = email("Owen Brady"), email("Helen Marsh")
    target = bot.briefing("HBC-2027-009", helen)

    async def offered(payload: str) -> tuple[str, ...]:
        form = await form_for(bot.hub, kind=ActionKind.REASSIGN, actor_email=owen, payload=payload)
        assert form is not None
        return next(i.options for i in form.button.inputs if i.name == "to")

    listed = await offered(bot.sign(ActionKind.REASSIGN, target.id))
    assert listed and target.member_email not in listed and target.briefer_email not in listed
    # A forged payload, or another button's, lists nobody: the name is typed as before.
    assert await offered("{}") == ()
    assert await offered(bot.sign(ActionKind.SNOOZE, target.id)) == ()


def test_a_list_of_people_too_long_for_a_card_or_a_modal_stays_a_typed_name():
    many = tuple(f"officer{n}@council.example" for n in range(101))
    reassign = button(ActionKind.REASSIGN, "p")
    crowded = replace(
        reassign,
        inputs=tuple(
            replace(i, options=many, option_labels=many) if i.name == "to" else i
            for i in reassign.inputs
        ),
    )
    card = adaptive_card(Card(title="t", buttons=(crowded,)))
    to = next(i for i in card["actions"][0]["card"]["body"] if i["id"].endswith("_to"))
    assert to["type"] == "Input.Text"
    view = modal_view(ActionKind.REASSIGN, "Reassign", crowded.inputs, {"payload": "p"})
    assert next(b for b in view["blocks"] if b["block_id"] == "to")["element"]["type"] == (
        "plain_text_input"
    )
