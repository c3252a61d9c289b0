"""One card per decision per person (issue 14, item 1): an officer owed several briefings on
one decision gets one card with a row of buttons per member; acting on one row redraws the one
card (the other rows as they were) on Slack, Teams and the console. Digests group by decision.
A member, and an officer owed one briefing on a decision, still get their one plain card."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from livebot import (
    EMMA,
    HELEN,
    MARGARET,
    OWEN,
    Bot,
    email,
    local,
    make_bot,
    sqlite_url,
)
from slack_mock import block_actions_body, view_submission_body
from sqlalchemy import select
from test_console import blocks, run_console
from test_slack import (
    button,
    h,  # noqa: F401  (the Slack tests' harness fixture)
    message_of,
    posted_to,
)
from test_teams import OWEN as TEAMS_OWEN
from test_teams import actions_for, install, mock, rig  # noqa: F401  (the Teams tests' fixtures)

from adapters.email.compose import Sender, compose
from adapters.slack.blocks import card_blocks
from adapters.teams.cards import adaptive_card
from bot.service import Actor, EmailExtras, handle_action
from bot.store.models import Nudge, PostedCard
from bot.ticks import deliver_tick
from bot.views.cards import ActionKind, Button, Card, CardField, CardSection, Input, InputKind

QUAYSIDE = "HBC-2027-002"
MILLBROOK = "HBC-2027-005"
RACHEL = email("Rachel Pym")
QUAYSIDE_MEMBERS = ("Alan Brook", "Ben Carrow", "Daniel Okafor", "Rosa Lind", "Tariq Shah")


def numbered_rows(body: str) -> dict[str, list[str]]:
    """A console card's member rows: each member's name → the numbered buttons on its row."""
    rows: dict[str, list[str]] = {}
    member = ""
    for line in body.splitlines():
        named = re.match(r"\s+\S+ (Cllr [\w ]+)$", line)
        if named:
            member = named.group(1)
        elif member and "[" in line:
            rows[member] = re.findall(r"\[\d+\] [^\[(]+", line)
    return rows


# --- the console ------------------------------------------------------------------------------


async def test_the_console_shows_rachel_one_quayside_card_and_redraws_it_after_one_row(tmp_path):
    bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 26, 9, 30))
    out = await run_console(bot, ["tick 1m"])
    quayside = [
        body
        for head, body in blocks(out)
        if "To Rachel Pym" in head and QUAYSIDE in body and "Good morning" not in body
    ]
    assert len(quayside) == 1, "one card for the decision, not one per member"
    [card] = quayside
    rows = numbered_rows(card)
    assert sorted(rows) == [f"Cllr {m}" for m in QUAYSIDE_MEMBERS]
    assert all(len(buttons) == 4 for buttons in rows.values())
    assert card.count("Status: Not yet briefed") == 5

    tariq = bot.briefing(QUAYSIDE, email("Tariq Shah"))
    logged = rows["Cllr Tariq Shah"][0]
    assert logged.startswith(f"[{tariq.id}01] I've briefed them")
    again = await run_console(bot, ["tick 1m", "as Rachel Pym", f"click {tariq.id}01 how=call"])
    assert "Cllr Tariq Shah has been asked to acknowledge the briefing." in again
    [copy] = [body for head, body in blocks(again) if "Your copy" in head]
    redrawn = numbered_rows(copy)
    # Tariq's row has no buttons now; every other row keeps its own, numbered as before.
    assert "Cllr Tariq Shah" not in redrawn
    assert {m: redrawn[m] for m in redrawn} == {m: rows[m] for m in rows if m in redrawn}
    assert len(redrawn) == 4
    assert "Status: Briefed; awaiting the member's acknowledgement" in copy
    # Tariq, a member, hears about his one briefing on one card of his own.
    to_tariq = [body for head, body in blocks(again) if "To Cllr Tariq Shah" in head]
    assert len(to_tariq) == 1 and "Please confirm your briefing" in to_tariq[0]


async def test_an_officer_owed_one_briefing_on_a_decision_gets_the_plain_card(tmp_path):
    # Owen owes Helen and Emma a briefing on HBC-2027-005 until he passes Helen's to Lena:
    # from then on each owes one there, and each reminder is the plain card about it.
    bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 4, 8, 0))
    await bot.tick_at(bot.morning(date(2027, 1, 5)))
    helen, emma = bot.briefing(MILLBROOK, HELEN), bot.briefing(MILLBROOK, EMMA)
    [prompt] = bot.adapter.to(OWEN, briefing_id=helen.id)
    assert prompt.card.title == "Member briefings are coming up" and len(prompt.card.sections) == 2
    bot.set(local(2027, 1, 5, 11, 0))
    assert (await bot.click(OWEN, ActionKind.REASSIGN, helen.id, {"to": "Lena Hart"})).ok
    await bot.tick_at(bot.morning(date(2027, 1, 8)))
    lena = email("Lena Hart")
    for officer, briefing in ((OWEN, emma), (lena, helen)):
        reminder = bot.adapter.to(officer, briefing_id=briefing.id)[-1].card
        assert reminder.title == "Reminder: a member briefing is due soon"
        assert reminder.sections == () and reminder.briefing_id == briefing.id
        assert [b.kind for b in reminder.buttons][:1] == [ActionKind.LOG_BRIEFING]


async def test_a_prompt_queued_for_two_still_reaches_the_officer_after_one_is_passed_on(tmp_path):
    # The sweep queues one prompt for Owen's two Millbrook briefings, under one of them; he
    # passes that one to Lena before it goes out. The prompt still reaches him, about the other.
    bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 4, 8, 0))
    bot.set(local(2027, 1, 5, 9, 0))
    await bot.sweep()
    [prompt] = [n for n in bot.nudges(kind="first_prompt") if n.recipient_email == OWEN]
    carrier = bot.get(prompt.briefing_id or 0)
    helen, emma = bot.briefing(MILLBROOK, HELEN), bot.briefing(MILLBROOK, EMMA)
    other = emma if carrier.id == helen.id else helen
    bot.set(local(2027, 1, 5, 9, 5))
    assert (await bot.click(OWEN, ActionKind.REASSIGN, carrier.id, {"to": "Lena Hart"})).ok
    await bot.deliver()
    [card] = [s.card for s in bot.adapter.to(OWEN) if s.card.title.endswith("coming up")]
    assert card.briefing_id == other.id and card.sections == ()
    assert ActionKind.LOG_BRIEFING in {b.kind for b in card.buttons}


# --- Slack ------------------------------------------------------------------------------------


def slack_rows(blocks: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Each member row's buttons on a Slack message, by its block id (one per briefing)."""
    return {
        b["block_id"]: b["elements"]
        for b in blocks
        if b["type"] == "actions" and b.get("block_id", "").startswith("ns_buttons_")
    }


async def test_slack_one_message_per_decision_and_one_row_redrawn(h):  # noqa: F811
    await deliver_tick(h.bot.hub)
    helen = h.bot.briefing("HBC-2027-009", HELEN)
    to_owen = [p for p in posted_to(h, OWEN) if "HBC-2027-009" in json.dumps(p.params)]
    assert len(to_owen) == 1, "one message for the decision"
    channel, ts = message_of(h, OWEN, helen.id)
    posted = h.mock.messages[(channel, ts)]
    rows = slack_rows(posted["blocks"])
    assert len(rows) >= 2 and f"ns_buttons_{helen.id}" in rows
    # Each row is headed by its member, in a section of its own.
    assert "*Cllr Helen Marsh*" in json.dumps(posted["blocks"])

    element = button(posted, ActionKind.LOG_BRIEFING, helen.id)
    body = block_actions_body(
        h.uid(OWEN), channel, ts, element["action_id"], element["value"], f"{h.mock.url}/r/1"
    )
    assert (await h.send(body))[0] == 200
    [opened] = h.mock.called("views.open")
    status, text = await h.send(
        view_submission_body(h.uid(OWEN), opened.params["view"], {"how": "call"})
    )
    assert status == 200, text
    [update] = [c for c in h.mock.called("chat.update") if c.params["ts"] == ts]
    redrawn = slack_rows(update.params["blocks"])
    assert f"ns_buttons_{helen.id}" not in redrawn
    others = {k: v for k, v in rows.items() if k != f"ns_buttons_{helen.id}"}
    assert redrawn == others  # the other members' rows exactly as they were

    # Helen, the member, gets one message of her own asking her to confirm.
    await deliver_tick(h.bot.hub)
    to_helen = [p for p in posted_to(h, HELEN) if "HBC-2027-009" in json.dumps(p.params)]
    assert len(to_helen) == 1
    assert "Please confirm your briefing" in json.dumps(to_helen[0].params["blocks"])


# --- Teams ------------------------------------------------------------------------------------


async def test_teams_one_card_per_decision_and_one_row_redrawn(rig):  # noqa: F811
    await install(rig, TEAMS_OWEN)
    rig.mock.clear()
    await deliver_tick(rig.hub)
    owen = email("Owen Brady")
    with rig.app.session() as session:
        posted = list(
            session.scalars(
                select(PostedCard).where(PostedCard.recipient_email == owen).order_by(PostedCard.id)
            )
        )
    first = posted[0]
    on_card = sorted(p.briefing_id for p in posted if p.message_id == first.message_id)
    assert len(on_card) >= 2, "the card carries a row for each of his briefings on the decision"
    sent = rig.mock.of("send", TEAMS_OWEN.personal_conversation)
    assert len(sent) == len({p.message_id for p in posted})
    [call] = [c for c in sent if c.answered_id == first.message_id]
    card = call.cards[0]
    rows = {b: actions_for(card, b) for b in on_card}
    assert all(len(actions) == 4 for actions in rows.values())

    # Owen logs one member's briefing from another platform (the console): the one Teams
    # card is redrawn where it is, that row without buttons, the others exactly as they were.
    target, *others = on_card
    reply = await handle_action(
        rig.hub,
        payload=rig.sign(ActionKind.LOG_BRIEFING, target),
        actor_email=owen,
        platform="console",
        inputs={"how": "call"},
    )
    assert reply.ok and reply.changed, reply.message
    updates = rig.mock.of("update", TEAMS_OWEN.personal_conversation)
    assert [u.activity_id for u in updates] == [first.message_id]
    [redrawn] = updates[0].cards
    assert actions_for(redrawn, target) == []
    for other in others:
        assert actions_for(redrawn, other) == rows[other]


# --- digests ----------------------------------------------------------------------------------


def digest_lines(bot: Bot, kind: str, recipient: str) -> list[str]:
    [nudge] = [n for n in bot.nudges(kind=kind) if n.recipient_email == recipient]
    return list(nudge.card["lines"])


async def test_the_officer_digest_has_one_line_per_decision_naming_each_member(tmp_path):
    bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 26, 9, 0))
    await bot.sweep()
    lines = digest_lines(bot, "officer_digest", RACHEL)
    quayside = [line for line in lines if QUAYSIDE in line]
    assert len(quayside) == 1
    assert all(f"Cllr {m}" in quayside[0] for m in QUAYSIDE_MEMBERS)
    assert quayside[0].endswith("(overdue)")


async def test_the_chief_executives_digest_has_one_line_per_decision(tmp_path):
    bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 25, 9, 0))  # a Monday
    await bot.sweep()
    lines = digest_lines(bot, "chief_executive_digest", MARGARET)
    quayside = [line for line in lines if f"*{QUAYSIDE}*" in line]
    assert len(quayside) == 1
    assert all(f"Cllr {m}" in quayside[0] for m in QUAYSIDE_MEMBERS)
    assert quayside[0].count("← Rachel Pym") == 1


async def test_every_officer_digest_lists_each_decision_once(tmp_path):
    bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 26, 9, 0))
    await bot.sweep()
    with bot.app.session() as session:
        nudges = session.scalars(select(Nudge).where(Nudge.kind == "officer_digest")).all()
    assert nudges
    for nudge in nudges:
        refs = re.findall(r"\*(HBC-\d{4}-\d{3})\*", " ".join(nudge.card["lines"]))
        assert len(refs) == len(set(refs)), nudge.card["lines"]


def test_a_card_with_member_rows_survives_the_outbox():
    # Queued cards are stored as JSON (Nudge.card): the rows and their buttons come back whole.
    row = CardSection(
        title="Cllr A",
        lines=("They wrote:",),
        fields=(CardField("Status", "Not yet briefed"),),
        rag="amber",
        buttons=(Button("Snooze", ActionKind.SNOOZE, "p", inputs=(Input("until", "When?"),)),),
        briefing_id=7,
    )
    card = Card(title="T", briefing_id=3, sections=(row,))
    assert Card.from_dict(json.loads(json.dumps(card.to_dict()))) == card
    assert card.all_buttons == row.buttons


def officer_card(members: int, people: int = 0) -> Card:
    """An officer's card with `members` rows, each with Reassign offering `people` officers."""
    reassign = Input(
        "to",
        "Pass to which officer?",
        kind=InputKind.PERSON,
        options=tuple(f"officer{i}@example.gov.uk" for i in range(people)),
        option_labels=tuple(f"Officer {i}" for i in range(people)),
    )
    rows = tuple(
        CardSection(
            title=f"Cllr Member {n}",
            fields=(CardField("Why", "Ward councillor"), CardField("Status", "Not yet briefed")),
            buttons=(
                Button("I've briefed them", ActionKind.LOG_BRIEFING, f"p{n}"),
                Button("Reassign", ActionKind.REASSIGN, f"r{n}", inputs=(reassign,)),
            ),
            briefing_id=n,
        )
        for n in range(1, members + 1)
    )
    return Card(title="Member briefings", lines=("Intro",), sections=rows, briefing_id=1)


def test_slack_keeps_every_members_buttons_within_fifty_blocks():
    blocks = card_blocks(officer_card(22))
    assert len(blocks) <= 50
    rows = {b["block_id"] for b in blocks if b["type"] == "actions"}
    assert rows == {f"ns_buttons_{n}" for n in range(1, 23)}


def test_teams_offers_people_by_name_only_while_the_card_stays_small():
    def choosers(card: Card) -> int:
        return json.dumps(adaptive_card(card)).count('"style": "filtered"')

    assert choosers(officer_card(1, people=60)) == 1
    # Three rows of sixty names would outgrow a card: each row's Reassign takes a typed name.
    assert choosers(officer_card(3, people=60)) == 0
    assert json.dumps(adaptive_card(officer_card(3, people=60))).count("ns_payload") == 6


def test_an_email_of_an_officers_card_has_a_block_per_member_with_its_links():
    card = officer_card(3)
    links = {b.payload: f"token-{b.payload}" for b in card.all_buttons}
    extras = EmailExtras(links, "decision-1", None, "", "feed", "prefs")
    sender = Sender("bot@council.example", "No Surprises", "https://ns.example", "Council")
    who = Actor("o@council.example", "Owen", frozenset({"officer"}))
    message = compose(card, who, extras, sender, now=local(2027, 1, 5, 9, 0))
    text = message.get_body(("plain",)).get_content()
    for n in (1, 2, 3):
        block = text.index(f"Cllr Member {n}")
        assert text.index(f"https://ns.example/email/act/token-p{n}", block) > block
        assert text.index(f"https://ns.example/email/act/token-r{n}", block) > block
    assert text.count("Status: Not yet briefed") == 3
    page = message.get_body(("html",)).get_content()
    assert page.count("<h2") == 3 and page.count("/email/act/token-") == 6
