"""The outbound half of the Teams adapter: calls to the Bot Connector REST API over aiohttp.

The SDK's own connector client sends through `requests` in a thread pool (msrest); this one
shares one aiohttp session on the event loop, which is several times faster under load, and it
owns the retry policy: 429, 412, 502 and 504 are retried with exponential backoff and jitter,
never sooner than the connector's Retry-After, within a bounded wait. What is still failing
after that is raised as ConnectorError for the caller to classify (the outbox reschedules).

Routes used (https://learn.microsoft.com/azure/bot-service/rest-api/bot-framework-rest-connector-api-reference):
POST /v3/conversations, POST /v3/conversations/{id}/activities[/{activityId}],
PUT /v3/conversations/{id}/activities/{activityId}.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import aiohttp
from yarl import URL

log = logging.getLogger(__name__)

RETRYABLE = frozenset({412, 429, 502, 504})
USER_AGENT = "NoSurprises (Teams adapter; aiohttp)"

TokenSource = Callable[[bool], Awaitable[str]]  # force_refresh -> bearer token ("" for none)


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try before giving the failure back to the caller."""

    attempts: int = 4  # in total, the first try included
    base_seconds: float = 0.5
    cap_seconds: float = 8.0
    # Never wait longer than this in all in one call: Teams gives a turn 15 s, and the outbox
    # reschedules a reminder anyway.
    max_wait_seconds: float = 10.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Exponential backoff with full jitter on its upper half; Retry-After is the floor."""
        backoff = min(self.cap_seconds, self.base_seconds * (2 ** max(0, attempt - 1)))
        delay = backoff * (0.5 + random.random() / 2)
        if retry_after is not None:
            delay = max(delay, retry_after + random.random() * min(1.0, self.base_seconds))
        return delay


class ConnectorError(Exception):
    """The Bot Connector refused or failed a call (after any retries)."""

    def __init__(
        self, status: int, message: str = "", *, retry_after: float | None = None, code: str = ""
    ) -> None:
        super().__init__(f"Bot Connector answered {status}: {code or message}"[:300])
        self.status = status
        self.retry_after = retry_after
        self.code = code
        self.message = message


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After in seconds, from either form (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        from datetime import UTC, datetime

        when = parsedate_to_datetime(value)
        return max(0.0, (when - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError, OverflowError):
        return None


def conversation_path(conversation_id: str, activity_id: str | None = None) -> str:
    path = f"/v3/conversations/{quote(conversation_id, safe='')}/activities"
    if activity_id:
        path += f"/{quote(activity_id, safe='')}"
    return path


class BotConnector:
    """One aiohttp session for every Bot Connector call this process makes."""

    def __init__(self, token: TokenSource, retry: RetryPolicy | None = None) -> None:
        self._token = token
        self.retry = retry or RetryPolicy()
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        if self._session is None:
            # trust_env: honour HTTPS_PROXY / NO_PROXY as the SDK's requests-based client does.
            self._session = aiohttp.ClientSession(
                trust_env=True,
                timeout=aiohttp.ClientTimeout(total=30, connect=10),
                headers={"User-Agent": USER_AGENT},
                connector=aiohttp.TCPConnector(limit=64, limit_per_host=32),
            )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def post_activity(
        self, service_url: str, conversation_id: str, activity: dict[str, Any], reply_to: str = ""
    ) -> dict[str, Any]:
        return await self.call(
            "POST", service_url, conversation_path(conversation_id, reply_to or None), activity
        )

    async def update_activity(
        self, service_url: str, conversation_id: str, activity_id: str, activity: dict[str, Any]
    ) -> dict[str, Any]:
        return await self.call(
            "PUT", service_url, conversation_path(conversation_id, activity_id), activity
        )

    async def create_conversation(
        self, service_url: str, parameters: dict[str, Any]
    ) -> dict[str, Any]:
        return await self.call("POST", service_url, "/v3/conversations", parameters)

    async def call(
        self, method: str, service_url: str, path: str, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """One REST call with the retry policy; the parsed JSON answer ({} when empty)."""
        if self._session is None:
            await self.start()
        assert self._session is not None
        url = URL(service_url.rstrip("/") + path, encoded=True)
        policy = self.retry
        waited = 0.0
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            headers = {}
            token = await self._token(refreshed)
            if token:
                headers["Authorization"] = f"Bearer {token}"
            try:
                async with self._session.request(method, url, json=body, headers=headers) as resp:
                    status = resp.status
                    text = await resp.text()
                    retry_after = parse_retry_after(resp.headers.get("Retry-After"))
            except (aiohttp.ClientError, TimeoutError) as exc:
                status, text, retry_after = 0, f"{type(exc).__name__}: {exc}", None
            if 200 <= status < 300:
                return _json(text)
            if status == 401 and token and not refreshed:
                refreshed = True  # an expired token: fetch a fresh one, once
                continue
            if status in RETRYABLE or status == 0:
                delay = policy.delay(attempt, retry_after)
                if attempt < policy.attempts and waited + delay <= policy.max_wait_seconds:
                    log.info(
                        "Bot Connector %s %s answered %s; retrying in %.2fs",
                        method,
                        path.split("/activities")[0][:60],
                        status or "no answer",
                        delay,
                    )
                    waited += delay
                    await asyncio.sleep(delay)
                    continue
            code, message = _error(text)
            raise ConnectorError(status, message, retry_after=retry_after, code=code)


def _json(text: str) -> dict[str, Any]:
    import json

    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _error(text: str) -> tuple[str, str]:
    """The connector's {"error": {"code", "message"}}, if it sent one."""
    data = _json(text)
    error = found if isinstance(found := data.get("error"), dict) else {}
    return str(error.get("code", "")), str(error.get("message", "") or text[:200])
