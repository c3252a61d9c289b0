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
from test_slack import Harness, harness

from adapters.slack.blocks import modal_view
from bot.views.cards import ActionKind
from bot.views.renderer import BUTTON_INPUTS


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    h = await harness(tmp_path)
    yield h
    await h.http.close()
    await h._runner.cleanup()  # type: ignore[attr-defined]
    await h.mock.stop()


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
    "event without event": lambda: json.dumps({"type": "event_callback", "event_id": "E1"}),
    "command without user": lambda: urlencode({"command": "/surprises", "text": ""}),
}


@pytest.mark.parametrize("case", [*sorted(MALFORMED), "json body a list"])
async def test_a_signed_malformed_slack_body_gets_400_and_one_log_line(h: Harness, case, caplog):
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


async def test_a_malformed_forgery_still_gets_401(h: Harness):
    body = "payload={not-json"
    status, _ = await post(h.http, h.url, body, signed(body, secret="not-the-secret"))
    assert status == 401
