"""The briefing lifecycle on the sample council, driven by moving a settable clock.

Millbrook Park Play Area Refurbishment (HBC-2027-005) is decided on Tue 26 Jan 2027 by the
Cabinet Member for Communities and Leisure. Owen Brady (Head of Leisure and Parks, reporting to
Simon Reeve, Director of Place) must brief Cllr Helen Marsh (portfolio holder) and Cllr Emma
Doyle (Millbrook ward) by Tue 12 Jan. The default ladder: first prompt Tue 5 Jan, reminder
Fri 8 Jan, urgent reminder Tue 12 Jan, director Wed 13 Jan, chief executive Thu 14 Jan.
Owen owes two briefings on the item, so his prompts and reminders are one card listing both.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date, timedelta

import pytest
from livebot import (
    EMMA,
    HELEN,
    MARGARET,
    OWEN,
    SIMON,
    Bot,
    buttons_for,
    card_text,
    example_settings,
    local,
    make_bot,
    reimport_decisions,
    sqlite_url,
)

from bot.config import EscalationSettings, EscalationStep
from bot.store.models import BriefingState
from bot.views.cards import ActionKind
from bot.views.status import Rag, build_status

REF = "HBC-2027-005"
TITLE = "Millbrook Park Play Area Refurbishment"
STEP_TITLES = {
    "first_prompt": "Member briefings are coming up",
    "reminder": "Reminder: member briefings are due soon",
    "urgent_reminder": "Due today: member briefings",
    "director": "For your attention: a briefing in your directorate is overdue",
    "chief_executive": "Escalation: a member has still not been briefed",
}
OVERDUE = "Overdue: member briefings"  # the urgent step's title once the due day has gone


@pytest.fixture
def bot(tmp_path) -> Bot:
    return make_bot(sqlite_url(tmp_path), local(2027, 1, 4, 8, 0))


def titles(sent) -> list[str]:
    return [s.card.title for s in sent]


def steps_fired(bot: Bot, briefing_id: int) -> list[str]:
    return [e.reason for e in bot.events(action="escalation_step", briefing_id=briefing_id)]


def status_row(bot: Bot, viewer: str, briefing_id: int):
    with bot.app.session() as session:
        report = build_status(
            session=session,
            settings=bot.app.settings,
            calendar=bot.calendar,
            directory=bot.app.directory(session),
            now=bot.now(),
            viewer_email=viewer,
            days=60,
        )
    rows = [r for r in report.rows if r.briefing_id == briefing_id]
    assert len(rows) == 1
    return rows[0]


def button(sent, kind: ActionKind, briefing_id: int | None = None):
    matches = [b for b in buttons_for(sent.card, briefing_id) if b.kind == kind]
    assert matches, f"no {kind} button on {sent.card.title!r}"
    return matches[0]


async def test_the_whole_story_prompt_reminder_briefed_acknowledged_and_an_ignored_escalation(
    bot: Bot,
):
    await bot.tick_at(bot.morning(date(2027, 1, 4)))
    helen = bot.briefing(REF, HELEN)
    emma = bot.briefing(REF, EMMA)
    assert helen.briefer_email == emma.briefer_email == OWEN
    assert bot.calendar.local(helen.due_at).date() == date(2027, 1, 12)
    assert bot.adapter.about(helen.id) == [] and bot.adapter.about(emma.id) == []

    # Tue 5 Jan: the first prompt, to Owen: one card, a row of buttons per member.
    await bot.tick_at(bot.morning(date(2027, 1, 5)))
    assert bot.adapter.about(helen.id) == bot.adapter.about(emma.id)
    for briefing in (helen, emma):
        sent = bot.adapter.about(briefing.id)
        assert [(s.recipient, s.card.title) for s in sent] == [(OWEN, STEP_TITLES["first_prompt"])]
        assert TITLE in card_text(sent[0].card)
        assert [b.kind for b in buttons_for(sent[0].card, briefing.id)] == [
            ActionKind.LOG_BRIEFING,
            ActionKind.SNOOZE,
            ActionKind.NOT_NEEDED,
            ActionKind.REASSIGN,
        ]

    # Nothing more until the reminder on Fri 8 Jan, however often the ticks run.
    for day in (5, 6, 7):
        await bot.tick_at(local(2027, 1, day, 14, 0))
    await bot.tick_at(bot.morning(date(2027, 1, 6)))
    assert len(bot.adapter.about(helen.id)) == 1
    await bot.tick_at(bot.morning(date(2027, 1, 8)))
    reminder = bot.adapter.about(helen.id)[-1]
    assert (reminder.recipient, reminder.card.title) == (OWEN, STEP_TITLES["reminder"])

    # Owen logs the briefing from the reminder's button; Helen is asked to acknowledge.
    bot.set(local(2027, 1, 8, 11, 0))
    reply = await bot.click(
        OWEN,
        ActionKind.LOG_BRIEFING,
        helen.id,
        {"how": "meeting", "when": "2027-01-08T10:00", "note": "At the site visit"},
        payload=button(reminder, ActionKind.LOG_BRIEFING, helen.id).payload,
    )
    assert reply.ok and reply.changed, reply.message
    assert "Cllr Helen Marsh has been asked to acknowledge" in reply.message
    await bot.deliver()
    ask = bot.adapter.to(HELEN, briefing_id=helen.id)
    assert titles(ask) == ["Please confirm your briefing"]
    assert "Owen Brady has logged that they briefed you" in card_text(ask[0].card)
    assert bot.get(helen.id).state == BriefingState.BRIEFED

    # Helen acknowledges from her own card; Owen hears; the briefing is green.
    bot.set(local(2027, 1, 8, 15, 0))
    reply = await bot.click(
        HELEN,
        ActionKind.ACKNOWLEDGE,
        helen.id,
        payload=button(ask[0], ActionKind.ACKNOWLEDGE).payload,
    )
    assert reply.ok and reply.changed, reply.message
    await bot.deliver()
    assert titles(bot.adapter.to(OWEN, briefing_id=helen.id))[-1] == "Briefing acknowledged"
    acknowledged = bot.get(helen.id)
    assert acknowledged.state == BriefingState.ACKNOWLEDGED
    assert status_row(bot, MARGARET, helen.id).rag == Rag.GREEN
    assert status_row(bot, OWEN, helen.id).rag == Rag.GREEN
    assert reply.card is not None and reply.card.rag == "green"

    # Emma's briefing is ignored: urgent reminder, then the director, then the chief
    # executive, one step per working morning; each step exactly once.
    before = len(bot.adapter.about(emma.id))
    await bot.tick_at(bot.morning(date(2027, 1, 12)))
    await bot.tick_at(local(2027, 1, 12, 16, 0))
    new = bot.adapter.about(emma.id)[before:]
    assert [(s.recipient, s.card.title) for s in new] == [(OWEN, STEP_TITLES["urgent_reminder"])]

    await bot.tick_at(bot.morning(date(2027, 1, 13)))
    await bot.tick_at(local(2027, 1, 13, 12, 0))
    new = bot.adapter.about(emma.id)[before + 1 :]
    assert [(s.recipient, s.card.title) for s in new] == [(SIMON, STEP_TITLES["director"])]
    assert "Cllr Emma Doyle has not yet been briefed by Owen Brady" in card_text(new[0].card)
    assert new[0].card.buttons  # the director may act for Owen

    # "Not before 26 Jan" is the earliest date, not a deadline: the chief executive is not
    # told until the item is scheduled. Once it is put on a meeting, the next morning they are.
    await bot.tick_at(bot.morning(date(2027, 1, 14)))
    assert bot.adapter.about(emma.id)[before + 2 :] == []
    bot.set(local(2027, 1, 14, 11, 0))
    reimport_decisions(bot.app, {REF: {"meeting_date": date(2027, 1, 26)}})
    await bot.tick_at(bot.morning(date(2027, 1, 15)))
    new = bot.adapter.about(emma.id)[before + 2 :]
    assert [(s.recipient, s.card.title) for s in new] == [
        (MARGARET, STEP_TITLES["chief_executive"])
    ]

    # The ladder is finished: a week of ticks sends nothing more about either briefing.
    total = len(bot.adapter.sent)
    counts = Counter(s.card.briefing_id for s in bot.adapter.sent)
    await bot.working_mornings(date(2027, 1, 18), date(2027, 1, 22))
    later = Counter(s.card.briefing_id for s in bot.adapter.sent[total:])
    assert later[emma.id] == 0 and later[helen.id] == 0
    assert counts[emma.id] == 5

    assert steps_fired(bot, emma.id) == [
        "first_prompt",
        "reminder",
        "urgent_reminder",
        "director",
        "chief_executive",
    ]
    assert steps_fired(bot, helen.id) == ["first_prompt", "reminder"]
    assert all(not e.details for e in bot.events(action="escalation_step", briefing_id=emma.id)), (
        "no step was skipped on the daily ticks"
    )
    # Helen's part of the story, in the audit log: logged by Owen, acknowledged by Helen.
    done = [
        (e.action, e.actor_email)
        for e in bot.events(briefing_id=helen.id, outcome="done")
        if e.platform == "test"
    ]
    assert done == [("log_briefing", OWEN), ("acknowledge", HELEN)]
    assert status_row(bot, MARGARET, emma.id).rag == Rag.RED


async def test_a_late_tick_jumps_to_the_latest_step_but_prompts_the_briefer_too(bot: Bot):
    await bot.tick_at(bot.morning(date(2027, 1, 4)))
    emma = bot.briefing(REF, EMMA)
    # The server was down from Monday until Wednesday 13 Jan mid-morning.
    await bot.tick_at(local(2027, 1, 13, 10, 30))
    sent = bot.adapter.about(emma.id)
    assert [(s.recipient, s.card.title) for s in sent] == [
        (OWEN, OVERDUE),  # due on Tue 12 Jan, so overdue by now
        (SIMON, STEP_TITLES["director"]),
    ]
    assert [b.kind for b in buttons_for(sent[0].card, emma.id)][:1] == [ActionKind.LOG_BRIEFING]
    events = bot.events(action="escalation_step", briefing_id=emma.id)
    assert [e.reason for e in events] == ["urgent_reminder", "director"]
    assert events[-1].details == {"skipped_as_stale": ["first_prompt", "reminder"]}
    after = bot.get(emma.id)
    assert after.next_step_index == 4
    assert after.next_step_at == bot.calendar.start_of_day(date(2027, 1, 14))

    # The chief executive step waits while the item is only "not before" 26 Jan.
    await bot.tick_at(bot.morning(date(2027, 1, 14)))
    await bot.tick_at(bot.morning(date(2027, 1, 15)))
    assert [s.recipient for s in bot.adapter.about(emma.id)] == [OWEN, SIMON]


async def test_a_briefing_created_late_starts_at_the_step_its_time_has_reached(tmp_path):
    # The sample council is imported only on Fri 8 Jan at 10:00: HBC-2027-005's first prompt
    # (Tue 5 Jan) has passed, and so has the reminder (Fri 8 Jan 09:00).
    bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 8, 10, 0))
    await bot.tick_at(local(2027, 1, 8, 10, 0))
    helen = bot.briefing(REF, HELEN)
    sent = bot.adapter.about(helen.id)
    assert [(s.recipient, s.card.title) for s in sent] == [(OWEN, STEP_TITLES["reminder"])]
    [event] = bot.events(action="escalation_step", briefing_id=helen.id)
    assert event.reason == "reminder"
    assert event.details == {"skipped_as_stale": ["first_prompt"]}
    assert bot.get(helen.id).next_step_index == 2
    # The urgent reminder follows on the due day, as for any other briefing.
    await bot.working_mornings(date(2027, 1, 11), date(2027, 1, 12))
    assert titles(bot.adapter.about(helen.id)) == [
        STEP_TITLES["reminder"],
        STEP_TITLES["urgent_reminder"],
    ]


async def test_a_briefing_created_before_its_first_step_waits_for_it(tmp_path):
    bot = make_bot(sqlite_url(tmp_path), local(2026, 12, 14, 10, 0))
    await bot.tick_at(local(2026, 12, 14, 10, 0))
    helen = bot.briefing(REF, HELEN)
    assert helen.next_step_index == 0
    assert helen.next_step_at == bot.calendar.start_of_day(date(2027, 1, 5))
    assert bot.events(action="escalation_step", briefing_id=helen.id) == []


async def test_the_member_is_reminded_once_when_a_logged_briefing_stays_unacknowledged(bot: Bot):
    await bot.tick_at(bot.morning(date(2027, 1, 5)))
    helen = bot.briefing(REF, HELEN)
    bot.set(local(2027, 1, 5, 11, 0))
    reply = await bot.click(OWEN, ActionKind.LOG_BRIEFING, helen.id, {"how": "call"})
    assert reply.ok, reply.message
    await bot.deliver()
    assert titles(bot.adapter.to(HELEN, briefing_id=helen.id)) == ["Please confirm your briefing"]
    # Two working days later (Thu 7 Jan) Helen is reminded, once; nothing else follows,
    # and the ladder stays quiet for Owen while the briefing awaits acknowledgement.
    await bot.tick_at(bot.morning(date(2027, 1, 6)))
    assert len(bot.adapter.to(HELEN, briefing_id=helen.id)) == 1
    await bot.working_mornings(date(2027, 1, 7), date(2027, 1, 20))
    to_helen = bot.adapter.to(HELEN, briefing_id=helen.id)
    assert len(to_helen) == 2
    assert to_helen[1].card.buttons and to_helen[1].card.buttons[0].kind == ActionKind.ACKNOWLEDGE
    [reminder] = bot.nudges(kind="member_reminder")
    assert reminder.recipient_email == HELEN
    assert bot.calendar.local(reminder.sent_at) == local(2027, 1, 7, 9, 1)
    assert len(bot.events(action="member_reminder", briefing_id=helen.id)) == 1
    # Owen's later cards about the item (Emma's steps) list Helen's briefing, with no buttons.
    later = [s for s in bot.adapter.about(helen.id) if s.recipient == OWEN][1:]
    assert later and all(buttons_for(s.card, helen.id) == () for s in later)
    assert steps_fired(bot, helen.id) == ["first_prompt"]


async def test_the_ladder_is_frozen_when_a_briefing_is_created(bot: Bot):
    await bot.tick_at(bot.morning(date(2027, 1, 4)))
    helen = bot.briefing(REF, HELEN)
    frozen = list(helen.ladder)
    assert [s["name"] for s in frozen] == list(STEP_TITLES)

    # The council edits its ladder: an earlier first prompt, no chief executive step.
    new_ladder = (
        EscalationStep("early_prompt", -8, "briefer"),
        EscalationStep("director", 0, "director"),
    )
    bot.app.settings = replace(bot.app.settings, escalation=EscalationSettings(steps=new_ladder))
    # A new item arrives after the change, decided a week after HBC-2027-005.
    reimport_decisions(
        bot.app,
        {
            "HBC-2027-012": {
                "status": "For Determination",
                "decision_due": date(2027, 2, 2),
                "decision_due_text": "Not before 2 Feb 2027",
            }
        },
    )
    await bot.working_mornings(date(2027, 1, 5), date(2027, 1, 20))

    after = bot.get(helen.id)
    assert after.ladder == frozen
    # Every step but the chief executive's, which waits until "not before" is scheduled.
    assert steps_fired(bot, helen.id) == list(STEP_TITLES)[:-1]
    assert "early_prompt" not in {n.kind for n in bot.nudges(briefing_id=helen.id)}
    # The new item's briefings use the new ladder.
    fresh = bot.briefing("HBC-2027-012", HELEN)
    assert [s["name"] for s in fresh.ladder] == ["early_prompt", "director"]
    assert steps_fired(bot, fresh.id) == ["early_prompt", "director"]


# --- the rules of each action ---------------------------------------------------------------


async def test_snooze_never_passes_the_due_time(bot: Bot):
    await bot.tick_at(bot.morning(date(2027, 1, 5)))
    helen = bot.briefing(REF, HELEN)
    bot.set(local(2027, 1, 5, 11, 0))

    reply = await bot.click(OWEN, ActionKind.SNOOZE, helen.id, {"until": "10"})
    assert reply.ok and reply.changed, reply.message
    assert "Snoozed until Tue 12 Jan 17:00" in reply.message
    assert "cannot go past" in reply.message
    snoozed = bot.get(helen.id)
    assert snoozed.state == BriefingState.SNOOZED
    assert snoozed.snoozed_until == snoozed.due_at
    [event] = bot.events(action="snooze", outcome="done")
    assert event.details["capped"] is True

    # A date well past the due time is capped too (a second snooze from a fresh card).
    emma = bot.briefing(REF, EMMA)
    reply = await bot.click(OWEN, ActionKind.SNOOZE, emma.id, {"until": "2027-02-20T10:00"})
    assert reply.ok and "cannot go past" in reply.message
    assert bot.get(emma.id).snoozed_until == emma.due_at


async def test_a_snooze_postpones_the_ladder_until_it_ends(bot: Bot):
    await bot.tick_at(bot.morning(date(2027, 1, 5)))
    helen = bot.briefing(REF, HELEN)
    bot.set(local(2027, 1, 5, 11, 0))
    reply = await bot.click(OWEN, ActionKind.SNOOZE, helen.id, {"until": "4"})
    assert reply.ok, reply.message
    assert reply.message == "Snoozed until Mon 11 Jan 09:00."
    # Fri 8 Jan: the reminder would be due, but Owen asked for quiet until Monday.
    # (Emma's reminder, one card for the item, shows Helen's briefing as snoozed.)
    await bot.tick_at(bot.morning(date(2027, 1, 8)))
    assert steps_fired(bot, helen.id) == ["first_prompt"]
    assert "Not yet briefed (snoozed)" in card_text(bot.adapter.about(helen.id)[-1].card)
    assert bot.get(helen.id).state == BriefingState.SNOOZED
    await bot.tick_at(bot.morning(date(2027, 1, 11)))
    assert steps_fired(bot, helen.id) == ["first_prompt", "reminder"]
    assert titles(bot.adapter.about(helen.id))[-1] == STEP_TITLES["reminder"]
    assert bot.get(helen.id).state == BriefingState.OPEN
    assert len(bot.events(action="snooze_ended", briefing_id=helen.id)) == 1


async def test_a_snoozed_briefings_fresh_snooze_button_changes_the_snooze(bot: Bot):
    await bot.tick_at(bot.morning(date(2027, 1, 5)))
    helen = bot.briefing(REF, HELEN)
    bot.set(local(2027, 1, 5, 11, 0))
    first = await bot.click(OWEN, ActionKind.SNOOZE, helen.id, {"until": "1"})
    assert first.message == "Snoozed until Wed 6 Jan 09:00."
    # The redrawn card still offers Snooze; pressing it again moves the snooze on.
    fresh = button(first, ActionKind.SNOOZE, helen.id)
    again = await bot.click(
        OWEN, ActionKind.SNOOZE, helen.id, {"until": "3"}, payload=fresh.payload
    )
    assert again.ok and again.changed, again.message
    assert again.message == "Snoozed until Fri 8 Jan 09:00."
    assert bot.get(helen.id).snoozed_until == local(2027, 1, 8, 9, 0)
    assert len(bot.events(action="snooze", outcome="done")) == 2


@pytest.mark.parametrize(
    ("when", "until", "expected"),
    [
        (local(2027, 1, 5, 11, 0), "2027-01-04T10:00", "Please choose a time in the future."),
        (local(2027, 1, 5, 11, 0), "next week", "Snooze until when?"),
        (
            local(2027, 1, 13, 11, 0),
            "1",
            "This briefing is already due, so it cannot be snoozed.",
        ),
    ],
)
async def test_snooze_refuses_a_past_time_nonsense_and_an_overdue_briefing(
    bot: Bot, when, until, expected
):
    await bot.tick_at(bot.morning(date(2027, 1, 5)))
    helen = bot.briefing(REF, HELEN)
    bot.set(when)
    before = bot.snapshot(helen.id)
    reply = await bot.click(OWEN, ActionKind.SNOOZE, helen.id, {"until": until})
    assert not reply.ok and not reply.changed
    assert reply.message.startswith(expected)
    assert bot.snapshot(helen.id) == before
    assert bot.events(action="snooze", outcome="done") == []


async def test_not_needed_requires_a_reason_which_status_then_shows(bot: Bot):
    await bot.tick_at(bot.morning(date(2027, 1, 5)))
    emma = bot.briefing(REF, EMMA)
    bot.set(local(2027, 1, 5, 11, 0))
    before = bot.snapshot(emma.id)
    for blank in ({}, {"reason": "   "}):
        reply = await bot.click(OWEN, ActionKind.NOT_NEEDED, emma.id, blank)
        assert not reply.ok and not reply.changed
        assert reply.message == "Please give a reason why this briefing is not needed."
        assert bot.snapshot(emma.id) == before

    reason = "Cllr Doyle chairs the Friends of Millbrook Park and drafted the proposal"
    reply = await bot.click(OWEN, ActionKind.NOT_NEEDED, emma.id, {"reason": reason})
    assert reply.ok and reply.changed, reply.message
    after = bot.get(emma.id)
    assert after.state == BriefingState.NOT_NEEDED and after.not_needed_reason == reason
    assert f"Reason: {reason}" in card_text(reply.card)
    assert status_row(bot, MARGARET, emma.id).rag == Rag.GREEN
    [event] = bot.events(action="not_needed", outcome="done")
    assert event.reason == reason
    # The ladder stops for it.
    await bot.working_mornings(date(2027, 1, 6), date(2027, 1, 15))
    assert steps_fired(bot, emma.id) == ["first_prompt"]
    # Helen's later cards still list Emma's briefing, marked not needed and without buttons.
    later = bot.adapter.about(emma.id)[1:]
    assert later and all(buttons_for(s.card, emma.id) == () for s in later)


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        ({"how": "carrier pigeon"}, "How was the briefing given? Choose one of: meeting, call"),
        ({"how": "call", "when": "2027-01-06T10:00"}, "A briefing can only be logged once it"),
        ({"how": "call", "when": "yesterday"}, "When was the briefing?"),
    ],
)
async def test_logging_a_briefing_checks_how_and_refuses_a_future_time(bot: Bot, inputs, expected):
    await bot.tick_at(bot.morning(date(2027, 1, 5)))
    helen = bot.briefing(REF, HELEN)
    bot.set(local(2027, 1, 5, 11, 0))
    before = bot.snapshot(helen.id)
    reply = await bot.click(OWEN, ActionKind.LOG_BRIEFING, helen.id, inputs)
    assert not reply.ok and not reply.changed
    assert reply.message.startswith(expected), reply.message
    assert bot.snapshot(helen.id) == before
    assert bot.nudges(kind="ack_request") == []


@pytest.mark.parametrize("how", ["meeting", "call", "email", "chat", "Call"])
async def test_each_way_of_briefing_is_accepted(bot: Bot, how):
    await bot.tick_at(bot.morning(date(2027, 1, 5)))
    helen = bot.briefing(REF, HELEN)
    bot.set(local(2027, 1, 5, 11, 0))
    reply = await bot.click(
        OWEN, ActionKind.LOG_BRIEFING, helen.id, {"how": how, "when": "2027-01-04T16:30"}
    )
    assert reply.ok, reply.message
    after = bot.get(helen.id)
    assert after.state == BriefingState.BRIEFED
    assert after.briefed_how == how.lower()
    assert after.briefed_at == local(2027, 1, 4, 16, 30)


async def test_reassigning_tells_the_new_officer_who_then_gets_the_ladder(bot: Bot):
    lena = "lena.hart@harbourside.example.gov.uk"
    await bot.tick_at(bot.morning(date(2027, 1, 5)))
    helen = bot.briefing(REF, HELEN)
    bot.set(local(2027, 1, 5, 11, 0))
    for target, expected in (
        ("Cllr Emma Doyle", "Please name an officer in the directory"),
        ("nobody@nowhere.example", "Please name an officer in the directory"),
        ("Owen Brady", "Owen Brady is already the briefer."),
    ):
        reply = await bot.click(OWEN, ActionKind.REASSIGN, helen.id, {"to": target})
        assert not reply.ok and reply.message.startswith(expected), reply.message
    assert bot.get(helen.id).briefer_email == OWEN

    reply = await bot.click(OWEN, ActionKind.REASSIGN, helen.id, {"to": "Lena Hart"})
    assert reply.ok and reply.changed, reply.message
    assert reply.message == "Reassigned to Lena Hart, who has been told."
    assert bot.get(helen.id).briefer_email == lena
    # Owen's copy no longer offers him the buttons.
    assert reply.card is not None and reply.card.buttons == ()
    await bot.deliver()
    [told] = bot.adapter.to(lena, briefing_id=helen.id)
    assert told.card.title == "A member briefing has been passed to you"
    assert "Cllr Helen Marsh has not yet been briefed on" in card_text(told.card)
    assert told.card.buttons[0].kind == ActionKind.LOG_BRIEFING
    [event] = bot.events(action="reassign", outcome="done")
    assert event.details == {"from": OWEN, "to": lena}

    await bot.tick_at(bot.morning(date(2027, 1, 8)))
    assert [s.recipient for s in bot.adapter.about(helen.id)][-1] == lena
    assert bot.get(helen.id).briefer_email == lena


async def test_a_reassignment_survives_a_later_sweep_of_the_item(bot: Bot):
    """The forward plan still names Owen; a later re-assessment (here a summary edit) must not
    silently hand the briefing back to him."""
    lena = "lena.hart@harbourside.example.gov.uk"
    await bot.tick_at(bot.morning(date(2027, 1, 5)))
    helen = bot.briefing(REF, HELEN)
    bot.set(local(2027, 1, 5, 11, 0))
    reply = await bot.click(OWEN, ActionKind.REASSIGN, helen.id, {"to": "Lena Hart"})
    assert reply.ok, reply.message
    bot.set(local(2027, 1, 5, 14, 0))
    reimport_decisions(bot.app, {REF: {"documents": "Decision report; Site plan"}})
    await bot.tick_at(local(2027, 1, 5, 14, 5))
    assert bot.get(helen.id).briefer_email == lena


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        (ActionKind.NOT_YET_BRIEFED, "says they have not yet been briefed"),
        (ActionKind.NEED_MORE_INFO, "would like more information"),
    ],
)
async def test_a_dispute_goes_back_to_the_officer_and_the_ladder_resumes(bot: Bot, kind, words):
    await bot.tick_at(bot.morning(date(2027, 1, 5)))
    helen = bot.briefing(REF, HELEN)
    bot.set(local(2027, 1, 5, 11, 0))
    assert (await bot.click(OWEN, ActionKind.LOG_BRIEFING, helen.id, {"how": "email"})).ok
    assert bot.get(helen.id).next_step_at is None
    await bot.deliver()
    assert titles(bot.adapter.to(HELEN, briefing_id=helen.id)) == ["Please confirm your briefing"]
    bot.set(local(2027, 1, 5, 15, 0))
    reply = await bot.click(HELEN, kind, helen.id, {"note": "What about the skate park?"})
    assert reply.ok and reply.changed, reply.message
    assert reply.message == "Thank you. The officer has been asked to follow up with you."
    disputed = bot.get(helen.id)
    assert disputed.state == BriefingState.DISPUTED
    assert disputed.dispute == f"{words}\nWhat about the skate park?"
    # Back on the ladder at the step it had reached: the reminder on Fri 8 Jan.
    assert disputed.next_step_at == bot.calendar.start_of_day(date(2027, 1, 8))

    await bot.deliver()
    told = bot.adapter.to(OWEN, briefing_id=helen.id)[-1]
    assert told.card.title == "A member has come back to you about a briefing"
    # The member's note goes on its own line, quoted, never spliced into the sentence.
    assert f"Cllr Helen Marsh {words} on *" in card_text(told.card)
    assert "\n“What about the skate park?”\n" in card_text(told.card)
    assert f"{words}: What" not in card_text(told.card)
    assert told.card.buttons[0].kind == ActionKind.LOG_BRIEFING
    # Visible to the director, flagged.
    row = status_row(bot, SIMON, helen.id)
    assert "member_disputed" in {f["code"] for f in row.flags}
    assert row.rag == Rag.AMBER

    await bot.tick_at(bot.morning(date(2027, 1, 8)))
    assert bot.adapter.about(helen.id)[-1].card.title == STEP_TITLES["reminder"]
    # Owen follows up and logs it again; Helen is asked again.
    bot.set(local(2027, 1, 8, 11, 0))
    assert (await bot.click(OWEN, ActionKind.LOG_BRIEFING, helen.id, {"how": "meeting"})).ok
    await bot.deliver()
    assert titles(bot.adapter.to(HELEN, briefing_id=helen.id)) == [
        "Please confirm your briefing",
        "Please confirm your briefing",
    ]


async def _acknowledged(bot: Bot, member: str = HELEN):
    await bot.tick_at(bot.morning(date(2027, 1, 5)))
    briefing = bot.briefing(REF, member)
    bot.set(local(2027, 1, 5, 11, 0))
    assert (await bot.click(OWEN, ActionKind.LOG_BRIEFING, briefing.id, {"how": "meeting"})).ok
    bot.set(local(2027, 1, 5, 12, 0))
    assert (await bot.click(member, ActionKind.ACKNOWLEDGE, briefing.id)).ok
    await bot.deliver()
    assert bot.get(briefing.id).state == BriefingState.ACKNOWLEDGED
    return briefing


async def test_a_date_brought_forward_reopens_an_acknowledged_briefing_and_tells_both(bot: Bot):
    helen = await _acknowledged(bot)
    emma = bot.briefing(REF, EMMA)
    sent_before = len(bot.adapter.sent)

    # Wed 6 Jan: the forward plan is re-imported with the decision four days earlier.
    bot.set(local(2027, 1, 6, 10, 0))
    reimport_decisions(bot.app, {REF: {"decision_due": date(2027, 1, 22)}})
    await bot.tick_at(local(2027, 1, 6, 10, 5))

    reopened = bot.get(helen.id)
    assert reopened.state == BriefingState.OPEN
    assert reopened.cycle == 2
    assert reopened.changed_since_briefed == "the decision date moved from Tue 26 Jan to Fri 22 Jan"
    assert bot.calendar.local(reopened.due_at).date() == date(2027, 1, 8)
    [event] = bot.events(action="briefing_reopened", briefing_id=helen.id)
    assert "the decision date moved from Tue 26 Jan to Fri 22 Jan" in event.reason

    new = bot.adapter.sent[sent_before:]
    to_owen = [s for s in new if s.recipient == OWEN and s.card.briefing_id == helen.id]
    to_helen = [s for s in new if s.recipient == HELEN and s.card.briefing_id == helen.id]
    assert "Changed since you briefed the member" in titles(to_owen)
    changed = next(s for s in to_owen if s.card.title == "Changed since you briefed the member")
    assert (
        "has changed since you briefed Cllr Helen Marsh "
        "(the decision date moved from Tue 26 Jan to Fri 22 Jan)" in card_text(changed.card)
    )
    assert changed.card.buttons[0].kind == ActionKind.LOG_BRIEFING
    assert titles(to_helen) == ["Changed since you were briefed"]
    assert "the decision date moved from Tue 26 Jan to Fri 22 Jan" in card_text(to_helen[0].card)
    assert "Owen Brady has been asked to update you" in card_text(to_helen[0].card)
    row = status_row(bot, MARGARET, helen.id)
    assert "changed_since_briefed" in {f["code"] for f in row.flags}
    # Emma, never briefed, is not "re-opened": her due time simply moves.
    assert bot.get(emma.id).state == BriefingState.OPEN
    assert bot.get(emma.id).cycle == 1
    assert bot.events(action="briefing_reopened", briefing_id=emma.id) == []


async def test_a_title_change_reopens_an_acknowledged_briefing(bot: Bot):
    helen = await _acknowledged(bot)
    bot.set(local(2027, 1, 6, 10, 0))
    reimport_decisions(bot.app, {REF: {"title": "Millbrook Park Play Area and Skate Park"}})
    await bot.tick_at(local(2027, 1, 6, 10, 5))
    reopened = bot.get(helen.id)
    assert reopened.state == BriefingState.OPEN
    assert reopened.changed_since_briefed == "the title changed"
    assert "Changed since you were briefed" in titles(bot.adapter.to(HELEN))


async def test_a_briefing_acknowledged_without_being_logged_reopens_when_the_date_moves(bot: Bot):
    """The member may acknowledge straight from an open briefing (they were told in person);
    a date brought forward afterwards must still re-open it."""
    await bot.tick_at(bot.morning(date(2027, 1, 5)))
    helen = bot.briefing(REF, HELEN)
    bot.set(local(2027, 1, 5, 12, 0))
    assert (await bot.click(HELEN, ActionKind.ACKNOWLEDGE, helen.id)).ok
    bot.set(local(2027, 1, 6, 10, 0))
    reimport_decisions(bot.app, {REF: {"decision_due": date(2027, 1, 22)}})
    await bot.tick_at(local(2027, 1, 6, 10, 5))
    assert bot.get(helen.id).state == BriefingState.OPEN
    assert (
        bot.get(helen.id).changed_since_briefed
        == "the decision date moved from Tue 26 Jan to Fri 22 Jan"
    )


# --- digests ----------------------------------------------------------------------------------


def digest_counts(bot: Bot) -> tuple[Counter, Counter]:
    officers = Counter(n.recipient_email for n in bot.nudges(kind="officer_digest"))
    chiefs = Counter(n.recipient_email for n in bot.nudges(kind="chief_executive_digest"))
    return officers, chiefs


BRIEFERS = {
    "tom.ellery",
    "rachel.pym",
    "imran.qureshi",
    "owen.brady",
    "lena.hart",
    "gareth.lowe",
    "paula.stride",
    "nadia.voss",
}


async def test_officer_digests_once_per_working_day_after_their_time(bot: Bot):
    await bot.sweep()  # Mon 4 Jan 08:00: briefings exist, but it is too early for digests
    assert digest_counts(bot) == (Counter(), Counter())
    bot.set(local(2027, 1, 4, 8, 44))
    await bot.sweep()
    officers, _ = digest_counts(bot)
    assert officers == Counter()

    bot.set(local(2027, 1, 4, 8, 45))
    await bot.sweep()
    officers, _ = digest_counts(bot)
    assert {e.split("@")[0] for e in officers} == BRIEFERS
    assert set(officers.values()) == {1}
    for when in (local(2027, 1, 4, 10, 0), local(2027, 1, 4, 16, 59)):
        bot.set(when)
        await bot.sweep()
    assert digest_counts(bot)[0] == officers

    # Delivered in working hours, each a short list for that officer.
    await bot.tick_at(local(2027, 1, 4, 9, 0))
    [lena] = [s for s in bot.adapter.to("lena.hart@harbourside.example.gov.uk")]
    assert lena.card.title == "Good morning: 2 member briefings waiting on you"
    assert any("Castle Hill Residents' Parking Zone" in line for line in lena.card.lines)

    # Next working day: one more each. The weekend: none.
    await bot.tick_at(local(2027, 1, 5, 9, 30))
    assert set(digest_counts(bot)[0].values()) == {2}
    for when in (local(2027, 1, 9, 10, 0), local(2027, 1, 10, 10, 0)):
        await bot.tick_at(when)
    assert set(digest_counts(bot)[0].values()) == {2}
    # An officer with nothing open gets no digest.
    assert MARGARET not in digest_counts(bot)[0] and SIMON not in digest_counts(bot)[0]


async def test_the_chief_executive_summary_comes_on_monday_once_a_week(bot: Bot):
    bot.set(local(2027, 1, 4, 8, 29))
    await bot.sweep()
    assert digest_counts(bot)[1] == Counter()
    for when in (local(2027, 1, 4, 8, 30), local(2027, 1, 4, 12, 0), local(2027, 1, 5, 9, 0)):
        bot.set(when)
        await bot.sweep()
    assert digest_counts(bot)[1] == Counter({MARGARET: 1})
    await bot.deliver()
    [summary] = [s for s in bot.adapter.to(MARGARET) if s.card.briefing_id is None]
    assert summary.card.title == "This week: what could still surprise a member"
    assert summary.card.lines[-1].startswith("Audit log: ")  # a copy of the chain head
    await bot.working_mornings(date(2027, 1, 6), date(2027, 1, 8))
    assert digest_counts(bot)[1] == Counter({MARGARET: 1})
    await bot.tick_at(local(2027, 1, 11, 8, 31))
    assert digest_counts(bot)[1] == Counter({MARGARET: 2})
    keys = sorted(n.dedupe_key for n in bot.nudges(kind="chief_executive_digest"))
    assert keys == [f"ce_digest:{MARGARET}:2027-W01", f"ce_digest:{MARGARET}:2027-W02"]


async def test_digests_skip_bank_holidays_and_the_summary_moves_to_the_next_working_day(tmp_path):
    # Easter 2027: Good Friday 26 Mar, Easter Monday 29 Mar.
    bot = make_bot(sqlite_url(tmp_path), local(2027, 3, 22, 8, 0))
    await bot.tick_at(local(2027, 3, 22, 9, 0))
    officers, chiefs = digest_counts(bot)
    assert chiefs == Counter({MARGARET: 1})
    daily = sum(officers.values())
    assert daily > 0
    for when in (local(2027, 3, 26, 10, 0), local(2027, 3, 29, 10, 0), local(2027, 3, 27, 10, 0)):
        await bot.tick_at(when)
    assert digest_counts(bot) == (officers, chiefs)
    # Tuesday 30 Mar is the week's first working day: the summary comes then, once.
    await bot.tick_at(local(2027, 3, 30, 8, 40))
    officers, chiefs = digest_counts(bot)
    assert chiefs == Counter({MARGARET: 2})
    await bot.tick_at(local(2027, 3, 31, 9, 0))
    assert digest_counts(bot)[1] == Counter({MARGARET: 2})


async def test_no_summary_and_no_digests_in_a_week_the_council_is_closed(tmp_path):
    # config.example.toml closes 29-31 Dec 2026; 28 Dec (Boxing Day substitute) and 1 Jan
    # are bank holidays: no working day that week, so no summary and no digests.
    bot = make_bot(sqlite_url(tmp_path), local(2026, 12, 21, 8, 0), settings=example_settings())
    await bot.tick_at(local(2026, 12, 21, 9, 0))
    before = digest_counts(bot)
    assert before[1] == Counter({MARGARET: 1})
    assert sum(before[0].values()) > 0
    day = date(2026, 12, 28)
    while day <= date(2027, 1, 3):
        await bot.tick_at(local(day.year, day.month, day.day, 10, 0))
        day += timedelta(days=1)
    assert digest_counts(bot) == before
    await bot.tick_at(local(2027, 1, 4, 9, 0))
    officers, chiefs = digest_counts(bot)
    assert chiefs == Counter({MARGARET: 2})
    assert sum(officers.values()) > sum(before[0].values())
