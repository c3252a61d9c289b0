"""Guards that nothing else in the suite would miss if they went: each test here fails when
the one feature it names is taken out.

- Slack: a stale cached user id is looked up again and the message still arrives.
- Slack: a signed click from someone outside the council's directory changes nothing.
- Teams: a cached identity is only trusted for the tenant it was recorded in.
- The audit check tick reports a broken hash chain (in /healthz and the tick's record).
- A database whose schema is behind is refused with one sentence naming `db upgrade`.

Everything goes through public behaviour: HTTP to the real server with the mock platforms,
the command line, or the core's public functions. Nothing sleeps.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from alembic import command
from livebot import HELEN, OWEN, Bot, RecordingAdapter, local, postgres_url, sqlite_url
from slack_mock import (
    SIGNING_SECRET,
    TOKEN,
    MockSlack,
    block_actions_body,
    post,
    signed,
)
from sqlalchemy import func, select, text
from teams_mock import TENANT, Member, MockConnector, installation, submit

from bot.app import App, SchemaOutOfDate
from bot.briefings.escalate import run_sweep_tick
from bot.cli import main as cli
from bot.cli import seed_sample_council
from bot.clock import SettableClock
from bot.config import Settings, load_settings
from bot.delivery.hub import Hub
from bot.server import build_web_app, mount_adapters
from bot.store import db, identities
from bot.store.models import AuditEvent, Nudge, NudgeStatus, TickRun
from bot.ticks import audit_check_tick, deliver_tick
from bot.views.cards import ActionKind, Card

START = local(2027, 1, 26, 9, 30)  # Tue 26 Jan 2027: reminders due for Owen and others


def configured(tmp_path: Path, config: str = "", **environ: str) -> Settings:
    """Settings as an operator gives them: a config file and the environment."""
    path = tmp_path / "config.toml"
    path.write_text(config, encoding="utf-8")
    return load_settings(str(path), environ=environ)


def sample_council(tmp_path: Path, settings: Settings) -> Bot:
    """The sample council, swept, on a settable clock, with no chat adapter registered yet."""
    clock = SettableClock(START)
    app = App.open(settings.with_overrides(database_url=sqlite_url(tmp_path)), clock=clock)
    seed_sample_council(app)
    with app.session() as session:
        run_sweep_tick(app=app, session=session)
    return Bot(app=app, clock=clock, hub=Hub(app), adapter=RecordingAdapter())


@asynccontextmanager
async def server(bot: Bot) -> AsyncIterator[str]:
    """The bot's HTTP server with the adapters its settings enable, as `serve` mounts them, on
    loopback; yields its base URL."""
    web_app = build_web_app(bot.app, bot.hub)
    adapters = mount_adapters(bot.app, bot.hub, web_app)
    assert adapters, "the settings enabled no adapter"
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        for adapter in adapters:
            await adapter.start()
        yield f"http://127.0.0.1:{port}"
    finally:
        for adapter in adapters:
            await adapter.stop()
        await runner.cleanup()


def done_events(app: App, briefing_id: int) -> int:
    with app.session() as session:
        return session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.briefing_id == briefing_id, AuditEvent.outcome == "done")
        )


# --- Slack ------------------------------------------------------------------------------------


class WorkspaceSlack(MockSlack):
    """The mock Slack Web API, with one more thing real Slack does: a direct message to a user
    id that no longer belongs to anyone in the workspace answers `channel_not_found`."""

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        channel = str(params.get("channel", ""))
        if (
            method == "chat.postMessage"
            and channel.startswith("U")
            and channel not in self.users.values()
        ):
            return {"ok": False, "error": "channel_not_found"}
        return super()._answer(method, params)


@dataclass
class SlackRig:
    bot: Bot
    mock: WorkspaceSlack
    url: str
    http: aiohttp.ClientSession

    async def send(self, body: str) -> int:
        status, _ = await post(self.http, self.url, body, signed(body))
        return status

    def queue_message(self, to: str, title: str) -> str:
        """A message for `to`, due now (as the sweep queues a digest); returns its key."""
        key = f"guards-{title}"
        with self.bot.app.session() as session:
            session.add(
                Nudge(
                    recipient_email=to,
                    kind="officer_digest",
                    card=Card(title=title).to_dict(),
                    send_at=self.bot.now(),
                    dedupe_key=key,
                    created_at=self.bot.now(),
                )
            )
        return key

    def posted_to(self) -> list[str]:
        """The channel of every chat.postMessage since the calls were last cleared."""
        return [c.params["channel"] for c in self.mock.called("chat.postMessage")]

    def looked_up(self) -> list[str]:
        return [c.params["email"] for c in self.mock.called("users.lookupByEmail")]


@pytest.fixture
async def slack(tmp_path: Path) -> AsyncIterator[SlackRig]:
    mock = WorkspaceSlack()
    await mock.start()
    settings = configured(
        tmp_path,
        SLACK_BOT_TOKEN=TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=f"{mock.url}/api/",
    )
    bot = sample_council(tmp_path, settings)
    with bot.app.session() as session:
        for index, person in enumerate(sorted(bot.app.directory(session).people)):
            mock.users[person] = f"U{index:04d}"
    try:
        async with server(bot) as url, aiohttp.ClientSession() as http:
            yield SlackRig(bot, mock, f"{url}/slack/events", http)
    finally:
        await mock.stop()


async def test_slack_a_stale_cached_user_id_is_looked_up_again_and_the_message_arrives(
    slack: SlackRig,
):
    # Owen's first reminders go out: his Slack user id is found by email, and remembered.
    stats = await deliver_tick(slack.bot.hub)
    assert stats is not None and stats.sent > 0
    old_id = slack.mock.users[OWEN]
    # His Slack account is replaced (deactivated and made again): same email, new user id.
    new_id = "UNEWOWEN"
    slack.mock.users[OWEN] = new_id
    slack.mock.calls.clear()
    key = slack.queue_message(OWEN, "Good morning, Owen")
    await deliver_tick(slack.bot.hub)

    assert slack.posted_to() == [old_id, new_id]  # the remembered id first, then the new one
    assert slack.looked_up() == [OWEN]
    arrived = [p for (channel, _), p in slack.mock.messages.items() if channel == "D" + new_id[1:]]
    assert [p["text"] for p in arrived] == ["Good morning, Owen"]
    with slack.bot.app.session() as session:
        nudge = session.scalars(select(Nudge).where(Nudge.dedupe_key == key)).one()
    assert nudge.status == NudgeStatus.SENT

    # The identity was updated: the next message goes straight to the new id.
    slack.mock.calls.clear()
    slack.queue_message(OWEN, "Good afternoon, Owen")
    await deliver_tick(slack.bot.hub)
    assert slack.posted_to() == [new_id]
    assert slack.looked_up() == []


@pytest.mark.parametrize(
    "kind",
    [ActionKind.ACKNOWLEDGE, ActionKind.NOT_NEEDED],  # one acts at once, one opens a modal
)
async def test_slack_a_signed_click_from_someone_outside_the_directory_changes_nothing(
    slack: SlackRig, kind: ActionKind
):
    outsider = "pat.visitor@elsewhere.example.org"  # in the Slack workspace, not the directory
    slack.mock.users[outsider] = "UOUTSIDER"
    await deliver_tick(slack.bot.hub)
    briefing = slack.bot.briefing("HBC-2027-009", HELEN)
    before = slack.bot.snapshot(briefing.id)
    done_before = done_events(slack.bot.app, briefing.id)
    slack.mock.calls.clear()

    body = block_actions_body(
        "UOUTSIDER",
        "D0001",
        "1700000000.000001",
        f"ns:{kind.value}",
        slack.bot.sign(kind, briefing.id),  # a genuine, correctly signed payload
        f"{slack.mock.url}/response/1",
    )
    assert await slack.send(body) == 200  # acknowledged at once; the answer follows
    await slack.mock.wait_for(lambda: bool(slack.mock.responses))

    assert slack.bot.snapshot(briefing.id) == before
    assert done_events(slack.bot.app, briefing.id) == done_before
    assert not slack.mock.called("views.open")  # no modal to fill in either
    assert not slack.mock.called("chat.update")
    [reply] = slack.mock.responses
    assert reply["response_type"] == "ephemeral"
    assert "does not know who you are" in reply["text"]
    assert "not in the council's directory" in reply["text"]


# --- Teams ------------------------------------------------------------------------------------

TEAMS_OWEN = Member("Owen Brady", OWEN, "aad-owen")
# Someone in another tenant whose account carries the same AAD object id as Owen's.
INTRUDER = Member(
    "Mallory Intruder", "mallory@other-tenant.example.org", "aad-owen", user_id="29:intruder"
)
OTHER_TENANT = "0bad0bad-0000-4000-8000-000000000bad"


@dataclass
class TeamsRig:
    bot: Bot
    mock: MockConnector
    url: str
    http: aiohttp.ClientSession

    async def post(self, activity: dict[str, Any]) -> int:
        async with self.http.post(f"{self.url}/api/messages", json=activity) as response:
            await response.read()
            return response.status


@pytest.fixture
async def teams(tmp_path: Path) -> AsyncIterator[TeamsRig]:
    mock = MockConnector()
    mock.start_in_thread()
    for member in (TEAMS_OWEN, INTRUDER):
        mock.add(member)
    # Local mode (loopback only, no app id), and no tenant pinned in the settings: the tenant
    # check on a cached identity is all that stands between another tenant and Owen.
    settings = configured(tmp_path, "[teams]\nenabled = true\nallow_unauthenticated_local = true\n")
    bot = sample_council(tmp_path, settings)
    try:
        async with server(bot) as url, aiohttp.ClientSession() as http:
            yield TeamsRig(bot, mock, url, http)
    finally:
        mock.stop_thread()


async def test_teams_a_known_user_id_from_another_tenant_does_not_act_as_that_person(
    teams: TeamsRig,
):
    # Owen installs the app in the council's tenant: his identity is cached with that tenant.
    assert await teams.post(installation(TEAMS_OWEN, teams.mock.url)) == 201
    owen = identities.lookup_by_email(teams.bot.app, platform="teams", email=OWEN)
    assert owen is not None and owen.tenant_id == TENANT
    briefing_id = teams.bot.briefing("HBC-2027-009", HELEN).id  # Owen is the briefer
    before = teams.bot.snapshot(briefing_id)
    done_before = done_events(teams.bot.app, briefing_id)
    teams.mock.clear()

    # From another tenant, an account with Owen's AAD object id presses "Not needed" on his
    # briefing, with a genuine payload.
    press = submit(
        INTRUDER,
        {
            "ns_payload": teams.bot.sign(ActionKind.NOT_NEEDED, briefing_id),
            "ns_button": 2,
            "ns2_reason": "Nothing to see here",
        },
        "msg-1",
        teams.mock.url,
        conversation_id="a:personal-intruder",
        tenant=OTHER_TENANT,
    )
    assert await teams.post(press) == 201

    assert teams.bot.snapshot(briefing_id) == before
    assert done_events(teams.bot.app, briefing_id) == done_before
    # The bot asked Teams who this really is, instead of trusting Owen's cached identity.
    assert [c.path.rsplit("/", 1)[-1] for c in teams.mock.of("member")] == [INTRUDER.user_id]
    # Owen's identity, and where his reminders go, are untouched.
    owen = identities.lookup_by_email(teams.bot.app, platform="teams", email=OWEN)
    assert owen is not None and owen.tenant_id == TENANT
    assert owen.detail["reference"]["conversation"]["id"] == TEAMS_OWEN.personal_conversation
    # Nothing was redrawn as Owen's; the presser is told, in their own chat, they are unknown.
    assert not teams.mock.of("update")
    [said] = teams.mock.of("reply")
    assert said.conversation_id == "a:personal-intruder"
    assert "council's directory" in said.text


# --- the audit check tick ---------------------------------------------------------------------


async def test_the_audit_check_tick_reports_ok_then_a_broken_chain(tmp_path: Path, caplog):
    bot = sample_council(tmp_path, configured(tmp_path))
    caplog.set_level(logging.INFO)
    async with TestClient(TestServer(build_web_app(bot.app, bot.hub))) as client:

        async def healthz() -> dict[str, Any]:
            response = await client.get("/healthz")
            assert response.status == 200
            return await response.json()

        assert await audit_check_tick(bot.hub) is True
        body = await healthz()
        assert body["ticks"]["audit_check"]["last_status"] == "ok"
        assert body["status"] == "ok"
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]

        with bot.app.engine.begin() as connection:
            connection.execute(
                text("UPDATE auditevent SET reason = 'quietly edited' WHERE seq = 5")
            )
        assert await audit_check_tick(bot.hub) is None
        body = await healthz()
        assert body["ticks"]["audit_check"]["last_status"] == "error"
        assert body["status"] == "degraded"

    with bot.app.session() as session:
        run = session.get(TickRun, "audit_check")
        assert run is not None
        assert run.last_status == "error" and "audit log broken" in run.last_error
        assert "event 5" in run.last_error
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors and "audit_check" in errors[-1].getMessage()
    assert "audit log broken" in caplog.text


# --- a database schema behind the code --------------------------------------------------------


def migrated_to_0001(url: str) -> None:
    engine = db.make_engine(url)
    try:
        command.upgrade(db.alembic_config(engine), "0001")
    finally:
        engine.dispose()


def test_cli_refuses_a_postgresql_schema_behind_head_with_one_sentence(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, caplog
):
    url = postgres_url(request)
    migrated_to_0001(url)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NOSURPRISES_DATABASE_URL", url)
    monkeypatch.setenv("NOSURPRISES_NOW", "2027-01-26T09:30")
    capsys.readouterr()

    code = cli(["status"])
    out, err = capsys.readouterr()
    assert code != 0
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "`nosurprises db upgrade`" in lines[0] and "schema" in lines[0]
    assert "Traceback" not in err and "Traceback" not in caplog.text

    # The sentence's advice works.
    assert cli(["db", "upgrade"]) == 0
    assert cli(["status"]) == 0


def test_opening_a_sqlite_schema_behind_head_without_migrating_is_refused(tmp_path: Path):
    url = sqlite_url(tmp_path)
    migrated_to_0001(url)
    settings = Settings().with_overrides(database_url=url)
    with pytest.raises(SchemaOutOfDate, match="run `nosurprises db upgrade`"):
        App.open(settings, migrate=False)
    # An embedded SQLite opened the ordinary way is brought up to date instead.
    app = App.open(settings)
    app.engine.dispose()
    App.open(settings, migrate=False).engine.dispose()
