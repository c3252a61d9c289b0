"""The outbox: working hours, Retry-After, backoff, unreachable people, cancelled messages,
redraws, and any number of deliverers against one database sending each message once."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from datetime import date, timedelta

import pytest
from livebot import (
    EMMA,
    HELEN,
    LENA,
    MARCUS,
    OWEN,
    SIMON,
    Bot,
    RecordingAdapter,
    briefings_on,
    buttons_for,
    card_text,
    example_settings,
    local,
    make_bot,
    postgres_url,
    sqlite_url,
)
from sqlalchemy import select, update

from bot.config import OutboxSettings, Settings
from bot.delivery.deliverer import Deliverer
from bot.delivery.outbox import claim, enqueue, heartbeat
from bot.delivery.ports import DeliveryOutcome, PostedRef, SendResult
from bot.service import home_cards
from bot.store.models import ChatIdentity, DeliveryAttempt, Nudge, NudgeStatus, PostedCard
from bot.views.cards import ActionKind, Card
from bot.views.status import build_status

REF = "HBC-2027-005"


def queue_notice(bot: Bot, key: str, *, recipient: str = OWEN, title: str = "") -> int:
    """Queue a plain message (no briefing) now; returns its id."""
    with bot.app.session() as session:
        nudge = enqueue(
            session,
            recipient=recipient,
            kind="notice",
            key=key,
            send_at=bot.now(),
            calendar=bot.calendar,
            card=Card(title=title or key, lines=("A test message",)).to_dict(),
        )
        assert nudge is not None
        session.flush()
        assert nudge.id is not None
        return nudge.id


def nudge(bot: Bot, nudge_id: int):
    [found] = [n for n in bot.nudges() if n.id == nudge_id]
    return found


# --- working hours --------------------------------------------------------------------------


async def test_a_message_queued_on_christmas_eve_evening_waits_until_tuesday_morning(tmp_path):
    # England and Wales 2026: Christmas Day Fri 25 Dec, Boxing Day Sat 26 Dec (substitute
    # Mon 28 Dec). A message queued at 18:00 on Thu 24 Dec waits until Tue 29 Dec 09:00.
    bot = make_bot(sqlite_url(tmp_path), local(2026, 12, 24, 18, 0))
    nudge_id = queue_notice(bot, "christmas")
    assert nudge(bot, nudge_id).send_at == local(2026, 12, 29, 9, 0)
    deliverer = Deliverer(bot.hub, worker="test")
    for when in (
        local(2026, 12, 24, 18, 0),
        local(2026, 12, 25, 10, 0),
        local(2026, 12, 26, 11, 0),
        local(2026, 12, 27, 12, 0),
        local(2026, 12, 28, 10, 0),
        local(2026, 12, 29, 8, 59),
    ):
        bot.set(when)
        stats = await deliverer.run_once()
        assert stats.claimed == 0 and stats.sent == 0, when
    assert bot.adapter.attempts == []
    assert nudge(bot, nudge_id).status == NudgeStatus.PENDING

    bot.set(local(2026, 12, 29, 9, 0))
    stats = await deliverer.run_once()
    assert stats.sent == 1
    sent = nudge(bot, nudge_id)
    assert sent.status == NudgeStatus.SENT
    assert sent.sent_at == local(2026, 12, 29, 9, 0)
    assert [s.recipient for s in bot.adapter.sent] == [OWEN]


async def test_with_the_christmas_closure_it_waits_until_the_new_year(tmp_path):
    # config.example.toml closes 29-31 Dec; Fri 1 Jan is New Year's Day: Mon 4 Jan 09:00.
    bot = make_bot(sqlite_url(tmp_path), local(2026, 12, 24, 18, 0), settings=example_settings())
    nudge_id = queue_notice(bot, "christmas")
    assert nudge(bot, nudge_id).send_at == local(2027, 1, 4, 9, 0)
    deliverer = Deliverer(bot.hub, worker="test")
    for day in (29, 30, 31):
        bot.set(local(2026, 12, day, 11, 0))
        assert (await deliverer.run_once()).claimed == 0
    bot.set(local(2027, 1, 1, 11, 0))
    assert (await deliverer.run_once()).claimed == 0
    bot.set(local(2027, 1, 4, 9, 0))
    assert (await deliverer.run_once()).sent == 1


async def test_the_deliverer_sends_nothing_outside_working_hours_even_when_overdue(tmp_path):
    bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 5, 16, 30))
    nudge_id = queue_notice(bot, "late")
    assert nudge(bot, nudge_id).send_at == local(2027, 1, 5, 16, 30)
    deliverer = Deliverer(bot.hub, worker="test")
    for when in (local(2027, 1, 5, 17, 0), local(2027, 1, 6, 7, 0), local(2027, 1, 9, 12, 0)):
        bot.set(when)
        assert (await deliverer.run_once()).claimed == 0
    assert bot.adapter.attempts == []
    bot.set(local(2027, 1, 6, 9, 0))
    assert (await deliverer.run_once()).sent == 1


# --- retries --------------------------------------------------------------------------------


async def test_retry_after_is_honoured_exactly(tmp_path):
    limited = {"left": 1}

    def behaviour(person, card):
        if limited["left"]:
            limited["left"] -= 1
            return SendResult(
                DeliveryOutcome.RATE_LIMITED,
                error_code="ratelimited",
                detail="HTTP 429",
                retry_after=120,
            )
        return None

    bot = make_bot(
        sqlite_url(tmp_path), local(2027, 1, 5, 10, 0), adapter=RecordingAdapter("test", behaviour)
    )
    nudge_id = queue_notice(bot, "busy")
    deliverer = Deliverer(bot.hub, worker="test")
    stats = await deliverer.run_once()
    assert (stats.rate_limited, stats.retrying, stats.sent) == (1, 1, 0)
    waiting = nudge(bot, nudge_id)
    assert waiting.status == NudgeStatus.PENDING
    assert waiting.send_at == local(2027, 1, 5, 10, 2)
    assert (waiting.attempts, waiting.last_error) == (1, "ratelimited")
    [attempt] = bot.attempts(nudge_id)
    assert (attempt.outcome, attempt.error_code, attempt.retry_after_seconds) == (
        "rate_limited",
        "ratelimited",
        120,
    )
    assert attempt.platform == "test" and attempt.attempted_at == local(2027, 1, 5, 10, 0)

    bot.clock.advance(timedelta(seconds=119))
    assert (await deliverer.run_once()).claimed == 0
    assert len(bot.adapter.attempts) == 1
    bot.clock.advance(timedelta(seconds=1))
    assert (await deliverer.run_once()).sent == 1
    assert [a.outcome for a in bot.attempts(nudge_id)] == ["rate_limited", "delivered"]
    assert nudge(bot, nudge_id).status == NudgeStatus.SENT


async def test_a_failing_platform_backs_off_then_gives_up_after_max_attempts(tmp_path):
    def behaviour(person, card):
        return SendResult(DeliveryOutcome.FAILED, error_code="token_error", detail="bad token")

    settings = Settings(outbox=OutboxSettings(max_attempts=4, backoff_base_seconds=60))
    bot = make_bot(
        sqlite_url(tmp_path),
        local(2027, 1, 5, 10, 0),
        settings=settings,
        adapter=RecordingAdapter("test", behaviour),
    )
    nudge_id = queue_notice(bot, "doomed")
    deliverer = Deliverer(bot.hub, worker="test")
    for attempt in (1, 2, 3):
        stats = await deliverer.run_once()
        assert stats.retrying == 1 and stats.failed == 0
        row = nudge(bot, nudge_id)
        assert (row.status, row.attempts, row.last_error) == ("pending", attempt, "token_error")
        delay = (row.send_at - bot.now()).total_seconds()
        full = 60 * 2 ** (attempt - 1)
        assert full / 2 <= delay <= full, (attempt, delay)
        # Not before its time...
        bot.clock.advance(timedelta(seconds=delay - 1))
        assert (await deliverer.run_once()).claimed == 0
        bot.clock.advance(timedelta(seconds=1))
    stats = await deliverer.run_once()
    assert stats.failed == 1
    row = nudge(bot, nudge_id)
    assert (row.status, row.attempts) == (NudgeStatus.FAILED, 4)
    attempts = bot.attempts(nudge_id)
    assert [(a.outcome, a.error_code) for a in attempts] == [("failed", "token_error")] * 4
    # Given up: later runs leave it alone.
    bot.clock.advance(timedelta(hours=2))
    assert (await deliverer.run_once()).claimed == 0
    assert len(bot.adapter.attempts) == 4


async def test_an_adapter_that_raises_is_recorded_as_a_failed_attempt(tmp_path):
    def behaviour(person, card):
        raise ConnectionResetError("peer went away")

    bot = make_bot(
        sqlite_url(tmp_path), local(2027, 1, 5, 10, 0), adapter=RecordingAdapter("test", behaviour)
    )
    nudge_id = queue_notice(bot, "boom")
    stats = await Deliverer(bot.hub, worker="test").run_once()
    assert stats.retrying == 1
    [attempt] = bot.attempts(nudge_id)
    assert (attempt.outcome, attempt.error_code, attempt.detail) == (
        "failed",
        "adapter_error",
        "ConnectionResetError",
    )


async def test_a_message_claimed_by_a_worker_that_died_is_back_in_the_queue_within_a_minute(
    tmp_path,
):
    bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 5, 10, 0))
    nudge_id = queue_notice(bot, "orphan")
    with bot.app.session() as session:
        [claimed] = claim(session, worker="dead-worker", now=bot.now(), limit=10)
    assert claimed.id == nudge_id and nudge(bot, nudge_id).status == NudgeStatus.SENDING
    deliverer = Deliverer(bot.hub, worker="alive")
    bot.clock.advance(timedelta(seconds=25))
    assert (await deliverer.run_once()).claimed == 0
    bot.clock.advance(timedelta(seconds=6))
    assert (await deliverer.run_once()).sent == 1
    assert nudge(bot, nudge_id).status == NudgeStatus.SENT
    # The test adapter cannot be asked whether the dead worker posted it: the log says so.
    [attempt] = bot.attempts(nudge_id)
    assert (attempt.outcome, attempt.note) == ("delivered", "possible_duplicate")


async def test_a_heartbeat_keeps_a_slow_send_claimed(tmp_path):
    bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 5, 10, 0))
    nudge_id = queue_notice(bot, "slow")
    with bot.app.session() as session:
        [claimed] = claim(session, worker="slow-worker", now=bot.now(), limit=10)
    for _ in range(3):
        bot.clock.advance(timedelta(seconds=20))
        with bot.app.session() as session:
            renewed = heartbeat(session, claims={nudge_id: claimed.claimed_by}, now=bot.now())
        assert renewed == {nudge_id}
    assert (await Deliverer(bot.hub, worker="other").run_once()).claimed == 0
    assert nudge(bot, nudge_id).status == NudgeStatus.SENDING and not bot.adapter.attempts


async def test_a_claim_taken_over_while_its_heartbeat_lapsed_is_not_sent_by_its_first_owner(
    tmp_path,
):
    # A heartbeat that lapses at once: before each send the deliverer must check the claim.
    settings = Settings(outbox=OutboxSettings(claim_timeout_seconds=0.001))

    def behaviour(person, card):
        if len(bot.adapter.attempts) == 1:  # meanwhile another process took the second one
            with bot.app.session() as session:
                session.execute(
                    update(Nudge).where(Nudge.id == second).values(claimed_by="other:token")
                )
        return None

    bot = make_bot(
        sqlite_url(tmp_path),
        local(2027, 1, 5, 10, 0),
        settings=settings,
        adapter=RecordingAdapter("test", behaviour),
    )
    first, second = queue_notice(bot, "first"), queue_notice(bot, "second")
    stats = await Deliverer(bot.hub, worker="lapsed", concurrency=1).run_once()
    assert stats.sent == 1 and [s.card.title for s in bot.adapter.sent] == ["first"]
    taken = nudge(bot, second)
    assert (taken.status, taken.claimed_by) == (NudgeStatus.SENDING, "other:token")
    assert bot.attempts(second) == [] and nudge(bot, first).status == NudgeStatus.SENT


async def test_each_send_is_committed_before_the_next_is_sent(tmp_path):
    recorded_before: list[int] = []

    def behaviour(person, card):
        with bot.app.session() as session:
            recorded_before.append(len(session.scalars(select(DeliveryAttempt)).all()))
        return None

    bot = make_bot(
        sqlite_url(tmp_path), local(2027, 1, 5, 10, 0), adapter=RecordingAdapter("test", behaviour)
    )
    for index in range(5):
        queue_notice(bot, f"one-by-one-{index}")
    stats = await Deliverer(bot.hub, worker="test", concurrency=1).run_once()
    assert stats.sent == 5
    assert recorded_before == [0, 1, 2, 3, 4]


# --- people the platforms cannot find --------------------------------------------------------


def not_found_for(*emails: str):
    def behaviour(person, card):
        if person.email in emails:
            return SendResult(
                DeliveryOutcome.RECIPIENT_NOT_FOUND, error_code="users_not_found", detail="no user"
            )
        return None

    return behaviour


def officer_nudges(bot: Bot, kind: str) -> list[Nudge]:
    """Owen's messages of one kind about the Millbrook item: one per step and day, listing
    both members he is to brief."""
    prefix = f"d{bot.decision(REF).id}:"
    return [
        n for n in bot.nudges(kind=kind, recipient_email=OWEN) if n.dedupe_key.startswith(prefix)
    ]


def flags_for(bot: Bot, briefing_id: int) -> set[str]:
    with bot.app.session() as session:
        report = build_status(
            session=session,
            settings=bot.app.settings,
            calendar=bot.calendar,
            directory=bot.app.directory(session),
            now=bot.now(),
            days=60,
        )
    [row] = [r for r in report.rows if r.briefing_id == briefing_id]
    return {f["code"] for f in row.flags}


async def test_someone_no_platform_can_find_is_marked_unreachable_and_flagged(tmp_path):
    slack = RecordingAdapter("slack", not_found_for(OWEN))
    teams = RecordingAdapter("teams", not_found_for(OWEN))
    bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 4, 8, 0), adapter=slack)
    bot.hub.register(teams)
    await bot.tick_at(bot.morning(date(2027, 1, 5)))
    helen = bot.briefing(REF, HELEN)

    prompts = officer_nudges(bot, "first_prompt")
    assert [(n.recipient_email, n.status) for n in prompts] == [(OWEN, NudgeStatus.UNREACHABLE)]
    # Both platforms were asked, each said "not found".
    assert [a[0] for a in slack.attempts if helen.id in briefings_on(a[1])] == [OWEN]
    assert [a[0] for a in teams.attempts if helen.id in briefings_on(a[1])] == [OWEN]
    attempts = bot.attempts(prompts[0].id)
    assert [(a.platform, a.outcome, a.error_code) for a in attempts] == [
        ("teams", "recipient_not_found", "users_not_found")
    ]
    with bot.app.session() as session:
        identities = {
            (c.platform, c.reachable)
            for c in session.scalars(select(ChatIdentity).where(ChatIdentity.email == OWEN))
        }
    assert identities == {("slack", False), ("teams", False)}
    assert "unreachable_in_chat" in flags_for(bot, helen.id)
    # Nobody else is flagged: Lena's briefing of Cllr Feld is untouched.
    assert "unreachable_in_chat" not in flags_for(bot, bot.briefing("HBC-2027-006", MARCUS).id)

    # Owen turns up on Teams: the next message reaches him and the flag goes.
    teams.behaviour = None
    await bot.tick_at(bot.morning(date(2027, 1, 8)))
    reminder = officer_nudges(bot, "reminder")
    assert [n.status for n in reminder] == [NudgeStatus.SENT]
    assert reminder[0].platform == "teams"
    assert "unreachable_in_chat" not in flags_for(bot, helen.id)


async def test_not_found_on_one_platform_is_delivered_on_the_next(tmp_path):
    slack = RecordingAdapter("slack", not_found_for(OWEN))
    teams = RecordingAdapter("teams")
    bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 4, 8, 0), adapter=slack)
    bot.hub.register(teams)
    await bot.tick_at(bot.morning(date(2027, 1, 5)))
    helen = bot.briefing(REF, HELEN)
    [prompt] = officer_nudges(bot, "first_prompt")
    assert (prompt.status, prompt.platform) == (NudgeStatus.SENT, "teams")
    assert [s.recipient for s in teams.about(helen.id)] == [OWEN]
    assert "unreachable_in_chat" not in flags_for(bot, helen.id)


# --- messages overtaken by events, and redraws -------------------------------------------------


async def test_a_message_for_a_briefing_acknowledged_before_delivery_is_cancelled(tmp_path):
    bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 4, 8, 0))
    # Tue 5 Jan 09:00: the sweep queues the first prompts; delivery lags behind.
    bot.set(local(2027, 1, 5, 9, 0))
    await bot.sweep()
    helen = bot.briefing(REF, HELEN)
    emma = bot.briefing(REF, EMMA)
    # One prompt for Owen's two briefings on the item.
    [prompt] = officer_nudges(bot, "first_prompt")
    assert prompt.status == NudgeStatus.PENDING and bot.adapter.sent == []

    # Meanwhile Owen logs both from his home view (one card, a row for each member); Helen
    # acknowledges from hers.
    bot.set(local(2027, 1, 5, 9, 1))
    home = await home_cards(bot.hub, actor_email=OWEN)
    [card] = [c for c in home if helen.id in briefings_on(c)]
    assert briefings_on(card) == {helen.id, emma.id}
    for member in (helen, emma):
        log = next(b for b in buttons_for(card, member.id) if b.kind == ActionKind.LOG_BRIEFING)
        reply = await bot.click(OWEN, log.kind, member.id, {"how": "call"}, payload=log.payload)
        assert reply.ok, reply.message
    bot.set(local(2027, 1, 5, 9, 2))
    home = await home_cards(bot.hub, actor_email=HELEN)
    card = next(c for c in home if c.briefing_id == helen.id)
    ack = next(b for b in card.buttons if b.kind == ActionKind.ACKNOWLEDGE)
    assert (await bot.click(HELEN, ack.kind, helen.id, payload=ack.payload)).ok

    await bot.tick_at(local(2027, 1, 5, 9, 3))
    # Neither member waits on Owen now, so the prompt listing them is not sent.
    assert prompt.id is not None and bot.nudges(id=prompt.id)[0].status == NudgeStatus.CANCELLED
    assert bot.attempts(prompt.id) == []
    by_kind = {n.kind: n for n in bot.nudges(briefing_id=helen.id)}
    assert by_kind["ack_request"].status == NudgeStatus.CANCELLED
    assert by_kind["acknowledged"].status == NudgeStatus.SENT
    assert [(s.recipient, s.card.title) for s in bot.adapter.about(helen.id)] == [
        (OWEN, "Briefing acknowledged")
    ]
    # Emma's request to acknowledge, still relevant, went out.
    assert [s.recipient for s in bot.adapter.about(emma.id)] == [EMMA]


async def test_an_escalation_is_cancelled_if_the_briefing_is_logged_first(tmp_path):
    bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 4, 8, 0))
    await bot.working_mornings(date(2027, 1, 4), date(2027, 1, 12))
    emma = bot.briefing(REF, EMMA)
    # Wed 13 Jan 09:00: the sweep queues the director step; before it is delivered, Owen
    # logs the briefing.
    bot.set(local(2027, 1, 13, 9, 0))
    await bot.sweep()
    [director] = bot.nudges(briefing_id=emma.id, kind="director")
    assert director.recipient_email == SIMON and director.status == NudgeStatus.PENDING
    bot.set(local(2027, 1, 13, 9, 1))
    helen = bot.briefing(REF, HELEN)
    assert (await bot.click(OWEN, ActionKind.LOG_BRIEFING, emma.id, {"how": "chat"})).ok
    assert (await bot.click(OWEN, ActionKind.LOG_BRIEFING, helen.id, {"how": "chat"})).ok
    await bot.tick_at(local(2027, 1, 13, 9, 2))
    assert bot.nudges(briefing_id=emma.id, kind="director")[0].status == NudgeStatus.CANCELLED
    # (Simon heard about Quayside on 5 Jan: created after its due date, it climbed the ladder.)
    assert [s for s in bot.adapter.to(SIMON) if s.card.briefing_id in (emma.id, helen.id)] == []


async def test_a_director_still_hears_about_a_member_who_is_still_waiting(tmp_path):
    """The director's message is queued once per decision: if the member it was queued for
    is briefed first, it shows another member still waiting instead of being dropped."""
    bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 4, 8, 0))
    await bot.working_mornings(date(2027, 1, 4), date(2027, 1, 12))
    bot.set(local(2027, 1, 13, 9, 0))
    await bot.sweep()
    ids = {bot.briefing(REF, m).id for m in (HELEN, EMMA)}
    [director] = [n for n in bot.nudges(kind="director") if n.briefing_id in ids]
    first = bot.get(director.briefing_id)
    other = HELEN if first.member_email == EMMA else EMMA
    bot.set(local(2027, 1, 13, 9, 1))
    assert (await bot.click(OWEN, ActionKind.LOG_BRIEFING, first.id, {"how": "chat"})).ok
    await bot.tick_at(local(2027, 1, 13, 9, 2))
    [sent] = [s for s in bot.adapter.to(SIMON) if s.card.briefing_id in ids]
    assert sent.card.briefing_id == bot.briefing(REF, other).id
    [after] = [n for n in bot.nudges(kind="director") if n.briefing_id in ids]
    assert after.status == NudgeStatus.SENT


async def test_a_platform_that_keeps_rate_limiting_is_given_up_on_in_the_end(tmp_path):
    def behaviour(person, card):
        return SendResult(DeliveryOutcome.RATE_LIMITED, error_code="ratelimited", retry_after=5)

    settings = Settings(outbox=OutboxSettings(max_attempts=2))
    bot = make_bot(
        sqlite_url(tmp_path),
        local(2027, 1, 5, 10, 0),
        settings=settings,
        adapter=RecordingAdapter("test", behaviour),
    )
    nudge_id = queue_notice(bot, "throttled")
    deliverer = Deliverer(bot.hub, worker="test")
    for _ in range(7):  # patience: four times max_attempts for rate limits
        assert (await deliverer.run_once()).retrying == 1
        bot.clock.advance(timedelta(seconds=5))
    assert (await deliverer.run_once()).failed == 1
    assert nudge(bot, nudge_id).status == NudgeStatus.FAILED
    assert len(bot.attempts(nudge_id)) == 8


async def test_every_delivery_is_recorded_so_a_later_action_redraws_it_everywhere(tmp_path):
    # Owen uses Slack; Helen uses Teams. Her acknowledgement in Teams updates his Slack card.
    slack = RecordingAdapter("slack", not_found_for(HELEN, EMMA))
    teams = RecordingAdapter("teams", not_found_for(OWEN))
    bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 4, 8, 0), adapter=slack)
    bot.hub.register(teams)
    await bot.tick_at(bot.morning(date(2027, 1, 5)))
    helen = bot.briefing(REF, HELEN)
    [prompt] = slack.about(helen.id)  # one card for Owen's two briefings on the item
    with bot.app.session() as session:
        [posted] = session.scalars(select(PostedCard).where(PostedCard.briefing_id == helen.id))
    assert (posted.platform, posted.message_id, posted.recipient_email, posted.view) == (
        "slack",
        prompt.message_id,
        OWEN,
        "first_prompt",
    )
    assert posted.channel == f"dm-{OWEN}"

    # Owen logs it (from his Slack card): his card is redrawn from the database.
    bot.set(local(2027, 1, 5, 11, 0))
    source = PostedRef("slack", posted.channel, posted.message_id, OWEN)
    log = next(b for b in buttons_for(prompt.card, helen.id) if b.kind == ActionKind.LOG_BRIEFING)
    reply = await bot.click(
        OWEN, log.kind, helen.id, {"how": "meeting"}, payload=log.payload, source=source
    )
    assert reply.ok
    # The clicked message itself is answered by the adapter, not redrawn twice.
    assert slack.updated == []
    await bot.deliver()
    [ask] = teams.about(helen.id)
    assert ask.recipient == HELEN

    bot.set(local(2027, 1, 5, 14, 0))
    ack = next(b for b in ask.card.buttons if b.kind == ActionKind.ACKNOWLEDGE)
    helen_source = PostedRef("teams", f"dm-{HELEN}", ask.message_id, HELEN)
    reply = await bot.click(
        HELEN, ack.kind, helen.id, payload=ack.payload, platform="teams", source=helen_source
    )
    assert reply.ok and reply.changed
    [(where, card)] = slack.updated
    assert (where.platform, where.message_id, where.recipient_email) == (
        "slack",
        prompt.message_id,
        OWEN,
    )
    [row] = [section for section in card.sections if section.briefing_id == helen.id]
    assert [f.value for f in row.fields if f.label == "Status"] == ["Acknowledged"]
    assert row.buttons == () and row.rag == "green"
    assert buttons_for(card, bot.briefing(REF, EMMA).id)  # Emma's row is as it was
    assert teams.updated == []  # Helen's own copy is the reply to her click

    # A click with no source (say, from a home view) redraws every copy.
    emma = bot.briefing(REF, EMMA)
    reply = await bot.click(OWEN, ActionKind.SNOOZE, emma.id, {"until": "1"})
    assert reply.ok
    assert [u[0].recipient_email for u in slack.updated[1:]] == [OWEN]
    assert "(snoozed)" in card_text(slack.updated[-1][1])


# --- many deliverers, one database -------------------------------------------------------------

MESSAGES = 300
RECIPIENTS = [OWEN, LENA, SIMON, HELEN, EMMA]


def _load(bot: Bot) -> None:
    with bot.app.session() as session:
        for i in range(MESSAGES):
            enqueue(
                session,
                recipient=RECIPIENTS[i % len(RECIPIENTS)],
                kind="notice",
                key=f"load:{i}",
                send_at=bot.now(),
                calendar=bot.calendar,
                card=Card(title=f"load:{i}").to_dict(),
            )


def _check_each_sent_once(bot: Bot, adapter: RecordingAdapter) -> None:
    counts = Counter(s.card.title for s in adapter.sent)
    assert len(counts) == MESSAGES
    assert set(counts.values()) == {1}, [t for t, n in counts.items() if n > 1][:5]
    nudges = bot.nudges(kind="notice")
    assert len(nudges) == MESSAGES
    assert {n.status for n in nudges} == {NudgeStatus.SENT}
    assert {n.attempts for n in nudges} == {1}
    with bot.app.session() as session:
        from bot.store.models import DeliveryAttempt

        per_nudge = Counter(session.scalars(select(DeliveryAttempt.nudge_id)))
    assert len(per_nudge) == MESSAGES and set(per_nudge.values()) == {1}


def _database_url(request, tmp_path, backend: str) -> str:
    if backend == "postgresql":
        return postgres_url(request)
    return sqlite_url(tmp_path)


SMALL_BATCHES = Settings(outbox=OutboxSettings(batch_size=15))


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_two_deliverers_in_one_loop_send_each_message_once(request, tmp_path, backend):
    url = _database_url(request, tmp_path, backend)
    bot = make_bot(url, local(2027, 1, 5, 10, 0), settings=SMALL_BATCHES, migrate=True)
    _load(bot)
    stats = await asyncio.gather(
        Deliverer(bot.hub, worker="one", concurrency=4).run_once(),
        Deliverer(bot.hub, worker="two", concurrency=4).run_once(),
    )
    assert sum(s.sent for s in stats) == MESSAGES
    # Batches are far smaller than the load, so the two really shared the work.
    assert all(s.sent > 0 for s in stats), [s.sent for s in stats]
    _check_each_sent_once(bot, bot.adapter)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_two_processes_worth_of_deliverers_send_each_message_once(request, tmp_path, backend):
    """Two threads, each with its own event loop, engine, App and Hub, like two servers."""
    url = _database_url(request, tmp_path, backend)
    bot = make_bot(url, local(2027, 1, 5, 10, 0), settings=SMALL_BATCHES, migrate=True)
    _load(bot)
    shared = RecordingAdapter("test")
    others = [
        make_bot(url, bot.now(), settings=SMALL_BATCHES, seed=False, adapter=shared)
        for _ in range(2)
    ]
    results: dict[str, object] = {}
    start = threading.Barrier(2)

    def run(worker: str, other: Bot) -> None:
        try:
            start.wait()
            results[worker] = asyncio.run(Deliverer(other.hub, worker=worker).run_once())
        except BaseException as exc:  # reported below
            results[worker] = exc

    threads = [
        threading.Thread(target=run, args=(f"server-{i}", other)) for i, other in enumerate(others)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    errors = [r for r in results.values() if isinstance(r, BaseException)]
    assert not errors, errors
    assert sum(r.sent for r in results.values()) == MESSAGES  # type: ignore[union-attr]
    _check_each_sent_once(bot, shared)
    for other in others:
        other.app.engine.dispose()
