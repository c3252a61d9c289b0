"""Heads-ups and the personal dashboard on Slack and Teams, end to end over loopback HTTP:
`/headsup` (a Slack slash command, a Teams message), the recipients' cards with Acknowledge,
Slack's App Home and the Teams personal tab showing `/surprises mine` plus heads-ups."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import test_slack
import test_teams
from livebot import email
from slack_mock import (
    block_actions_body,
    command_body,
    home_opened_body,
    post,
    signed,
    view_submission_body,
)
from sqlalchemy import select
from teams_mock import MockConnector, _base, message, submit
from test_slack import Harness
from test_teams import HELEN as TEAMS_HELEN
from test_teams import OWEN as TEAMS_OWEN
from test_teams import Rig, install, replies_to

from bot.store.models import AuditEvent, HeadsUpRecipient
from bot.ticks import deliver_tick


@pytest.fixture
async def slack(tmp_path: Path) -> AsyncIterator[Harness]:
    h = await test_slack.harness(tmp_path)
    yield h
    await h.http.close()
    await h._runner.cleanup()  # type: ignore[attr-defined]
    await h.mock.stop()


@pytest.fixture
async def teams(tmp_path: Path) -> AsyncIterator[Rig]:
    connector = MockConnector()
    connector.start_in_thread()
    for member in (TEAMS_HELEN, TEAMS_OWEN):
        connector.add(member)
    app = test_teams.open_app(tmp_path, test_teams.LOCAL)
    async for rig in test_teams.serve(app, connector):
        yield rig
    connector.stop_thread()


REF = "HBC-2027-005"
EXEMPT_REF = "HBC-2027-004"  # fully exempt, paragraph 3
SAID = "We will announce the new play area on Friday"
OWEN, HELEN, EMMA = email("Owen Brady"), email("Helen Marsh"), email("Emma Doyle")
MARGARET = email("Margaret Hollis")
ACK_ID = "ns:acknowledge_headsup"


def slack_message_with(h: Harness, who: str, text: str) -> tuple[str, str, dict[str, Any]]:
    channel = "D" + h.uid(who)[1:]
    for (ch, ts), params in h.mock.messages.items():
        if ch == channel and text in json.dumps(params["blocks"]):
            return ch, ts, params
    raise AssertionError(f"no message to {who} with {text!r}")


def ack_element(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    for block in blocks:
        for element in block.get("elements", []):
            if element.get("action_id") == ACK_ID:
                return element
    raise AssertionError("no Acknowledge button")


def acknowledged(app: Any, who: str) -> bool:
    with app.session() as session:
        row = session.scalars(select(HeadsUpRecipient).where(HeadsUpRecipient.email == who)).one()
        return row.acknowledged_at is not None


async def test_slack_headsup_acknowledge_and_app_home(slack: Harness) -> None:
    h = slack
    body = command_body(
        h.uid(EMMA),
        f"{REF} ward newsletter: {SAID}",
        f"{h.mock.url}/response/1",
        command="/headsup",
    )
    status, text = await h.send(body)
    assert status == 200 and text == ""
    [answer] = h.mock.responses
    assert answer["response_type"] == "ephemeral"
    assert "Heads-up sent" in json.dumps(answer["blocks"])

    await deliver_tick(h.bot.hub)
    channel, ts, params = slack_message_with(h, HELEN, SAID)
    element = ack_element(params["blocks"])
    press = block_actions_body(
        h.uid(HELEN), channel, ts, ACK_ID, element["value"], f"{h.mock.url}/response/2"
    )
    assert (await h.send(press))[0] == 200
    assert acknowledged(h.bot.app, HELEN)
    [update] = [c for c in h.mock.called("chat.update") if c.params["ts"] == ts]
    assert "You acknowledged this on Tue 26 Jan." in json.dumps(update.params["blocks"])
    assert ACK_ID not in json.dumps(update.params["blocks"])
    assert [e.platform for e in h.bot.events(action="headsup_acknowledged")] == ["slack"]

    # Owen's App Home: his briefings as `/surprises mine` shows them, the heads-up waiting
    # for him with its button, and the heads-ups of the last 14 days.
    home = home_opened_body(h.uid(OWEN), "Ev0042")
    assert (await post(h.http, h.url, home, signed(home, content_type="application/json")))[
        0
    ] == 200
    [published] = h.mock.called("views.publish")
    shown = json.dumps(published.params["view"]["blocks"])
    assert "Your briefings" in shown and "Heads-ups in the last 14 days" in shown
    assert SAID in shown and ACK_ID in shown
    assert "1 of 3 acknowledged" in shown


async def tab(rig: Rig, member: Any, name: str, data: dict[str, Any] | None = None) -> list[str]:
    activity = _base("invoke", member, rig.mock.url)
    activity["name"] = name
    activity["value"] = {"tabContext": {"tabEntityId": "home"}, "context": {"theme": "default"}}
    if data is not None:
        activity["value"]["data"] = data
    async with rig.http.post(f"{rig.url}/api/messages", json=activity) as response:
        assert response.status == 200
        body = await response.json()
    assert body["tab"]["type"] == "continue"
    return [json.dumps(c["card"]) for c in body["tab"]["value"]["cards"]]


def ack_action(card: str) -> dict[str, Any]:
    actions = json.loads(card).get("actions", [])
    return next(a for a in actions if a["title"] == "Acknowledge")


async def test_teams_headsup_acknowledge_and_personal_tab(teams: Rig) -> None:
    rig = teams
    await install(rig, TEAMS_HELEN)
    await install(rig, TEAMS_OWEN)
    ask = message(TEAMS_HELEN, f"headsup {REF} press release: {SAID}", rig.mock.url)
    assert (await rig.post(ask)).status == 201
    [reply] = replies_to(rig, ask)
    assert "Heads-up sent" in reply.text and "Owen Brady (the lead officer)" in reply.text

    # The personal tab: Owen's dashboard, with the heads-up and its Acknowledge button.
    cards = await tab(rig, TEAMS_OWEN, "tab/fetch")
    assert any("Your briefings" in c for c in cards)
    assert any("Heads-ups in the last 14 days" in c for c in cards)
    [waiting] = [c for c in cards if SAID in c]
    cards = await tab(rig, TEAMS_OWEN, "tab/submit", ack_action(waiting)["data"])
    assert "will see that you have acknowledged" in cards[0]
    assert acknowledged(rig.app, OWEN)
    assert not any(SAID in c and "Acknowledge" in c for c in cards)

    # The card Owen was sent in his chat: pressing its Acknowledge answers politely, once.
    rig.mock.clear()
    await deliver_tick(rig.hub)
    [card_call] = [
        c for c in rig.mock.of("send", TEAMS_OWEN.personal_conversation) if SAID in c.text
    ]
    press = submit(
        TEAMS_OWEN,
        ack_action(json.dumps(card_call.cards[0]))["data"],
        card_call.answered_id,
        rig.mock.url,
    )
    assert (await rig.post(press)).status == 201
    [said] = replies_to(rig, press)
    assert "You had already acknowledged this heads-up." in said.text
    events = rig.count(AuditEvent, AuditEvent.action == "headsup_acknowledged")
    assert events == 1  # the tab's press; the second press changed nothing


async def test_slack_headsup_about_an_exempt_item_names_it_only_in_a_direct_message(
    slack: Harness,
) -> None:
    h = slack
    text = f"{EXEMPT_REF} press release: the contract is signed"
    await h.send(
        command_body(h.uid(MARGARET), text, f"{h.mock.url}/response/1", command="/headsup")
    )
    await h.send(
        command_body(
            h.uid(MARGARET), text, f"{h.mock.url}/response/2", channel="D0001", command="/headsup"
        )
    )
    in_channel, in_direct = (json.dumps(r["blocks"]) for r in h.mock.responses)
    assert "Heads-up sent" in in_channel and "Heads-up sent" in in_direct
    assert test_slack.SECRET not in in_channel and "Exempt item (paragraph 3)" in in_channel
    assert test_slack.SECRET in in_direct


def home_press_body(user_id: str, action_id: str, value: str) -> str:
    """A button pressed in App Home: a block_actions from the home view, no message, no
    response URL."""
    payload = {
        "type": "block_actions",
        "team": {"id": "T1", "domain": "council"},
        "user": {"id": user_id, "username": "someone", "team_id": "T1"},
        "api_app_id": "A1",
        "token": "legacy",
        "container": {"type": "view", "view_id": "VHOME"},
        "trigger_id": "trigger.3",
        "view": {"id": "VHOME", "type": "home", "blocks": []},
        "actions": [{"action_id": action_id, "block_id": "ns_buttons", "value": value,
                     "type": "button", "action_ts": "1700000001.000001"}],
    }  # fmt: skip
    return urlencode({"payload": json.dumps(payload)})


async def test_a_press_in_app_home_acts_and_draws_the_dashboard_again(slack: Harness) -> None:
    h = slack
    await h.send(
        command_body(h.uid(EMMA), f"{REF}: {SAID}", f"{h.mock.url}/response/1", command="/headsup")
    )
    home = home_opened_body(h.uid(OWEN), "Ev0043")
    await post(h.http, h.url, home, signed(home, content_type="application/json"))
    [published] = h.mock.called("views.publish")
    element = ack_element(published.params["view"]["blocks"])
    status, _ = await h.send(home_press_body(h.uid(OWEN), ACK_ID, element["value"]))
    assert status == 200
    assert acknowledged(h.bot.app, OWEN)
    [_, again] = h.mock.called("views.publish")
    shown = json.dumps(again.params["view"]["blocks"])
    assert "will see that you have acknowledged" in shown
    assert ACK_ID not in shown and "1 of 3 acknowledged" in shown


async def test_a_form_opened_from_app_home_draws_the_dashboard_again(slack: Harness) -> None:
    h = slack
    home = home_opened_body(h.uid(OWEN), "Ev0044")
    await post(h.http, h.url, home, signed(home, content_type="application/json"))
    [published] = h.mock.called("views.publish")
    log = next(
        e
        for b in published.params["view"]["blocks"]
        for e in b.get("elements", [])
        if e.get("action_id") == "ns:log_briefing"
    )
    await h.send(home_press_body(h.uid(OWEN), "ns:log_briefing", log["value"]))
    [opened] = h.mock.called("views.open")
    view = opened.params["view"]
    assert json.loads(view["private_metadata"])["home"] == "1"
    status, _ = await h.send(view_submission_body(h.uid(OWEN), view, {"how": "call"}))
    assert status == 200
    [_, again] = h.mock.called("views.publish")
    assert "has been asked to acknowledge the briefing" in json.dumps(again.params["view"])
