"""Fetching a council's ModernGov pages politely: paced, identified, timed out and retried."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp

PRODUCT = "NoSurprises/0.1 (council briefing reminders)"
FIREWALL_REFUSAL = (
    "the site refused automated requests (HTTP 403): ask the council's web team to allow "
    "this server"
)


class SourceError(Exception):
    """The council's site could not be read; the message names the page."""

    def __init__(self, page: str, reason: str) -> None:
        self.page = page
        self.reason = reason
        super().__init__(f"{page}: {reason}")


def user_agent(contact: str) -> str:
    """The User-Agent header: the product, and whom the council's web team can write to."""
    return f"{PRODUCT}; contact {contact}" if contact else PRODUCT


def _decoded(body: bytes, charset: str | None) -> str:
    """The page's text; a wrong or unknown charset costs a few characters, not the pull."""
    try:
        return body.decode(charset or "utf-8", errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")


@dataclass
class Fetcher:
    """Polite HTTP: a few requests a second at most, timeouts, retries with backoff."""

    session: aiohttp.ClientSession
    requests_per_second: float = 3.0
    timeout_seconds: float = 20.0
    retries: int = 2
    backoff_seconds: float = 1.0
    contact: str = ""
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    _last: float = 0.0

    async def get(self, url: str) -> str:
        """The page's text, or SourceError naming the page and what went wrong."""
        headers = {"User-Agent": user_agent(self.contact)}
        for attempt in range(self.retries + 1):
            gap = 1.0 / self.requests_per_second - (time.monotonic() - self._last)
            if gap > 0:
                await self.sleep(gap)
            self._last = time.monotonic()
            try:
                timeout = aiohttp.ClientTimeout(total=self.timeout_seconds)
                async with self.session.get(url, timeout=timeout, headers=headers) as response:
                    if response.status in (429, 500, 502, 503, 504) and attempt < self.retries:
                        await self.sleep(self.backoff_seconds * 2**attempt)
                        continue
                    if response.status == 403:
                        raise SourceError(url, FIREWALL_REFUSAL)
                    if response.status != 200:
                        raise SourceError(url, f"the site answered HTTP {response.status}")
                    return _decoded(await response.read(), response.charset)
            except (TimeoutError, aiohttp.ClientError) as exc:
                if attempt == self.retries:
                    reason = "timed out" if isinstance(exc, TimeoutError) else type(exc).__name__
                    raise SourceError(url, f"could not be fetched ({reason})") from None
                await self.sleep(self.backoff_seconds * 2**attempt)
        raise SourceError(url, "could not be fetched")  # pragma: no cover
