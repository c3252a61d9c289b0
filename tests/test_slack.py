"""Slack end to end through real HTTP on loopback: the real server, a mock Slack Web API, and
requests signed exactly as Slack signs them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlencode
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web
from livebot import Bot, email, hold_dates, make_bot, sqlite_url, with_public_url
from slack_mock import (
    SIGNING_SECRET,
    TOKEN,
    MockSlack,
    block_actions_body,
    command_body,
    home_opened_body,
    post,
    signed,
    view_submission_body,
)
from sqlalchemy import func, select

from adapters.slack import app as slack_app
from adapters.slack.app import SlackAdapter
from adapters.slack.blocks import card_blocks
from adapters.slack.settings import SlackSettings
from bot.briefings.escalate import run_sweep_tick
from bot.delivery.outbox import claim
from bot.server import build_web_app
from bot.service import find_person, handle_action
from bot.store.models import (
    AuditEvent,
    BriefingState,
    ChatIdentity,
    Nudge,
    NudgeStatus,
    Role,
)
from bot.ticks import deliver_tick
from bot.timeutil import as_utc
from bot.views.cards import ActionKind, Button, Card, CardField

START = datetime(2027, 1, 26, 9, 30, tzinfo=ZoneInfo("Europe/London"))
OWEN, HELEN, MARGARET = email("Owen Brady"), email("Helen Marsh"), email("Margaret Hollis")
SECRET = "Emergency Temporary Accommodation Contract"


@dataclass
class Harness:
    bot: Bot
    mock: MockSlack
    slack: SlackAdapter
    url: str
    http: aiohttp.ClientSession

    def uid(self, who: str) -> str:
        return self.mock.user_id(who)

    async def send(self, body: str, **kwargs) -> tuple[int, str]:
        return await post(self.http, self.url, body, signed(body, **kwargs))

    def state(self, briefing_id: int) -> str:
        return self.bot.get(briefing_id).state

    def audit_count(self) -> int:
        with self.bot.app.session() as session:
            return session.scalar(select(func.count()).select_from(AuditEvent))


async def harness(
    tmp_path: Path, *, process_before_response: bool = True, mock: MockSlack | None = None
) -> Harness:
    """The bot serving Slack on the database in `tmp_path` (new, or a restart on the one there),
    talking to `mock` (a new mock Slack unless one is given, as after a restart)."""
    if mock is None:
        mock = MockSlack()
        await mock.start()
    bot = make_bot(sqlite_url(tmp_path), START)
    with bot.app.session() as session:
        directory = bot.app.directory(session)
        for index, person in enumerate(sorted(directory.people)):
            if person != email("Nadia Voss"):  # Nadia is not in the Slack workspace
                mock.users[person] = f"U{index:04d}"
        run_sweep_tick(app=bot.app, session=session)
    settings = SlackSettings(
        enabled=True, bot_token=TOKEN, signing_secret=SIGNING_SECRET, api_url=f"{mock.url}/api/"
    )
    bot.hub.adapters.clear()  # Slack only (the recording adapter stays out of the way)
    slack = SlackAdapter(bot.hub, settings, process_before_response=process_before_response)
    web_app = build_web_app(bot.app, bot.hub)
    slack.mount(web_app)
    runner = web.AppRunner(web_app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    http = aiohttp.ClientSession()
    h = Harness(bot, mock, slack, f"http://127.0.0.1:{port}/slack/events", http)
    h._runner = runner  # type: ignore[attr-defined]
    return h


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    h = await harness(tmp_path)
    yield h
    await h.slack.stop()
    await h.http.close()
    await h._runner.cleanup()  # type: ignore[attr-defined]
    await h.mock.stop()


def posted_to(h: Harness, who: str) -> list:
    channel = "D" + h.uid(who)[1:]
    return [
        c
        for c in h.mock.called("chat.postMessage")
        if c.params["channel"] == h.uid(who) or c.params["channel"] == channel
    ]


def button(params: dict, kind: ActionKind, briefing_id: int | None = None) -> dict:
    """A button on a posted message; given a briefing, the one in its row (an officer's one
    card about a decision has a row of buttons per member)."""
    for block in params["blocks"]:
        if briefing_id is not None and block.get("block_id") != f"ns_buttons_{briefing_id}":
            continue
        for element in block.get("elements", []):
            if element.get("action_id") == f"ns:{kind.value}":
                return element
    raise AssertionError(f"no {kind} button in {params['blocks']}")


def message_of(h: Harness, who: str, briefing_id: int) -> tuple[str, str]:
    """(channel, ts) of the DM the person got about a briefing."""
    with h.bot.app.session() as session:
        from bot.store.models import PostedCard

        card = session.scalars(
            select(PostedCard).where(
                PostedCard.briefing_id == briefing_id,
                PostedCard.recipient_email == who,
                PostedCard.platform == "slack",
            )
        ).first()
    assert card is not None
    return card.channel, card.message_id


async def press(
    h: Harness,
    who: str,
    channel: str,
    ts: str,
    kind: ActionKind,
    times: int = 1,
    briefing_id: int | None = None,
):
    """Press a button on a message as it is now, `times` over (a double click); given a
    briefing, the one in its row (an officer's one card about a decision has one per member)."""
    element = button(h.mock.messages[(channel, ts)], kind, briefing_id)
    body = block_actions_body(
        h.uid(who), channel, ts, element["action_id"], element["value"], f"{h.mock.url}/r/1"
    )
    for _ in range(times):
        assert (await h.send(body))[0] == 200


async def test_reminders_arrive_as_direct_messages_with_buttons(h: Harness):
    stats = await deliver_tick(h.bot.hub)
    assert stats is not None and stats.sent > 0
    owen = posted_to(h, OWEN)
    assert owen, "Owen should have been reminded in Slack"
    blocks = owen[0].params["blocks"]
    assert blocks[0]["type"] == "header"
    labels = {e["text"]["text"] for b in blocks if b["type"] == "actions" for e in b["elements"]}
    assert labels == {"I've briefed them", "Snooze", "Not needed", "Reassign"}
    assert len(h.mock.called("users.lookupByEmail")) >= 1


async def test_a_person_not_in_the_workspace_is_unreachable_not_retried(h: Harness):
    with h.bot.app.session() as session:
        session.add(
            Nudge(
                recipient_email=email("Nadia Voss"),
                kind="officer_digest",
                card=Card(title="Good morning").to_dict(),
                send_at=h.bot.now(),
                dedupe_key="nadia-digest",
                created_at=h.bot.now(),
            )
        )
    await deliver_tick(h.bot.hub)
    with h.bot.app.session() as session:
        nadia = session.scalars(
            select(Nudge).where(Nudge.recipient_email == email("Nadia Voss"))
        ).all()
        identity = session.scalars(
            select(ChatIdentity).where(ChatIdentity.email == email("Nadia Voss"))
        ).one()
    assert nadia and {n.status for n in nadia} == {NudgeStatus.UNREACHABLE}
    assert identity.reachable is False


async def test_log_by_modal_then_acknowledge_redraws_the_officers_message(h: Harness):
    await deliver_tick(h.bot.hub)
    helen = h.bot.briefing("HBC-2027-009", HELEN)
    channel, ts = message_of(h, OWEN, helen.id)
    element = button(h.mock.messages[(channel, ts)], ActionKind.LOG_BRIEFING, helen.id)
    body = block_actions_body(
        h.uid(OWEN), channel, ts, element["action_id"], element["value"], f"{h.mock.url}/response/1"
    )
    status, _ = await h.send(body)
    assert status == 200
    [opened] = h.mock.called("views.open")
    view = opened.params["view"]
    assert {b["block_id"] for b in view["blocks"]} == {"when", "how", "note"}
    # A briefing in the future is refused inside the modal, which stays open.
    future = str(int(datetime(2027, 2, 1, 10, 0, tzinfo=ZoneInfo("Europe/London")).timestamp()))
    status, text = await h.send(
        view_submission_body(h.uid(OWEN), view, {"how": "call", "when": future})
    )
    assert status == 200 and '"response_action":"errors"' in text.replace(" ", "")
    assert h.state(helen.id) == BriefingState.OPEN
    status, text = await h.send(
        view_submission_body(h.uid(OWEN), view, {"how": "call", "note": "By phone"})
    )
    assert status == 200, text
    assert h.state(helen.id) == BriefingState.BRIEFED
    updates = [c for c in h.mock.called("chat.update") if c.params["ts"] == ts]
    assert updates and "awaiting" in json.dumps(updates[-1].params["blocks"])

    await deliver_tick(h.bot.hub)
    helen_channel, helen_ts = message_of(h, HELEN, helen.id)
    ack = button(h.mock.messages[(helen_channel, helen_ts)], ActionKind.ACKNOWLEDGE)
    before = len(h.mock.called("chat.update"))
    body = block_actions_body(
        h.uid(HELEN),
        helen_channel,
        helen_ts,
        ack["action_id"],
        ack["value"],
        f"{h.mock.url}/response/2",
    )
    assert (await h.send(body))[0] == 200
    assert h.state(helen.id) == BriefingState.ACKNOWLEDGED
    # Owen's original message was redrawn from the database: it now says acknowledged.
    owen_updates = [c for c in h.mock.called("chat.update")[before:] if c.params["ts"] == ts]
    assert owen_updates and "Acknowledged" in json.dumps(owen_updates[-1].params["blocks"])

    # A double click on the same (now stale) button changes nothing.
    audits = h.audit_count()
    assert (await h.send(body))[0] == 200
    assert h.audit_count() == audits and h.state(helen.id) == BriefingState.ACKNOWLEDGED


async def test_the_modal_picks_the_time_and_method_natively_and_the_picked_time_is_logged(
    h: Harness,
):
    await deliver_tick(h.bot.hub)
    helen = h.bot.briefing("HBC-2027-009", HELEN)
    channel, ts = message_of(h, OWEN, helen.id)
    element = button(h.mock.messages[(channel, ts)], ActionKind.LOG_BRIEFING, helen.id)
    body = block_actions_body(
        h.uid(OWEN), channel, ts, element["action_id"], element["value"], f"{h.mock.url}/response/1"
    )
    assert (await h.send(body))[0] == 200
    [opened] = h.mock.called("views.open")
    view = opened.params["view"]
    elements = {b["block_id"]: b["element"] for b in view["blocks"]}
    assert elements["when"]["type"] == "datetimepicker"
    assert elements["when"]["initial_date_time"] == int(START.timestamp())  # starts at now
    assert elements["how"]["type"] == "radio_buttons"
    assert [o["value"] for o in elements["how"]["options"]] == ["meeting", "call", "email", "chat"]
    picked = START - timedelta(hours=2, minutes=15)
    status, text = await h.send(
        view_submission_body(
            h.uid(OWEN), view, {"how": "chat", "when": str(int(picked.timestamp()))}
        )
    )
    assert status == 200, text
    logged = h.bot.get(helen.id)
    assert logged.state == BriefingState.BRIEFED and logged.briefed_how == "chat"
    assert as_utc(logged.briefed_at) == picked


async def test_reassigning_offers_only_the_officers_the_rules_allow(h: Harness):
    await deliver_tick(h.bot.hub)
    helen = h.bot.briefing("HBC-2027-009", HELEN)
    channel, ts = message_of(h, OWEN, helen.id)
    await press(h, OWEN, channel, ts, ActionKind.REASSIGN, briefing_id=helen.id)
    [opened] = h.mock.called("views.open")
    view = opened.params["view"]
    to = next(b["element"] for b in view["blocks"] if b["block_id"] == "to")
    assert to["type"] == "static_select"
    offered = {o["value"]: o["text"]["text"] for o in to["options"]}
    with h.bot.app.session() as session:
        directory = h.bot.app.directory(session)
    officers = {p.email for p in directory.people.values() if p.has(Role.OFFICER)}
    # Every officer but the one who has it now; never the member, nor anyone not an officer.
    assert set(offered) == officers - {OWEN}
    assert HELEN not in offered and set(directory.people) - officers - {HELEN}
    chosen = next(iter(offered))
    assert offered[chosen] == directory.people[chosen].name
    status, text = await h.send(view_submission_body(h.uid(OWEN), view, {"to": chosen}))
    assert status == 200, text
    assert h.bot.get(helen.id).briefer_email == chosen


async def test_a_picked_time_that_is_not_a_number_is_refused_and_nothing_changes(h: Harness):
    await deliver_tick(h.bot.hub)
    helen = h.bot.briefing("HBC-2027-009", HELEN)
    channel, ts = message_of(h, OWEN, helen.id)
    element = button(h.mock.messages[(channel, ts)], ActionKind.LOG_BRIEFING, helen.id)
    body = block_actions_body(
        h.uid(OWEN), channel, ts, element["action_id"], element["value"], f"{h.mock.url}/response/1"
    )
    assert (await h.send(body))[0] == 200
    [opened] = h.mock.called("views.open")
    form = json.loads(
        parse_qs(view_submission_body(h.uid(OWEN), opened.params["view"], {"how": "call"}))[
            "payload"
        ][0]
    )
    form["view"]["state"]["values"]["when"] = {
        "when": {"type": "datetimepicker", "selected_date_time": "yesterday"}
    }
    body = urlencode({"payload": json.dumps(form)})
    status, _ = await h.send(body)
    assert status == 400
    assert h.state(helen.id) == BriefingState.OPEN


async def test_an_action_in_another_adapter_redraws_the_slack_message(h: Harness):
    await deliver_tick(h.bot.hub)
    gwen = h.bot.briefing("HBC-2027-009", email("Gwen Price"))
    channel, ts = message_of(h, OWEN, gwen.id)
    payload = h.bot.sign(ActionKind.NOT_NEEDED, gwen.id)
    reply = await handle_action(
        h.bot.hub,
        payload=payload,
        actor_email=OWEN,
        platform="console",
        inputs={"reason": "Gwen is on leave; Joanne briefed the ward"},
    )
    assert reply.ok
    redraws = [
        c
        for c in h.mock.called("chat.update")
        if (c.params["channel"], c.params["ts"]) == (channel, ts)
    ]
    assert redraws and "Not needed" in json.dumps(redraws[-1].params["blocks"])


async def test_surprises_is_acked_and_answered_ephemerally_with_exempt_titles_masked(h: Harness):
    status, text = await h.send(command_body(h.uid(MARGARET), "", f"{h.mock.url}/response/9"))
    assert status == 200 and text == ""
    [answer] = h.mock.responses
    assert answer["response_type"] == "ephemeral"
    shown = json.dumps(answer["blocks"])
    assert "What could still surprise a member" in shown
    assert "HBC-2027-004" in shown and SECRET not in shown
    assert "Exempt item (paragraph 3)" in shown
    # In the chief executive's direct message with the bot, she is entitled to see it.
    h.mock.responses.clear()
    await h.send(
        command_body(h.uid(MARGARET), "HBC-2027-004", f"{h.mock.url}/response/9", channel="D0001")
    )
    assert SECRET in json.dumps(h.mock.responses[0]["blocks"])


async def test_answers_at_response_urls_share_one_kept_open_connection(h: Harness):
    """bolt's own `respond` opens a connection for every answer; the adapter keeps one open."""
    for n, text in enumerate(("", "days 60", "help")):
        await h.send(command_body(h.uid(MARGARET), text, f"{h.mock.url}/response/{n}"))
    assert len(h.mock.responses) == 3 and "next 60 days" in json.dumps(h.mock.responses[1])
    assert len(set(h.mock.response_peers)) == 1
    await h.slack.stop()  # closes it; the next answer opens another
    await h.send(command_body(h.uid(MARGARET), "help", f"{h.mock.url}/response/4"))
    assert len(h.mock.responses) == 4 and len(set(h.mock.response_peers)) == 2


async def test_surprises_forms_and_an_unknown_user(h: Harness):
    await h.send(command_body(h.uid(OWEN), "help", f"{h.mock.url}/response/1"))
    await h.send(command_body(h.uid(OWEN), "mine", f"{h.mock.url}/response/1"))
    await h.send(command_body("UNKNOWN", "", f"{h.mock.url}/response/1"))
    help_text, mine, stranger = (json.dumps(r) for r in h.mock.responses)
    assert "/surprises mine" in help_text
    assert "Your briefings" in mine and "HBC-2027-009" in mine
    assert "does not know who you are" in stranger


async def test_app_home_once_per_event_even_when_slack_retries(h: Harness):
    body = home_opened_body(h.uid(OWEN), "Ev0001")
    headers = signed(body, content_type="application/json")
    assert (await post(h.http, h.url, body, headers))[0] == 200
    retry = {
        **signed(body, content_type="application/json"),
        "X-Slack-Retry-Num": "1",
        "X-Slack-Retry-Reason": "http_timeout",
    }
    assert (await post(h.http, h.url, body, retry))[0] == 200
    [published] = h.mock.called("views.publish")
    assert published.params["user_id"] == h.uid(OWEN)
    blocks = published.params["view"]["blocks"]
    assert len(blocks) <= 100 and "I've briefed them" in json.dumps(blocks)


@pytest.mark.parametrize("forgery", ["wrong secret", "unsigned", "six minutes old"])
async def test_forged_unsigned_or_replayed_requests_get_401_and_change_nothing(h, forgery):
    await deliver_tick(h.bot.hub)
    helen = h.bot.briefing("HBC-2027-009", HELEN)
    payload = h.bot.sign(ActionKind.NOT_NEEDED, helen.id)
    body = block_actions_body(
        h.uid(OWEN), "D0001", "1.1", "ns:snooze", payload, f"{h.mock.url}/response/1"
    )
    headers = {
        "wrong secret": signed(body, secret="not-the-secret"),
        "unsigned": {"Content-Type": "application/x-www-form-urlencoded"},
        "six minutes old": signed(body, age=360),
    }[forgery]
    audits, calls = h.audit_count(), len(h.mock.calls)
    status, _ = await post(h.http, h.url, body, headers)
    assert status == 401
    assert h.audit_count() == audits and len(h.mock.calls) == calls
    assert h.state(helen.id) == BriefingState.OPEN


async def test_rate_limits_are_retried_and_then_handed_back_to_the_outbox(h: Harness):
    h.mock.fail("chat.postMessage", 1)  # one 429 with Retry-After: 0 — the client retries
    stats = await deliver_tick(h.bot.hub)
    assert stats.rate_limited == 0 and stats.sent > 0
    h.mock.fail("chat.postMessage", 50, retry_after="0")
    with h.bot.app.session() as session:
        session.add(
            Nudge(
                recipient_email=OWEN,
                kind="officer_digest",
                card=Card(title="Digest").to_dict(),
                send_at=h.bot.now(),
                dedupe_key="test-digest",
                created_at=h.bot.now(),
            )
        )
    stats = await deliver_tick(h.bot.hub)
    assert stats.rate_limited == 1
    with h.bot.app.session() as session:
        nudge = session.scalars(select(Nudge).where(Nudge.dedupe_key == "test-digest")).one()
    assert nudge.status == NudgeStatus.PENDING and nudge.attempts == 1


def test_block_kit_stays_within_slacks_limits():
    lines = tuple(f"*HBC-{n}* " + "x" * 400 for n in range(2000))
    card = Card(
        title="t" * 400,
        lines=lines,
        fields=tuple(CardField(f"F{n}", "v") for n in range(25)),
        buttons=(Button("Go", ActionKind.ACKNOWLEDGE, "p"),),
        footer="f",
    )
    blocks = card_blocks(card)
    assert len(blocks) <= 50
    assert len(blocks[0]["text"]["text"]) <= 150
    for block in blocks:
        if block["type"] == "section":
            assert len(block.get("text", {}).get("text", "")) <= 3000
            assert len(block.get("fields", [])) <= 10
    assert blocks[-1]["type"] == "context"


async def test_production_setting_acks_first_and_works_after(tmp_path: Path):
    h = await harness(tmp_path, process_before_response=False)
    try:
        status, _ = await h.send(
            command_body(h.uid(MARGARET), "days 60", f"{h.mock.url}/response/7")
        )
        assert status == 200
        await h.mock.wait_for(lambda: bool(h.mock.responses))
        assert "next 60 days" in json.dumps(h.mock.responses[0])
    finally:
        await h.http.close()
        await h._runner.cleanup()  # type: ignore[attr-defined]
        await h.mock.stop()


async def test_concurrent_double_clicks_act_once(h: Harness):
    await deliver_tick(h.bot.hub)
    helen = h.bot.briefing("HBC-2027-009", HELEN)
    payload = h.bot.sign(ActionKind.SNOOZE, helen.id)
    # Snooze needs a choice, so a click opens a modal; submit the same modal twice at once.
    view = {
        "type": "modal",
        "callback_id": "ns_modal",
        "blocks": [{"type": "input", "block_id": "until", "element": {"type": "static_select"}}],
        "private_metadata": json.dumps({"payload": payload, "channel": "", "ts": ""}),
    }
    body = view_submission_body(h.uid(OWEN), view, {"until": "1"})
    results = await asyncio.gather(h.send(body), h.send(body))
    assert [s for s, _ in results] == [200, 200]
    done = [e for e in h.bot.events(action="snooze") if e.outcome == "done"]
    assert len(done) == 1 and h.state(helen.id) == BriefingState.SNOOZED


# --- crash safety: the dedupe key in message metadata ---------------------------------------


def due_nudges(h: Harness) -> list[Nudge]:
    with h.bot.app.session() as session:
        return list(
            session.scalars(
                select(Nudge).where(Nudge.status == NudgeStatus.PENDING).order_by(Nudge.id)
            )
        )


async def test_every_post_carries_its_outbox_key_in_message_metadata(h: Harness):
    keys = {n.dedupe_key for n in due_nudges(h)}
    await deliver_tick(h.bot.hub)
    posts = h.mock.called("chat.postMessage")
    assert posts and all(c.params["metadata"]["event_type"] == "nosurprises_message" for c in posts)
    sent = {n.dedupe_key for n in h.bot.nudges() if n.status == NudgeStatus.SENT}
    assert {p.dedupe_key for p in h.mock.posts} == sent and sent <= keys


async def test_a_message_a_dead_process_posted_is_found_in_history_and_not_posted_again(
    h: Harness,
):
    h.mock.clock = lambda: h.bot.now().timestamp()
    first, second = due_nudges(h)[:2]
    with h.bot.app.session() as session:
        claimed = claim(session, worker="dead", now=h.bot.now(), limit=2)
    assert {n.id for n in claimed} == {first.id, second.id}
    # The dead process had posted the first message (but not recorded it), not the second.
    person = await find_person(h.bot.hub, first.recipient_email)
    assert person is not None
    posted = await h.slack.send(person, Card(title="Reminder"), dedupe_key=first.dedupe_key)
    h.bot.clock.advance(timedelta(seconds=61))
    await deliver_tick(h.bot.hub)
    assert h.mock.duplicates() == {}
    assert [p.dedupe_key for p in h.mock.posts].count(second.dedupe_key) == 1
    [found] = h.bot.attempts(first.id)
    assert (found.outcome, found.note) == ("delivered", "already_posted")
    assert h.bot.attempts(second.id)[0].note == ""
    if first.briefing_id is not None:
        # The card found is the one later redraws update.
        assert message_of(h, first.recipient_email, first.briefing_id)[1] == posted.message_id


async def test_if_slack_cannot_be_asked_the_message_waits_rather_than_risk_a_second_post(
    h: Harness,
):
    h.mock.clock = lambda: h.bot.now().timestamp()
    [first] = due_nudges(h)[:1]
    with h.bot.app.session() as session:
        claim(session, worker="dead", now=h.bot.now(), limit=1)
    h.bot.clock.advance(timedelta(seconds=61))
    h.mock.fail("conversations.history", 10, status=500)
    await deliver_tick(h.bot.hub)
    assert first.dedupe_key not in {p.dedupe_key for p in h.mock.posts}
    [waiting] = [n for n in h.bot.nudges() if n.id == first.id]
    assert waiting.status == NudgeStatus.PENDING and waiting.in_doubt


async def test_with_more_history_than_it_may_read_the_message_waits_rather_than_risk_a_repeat(
    h: Harness, monkeypatch
):
    h.mock.clock = lambda: h.bot.now().timestamp()
    [first] = due_nudges(h)[:1]
    with h.bot.app.session() as session:
        claim(session, worker="dead", now=h.bot.now(), limit=1)
    person = await find_person(h.bot.hub, first.recipient_email)
    assert person is not None
    for other in ("other-1", "other-2"):
        await h.slack.send(person, Card(title="Another reminder"), dedupe_key=other)
    monkeypatch.setattr(slack_app, "HISTORY_PAGE", 1)
    monkeypatch.setattr(slack_app, "HISTORY_PAGES", 1)
    h.bot.clock.advance(timedelta(seconds=61))
    await deliver_tick(h.bot.hub)
    assert first.dedupe_key not in {p.dedupe_key for p in h.mock.posts}
    [attempt] = h.bot.attempts(first.id)
    assert (attempt.outcome, attempt.error_code) == ("failed", "history_too_long")


async def test_democratic_services_record_the_urgency_agreement_in_a_slack_modal(h: Harness):
    # Issue 10, item 9: a button about a decision (not a briefing) through Slack's modal.
    await deliver_tick(h.bot.hub)
    claire = email("Claire Dunn")
    [(channel, ts)] = [
        key
        for key, params in h.mock.messages.items()
        if "Special urgency" in json.dumps(params.get("blocks", []))
        and key[0] in (h.uid(claire), "D" + h.uid(claire)[1:])
    ]
    element = button(h.mock.messages[(channel, ts)], ActionKind.RECORD_URGENCY)
    body = block_actions_body(
        h.uid(claire), channel, ts, element["action_id"], element["value"], f"{h.mock.url}/r/9"
    )
    assert (await h.send(body))[0] == 200
    [opened] = h.mock.called("views.open")
    view = opened.params["view"]
    assert {b["block_id"] for b in view["blocks"]} == {"who"}
    status, text = await h.send(
        view_submission_body(h.uid(claire), view, {"who": "Chair of the council"})
    )
    assert status == 200, text
    assert h.bot.decision("HBC-2027-009").urgency_agreed_by == "Chair of the council"
    updates = [c for c in h.mock.called("chat.update") if c.params["ts"] == ts]
    assert updates and "agreed by the chair of the council" in json.dumps(updates[-1].params)


async def test_a_prompt_links_its_calendar_hold_and_fetching_it_changes_nothing(h: Harness):
    with_public_url(h.bot.app, h.url.removesuffix("/slack/events"))
    await deliver_tick(h.bot.hub)
    # (On an officer's one card about a decision the link has its own row, for the card's
    # first briefing: their holds share the decision's due day.)
    [actions] = [
        b
        for b in posted_to(h, OWEN)[0].params["blocks"]
        if b["type"] == "actions" and any(e["action_id"] == "ns_calendar" for e in b["elements"])
    ]
    [link] = [e for e in actions["elements"] if e["action_id"] == "ns_calendar"]
    assert link["text"]["text"] == "Add to calendar"
    briefing_id = int(actions["block_id"].rpartition("_")[2])
    before, events = h.bot.get(briefing_id), h.audit_count()
    for _ in range(2):  # a calendar client or a link scanner may fetch it again and again
        async with h.http.get(link["url"]) as response:
            assert response.status == 200
            assert response.content_type == "text/calendar"
            body = await response.read()
        hold_dates(h.bot.app, body, briefing_id)
    token = link["url"].rsplit("/", 1)[1].removesuffix(".ics")
    altered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    async with h.http.get(link["url"].replace(token, altered)) as response:
        assert response.status == 403
        assert b"BEGIN:VCALENDAR" not in await response.read()
    # Slack reports the link's click too: it is acknowledged and does nothing.
    channel, ts = message_of(h, OWEN, briefing_id)
    status, _ = await h.send(
        block_actions_body(h.uid(OWEN), channel, ts, "ns_calendar", "", "http://x/")
    )
    assert status == 200
    assert h.bot.get(briefing_id) == before and h.audit_count() == events
