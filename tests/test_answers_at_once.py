"""Answers at once: what an action queues goes out within a second, through the outbox, with the
real server loop running under a pinned clock (which runs no scheduled ticks at all)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from livebot import email, make_bot, sqlite_url
from slack_mock import (
    SIGNING_SECRET,
    TOKEN,
    MockSlack,
    Post,
    block_actions_body,
    post,
    signed,
    view_submission_body,
)
from sqlalchemy import select
from teams_mock import Call, Member, MockConnector, installation, message, submit

from adapters.slack.settings import SlackSettings
from adapters.teams.cards import BUTTON_KEY, PAYLOAD_KEY
from adapters.teams.settings import TeamsSettings
from bot import server as server_module
from bot.app import App
from bot.cli import seed_sample_council
from bot.clock import SettableClock
from bot.config import Settings
from bot.delivery.hub import Hub
from bot.delivery.ports import MessageKind
from bot.delivery.wakeup import Wakeup
from bot.server import deliver_loop, run_server
from bot.service import handle_action
from bot.store.models import Briefing, BriefingState, Decision, Nudge, NudgeStatus, PostedCard
from bot.store.secrets import payload_key
from bot.views.cards import ActionKind, PayloadSigner

START = datetime(2027, 1, 26, 9, 30, tzinfo=ZoneInfo("Europe/London"))  # Tue, working hours
OUTSIDE_HOURS = datetime(2027, 1, 26, 20, 0, tzinfo=ZoneInfo("Europe/London"))
OWEN, HELEN = email("Owen Brady"), email("Helen Marsh")
REF = "HBC-2027-009"  # Owen briefs Helen on it
WITHIN_SECONDS = 1.0
log = logging.getLogger(__name__)


def open_app(tmp_path: Path, adapters: dict[str, Any], now: datetime = START, url: str = "") -> App:
    settings = Settings().with_overrides(
        database_url=url or sqlite_url(tmp_path), adapters=adapters
    )
    app = App.open(settings, clock=SettableClock(now), migrate=True)
    seed_sample_council(app)
    return app


def briefing_of(app: App, ref: str, member: str) -> Briefing:
    with app.session() as session:
        return session.scalars(
            select(Briefing)
            .join(Decision, Decision.id == Briefing.decision_id)  # type: ignore[arg-type]
            .where(Decision.ref == ref, Briefing.member_email == member)
        ).one()


def acknowledgement_requests(app: App, member: str) -> list[Nudge]:
    with app.session() as session:
        return list(
            session.scalars(
                select(Nudge).where(
                    Nudge.recipient_email == member, Nudge.kind == MessageKind.ACK_REQUEST
                )
            )
        )


@dataclass
class Served:
    base: str
    delivered: asyncio.Event  # set after each delivery run (start-up, woken or `tick`)


@contextlib.asynccontextmanager
async def serving(
    app: App, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Served]:
    """run_server in the background (no console), once its start-up ticks are done; stopped
    afterwards."""
    caplog.set_level(logging.INFO, logger="bot.server")
    delivered = asyncio.Event()
    original = server_module.deliver_tick

    async def deliver_then_tell(hub: Hub) -> Any:
        result = await original(hub)
        delivered.set()
        return result

    monkeypatch.setattr(server_module, "deliver_tick", deliver_then_tell)
    stop = asyncio.Event()
    task = asyncio.create_task(run_server(app, port=0, console=False, stop=stop))
    try:
        await asyncio.wait_for(delivered.wait(), timeout=30)
        yield Served(f"http://127.0.0.1:{listening_port(caplog)}", delivered)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=30)


async def until(served: Served, done: Callable[[], bool]) -> None:
    """Wait, delivery run by delivery run, until `done()` (woken by each run, no sleeping)."""
    while not done():
        served.delivered.clear()
        if done():
            return
        await asyncio.wait_for(served.delivered.wait(), timeout=10)


def sent(app: App, member: str) -> Callable[[], bool]:
    """Whether the member's acknowledgement request is recorded as sent."""
    return lambda: [n.status for n in acknowledgement_requests(app, member)] == [NudgeStatus.SENT]


def listening_port(caplog: pytest.LogCaptureFixture) -> int:
    for record in caplog.records:
        if record.name == "bot.server" and record.msg.startswith("No Surprises listening"):
            found = re.search(r":(\d+)'", str(record.args))
            assert found is not None
            return int(found.group(1))
    raise AssertionError("the server never said where it listens")


async def arrival_after(
    act: Callable[[], Awaitable[None]], arrived: asyncio.Event, at: list[float]
) -> float:
    """Seconds from the start of `act` until the mock saw the message (set on receipt)."""
    begun = time.monotonic()
    await act()
    await asyncio.wait_for(arrived.wait(), timeout=10)
    # The figure, for `pytest -o log_cli=true --log-cli-level=INFO tests/test_answers_at_once.py`.
    log.info("arrived %.3f s after the action began", at[0] - begun)
    return at[0] - begun


# --- Slack ----------------------------------------------------------------------------------


@pytest.fixture
async def slack() -> AsyncIterator[MockSlack]:
    mock = MockSlack()
    await mock.start()
    yield mock
    await mock.stop()


def slack_app(tmp_path: Path, mock: MockSlack, url: str) -> App:
    settings = SlackSettings(
        enabled=True, bot_token=TOKEN, signing_secret=SIGNING_SECRET, api_url=f"{mock.url}/api/"
    )
    app = open_app(tmp_path, {"slack": settings}, url=url)
    with app.session() as session:
        for index, person in enumerate(sorted(app.directory(session).people)):
            mock.users[person] = f"U{index:04d}"
    return app


def slack_button(
    params: dict[str, Any], kind: ActionKind, briefing_id: int | None = None
) -> dict[str, Any]:
    """A button on a posted message; given a briefing, the one in its row (an officer's one
    card about a decision has a row of buttons per member)."""
    for block in params["blocks"]:
        if briefing_id is not None and block.get("block_id") != f"ns_buttons_{briefing_id}":
            continue
        for element in block.get("elements", []):
            if element.get("action_id") == f"ns:{kind.value}":
                return element
    raise AssertionError(f"no {kind.value} button")


def posted_card(app: App, who: str, briefing_id: int, platform: str) -> PostedCard:
    with app.session() as session:
        found = session.scalars(
            select(PostedCard).where(
                PostedCard.briefing_id == briefing_id,
                PostedCard.recipient_email == who,
                PostedCard.platform == platform,
            )
        ).first()
    assert found is not None, f"{who} has no card about briefing {briefing_id} on {platform}"
    return found


async def test_slack_the_members_request_arrives_within_a_second_of_the_officers_click(
    tmp_path: Path, database_url: str, slack: MockSlack, caplog, monkeypatch
) -> None:
    """On SQLite and on PostgreSQL: the process that handled the click is the one woken."""
    app = slack_app(tmp_path, slack, database_url)
    helen_dm = "D" + slack.users[HELEN][1:]
    arrived, at = asyncio.Event(), []

    def on_post(sent: Post) -> None:
        if sent.channel == helen_dm and not arrived.is_set():
            at.append(time.monotonic())
            arrived.set()

    async with serving(app, caplog, monkeypatch) as served:
        slack.on_post = on_post  # after the start-up prompts
        helen = briefing_of(app, REF, HELEN)  # made by the start-up sweep
        async with aiohttp.ClientSession() as http:
            url = f"{served.base}/slack/events"
            owen_card = posted_card(app, OWEN, helen.id, "slack")  # the start-up prompt
            message = slack.messages[(owen_card.channel, owen_card.message_id)]
            log_it = slack_button(message, ActionKind.LOG_BRIEFING, helen.id)
            body = block_actions_body(
                slack.users[OWEN],
                owen_card.channel,
                owen_card.message_id,
                log_it["action_id"],
                log_it["value"],
                f"{slack.url}/response/1",
            )
            assert (await post(http, url, body, signed(body)))[0] == 200
            await slack.wait_for(lambda: slack.called("views.open"))
            [opened] = slack.called("views.open")
            assert not arrived.is_set()  # nothing for Helen until the briefing is logged

            async def briefed() -> None:
                form = view_submission_body(
                    slack.users[OWEN], opened.params["view"], {"how": "call"}
                )
                status, text = await post(http, url, form, signed(form))
                assert status == 200, text

            took = await arrival_after(briefed, arrived, at)
            assert took < WITHIN_SECONDS, f"the request took {took:.2f} s"
            assert briefing_of(app, REF, HELEN).state == BriefingState.BRIEFED
            request = slack.messages[(helen_dm, slack.posts[-1].ts)]
            assert slack_button(request, ActionKind.ACKNOWLEDGE)
            # Through the outbox: once its send returns, it is recorded as sent.
            await until(served, sent(app, HELEN))
            assert app.clock.now() == START  # the clock never moved


# --- Teams ----------------------------------------------------------------------------------

DOMAIN = "harbourside.example.gov.uk"
TEAMS_OWEN = Member("Owen Brady", OWEN, "aad-owen")
TEAMS_HELEN = Member("Helen Marsh", HELEN, "aad-helen")


@pytest.fixture
async def connector() -> AsyncIterator[MockConnector]:
    mock = MockConnector()
    await mock.start()  # on this loop: its listener may set an asyncio.Event directly
    for member in (TEAMS_OWEN, TEAMS_HELEN):
        mock.add(member)
    yield mock
    await mock.close()


@dataclass
class TeamsRun:
    app: App
    served: Served
    activity: Callable[[dict[str, Any]], Awaitable[int]]  # POST to /api/messages: its status


@contextlib.asynccontextmanager
async def teams_served(
    tmp_path: Path,
    connector: MockConnector,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    now: datetime = START,
) -> AsyncIterator[TeamsRun]:
    """The server with Teams only, Owen and Helen having installed the app."""
    teams = TeamsSettings(enabled=True, allow_unauthenticated_local=True)
    app = open_app(tmp_path, {"teams": teams}, now)
    async with serving(app, caplog, monkeypatch) as served, aiohttp.ClientSession() as http:

        async def activity(body: dict[str, Any]) -> int:
            async with http.post(f"{served.base}/api/messages", json=body) as response:
                await response.read()
                return response.status

        for member in (TEAMS_OWEN, TEAMS_HELEN):
            assert await activity(installation(member, connector.url)) == 201
        yield TeamsRun(app, served, activity)


def logged_by_owen(app: App, connector: MockConnector, briefing: Briefing) -> dict[str, Any]:
    """Owen's "I've briefed them" form submitted from his card, by call."""
    with app.session() as session:
        payload = PayloadSigner(payload_key(session)).sign(
            ActionKind.LOG_BRIEFING, briefing.id, briefing.version
        )
    value = {PAYLOAD_KEY: payload, BUTTON_KEY: 0, "ns0_how": "call"}
    return submit(TEAMS_OWEN, value, "card-of-owen", connector.url)


class Arrival:
    """Set on receipt of the first message to a Teams conversation (containing `text`), on the
    mock's own loop, with the mock's time of receipt."""

    def __init__(self, conversation: str, text: str = "") -> None:
        self.conversation, self.text = conversation, text
        self.arrived, self.at = asyncio.Event(), []  # type: ignore[var-annotated]

    def __call__(self, call: Call) -> None:
        if (
            call.kind == "send"
            and call.conversation_id == self.conversation
            and self.text in call.text
            and not self.arrived.is_set()
        ):
            self.at.append(call.at)
            self.arrived.set()


async def test_teams_the_members_request_arrives_within_a_second_of_the_officers_click(
    tmp_path: Path, connector: MockConnector, caplog, monkeypatch
) -> None:
    listener = Arrival(TEAMS_HELEN.personal_conversation)
    async with teams_served(tmp_path, connector, caplog, monkeypatch) as run:
        helen = briefing_of(run.app, REF, HELEN)  # made by the start-up sweep
        connector.listener = listener

        async def briefed() -> None:
            assert await run.activity(logged_by_owen(run.app, connector, helen)) == 201

        took = await arrival_after(briefed, listener.arrived, listener.at)
        assert took < WITHIN_SECONDS, f"the request took {took:.2f} s"
        assert briefing_of(run.app, REF, HELEN).state == BriefingState.BRIEFED
        await until(run.served, sent(run.app, HELEN))
        to_helen = connector.of("send", TEAMS_HELEN.personal_conversation)
        assert [c for c in to_helen if "Acknowledge" in c.text]


async def test_teams_outside_working_hours_the_request_waits_in_the_outbox(
    tmp_path: Path, connector: MockConnector, caplog, monkeypatch
) -> None:
    async with teams_served(tmp_path, connector, caplog, monkeypatch, OUTSIDE_HOURS) as run:
        helen = briefing_of(run.app, REF, HELEN)
        run.served.delivered.clear()
        assert await run.activity(logged_by_owen(run.app, connector, helen)) == 201
        # The action woke the deliverer; it ran and, after hours, sent nothing.
        await asyncio.wait_for(run.served.delivered.wait(), timeout=10)
        assert briefing_of(run.app, REF, HELEN).state == BriefingState.BRIEFED
        [nudge] = acknowledgement_requests(run.app, HELEN)
        assert nudge.status == NudgeStatus.PENDING
        assert not connector.of("send", TEAMS_HELEN.personal_conversation)


async def test_teams_a_headsup_reaches_the_lead_officer_within_a_second(
    tmp_path: Path, connector: MockConnector, caplog, monkeypatch
) -> None:
    said = "We announce the new scheme on Friday"
    listener = Arrival(TEAMS_OWEN.personal_conversation, said)
    async with teams_served(tmp_path, connector, caplog, monkeypatch) as run:
        connector.listener = listener

        async def headsup() -> None:
            ask = message(TEAMS_HELEN, f"headsup {REF} press release: {said}", connector.url)
            assert await run.activity(ask) == 201

        took = await arrival_after(headsup, listener.arrived, listener.at)
        assert took < WITHIN_SECONDS, f"the heads-up took {took:.2f} s"


# --- the delivery loop and the wake-up ------------------------------------------------------


@contextlib.asynccontextmanager
async def delivery_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, interval: float | None
) -> AsyncIterator[tuple[Hub, asyncio.Event]]:
    """The server's delivery loop on its own, with an event set by each run it makes."""
    hub = Hub(open_app(tmp_path, {}))
    ran = asyncio.Event()

    async def counted(_hub: Hub) -> None:
        ran.set()

    monkeypatch.setattr(server_module, "deliver_tick", counted)
    loop = asyncio.create_task(deliver_loop(hub, interval=interval))
    try:
        yield hub, ran
    finally:
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)


async def test_with_a_real_clock_the_loop_still_delivers_every_interval(
    tmp_path: Path, monkeypatch
) -> None:
    async with delivery_loop(tmp_path, monkeypatch, 0.01) as (_hub, ran):
        await asyncio.wait_for(ran.wait(), timeout=10)  # nobody woke it: the interval did


async def test_the_loop_waits_while_the_console_holds_it(tmp_path: Path, monkeypatch) -> None:
    async with delivery_loop(tmp_path, monkeypatch, None) as (hub, ran):
        async with hub.wakeup.held():
            hub.wakeup.wake()
            # Turns of the event loop (not time): plenty for the loop to run, if it could.
            for _ in range(20):
                await asyncio.sleep(0)
            assert not ran.is_set()
        await asyncio.wait_for(ran.wait(), timeout=10)  # released: the woken run happens


# --- the wake-up itself ---------------------------------------------------------------------


async def test_a_wake_up_before_anyone_listens_is_kept_until_they_do() -> None:
    wakeup = Wakeup()
    wakeup.wake()  # an action during start-up, before the loop listens
    assert await wakeup.wait(5) is True
    assert await wakeup.wait(0) is False  # one call, one run


async def test_a_wake_up_from_another_thread_reaches_the_loop() -> None:
    wakeup = Wakeup()
    assert await wakeup.wait(0) is False
    waiting = asyncio.create_task(wakeup.wait(5))
    await asyncio.to_thread(wakeup.wake)
    assert await waiting is True


async def test_an_action_that_changed_something_wakes_the_deliverer_and_a_refusal_does_not(
    tmp_path: Path,
) -> None:
    bot = make_bot(sqlite_url(tmp_path), START)
    await bot.sweep()
    wakeup = bot.hub.wakeup
    assert await wakeup.wait(0) is False  # listening, nothing asked yet
    gwen = bot.briefing("HBC-2027-009", email("Gwen Price"))
    refused = await handle_action(
        bot.hub, payload="tampered", actor_email=OWEN, platform="test", inputs={}
    )
    assert refused.refused and await wakeup.wait(0) is False
    done = await handle_action(
        bot.hub,
        payload=bot.sign(ActionKind.NOT_NEEDED, gwen.id),
        actor_email=OWEN,
        platform="test",
        inputs={"reason": "Briefed at the ward surgery"},
    )
    assert done.changed and await wakeup.wait(0) is True
