"""A mock Slack Web API on loopback, and requests signed exactly as Slack signs them.

Stateful: users by email and id, posted messages with their `ts` and metadata (read back by
`conversations.history`); records every call and keeps a log of every post; can be told to
answer a method with 429 and Retry-After. Also a `response_url` sink.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

import aiohttp
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

SIGNING_SECRET = "test-signing-secret"
TOKEN = "xoxb-test-token"


@dataclass
class Call:
    method: str
    params: dict[str, Any]


@dataclass(frozen=True)
class Post:
    """One chat.postMessage the mock accepted."""

    channel: str
    ts: str
    dedupe_key: str


@dataclass
class MockSlack:
    users: dict[str, str] = field(default_factory=dict)  # email -> user id
    calls: list[Call] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)
    # The (host, port) each answer at a response URL came from: one per connection used.
    response_peers: list[Any] = field(default_factory=list)
    failures: dict[str, list[tuple[int, dict[str, str]]]] = field(default_factory=dict)
    messages: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    posts: list[Post] = field(default_factory=list)
    url: str = ""
    # Slack's clock, for message timestamps (`oldest` in conversations.history compares them).
    clock: Callable[[], float] = lambda: 1700000000.0
    # Called with each post once it is kept, before the poster hears back (chaos: kill it here).
    on_post: Callable[[Post], None] | None = None
    _ts: Any = field(default_factory=lambda: itertools.count(1))
    _runner: web.AppRunner | None = None
    changed: asyncio.Event | None = None

    def user_id(self, email: str) -> str:
        return self.users[email]

    def called(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def fail(self, method: str, times: int, status: int = 429, retry_after: str = "0") -> None:
        self.failures[method] = [(status, {"Retry-After": retry_after})] * times

    async def start(self) -> None:
        self.changed = asyncio.Event()
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{id}", self._response_url)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        body = await request.read()
        if body:
            if request.content_type == "application/json":
                params.update(json.loads(body))
            else:
                params.update(dict(parse_qsl(body.decode())))
        for key in ("blocks", "view"):
            if isinstance(params.get(key), str):
                params[key] = json.loads(params[key])
        return params

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        self.calls.append(Call(method, params))
        assert self.changed is not None
        self.changed.set()
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        pending = self.failures.get(method)
        if pending:
            status, headers = pending.pop(0)
            return web.json_response({"ok": False, "error": "ratelimited"}, status=status,
                                     headers=headers)  # fmt: skip
        return web.json_response(self._answer(method, params))

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        by_id = {v: k for k, v in self.users.items()}
        if method == "auth.test":
            return {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T1",
                    "url": "https://council.slack.com/"}  # fmt: skip
        if method == "users.lookupByEmail":
            email = params.get("email", "")
            if email not in self.users:
                return {"ok": False, "error": "users_not_found"}
            return {"ok": True, "user": {"id": self.users[email], "profile": {"email": email}}}
        if method == "users.info":
            user = params.get("user", "")
            if user not in by_id:
                return {"ok": False, "error": "user_not_found"}
            return {"ok": True, "user": {"id": user, "profile": {"email": by_id[user]}}}
        if method == "chat.postMessage":
            channel = _dm(params["channel"])
            ts = f"{int(self.clock())}.{next(self._ts):06d}"
            if isinstance(params.get("metadata"), str):
                params["metadata"] = json.loads(params["metadata"])
            self.messages[(channel, ts)] = params
            self.posts.append(Post(channel, ts, _dedupe_key(params)))
            if self.on_post is not None:
                self.on_post(self.posts[-1])
            return {"ok": True, "channel": channel, "ts": ts}
        if method == "conversations.open":
            users = str(params.get("users", ""))
            if users not in by_id:
                return {"ok": False, "error": "user_not_found"}
            return {"ok": True, "channel": {"id": _dm(users)}}
        if method == "conversations.history":
            return self._history(params)
        if method == "chat.update":
            key = (params["channel"], params["ts"])
            if key not in self.messages:
                return {"ok": False, "error": "message_not_found"}
            self.messages[key] = params
            return {"ok": True, "channel": params["channel"], "ts": params["ts"]}
        return {"ok": True}

    def _history(self, params: dict[str, Any]) -> dict[str, Any]:
        """Newest first, from `oldest`, paged by `limit` and `cursor`; metadata only if asked."""
        channel = params.get("channel", "")
        oldest = float(params.get("oldest") or 0)
        found = sorted(
            ((ts, message) for (c, ts), message in self.messages.items()
             if c == channel and float(ts) >= oldest),
            key=lambda item: float(item[0]), reverse=True,
        )  # fmt: skip
        start = int(params.get("cursor") or 0)
        limit = int(params.get("limit") or 100)
        with_metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        page = []
        for ts, message in found[start : start + limit]:
            entry: dict[str, Any] = {"type": "message", "ts": ts, "text": message.get("text", "")}
            if with_metadata and message.get("metadata"):
                entry["metadata"] = message["metadata"]
            page.append(entry)
        more = start + limit < len(found)
        cursor = str(start + limit) if more else ""
        return {"ok": True, "messages": page, "has_more": more,
                "response_metadata": {"next_cursor": cursor}}  # fmt: skip

    def duplicates(self) -> dict[str, int]:
        """Dedupe keys posted more than once, with how many times."""
        counts: dict[str, int] = {}
        for post in self.posts:
            if post.dedupe_key:
                counts[post.dedupe_key] = counts.get(post.dedupe_key, 0) + 1
        return {key: n for key, n in counts.items() if n > 1}

    async def _response_url(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.responses.append(body)
        self.response_peers.append(request.transport.get_extra_info("peername"))
        assert self.changed is not None
        self.changed.set()
        return web.json_response({"ok": True})

    async def wait_for(self, predicate, timeout: float = 5.0) -> None:
        """Wait until predicate() is true, woken by each call the mock receives (no sleeping)."""
        assert self.changed is not None
        deadline = time.monotonic() + timeout
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("the expected Slack calls never arrived")
            self.changed.clear()
            if predicate():
                return
            try:
                await asyncio.wait_for(self.changed.wait(), remaining)
            except TimeoutError:
                continue


def _dm(channel: str) -> str:
    """A user id names their direct message with the bot: U123 → D123."""
    return "D" + channel[1:] if channel.startswith("U") else channel


def _dedupe_key(params: dict[str, Any]) -> str:
    metadata = params.get("metadata") or {}
    payload = metadata.get("event_payload") or {} if isinstance(metadata, dict) else {}
    return str(payload.get("dedupe_key", "")) if isinstance(payload, dict) else ""


def signed(body: str, *, secret: str = SIGNING_SECRET, age: int = 0,
           content_type: str = "application/x-www-form-urlencoded") -> dict[str, str]:  # fmt: skip
    """Headers exactly as Slack sends them: v0 HMAC-SHA256 over 'v0:{timestamp}:{body}'."""
    timestamp = str(int(time.time()) - age)
    signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    return {"Content-Type": content_type, "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature}  # fmt: skip


def command_body(user_id: str, text: str, response_url: str, channel: str = "C0PUBLIC",
                 command: str = "/surprises") -> str:  # fmt: skip
    return urlencode({
        "token": "legacy", "team_id": "T1", "team_domain": "council", "channel_id": channel,
        "channel_name": "general", "user_id": user_id, "user_name": "someone",
        "command": command, "text": text, "api_app_id": "A1", "response_url": response_url,
        "trigger_id": "trigger.1",
    })  # fmt: skip


def block_actions_body(user_id: str, channel: str, ts: str, action_id: str, value: str,
                       response_url: str) -> str:  # fmt: skip
    payload = {
        "type": "block_actions",
        "team": {"id": "T1", "domain": "council"},
        "user": {"id": user_id, "username": "someone", "team_id": "T1"},
        "api_app_id": "A1",
        "token": "legacy",
        "container": {"type": "message", "message_ts": ts, "channel_id": channel,
                      "is_ephemeral": False},
        "trigger_id": "trigger.2",
        "channel": {"id": channel, "name": "directmessage"},
        "message": {"type": "message", "ts": ts, "text": "card"},
        "response_url": response_url,
        "actions": [{"action_id": action_id, "block_id": "ns_buttons", "value": value,
                     "type": "button", "action_ts": "1700000001.000001"}],
    }  # fmt: skip
    return urlencode({"payload": json.dumps(payload)})


def view_submission_body(user_id: str, view: dict[str, Any], values: dict[str, str]) -> str:
    state: dict[str, Any] = {}
    for block in view["blocks"]:
        name = block["block_id"]
        element = block["element"]
        if name not in values:
            continue
        if element["type"] in ("static_select", "external_select", "radio_buttons"):
            state[name] = {name: {"type": element["type"],
                                  "selected_option": {"value": values[name]}}}  # fmt: skip
        elif element["type"] == "datetimepicker":
            # The picker sends epoch seconds, as a number.
            state[name] = {name: {"type": "datetimepicker",
                                  "selected_date_time": int(values[name])}}  # fmt: skip
        else:
            state[name] = {name: {"type": "plain_text_input", "value": values[name]}}
    payload = {
        "type": "view_submission",
        "team": {"id": "T1", "domain": "council"},
        "user": {"id": user_id, "username": "someone", "team_id": "T1"},
        "api_app_id": "A1",
        "token": "legacy",
        "trigger_id": "trigger.3",
        "view": {**view, "id": "V1", "state": {"values": state}},
    }
    return urlencode({"payload": json.dumps(payload)})


def block_suggestion_body(user_id: str, view: dict[str, Any], block_id: str, typed: str) -> str:
    """What Slack posts as someone types into an external_select in a modal."""
    element = next(b["element"] for b in view["blocks"] if b["block_id"] == block_id)
    payload = {
        "type": "block_suggestion",
        "user": {"id": user_id, "username": "someone", "team_id": "T1"},
        "container": {"type": "view", "view_id": "V1"},
        "api_app_id": "A1",
        "token": "legacy",
        "action_id": element["action_id"],
        "block_id": block_id,
        "value": typed,
        "team": {"id": "T1", "domain": "council"},
        "view": {**view, "id": "V1", "state": {"values": {}}},
    }
    return urlencode({"payload": json.dumps(payload)})


def home_opened_body(user_id: str, event_id: str) -> str:
    return json.dumps({
        "token": "legacy", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
        "event_id": event_id, "event_time": int(time.time()),
        "event": {"type": "app_home_opened", "user": user_id, "channel": "D1", "tab": "home",
                  "event_ts": "1700000002.000001"},
    })  # fmt: skip


async def post(session: aiohttp.ClientSession, url: str, body: str,
               headers: dict[str, str]) -> tuple[int, str]:  # fmt: skip
    async with session.post(url, data=body.encode(), headers=headers) as response:
        return response.status, await response.text()
