"""A mock Microsoft Bot Connector on loopback, and activities shaped as Teams posts them.

The mock is an aiohttp app on 127.0.0.1, port 0. It records every call and answers the routes a
Teams bot uses:

    POST /v3/conversations                                   create a 1:1 conversation
    POST /v3/conversations/{id}/activities[/{activityId}]    send / reply  -> {"id": new id}
    PUT  /v3/conversations/{id}/activities/{activityId}      update in place
    GET  /v3/conversations/{id}/members/{memberId}           member look-up (email, UPN, AAD id)
    GET  /openid/.well-known/openid-configuration, /openid/keys
                                                             token-signing keys, for auth tests

`fail_next(n, status, retry_after)` makes the next n activity calls answer with that status
(429, 412, 502, 504…). It can run on its own thread and event loop (`start_in_thread`), which
the tests use: the SDK fetches OpenID metadata with a blocking `requests.get` from inside the
server's event loop, which a mock on that same loop could never answer.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TENANT = "7d8e6f10-0000-4000-8000-00000000c0c1"
BOT_ID = "28:no-surprises-bot"
BOT_NAME = "No Surprises"


@dataclass
class Call:
    method: str
    path: str
    conversation_id: str
    activity_id: str
    body: Any
    authorization: str
    status: int
    at: float  # time.monotonic() when it arrived
    answered_id: str = ""  # the id the mock gave a new activity

    @property
    def kind(self) -> str:
        """'reply' (POST to an activity), 'send' (POST to the conversation), 'update', …"""
        if "/members" in self.path:
            return "member"
        if self.path.startswith("/v3/conversations") and "/activities" in self.path:
            if self.method == "PUT":
                return "update"
            return "reply" if self.activity_id else "send"
        if self.path == "/v3/conversations":
            return "create"
        return "other"

    @property
    def cards(self) -> list[dict[str, Any]]:
        body = self.body if isinstance(self.body, dict) else {}
        return [
            a.get("content", {})
            for a in body.get("attachments", []) or []
            if a.get("contentType") == "application/vnd.microsoft.card.adaptive"
        ]

    @property
    def text(self) -> str:
        """Everything readable: the message text and every TextBlock, fact and button."""
        body = self.body if isinstance(self.body, dict) else {}
        parts = [body.get("text") or ""]
        for card in self.cards:
            parts += list(_readable(card))
        return "\n".join(p for p in parts if p)


def _readable(node: Any):
    if isinstance(node, dict):
        kind = node.get("type")
        if kind == "TextBlock":
            yield node.get("text", "")
        elif kind == "FactSet":
            for fact in node.get("facts", []):
                yield f"{fact.get('title')}: {fact.get('value')}"
        elif kind and str(kind).startswith("Action."):
            yield node.get("title", "")
        for value in node.values():
            if isinstance(value, dict | list):
                yield from _readable(value)
    elif isinstance(node, list):
        for item in node:
            yield from _readable(item)


@dataclass
class Member:
    """A Teams user as the connector describes them."""

    name: str
    email: str
    aad: str
    upn: str = ""
    user_id: str = ""  # the bot-scoped id, "29:…"

    def __post_init__(self) -> None:
        self.upn = self.upn or self.email
        self.user_id = self.user_id or f"29:{self.aad}"

    @property
    def personal_conversation(self) -> str:
        return f"a:personal-{self.aad}"

    def as_json(self) -> dict[str, Any]:
        given, _, surname = self.name.partition(" ")
        return {
            "id": self.user_id,
            "name": self.name,
            "aadObjectId": self.aad,
            "email": self.email,
            "userPrincipalName": self.upn,
            "givenName": given,
            "surname": surname,
            "tenantId": TENANT,
            "userRole": "user",
        }


@dataclass
class _Failure:
    status: int
    retry_after: str | None
    remaining: int


@dataclass
class MockConnector:
    members: dict[str, Member] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    jwks: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    listener: Callable[[Call], None] | None = None  # called (on the mock's loop) per call
    _failures: list[_Failure] = field(default_factory=list)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Condition = field(default_factory=threading.Condition)
    _runner: web.AppRunner | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None

    # --- set-up -------------------------------------------------------------------------------

    def add(self, member: Member) -> Member:
        self.members[member.user_id] = member
        return member

    def fail_next(self, count: int, status: int = 429, retry_after: str | None = "0") -> None:
        """The next `count` activity calls (POST/PUT) answer `status`."""
        with self._lock:
            self._failures.append(_Failure(status, retry_after, count))

    def web_app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_post("/v3/conversations/{cid}/activities", self._activity)
        app.router.add_post("/v3/conversations/{cid}/activities/{aid}", self._activity)
        app.router.add_put("/v3/conversations/{cid}/activities/{aid}", self._activity)
        app.router.add_get("/v3/conversations/{cid}/members/{mid}", self._member)
        app.router.add_get("/openid/.well-known/openid-configuration", self._openid)
        app.router.add_get("/openid/keys", self._keys)
        return app

    async def start(self) -> str:
        """Serve on the running event loop."""
        self._runner = web.AppRunner(self.web_app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def start_in_thread(self) -> str:
        """Serve on a loop of its own, in a daemon thread."""
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            loop.run_until_complete(self.start())
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self.close())
            loop.close()

        self._thread = threading.Thread(target=run, name="mock-bot-connector", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the mock Bot Connector did not start")
        return self.url

    def stop_thread(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop = None

    # --- reading back -------------------------------------------------------------------------

    def of(self, kind: str, conversation_id: str | None = None) -> list[Call]:
        with self._lock:
            return [
                c
                for c in self.calls
                if c.kind == kind
                and c.status < 300
                and (conversation_id is None or c.conversation_id == conversation_id)
            ]

    def wait_for(self, predicate: Callable[[list[Call]], bool], timeout: float = 5.0) -> None:
        """Block until the recorded calls satisfy `predicate` (no sleeping: a condition)."""
        with self._lock:
            if not self._lock.wait_for(lambda: predicate(self.calls), timeout):
                raise AssertionError(f"the mock connector never saw it; calls: {self.calls}")

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()

    # --- routes -------------------------------------------------------------------------------

    def _record(self, request: web.Request, body: Any, status: int) -> Call:
        call = Call(
            method=request.method,
            path=request.path,
            conversation_id=request.match_info.get("cid", ""),
            activity_id=request.match_info.get("aid", ""),
            body=body,
            authorization=request.headers.get("Authorization", ""),
            status=status,
            at=time.monotonic(),
        )
        with self._lock:
            self.calls.append(call)
            self._lock.notify_all()
        if self.listener is not None:
            self.listener(call)
        return call

    def _failure(self) -> _Failure | None:
        with self._lock:
            for failure in self._failures:
                if failure.remaining > 0:
                    failure.remaining -= 1
                    return failure
        return None

    async def _body(self, request: web.Request) -> Any:
        raw = await request.read()
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return raw.decode(errors="replace")

    async def _activity(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        failure = self._failure()
        if failure is not None:
            self._record(request, body, failure.status)
            headers = {"Retry-After": failure.retry_after} if failure.retry_after else {}
            return web.json_response(
                {"error": {"code": f"Http{failure.status}", "message": "try again later"}},
                status=failure.status,
                headers=headers,
            )
        call = self._record(request, body, 200)
        if request.method == "PUT":
            return web.json_response({"id": request.match_info["aid"]})
        call.answered_id = f"msg-{next(self._ids)}"
        return web.json_response({"id": call.answered_id})

    async def _create(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        self._record(request, body, 201)
        member = (body or {}).get("members", [{}])[0].get("id", "someone")
        return web.json_response(
            {"id": f"a:created-{member}", "activityId": "", "serviceUrl": self.url}, status=201
        )

    async def _member(self, request: web.Request) -> web.Response:
        member = self.members.get(request.match_info["mid"])
        self._record(request, None, 200 if member else 404)
        if member is None:
            return web.json_response(
                {"error": {"code": "MemberNotFoundInConversation", "message": "no such member"}},
                status=404,
            )
        return web.json_response(member.as_json())

    async def _openid(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "issuer": "https://api.botframework.com",
                "jwks_uri": f"{self.url}/openid/keys",
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        )

    async def _keys(self, request: web.Request) -> web.Response:
        return web.json_response({"keys": self.jwks})


# --- activities, as Teams posts them -----------------------------------------------------------

# Numeric like Teams' own, and unique across runs (a reused database remembers old ids).
_activity_ids = itertools.count(time.time_ns() // 1000)


def next_activity_id() -> str:
    return str(next(_activity_ids))


def _base(
    kind: str,
    member: Member,
    service_url: str,
    *,
    conversation_id: str | None = None,
    conversation_type: str = "personal",
    activity_id: str | None = None,
    tenant: str = TENANT,
) -> dict[str, Any]:
    conversation: dict[str, Any] = {
        "id": conversation_id or member.personal_conversation,
        "conversationType": conversation_type,
        "tenantId": tenant,
    }
    if conversation_type == "channel":
        conversation["isGroup"] = True
    channel_data: dict[str, Any] = {"tenant": {"id": tenant}}
    if conversation_type == "channel":
        channel_data |= {
            "teamsChannelId": conversation["id"],
            "teamsTeamId": "19:team@thread.tacv2",
            "channel": {"id": conversation["id"]},
            "team": {"id": "19:team@thread.tacv2"},
        }
    return {
        "type": kind,
        "id": activity_id or next_activity_id(),
        "timestamp": "2027-01-26T09:30:00.000Z",
        "localTimestamp": "2027-01-26T09:30:00.000+00:00",
        "channelId": "msteams",
        "serviceUrl": service_url,
        "from": {"id": member.user_id, "name": member.name, "aadObjectId": member.aad},
        "conversation": conversation,
        "recipient": {"id": BOT_ID, "name": BOT_NAME},
        "entities": [
            {
                "locale": "en-GB",
                "country": "GB",
                "platform": "Web",
                "timezone": "Europe/London",
                "type": "clientInfo",
            }
        ],
        "channelData": channel_data,
        "locale": "en-GB",
        "localTimezone": "Europe/London",
    }


def message(
    member: Member, text: str, service_url: str, *, mention: bool = False, **options: Any
) -> dict[str, Any]:
    activity = _base("message", member, service_url, **options)
    if mention:
        activity["text"] = f"<at>{BOT_NAME}</at> {text}"
        activity["entities"].append(
            {
                "type": "mention",
                "text": f"<at>{BOT_NAME}</at>",
                "mentioned": {"id": BOT_ID, "name": BOT_NAME},
            }
        )
    else:
        activity["text"] = text
    activity["textFormat"] = "plain"
    return activity


def submit(
    member: Member, value: dict[str, Any], card_activity_id: str, service_url: str, **options: Any
) -> dict[str, Any]:
    """An Action.Submit press: a message with the action's data (and inputs) as its value."""
    activity = _base("message", member, service_url, **options)
    activity["value"] = value
    activity["replyToId"] = card_activity_id
    activity["channelData"]["source"] = {"name": "message"}
    return activity


def execute(
    member: Member, data: dict[str, Any], card_activity_id: str, service_url: str
) -> dict[str, Any]:
    """An Action.Execute press: an adaptiveCard/action invoke."""
    activity = _base("invoke", member, service_url)
    activity["name"] = "adaptiveCard/action"
    activity["value"] = {
        "action": {"type": "Action.Execute", "verb": "press", "data": data},
        "trigger": "manual",
    }
    activity["replyToId"] = card_activity_id
    return activity


def search(
    member: Member, dataset: str, typed: str, service_url: str, *, skip: int = 0, top: int = 15
) -> dict[str, Any]:
    """A Data.Query typeahead asking for choices: an application/search invoke."""
    activity = _base("invoke", member, service_url)
    activity["name"] = "application/search"
    activity["value"] = {
        "queryText": typed,
        "queryOptions": {"skip": skip, "top": top},
        "dataset": dataset,
    }
    return activity


def installation(member: Member, service_url: str, action: str = "add") -> dict[str, Any]:
    activity = _base("installationUpdate", member, service_url)
    activity["action"] = action
    activity["channelData"]["source"] = {"name": "message"}
    return activity


def members_added(
    member: Member, added: list[dict[str, Any]], service_url: str, **options: Any
) -> dict[str, Any]:
    activity = _base("conversationUpdate", member, service_url, **options)
    activity["membersAdded"] = added
    if options.get("conversation_type") == "channel":
        activity["channelData"]["eventType"] = "teamMemberAdded"
    return activity
