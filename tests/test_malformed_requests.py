"""Malformed but correctly signed requests get 400 and one log line, never a 500 or a
traceback; a forgery still gets 401 however malformed it is."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import pytest
from slack_mock import block_actions_body, post, signed, view_submission_body
from teams_mock import message
from test_slack import Harness, h  # noqa: F401 - the Slack harness fixture
from test_teams import HELEN, LOCAL, Rig, install, mock, open_app, serve  # noqa: F401

from adapters.slack.blocks import modal_view
from bot.store.models import AuditEvent
from bot.views.cards import ActionKind
from bot.views.renderer import BUTTON_INPUTS


def form(payload: object) -> str:
    return urlencode({"payload": payload if isinstance(payload, str) else json.dumps(payload)})


def payload_of(body: str) -> dict:
    return json.loads(dict(parse_qsl(body))["payload"])


def click(**changes: object) -> str:
    payload = payload_of(
        block_actions_body("U0001", "D1", "1.1", "ns:acknowledge", "x", "http://r/1")
    )
    for name, value in changes.items():
        if value is None:
            payload.pop(name, None)
        else:
            payload[name] = value
    return form(payload)


def submission(metadata: object = None, state: object = None) -> str:
    view = modal_view(
        ActionKind.NOT_NEEDED, "Not needed", BUTTON_INPUTS[ActionKind.NOT_NEEDED], {"payload": "p"}
    )
    body = payload_of(view_submission_body("U0001", view, {}))
    if metadata is not None:
        body["view"]["private_metadata"] = metadata
    if state is not None:
        body["view"]["state"] = state
    return form(body)


def suggestion(**changes: object) -> str:
    view = modal_view(
        ActionKind.REASSIGN, "Reassign", BUTTON_INPUTS[ActionKind.REASSIGN], {"payload": "p"}
    )
    body = {"type": "block_suggestion", "user": {"id": "U0001"}, "action_id": "ns_people"}
    return form(body | {"block_id": "to", "value": "ma", "view": view} | changes)


MALFORMED = {
    "payload not json": lambda: "payload={not-json",
    "payload a list": lambda: form([1, 2]),
    "form body of nothing slack sends": lambda: "[1, 2]",
    "block_actions without user": lambda: click(user=None),
    "block_actions user without id": lambda: click(user={"name": "x"}),
    "block_actions actions not a list": lambda: click(actions="ns:acknowledge"),
    "private_metadata not json": lambda: submission(metadata="{oops"),
    "private_metadata a list": lambda: submission(metadata="[1]"),
    "private_metadata odd values": lambda: submission(metadata='{"payload": {"x": 1}}'),
    "view state not a dict": lambda: submission(state="values"),
    "view state values odd": lambda: submission(state={"values": {"reason": ["x"]}}),
    "view state value not text": lambda: submission(
        state={"values": {"reason": {"reason": {"type": "plain_text_input", "value": 5}}}}
    ),
    "block_suggestion without user": lambda: suggestion(user="U0001"),
    "block_suggestion typed value not text": lambda: suggestion(value=["ma"]),
    "block_suggestion view not a dict": lambda: suggestion(view="V1"),
    "block_suggestion private_metadata not json": lambda: suggestion(
        view={"private_metadata": "{oops"}
    ),
    "event without event": lambda: json.dumps({"type": "event_callback", "event_id": "E1"}),
    "command without user": lambda: urlencode({"command": "/surprises", "text": ""}),
}


@pytest.mark.parametrize("case", [*sorted(MALFORMED), "json body a list"])
async def test_a_signed_malformed_slack_body_gets_400_and_one_log_line(h: Harness, case, caplog):  # noqa: F811
    audits, calls = h.audit_count(), len(h.mock.calls)
    with caplog.at_level(logging.INFO):
        if case == "json body a list":
            status, text = await h.send("[1, 2]", content_type="application/json")
        else:
            status, text = await h.send(MALFORMED[case]())
    assert status == 400, text
    assert "error" in json.loads(text)
    mine = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(mine) == 1 and mine[0].getMessage().startswith("slack: refused a signed request")
    assert mine[0].exc_info is None
    assert h.audit_count() == audits and len(h.mock.calls) == calls


async def test_a_malformed_forgery_still_gets_401(h: Harness):  # noqa: F811
    body = "payload={not-json"
    status, _ = await post(h.http, h.url, body, signed(body, secret="not-the-secret"))
    assert status == 401


# --- Teams ------------------------------------------------------------------------------------


def without(activity: dict, name: str) -> dict:
    return {k: v for k, v in activity.items() if k != name}


@pytest.fixture
async def teams(tmp_path: Path, mock) -> AsyncIterator[Rig]:  # noqa: F811 - the mock connector
    async for rig in serve(open_app(tmp_path, LOCAL), mock):
        yield rig


TEAMS_MALFORMED = {
    "no conversation": lambda url: without(message(HELEN, "surprises", url), "conversation"),
    "no from": lambda url: without(message(HELEN, "surprises", url), "from"),
    "no service url": lambda url: without(message(HELEN, "surprises", url), "serviceUrl"),
    "service url not a url": lambda url: {**message(HELEN, "surprises", url), "serviceUrl": "x"},
    "type a number": lambda url: {**message(HELEN, "surprises", url), "type": 5},
    "conversation a string": lambda url: {**message(HELEN, "surprises", url), "conversation": "x"},
    "channelData a list": lambda url: {**message(HELEN, "surprises", url), "channelData": [1]},
    "a list, not an activity": lambda url: [message(HELEN, "surprises", url)],
}


@pytest.mark.parametrize("case", sorted(TEAMS_MALFORMED))
async def test_a_malformed_teams_activity_gets_400_and_one_log_line(teams: Rig, case, caplog):
    rig = teams
    audits = rig.count(AuditEvent)
    with caplog.at_level(logging.INFO):
        response = await rig.post(TEAMS_MALFORMED[case](rig.mock.url))
    assert response.status == 400
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and warnings[0].getMessage().startswith("teams: refused a request")
    assert warnings[0].exc_info is None
    assert rig.count(AuditEvent) == audits and rig.mock.of("reply") == []


async def test_a_teams_turn_that_fails_logs_one_line_without_a_traceback(
    teams: Rig, caplog, monkeypatch
):
    rig = teams

    async def broken(*_args, **_kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(rig.teams, "_on_text", broken)
    await install(rig, HELEN)
    with caplog.at_level(logging.INFO):
        await rig.post(message(HELEN, "surprises", rig.mock.url))
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in errors] == [
        "teams: a turn failed (RuntimeError: database on fire)"
    ]
    assert errors[0].exc_info is None
