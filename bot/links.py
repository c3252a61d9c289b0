"""Signed links: what an email's buttons, calendar feed and preferences link carry.

A token names one person and one purpose (an action, a calendar feed, preferences), may carry
a signed button payload, and may expire. It is signed with the bot's own link key (kept in the
database beside the button key), so an edited, forged or expired link is refused and nothing
changes. Whoever holds the link acts as the person it names, so links are short-lived.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum


class LinkPurpose(StrEnum):
    ACT = "act"  # press one button of one card
    CALENDAR = "cal"  # read one's own calendar feed
    PREFERENCES = "prefs"  # choose how to hear from the bot
    HOLD = "hold"  # read one briefing's calendar hold (from a chat card's link)


def hold_url(public_url: str, token: str) -> str:
    """Where a chat card's "Add to calendar" link points: one briefing's hold, for one person."""
    return f"{public_url}/calendar/hold/{token}.ics"


class LinkProblem(StrEnum):
    """Why a link was refused; each has its own page."""

    MALFORMED = "malformed"
    ALTERED = "altered"
    EXPIRED = "expired"
    WRONG_PURPOSE = "wrong_purpose"


class LinkRefused(ValueError):
    def __init__(self, problem: LinkProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


@dataclass(frozen=True)
class LinkClaim:
    """What a valid token says: who, for what, and until when."""

    purpose: LinkPurpose
    email: str
    payload: str = ""
    expires: datetime | None = None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class LinkSigner:
    """Makes and opens link tokens: base64url(JSON body) '.' base64url(HMAC-SHA256)."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def _sig(self, body: bytes) -> bytes:
        return hmac.new(self._key, b"link:" + body, hashlib.sha256).digest()[:18]

    def make(
        self,
        *,
        purpose: LinkPurpose,
        email: str,
        payload: str = "",
        expires: datetime | None = None,
    ) -> str:
        """A token for `email` to use for `purpose` (with a button payload) until `expires`."""
        data: dict[str, object] = {"p": purpose.value, "e": email.lower()}
        if payload:
            data["b"] = payload
        if expires is not None:
            data["x"] = int(expires.timestamp())
        body = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
        return f"{_b64(body)}.{_b64(self._sig(body))}"

    def open(self, token: str, *, purpose: LinkPurpose, now: datetime) -> LinkClaim:
        """The claim a token makes; raise LinkRefused if it is malformed, altered or expired."""
        body_text, dot, sig_text = token.partition(".")
        if not dot or not body_text or not sig_text:
            raise LinkRefused(LinkProblem.MALFORMED)
        try:
            body, sig = _unb64(body_text), _unb64(sig_text)
        except (binascii.Error, ValueError) as exc:
            raise LinkRefused(LinkProblem.MALFORMED) from exc
        if not hmac.compare_digest(sig, self._sig(body)):
            raise LinkRefused(LinkProblem.ALTERED)
        try:
            data = json.loads(body)
            claim = LinkClaim(
                purpose=LinkPurpose(data["p"]),
                email=str(data["e"]),
                payload=str(data.get("b", "")),
                expires=datetime.fromtimestamp(int(data["x"]), UTC) if "x" in data else None,
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise LinkRefused(LinkProblem.MALFORMED) from exc
        if claim.purpose != purpose:
            raise LinkRefused(LinkProblem.WRONG_PURPOSE)
        if claim.expires is not None and now >= claim.expires:
            raise LinkRefused(LinkProblem.EXPIRED)
        return claim
