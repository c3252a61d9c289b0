"""The Teams adapter end to end, through real HTTP on loopback.

The server under test is bot.server.build_web_app with TeamsAdapter mounted, served by aiohttp on
127.0.0.1 port 0, on the sample council (a fresh SQLite database, seeded and swept) at
Tue 26 Jan 2027 09:30 on a settable clock. Activities are posted to /api/messages exactly as
Teams posts them; every outbound call lands on a mock Bot Connector (tests/teams_mock.py).
Nothing sleeps: the server answers each activity only once its turn, replies included, is done,
so every assertion can look at the mock straight away.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import struct
import time
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web
from livebot import hold_dates, with_public_url
from sqlalchemy import func, select
from teams_mock import (
    BOT_ID,
    TENANT,
    Member,
    MockConnector,
    execute,
    installation,
    members_added,
    message,
    submit,
)

from adapters.teams.adapter import TeamsAdapter
from adapters.teams.cards import adaptive_card, submitted
from adapters.teams.coalesce import Coalescer
from adapters.teams.connector import RetryPolicy
from adapters.teams.settings import TeamsSettings
from bot.app import App
from bot.briefings.approvals import needs_not_needed_approval
from bot.briefings.escalate import run_sweep_tick
from bot.cli import seed_sample_council
from bot.clock import SettableClock
from bot.config import ConfigError, Settings
from bot.delivery.hub import Hub
from bot.delivery.ports import DeliveryOutcome, PostedRef, SendResult
from bot.server import build_web_app
from bot.service import handle_action
from bot.store import identities
from bot.store.models import AuditEvent, Briefing, ChatIdentity, DeliveryAttempt, Nudge, PostedCard
from bot.store.secrets import payload_key
from bot.ticks import deliver_tick
from bot.timeutil import as_utc
from bot.views.cards import ActionKind, Button, Card, CardField, Input, PayloadSigner

LONDON = ZoneInfo("Europe/London")
DOMAIN = "harbourside.example.gov.uk"
NOW = datetime(2027, 1, 26, 9, 30, tzinfo=LONDON)  # a Tuesday, in working hours

MARGARET = Member("Margaret Hollis", f"margaret.hollis@{DOMAIN}", "aad-margaret")  # CEO
# Owen's Teams email is an alias; his UPN is the address the directory knows.
OWEN = Member("Owen Brady", f"o.brady@mail.{DOMAIN}", "aad-owen", upn=f"Owen.Brady@{DOMAIN}")
HELEN = Member("Helen Marsh", f"helen.marsh@{DOMAIN}", "aad-helen")  # cabinet member
STRANGER = Member("Pat Visitor", "pat.visitor@elsewhere.example.org", "aad-pat")
EXEMPT_TITLE = "Emergency Temporary Accommodation Contract"  # HBC-2027-004, exempt


# --- the server under test ---------------------------------------------------------------------


@dataclass
class Rig:
    app: App
    hub: Hub
    teams: TeamsAdapter
    mock: MockConnector
    url: str
    http: aiohttp.ClientSession

    async def post(
        self, activity: dict[str, Any], *, token: str | None = None
    ) -> aiohttp.ClientResponse:
        headers = {"Authorization": token} if token is not None else {}
        async with self.http.post(f"{self.url}/api/messages", json=activity, headers=headers) as r:
            await r.read()
            return r

    def count(self, model: Any, *where: Any) -> int:
        with self.app.session() as session:
            return session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    def briefing(self, briefing_id: int) -> Briefing:
        with self.app.session() as session:
            found = session.get(Briefing, briefing_id)
            assert found is not None
            return found

    def states(self) -> dict[int, tuple[str, int]]:
        with self.app.session() as session:
            return {b.id: (b.state, b.version) for b in session.scalars(select(Briefing))}

    def identity(self, email: str) -> ChatIdentity | None:
        return identities.lookup_by_email(self.app, platform="teams", email=email)

    def sign(self, kind: ActionKind, briefing_id: int) -> str:
        with self.app.session() as session:
            signer = PayloadSigner(payload_key(session))
        return signer.sign(kind, briefing_id, self.briefing(briefing_id).version)


def open_app(tmp_path, teams: TeamsSettings) -> App:
    settings = Settings().with_overrides(
        database_url=f"sqlite:///{tmp_path / 'teams.db'}", adapters={"teams": teams}
    )
    app = App.open(settings, clock=SettableClock(NOW))
    seed_sample_council(app)
    with app.session() as session:
        run_sweep_tick(app=app, session=session)
    return app


@pytest.fixture
def mock() -> Any:
    connector = MockConnector()
    connector.start_in_thread()
    for member in (MARGARET, OWEN, HELEN, STRANGER):
        connector.add(member)
    yield connector
    connector.stop_thread()


async def serve(app: App, mock: MockConnector, **adapter_options: Any) -> AsyncIterator[Rig]:
    hub = Hub(app)
    web_app = build_web_app(app, hub)
    adapter_options.setdefault(
        "retry", RetryPolicy(attempts=4, base_seconds=0.0, cap_seconds=0.0, max_wait_seconds=1.0)
    )
    teams = TeamsAdapter(hub, app.settings.adapters["teams"], **adapter_options)
    teams.mount(web_app)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    await teams.start()
    async with aiohttp.ClientSession() as http:
        yield Rig(app, hub, teams, mock, f"http://127.0.0.1:{port}", http)
    await teams.stop()
    await runner.cleanup()


LOCAL = TeamsSettings(enabled=True, allow_unauthenticated_local=True)


@pytest.fixture
async def rig(tmp_path, mock) -> AsyncIterator[Rig]:
    app = open_app(tmp_path, LOCAL)
    async for rig in serve(app, mock):
        yield rig


def replies_to(rig: Rig, activity: dict[str, Any]) -> list[Any]:
    return [c for c in rig.mock.of("reply") if c.activity_id == activity["id"]]


def person(rig: Rig, email: str):
    with rig.app.session() as session:
        return rig.app.directory(session).person(email)


async def install(rig: Rig, member: Member) -> None:
    response = await rig.post(installation(member, rig.mock.url))
    assert response.status == 201


# --- `surprises` in all its forms ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("surprises", "What could still surprise a member in the next 28 days"),
        ("/surprises days 14", "What could still surprise a member in the next 14 days"),
        ("Surprises HBC-2027-003", "Housing Allocations Policy Review"),
        ("surprises mine", "Your briefings"),
        ("help", "what you can ask"),
        ("/surprises help", "what you can ask"),
    ],
)
async def test_surprises_in_a_personal_chat(rig: Rig, text: str, expected: str) -> None:
    activity = message(MARGARET, text, rig.mock.url)
    response = await rig.post(activity)
    assert response.status == 201
    [reply] = replies_to(rig, activity)
    assert reply.conversation_id == MARGARET.personal_conversation
    assert reply.body["from"]["id"] == BOT_ID and reply.body["recipient"]["id"] == MARGARET.user_id
    [card] = reply.cards
    assert card["version"] == "1.5" and card["type"] == "AdaptiveCard"
    assert expected in reply.text
    assert reply.authorization == ""  # local mode: nothing to sign with


async def test_chief_executive_sees_exempt_titles_only_in_a_direct_message(rig: Rig) -> None:
    direct = message(MARGARET, "surprises", rig.mock.url)
    await rig.post(direct)
    [reply] = replies_to(rig, direct)
    assert EXEMPT_TITLE in reply.text
    in_channel = message(
        MARGARET,
        "surprises",
        rig.mock.url,
        mention=True,
        conversation_type="channel",
        conversation_id="19:general@thread.tacv2",
    )
    await rig.post(in_channel)
    [reply] = replies_to(rig, in_channel)
    assert reply.conversation_id == "19:general@thread.tacv2"
    assert "What could still surprise a member" in reply.text
    assert EXEMPT_TITLE not in reply.text
    assert "Exempt details are shown only in a direct message" in reply.text
    # A channel is never where reminders go: the personal chat stays the reference.
    reference = rig.identity(MARGARET.email).detail["reference"]
    assert reference["conversation"]["id"] == MARGARET.personal_conversation


async def test_unknown_words_get_help_and_strangers_are_told_politely(rig: Rig) -> None:
    puzzled = message(MARGARET, "what's up?", rig.mock.url)
    await rig.post(puzzled)
    [reply] = replies_to(rig, puzzled)
    assert "Sorry, I did not understand that" in reply.text
    assert "what you can ask" in reply.text

    stranger = message(STRANGER, "surprises", rig.mock.url)
    await rig.post(stranger)
    [reply] = replies_to(rig, stranger)
    assert "You are not set up yet" in reply.text
    assert "not in the council's directory" in reply.text

    nobody = Member("Ghost", "ghost@example.org", "aad-ghost")  # the connector knows no such member
    ghost = message(nobody, "surprises", rig.mock.url)
    await rig.post(ghost)
    [reply] = replies_to(rig, ghost)
    assert "could not tell who you are" in reply.text
    assert rig.identity("ghost@example.org") is None


# --- reaching people ---------------------------------------------------------------------------


async def test_install_remembers_the_person_by_upn_and_welcomes_them(rig: Rig) -> None:
    await install(rig, OWEN)
    row = rig.identity(f"owen.brady@{DOMAIN}")  # the directory knows Owen by his UPN
    assert row is not None and row.reachable
    assert (row.user_id, row.tenant_id) == (OWEN.aad, TENANT)
    reference = row.detail["reference"]
    assert reference["serviceUrl"] == rig.mock.url
    assert reference["conversation"]["id"] == OWEN.personal_conversation
    assert reference["user"]["id"] == OWEN.user_id
    assert [c.path for c in rig.mock.of("member")] == [
        f"/v3/conversations/{OWEN.personal_conversation}/members/{OWEN.user_id}"
    ]
    welcome = rig.mock.of("reply", OWEN.personal_conversation)
    assert "I am No Surprises" in welcome[0].text
    # Then what waits on him, a card a message, so each button redraws just its own card.
    assert all(len(m.cards) == 1 for m in welcome)
    assert any("Millbrook Park Play Area Refurbishment" in m.text for m in welcome)

    # Later messages use the cached identity (no more look-ups) and keep the service URL current.
    moved = rig.mock.url + "/"  # Teams may move a tenant to another regional service URL
    await rig.post(message(OWEN, "surprises mine", moved))
    assert len(rig.mock.of("member")) == 1
    assert rig.identity(f"owen.brady@{DOMAIN}").detail["reference"]["serviceUrl"] == moved


async def test_conversation_update_remembers_people(rig: Rig) -> None:
    # The bot added to Helen's personal scope.
    await rig.post(members_added(HELEN, [{"id": BOT_ID}], rig.mock.url))
    row = rig.identity(HELEN.email)
    assert row is not None
    assert row.detail["reference"]["conversation"]["id"] == HELEN.personal_conversation
    # Margaret added to a team where the bot is installed: known, with a way to open a chat.
    team = members_added(
        MARGARET,
        [{"id": MARGARET.user_id, "aadObjectId": MARGARET.aad}],
        rig.mock.url,
        conversation_type="channel",
        conversation_id="19:general@thread.tacv2",
    )
    await rig.post(team)
    row = rig.identity(MARGARET.email)
    assert row is not None and "reference" not in row.detail
    assert row.detail["member"]["id"] == MARGARET.user_id
    # Her first reminder opens the personal chat (POST /v3/conversations), then is sent there.
    result = await rig.teams.send(person(rig, MARGARET.email), Card(title="Hello"))
    assert result.outcome == DeliveryOutcome.DELIVERED
    [created] = rig.mock.of("create")
    assert created.body["members"] == [{"id": MARGARET.user_id}]
    assert created.body["tenantId"] == TENANT
    assert result.channel == f"a:created-{MARGARET.user_id}"
    assert rig.mock.of("send", result.channel)
    assert rig.identity(MARGARET.email).detail["reference"]["conversation"]["id"] == result.channel


async def test_uninstall_forgets_the_reference(rig: Rig) -> None:
    await install(rig, HELEN)
    assert rig.identity(HELEN.email).detail["reference"]
    await rig.post(installation(HELEN, rig.mock.url, action="remove"))
    row = rig.identity(HELEN.email)
    assert row is not None and not row.reachable and row.detail == {}


# --- proactive reminders, actions, redraws -----------------------------------------------------


def every_action(card: dict[str, Any]) -> list[dict[str, Any]]:
    """A card's actions: its own, then each member row's (an ActionSet in a Container) on an
    officer's one card about a decision."""
    found = list(card.get("actions", []))
    for item in card.get("body", []):
        for inner in item.get("items", []):
            if inner.get("type") == "ActionSet":
                found += inner["actions"]
    return found


def actions_for(card: dict[str, Any], briefing_id: int) -> list[dict[str, Any]]:
    """A card's actions for one briefing: its own, or its member's row on an officer's card."""
    found = every_action(card)

    def briefing_of(action: dict[str, Any]) -> int:
        data = action.get("data") or action["card"]["actions"][0]["data"]
        return int(json.loads(data["ns_payload"])["b"])

    return [a for a in found if a["type"] != "Action.OpenUrl" and briefing_of(a) == briefing_id]


async def test_reminders_go_out_as_proactive_dms_and_actions_update_the_card(rig: Rig) -> None:
    await install(rig, OWEN)
    rig.mock.clear()
    stats = await deliver_tick(rig.hub)
    assert stats is not None
    owen = f"owen.brady@{DOMAIN}"
    sent = rig.mock.of("send", OWEN.personal_conversation)
    # One card for each of his two items, each listing the two members he is to brief (the
    # Millbrook ones already overdue when the plan was imported); nobody else installed the app.
    assert len(sent) == 2 == stats.sent
    # (overdue items prompt their briefers, one card per item each; democratic services are
    # asked to record the special urgency agreement on HBC-2027-009: issue 10)
    assert stats.unreachable == 6
    with rig.app.session() as session:
        posted = list(session.scalars(select(PostedCard).where(PostedCard.recipient_email == owen)))
        tom = session.scalar(select(Nudge).where(Nudge.recipient_email == f"tom.ellery@{DOMAIN}"))
        attempt = session.scalar(select(DeliveryAttempt).where(DeliveryAttempt.nudge_id == tom.id))
    assert {p.platform for p in posted} == {"teams"}
    assert {p.channel for p in posted} == {OWEN.personal_conversation}
    # A row for each briefing a card shows, so a change to any of them finds it.
    assert len(posted) > len(sent)
    assert {p.message_id for p in posted} == {c.answered_id for c in sent}
    assert tom.status == "unreachable"
    assert (attempt.outcome, attempt.error_code) == (
        "recipient_not_found",
        "no_conversation_reference",
    )

    # The card: RAG band, facts, and "I've briefed them" opening a form with its inputs.
    card_message = posted[0]
    [call] = [c for c in sent if c.answered_id == card_message.message_id]
    content = call.cards[0]
    assert content["body"][0]["type"] == "Container"
    assert any(b["type"] == "FactSet" for b in content["body"])
    briefing_id = card_message.briefing_id
    show = next(a for a in actions_for(content, briefing_id) if a["title"] == "I've briefed them")
    assert show["type"] == "Action.ShowCard"
    form = show["card"]
    how = next(i for i in form["body"] if i["id"].endswith("_how"))
    assert how["type"] == "Input.ChoiceSet" and how["isRequired"]

    # Owen presses it, choosing "call": Teams posts the form's data with the inputs.
    data = dict(form["actions"][0]["data"])
    prefix = how["id"].removesuffix("how")
    press = submit(
        OWEN,
        {**data, prefix + "how": "call", prefix + "note": "Spoke at 9"},
        card_message.message_id,
        rig.mock.url,
    )
    assert (await rig.post(press)).status == 201
    assert rig.briefing(briefing_id).state == "briefed"
    [update] = rig.mock.of("update", OWEN.personal_conversation)
    assert update.activity_id == card_message.message_id
    # The one card, redrawn: that member's row has no buttons left; the other's are as before.
    [redrawn] = update.cards
    assert "Briefed; awaiting the member's acknowledgement" in update.text
    assert actions_for(redrawn, briefing_id) == []
    other = next(
        p.briefing_id
        for p in posted
        if p.message_id == card_message.message_id and p.briefing_id != briefing_id
    )
    assert [a["title"] for a in actions_for(redrawn, other)][:1] == ["I've briefed them"]
    [said] = replies_to(rig, press)
    assert said.body["text"]


async def test_the_form_picks_date_time_and_method_natively_and_the_picked_time_is_logged(
    rig: Rig,
) -> None:
    await install(rig, OWEN)
    rig.mock.clear()
    await deliver_tick(rig.hub)
    with rig.app.session() as session:
        card_message = session.scalars(
            select(PostedCard)
            .where(PostedCard.recipient_email == f"owen.brady@{DOMAIN}")
            .order_by(PostedCard.id)
        ).first()
    assert card_message is not None
    sent = rig.mock.of("send", OWEN.personal_conversation)
    [call] = [c for c in sent if c.answered_id == card_message.message_id]
    show = next(
        a
        for a in actions_for(call.cards[0], card_message.briefing_id)
        if a["title"] == "I've briefed them"
    )
    form = show["card"]
    by_type = {i["type"]: i for i in form["body"]}
    day, time_of_day = by_type["Input.Date"], by_type["Input.Time"]
    # Both start at now, in the council's time.
    assert (day["value"], time_of_day["value"]) == ("2027-01-26", "09:30")
    how = next(i for i in form["body"] if i["id"].endswith("_how"))
    assert how["type"] == "Input.ChoiceSet" and how["style"] == "expanded"

    data = dict(form["actions"][0]["data"])
    press = submit(
        OWEN,
        {**data, day["id"]: "2027-01-25", time_of_day["id"]: "16:45", how["id"]: "meeting"},
        card_message.message_id,
        rig.mock.url,
    )
    assert (await rig.post(press)).status == 201
    logged = rig.briefing(card_message.briefing_id)
    assert logged.state == "briefed" and logged.briefed_how == "meeting"
    assert as_utc(logged.briefed_at) == datetime(2027, 1, 25, 16, 45, tzinfo=LONDON)


async def test_the_reassign_form_offers_only_the_officers_the_rules_allow(rig: Rig) -> None:
    await install(rig, OWEN)
    rig.mock.clear()
    await deliver_tick(rig.hub)
    with rig.app.session() as session:
        card_message = session.scalars(
            select(PostedCard)
            .where(PostedCard.recipient_email == f"owen.brady@{DOMAIN}")
            .order_by(PostedCard.id)
        ).first()
        directory = rig.app.directory(session)
    assert card_message is not None
    target = rig.briefing(card_message.briefing_id)
    [call] = [
        c
        for c in rig.mock.of("send", OWEN.personal_conversation)
        if c.answered_id == card_message.message_id
    ]
    show = next(
        a for a in actions_for(call.cards[0], card_message.briefing_id) if a["title"] == "Reassign"
    )
    form = show["card"]
    to = next(i for i in form["body"] if i["id"].endswith("_to"))
    assert to["type"] == "Input.ChoiceSet" and to["style"] == "filtered"
    offered = {c["value"]: c["title"] for c in to["choices"]}
    officers = {p.email for p in directory.people.values() if p.has("officer")}
    assert set(offered) == officers - {target.briefer_email, target.member_email}
    chosen = next(iter(offered))
    assert offered[chosen] == directory.people[chosen].name
    press = submit(
        OWEN,
        {**form["actions"][0]["data"], to["id"]: chosen},
        card_message.message_id,
        rig.mock.url,
    )
    assert (await rig.post(press)).status == 201
    assert rig.briefing(card_message.briefing_id).briefer_email == chosen


def test_a_date_and_time_submitted_apart_are_joined_for_the_core() -> None:
    value = {"ns_payload": "p", "ns_button": 0, "ns0_when": "2027-01-25", "ns0_when__time": "08:05"}
    assert submitted(value) == ("p", {"when": "2027-01-25T08:05"})
    # A date alone is passed on as it is (the core reads it as 09:00 that day).
    assert submitted({"ns_payload": "p", "ns_button": 0, "ns0_when": "2027-01-25"}) == (
        "p",
        {"when": "2027-01-25"},
    )


async def test_a_message_in_doubt_after_a_crash_is_logged_as_a_possible_duplicate(
    rig: Rig,
) -> None:
    await install(rig, OWEN)
    rig.mock.clear()
    owen = f"owen.brady@{DOMAIN}"
    with rig.app.session() as session:
        # A process that died mid-send: Teams cannot be asked whether it posted this one.
        claimed = session.scalars(select(Nudge).where(Nudge.recipient_email == owen)).first()
        assert claimed is not None
        claimed.status, claimed.claimed_by = "sending", "dead"
        claimed.claimed_at = claimed.heartbeat_at = rig.app.now()
    clock = rig.app.clock
    assert isinstance(clock, SettableClock)
    clock.advance(timedelta(seconds=61))
    await deliver_tick(rig.hub)
    with rig.app.session() as session:
        [attempt] = session.scalars(
            select(DeliveryAttempt).where(DeliveryAttempt.nudge_id == claimed.id)
        )
        others = session.scalars(
            select(DeliveryAttempt).where(DeliveryAttempt.nudge_id != claimed.id)
        ).all()
    assert (attempt.platform, attempt.outcome, attempt.note) == (
        "teams",
        "delivered",
        "possible_duplicate",
    )
    assert others and all(a.note == "" for a in others)


async def test_a_console_action_redraws_the_teams_card(rig: Rig) -> None:
    from adapters.console import ConsoleAdapter

    console = ConsoleAdapter(rig.hub, out=io.StringIO())
    rig.hub.register(console)
    await install(rig, OWEN)
    await deliver_tick(rig.hub)
    with rig.app.session() as session:
        posted = session.scalar(
            select(PostedCard)
            .join(Briefing, Briefing.id == PostedCard.briefing_id)
            .where(PostedCard.platform == "teams", Briefing.due_at > NOW)  # still snoozable
        )
    rig.mock.clear()
    reply = await handle_action(
        rig.hub,
        payload=rig.sign(ActionKind.SNOOZE, posted.briefing_id),
        actor_email=f"owen.brady@{DOMAIN}",
        platform="console",
        inputs={"until": "1"},
    )
    assert reply.ok and reply.changed
    updates = rig.mock.of("update", OWEN.personal_conversation)
    assert [u.activity_id for u in updates] == [posted.message_id]
    assert "snoozed" in updates[0].text.lower()


async def test_action_execute_answers_with_the_refreshed_card(rig: Rig) -> None:
    await install(rig, OWEN)
    await deliver_tick(rig.hub)
    with rig.app.session() as session:
        posted = session.scalar(
            select(PostedCard)
            .join(Briefing, Briefing.id == PostedCard.briefing_id)
            .where(PostedCard.platform == "teams", Briefing.due_at > NOW)  # still snoozable
        )
    payload = rig.sign(ActionKind.NOT_NEEDED, posted.briefing_id)
    invoke = execute(
        OWEN,
        {"ns_payload": payload, "ns_button": 2, "ns2_reason": "Covered at portfolio briefing"},
        posted.message_id,
        rig.mock.url,
    )
    async with rig.http.post(f"{rig.url}/api/messages", json=invoke) as response:
        assert response.status == 200
        body = await response.json()
    assert body["statusCode"] == 200
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    assert body["value"]["type"] == "AdaptiveCard"
    after = rig.briefing(posted.briefing_id)
    # A portfolio holder's or the leader's briefing waits for approval (issue 10).
    pending = needs_not_needed_approval(after.reasons)
    assert after.state == ("not_needed_pending" if pending else "not_needed")


# --- delivery under pressure -------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 412, 502, 504])
async def test_busy_connector_is_retried_with_backoff(rig: Rig, status: int) -> None:
    await install(rig, HELEN)
    rig.mock.clear()
    rig.mock.fail_next(2, status=status, retry_after="0")
    result = await rig.teams.send(person(rig, HELEN.email), Card(title="Reminder"))
    assert result.outcome == DeliveryOutcome.DELIVERED
    attempts = [c for c in rig.mock.calls if c.kind == "send"]
    assert [c.status for c in attempts] == [status, status, 200]


async def test_a_connector_that_stays_busy_hands_back_to_the_outbox(rig: Rig) -> None:
    await install(rig, HELEN)
    rig.mock.fail_next(10, status=429, retry_after="7")
    result = await rig.teams.send(person(rig, HELEN.email), Card(title="Reminder"))
    # Retry-After 7 s is beyond what one call may wait (1 s here): no sleeping, no retry.
    assert result.outcome == DeliveryOutcome.RATE_LIMITED
    assert result.retry_after == 7
    assert len([c for c in rig.mock.calls if c.kind == "send"]) == 1


async def test_someone_with_no_reference_is_unreachable_in_teams(rig: Rig) -> None:
    result = await rig.teams.send(person(rig, HELEN.email), Card(title="Reminder"))
    assert result == SendResult(
        DeliveryOutcome.RECIPIENT_NOT_FOUND,
        platform="teams",
        error_code="no_conversation_reference",
        detail=result.detail,
    )

    class Fallback:
        platform = "console"

        async def send(self, recipient, card, *, dedupe_key=""):
            return SendResult(DeliveryOutcome.DELIVERED, message_id="fallback-1")

        async def update(self, posted, card):
            return SendResult(DeliveryOutcome.DELIVERED)

    rig.hub.register(Fallback())
    delivered = await rig.hub.deliver(person(rig, HELEN.email), Card(title="Reminder"))
    assert (delivered.outcome, delivered.platform) == (DeliveryOutcome.DELIVERED, "console")
    assert not rig.mock.of("send")


async def test_a_repeated_activity_has_one_effect(rig: Rig) -> None:
    await install(rig, OWEN)
    await deliver_tick(rig.hub)
    with rig.app.session() as session:
        posted = session.scalar(
            select(PostedCard)
            .join(Briefing, Briefing.id == PostedCard.briefing_id)
            .where(PostedCard.platform == "teams", Briefing.due_at > NOW)  # still snoozable
        )
    press = submit(
        OWEN,
        {
            "ns_payload": rig.sign(ActionKind.SNOOZE, posted.briefing_id),
            "ns_button": 1,
            "ns1_until": "2",
        },
        posted.message_id,
        rig.mock.url,
    )
    events = rig.count(AuditEvent)
    rig.mock.clear()
    assert (await rig.post(press)).status == 201
    after_first = rig.count(AuditEvent)
    assert after_first > events
    calls_after_first = len(rig.mock.calls)
    assert (await rig.post(press)).status == 201  # Teams redelivers the same activity
    assert rig.count(AuditEvent) == after_first
    assert len(rig.mock.calls) == calls_after_first

    ask = message(MARGARET, "surprises", rig.mock.url)
    await rig.post(ask)
    await rig.post(ask)
    assert len(replies_to(rig, ask)) == 1


async def test_a_burst_of_first_questions_is_one_look_up_and_one_answer_each(rig: Rig) -> None:
    asks = [message(HELEN, "surprises mine", rig.mock.url) for _ in range(6)]
    responses = await asyncio.gather(*(rig.post(ask) for ask in asks))
    assert [r.status for r in responses] == [201] * 6
    assert all(len(replies_to(rig, ask)) == 1 for ask in asks)
    assert all("Your briefings" in replies_to(rig, ask)[0].text for ask in asks)
    assert len(rig.mock.of("member")) == 1  # who Helen is, asked once
    assert rig.count(ChatIdentity, ChatIdentity.email == HELEN.email) == 1


async def test_identical_questions_asked_at_once_share_one_computation() -> None:
    coalescer = Coalescer()
    reads: list[str] = []
    release = asyncio.Event()

    async def compute(who: str) -> str:
        reads.append(who)
        await release.wait()
        if who == "broken":
            raise RuntimeError("the database went away")
        return f"answer read by {who}"

    first = [asyncio.create_task(coalescer.run("key", lambda: compute("first"))) for _ in range(4)]
    other = asyncio.create_task(coalescer.run("other key", lambda: compute("other")))
    await asyncio.sleep(0)  # a yield, not a wait: both computations are under way
    release.set()
    assert await asyncio.gather(*first) == ["answer read by first"] * 4
    assert await other == "answer read by other"
    assert reads == ["first", "other"]
    # Once answered, nothing is kept: the next question is computed afresh; failures are shared.
    release.clear()
    again = [asyncio.create_task(coalescer.run("key", lambda: compute("broken"))) for _ in range(2)]
    await asyncio.sleep(0)
    release.set()
    results = await asyncio.gather(*again, return_exceptions=True)
    assert [type(r) for r in results] == [RuntimeError, RuntimeError]
    assert reads == ["first", "other", "broken"]


# --- security ----------------------------------------------------------------------------------


def test_no_app_id_refuses_to_start_unless_local_mode_is_asked_for(tmp_path, caplog) -> None:
    app = open_app(tmp_path, TeamsSettings(enabled=True))
    with pytest.raises(ConfigError, match="TEAMS_APP_ID"):
        TeamsAdapter(Hub(app), app.settings.adapters["teams"])
    with pytest.raises(ConfigError, match="TEAMS_APP_PASSWORD"):
        TeamsAdapter(Hub(app), TeamsSettings(enabled=True, app_id="abc"))
    with pytest.raises(ConfigError, match="loopback"):
        TeamsAdapter(
            Hub(app),
            TeamsSettings(enabled=True, app_id="abc", app_password="pw"),
            openid_metadata_url="https://login.example.com/openid",
        )


async def test_local_mode_warns_and_answers_401_to_a_token(rig: Rig, caplog) -> None:
    caplog.set_level(logging.WARNING)
    await rig.teams.stop()
    await rig.teams.start()
    assert "WITHOUT authentication" in caplog.text
    await install(rig, OWEN)
    value = {
        "ns_payload": rig.sign(ActionKind.NOT_NEEDED, owens_briefing(rig)),
        "ns_button": 2,
        "ns2_reason": "Covered at the portfolio meeting",
    }
    before = (rig.count(AuditEvent), rig.states(), rig.count(ChatIdentity))
    rig.mock.clear()
    # The SDK alone would answer 500 here (it tries to parse the token); we answer 401.
    for token in ("Bearer garbage", "Bearer", "garbage"):
        response = await rig.post(submit(OWEN, value, "msg-1", rig.mock.url), token=token)
        assert response.status == 401
    assert (rig.count(AuditEvent), rig.states(), rig.count(ChatIdentity)) == before
    assert not rig.mock.calls


def owens_briefing(rig: Rig) -> int:
    with rig.app.session() as session:
        found = session.scalar(
            select(Briefing.id).where(Briefing.briefer_email == f"owen.brady@{DOMAIN}")
        )
    assert found is not None
    return found


# --- with an app id: real Bot Framework tokens, checked against keys served on loopback ----------


APP_ID = "00000000-1111-4222-8333-444444444444"


@dataclass
class Keys:
    private: Any
    other: Any
    kid: str = "test-key-1"

    def token(self, rig: Rig, *, key: Any = None, **claims: Any) -> str:
        import jwt

        now = int(time.time())
        body = {
            "iss": "https://api.botframework.com",
            "aud": APP_ID,
            "serviceurl": rig.mock.url,
            "nbf": now - 10,
            "exp": now + 600,
            **claims,
        }
        signed = jwt.encode(body, key or self.private, algorithm="RS256", headers={"kid": self.kid})
        return f"Bearer {signed}"


@pytest.fixture
def keys(mock) -> Keys:
    from cryptography.hazmat.primitives.asymmetric import rsa
    from jwt.algorithms import RSAAlgorithm

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    found = Keys(private, other)
    jwk = json.loads(RSAAlgorithm.to_jwk(private.public_key()))
    mock.jwks.append({**jwk, "kid": found.kid, "use": "sig", "endorsements": ["msteams"]})
    return found


class StaticToken:
    """Outbound credentials that never reach login.microsoftonline.com."""

    def __init__(self) -> None:
        self.microsoft_app_id = APP_ID

    def get_access_token(self, force_refresh: bool = False) -> str:
        return "outbound-test-token"

    def signed_session(self, session=None):
        import requests

        session = session or requests.Session()
        session.headers["Authorization"] = "Bearer outbound-test-token"
        return session


class StaticCredentialsFactory:
    async def is_valid_app_id(self, app_id: str) -> bool:
        return app_id == APP_ID

    async def is_authentication_disabled(self) -> bool:
        return False

    async def create_credentials(self, app_id, oauth_scope, login_endpoint, validate_authority):
        return StaticToken()


AUTHENTICATED = TeamsSettings(enabled=True, app_id=APP_ID, app_password="secret")


@pytest.fixture
async def secured(tmp_path, mock, keys) -> AsyncIterator[Rig]:
    app = open_app(tmp_path, AUTHENTICATED)
    async for rig in serve(
        app,
        mock,
        openid_metadata_url=f"{mock.url}/openid/.well-known/openid-configuration",
        credentials_factory=StaticCredentialsFactory(),
    ):
        yield rig


async def test_requests_without_a_valid_token_get_401_and_change_nothing(
    secured: Rig, keys: Keys
) -> None:
    rig = secured
    # Owen's reference, recorded through an authenticated install.
    assert (await rig.post(installation(OWEN, rig.mock.url), token=keys.token(rig))).status == 201
    briefing_id = owens_briefing(rig)
    value = {
        "ns_payload": rig.sign(ActionKind.NOT_NEEDED, briefing_id),
        "ns_button": 2,
        "ns2_reason": "Covered at the portfolio meeting",
    }
    before = (rig.count(AuditEvent), rig.states(), rig.count(ChatIdentity))
    rig.mock.clear()
    bad_tokens = {
        "none": None,
        "garbage": "Bearer garbage",
        "not bearer": "Basic dXNlcjpwYXNz",
        "signed by another key": keys.token(rig, key=keys.other),
        "for another bot": keys.token(rig, aud="someone-else"),
        "another service url": keys.token(rig, serviceurl="https://evil.example.com/"),
        "expired": keys.token(rig, exp=int(time.time()) - 3600, nbf=int(time.time()) - 7200),
        "another issuer": keys.token(rig, iss="https://sts.windows.net/evil/"),
    }
    for name, token in bad_tokens.items():
        press = submit(OWEN, value, "msg-1", rig.mock.url)
        response = await rig.post(press, token=token)
        assert response.status == 401, name
    stranger = message(STRANGER, "surprises", rig.mock.url)
    assert (await rig.post(stranger)).status == 401
    assert (rig.count(AuditEvent), rig.states(), rig.count(ChatIdentity)) == before
    assert not rig.mock.calls  # nothing was sent, nobody was looked up

    # The same press with a valid token is acted on, and outbound calls carry our token.
    press = submit(OWEN, value, "msg-1", rig.mock.url)
    assert (await rig.post(press, token=keys.token(rig))).status == 201
    assert rig.briefing(briefing_id).state == "not_needed"
    assert rig.mock.calls
    assert {c.authorization for c in rig.mock.calls} == {"Bearer outbound-test-token"}


async def test_another_tenant_is_refused_when_a_tenant_is_configured(tmp_path, mock, keys) -> None:
    settings = replace(AUTHENTICATED, tenant_id=TENANT)
    app = open_app(tmp_path, settings)
    async for rig in serve(
        app,
        mock,
        openid_metadata_url=f"{mock.url}/openid/.well-known/openid-configuration",
        credentials_factory=StaticCredentialsFactory(),
    ):
        ours = message(MARGARET, "surprises", mock.url)
        assert (await rig.post(ours, token=keys.token(rig))).status == 201
        theirs = message(MARGARET, "surprises", mock.url, tenant="other-tenant")
        assert (await rig.post(theirs, token=keys.token(rig))).status == 401
        assert len(rig.mock.of("reply")) == 1


# --- cards -------------------------------------------------------------------------------------


def test_cards_render_as_adaptive_cards() -> None:
    card = Card(
        title="Member briefing",
        lines=("Cllr Marsh has not yet been briefed on *Play Area* (`/surprises`).", "", "Next"),
        fields=(CardField("Ref", "HBC-2027-005"), CardField("Empty", "")),
        rag="red",
        buttons=(
            Button("Acknowledge", ActionKind.ACKNOWLEDGE, "p1", style="primary"),
            Button(
                "Snooze",
                ActionKind.SNOOZE,
                "p2",
                inputs=(Input("until", "Remind me in", required=True, options=("1", "2")),),
            ),
            Button(
                "Not needed",
                ActionKind.NOT_NEEDED,
                "p3",
                style="danger",
                inputs=(Input("reason", "Why?", required=True, multiline=True),),
            ),
        ),
        footer="Exempt item (paragraph 3): please do not forward.",
    )
    content = adaptive_card(card)
    assert content["version"] == "1.5"
    band = content["body"][0]
    assert band["style"] == "attention" and band["items"][0]["text"].startswith("🔴 ")
    assert band["items"][1] | {"text": "Red", "color": "Attention"} == band["items"][1]
    assert content["body"][1]["text"] == (
        "Cllr Marsh has not yet been briefed on **Play Area** (**/surprises**)."
    )
    assert content["body"][2]["spacing"] == "Medium"
    [facts] = [b for b in content["body"] if b["type"] == "FactSet"]
    assert facts["facts"] == [{"title": "Ref", "value": "HBC-2027-005"}]
    ack, snooze, not_needed = content["actions"]
    assert ack == {
        "type": "Action.Submit",
        "title": "Acknowledge",
        "data": {"ns_payload": "p1", "ns_button": 0},
        "style": "positive",
    }
    assert snooze["type"] == "Action.ShowCard"
    [choice] = snooze["card"]["body"]
    assert choice["type"] == "Input.ChoiceSet" and choice["id"] == "ns1_until"
    assert [c["value"] for c in choice["choices"]] == ["1", "2"]
    [reason] = not_needed["card"]["body"]
    assert reason["type"] == "Input.Text" and reason["isMultiline"] and reason["isRequired"]
    # What Teams sends back when the form is submitted:
    value = {"ns_payload": "p3", "ns_button": 2, "ns2_reason": " covered ", "ns1_until": "2"}
    assert submitted(value) == ("p3", {"reason": "covered"})
    assert submitted({"something": "else"}) is None


# --- the app package ---------------------------------------------------------------------------


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_teams_package_command_builds_the_app_package(tmp_path, monkeypatch, capsys) -> None:
    from bot.cli import main

    monkeypatch.setenv("TEAMS_APP_ID", APP_ID)
    monkeypatch.setenv("TEAMS_APP_PASSWORD", "secret")
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "no-surprises-teams.zip"
    assert main(["teams-package", "--output", str(target)]) == 0
    with zipfile.ZipFile(target) as package:
        assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(package.read("manifest.json"))
        assert png_size(package.read("color.png")) == (192, 192)
        assert png_size(package.read("outline.png")) == (32, 32)
    assert float(manifest["manifestVersion"]) >= 1.16
    [bot] = manifest["bots"]
    assert bot["botId"] == APP_ID and bot["scopes"] == ["personal"]
    [commands] = bot["commandLists"]
    assert [c["title"] for c in commands["commands"]] == [
        "surprises",
        "surprises mine",
        "headsup",
        "help",
    ]
    [tab] = manifest["staticTabs"]  # the personal tab, drawn by the bot (tab/fetch)
    assert (tab["contentBotId"], tab["scopes"]) == (APP_ID, ["personal"])
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}

    monkeypatch.delenv("TEAMS_APP_ID")
    assert main(["teams-package", "--output", str(tmp_path / "x.zip")]) == 2
    assert "TEAMS_APP_ID" in capsys.readouterr().err


async def test_a_prompt_card_links_its_calendar_hold_on_the_bots_server(rig: Rig) -> None:
    with_public_url(rig.app, rig.url)
    await install(rig, OWEN)
    rig.mock.clear()
    await deliver_tick(rig.hub)
    first = rig.mock.of("send", OWEN.personal_conversation)[0]
    [card] = first.cards
    [link] = [a for a in card["actions"] if a["type"] == "Action.OpenUrl"]
    assert link["title"] == "Add to calendar"
    with rig.app.session() as session:
        posted = session.scalar(
            select(PostedCard).where(PostedCard.message_id == first.answered_id)
        )
        assert posted is not None and posted.briefing_id is not None
        briefing_id = posted.briefing_id
    before = rig.states()
    async with rig.http.get(link["url"]) as response:
        assert response.status == 200
        hold_dates(rig.app, await response.read(), briefing_id)
    token = link["url"].rsplit("/", 1)[1].removesuffix(".ics")
    altered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    async with rig.http.get(link["url"].replace(token, altered)) as response:
        assert response.status == 403
        assert "calendar link cannot be used" in await response.text()
    assert rig.states() == before
    # A redrawn card keeps its link.
    rig.mock.clear()
    assert await rig.hub.redraw(briefing_id) >= 1
    [redrawn] = rig.mock.of("update", OWEN.personal_conversation)[0].cards
    assert [a for a in redrawn["actions"] if a["type"] == "Action.OpenUrl"]
    # So does the copy redrawn in place for the person who pressed a button on it.
    with rig.app.session() as session:
        snoozable = session.scalar(
            select(PostedCard)
            .join(Briefing, Briefing.id == PostedCard.briefing_id)
            .where(PostedCard.platform == "teams", Briefing.due_at > NOW)
        )
    assert snoozable is not None and snoozable.briefing_id is not None
    reply = await handle_action(
        rig.hub,
        payload=rig.sign(ActionKind.SNOOZE, snoozable.briefing_id),
        actor_email=snoozable.recipient_email,
        platform="teams",
        inputs={"until": "1"},
        source=PostedRef(
            "teams", snoozable.channel, snoozable.message_id, snoozable.recipient_email
        ),
    )
    assert reply.ok and reply.changed and reply.card is not None
    assert reply.card.calendar_url.startswith(f"{rig.url}/calendar/hold/")
    # Someone else shown the card (a director asked to chase) is given no hold of theirs.
    unlinked = replace(reply.card, calendar_url="")
    assert not (await rig.hub.hold_linked(unlinked, f"aisha.rahman@{DOMAIN}")).calendar_url
