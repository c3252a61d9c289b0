"""The port every chat platform implements, and the plugin record that registers one.

Adapters are plugins (entry-point group `nosurprises.adapters`), as Errbot's backends are:
each declares its own settings (its config table and environment variables), how to build
itself, and any commands of its own. The core knows only the types in this module.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from bot.views.cards import Card

if TYPE_CHECKING:
    import asyncio

    from aiohttp import web

    from bot.config import Settings, SettingsTable
    from bot.delivery.hub import Hub

ADAPTER_GROUP = "nosurprises.adapters"


class DeliveryOutcome(StrEnum):
    DELIVERED = "delivered"
    RATE_LIMITED = "rate_limited"
    RECIPIENT_NOT_FOUND = "recipient_not_found"
    FAILED = "failed"


class MessageKind(StrEnum):
    """The messages the core sends besides escalation steps (which carry their step's name)."""

    ACK_REQUEST = "ack_request"
    MEMBER_REMINDER = "member_reminder"
    REASSIGNED = "reassigned"
    ACKNOWLEDGED = "acknowledged"
    DISPUTED = "disputed"
    CHANGED_BRIEFER = "changed_briefer"
    CHANGED_MEMBER = "changed_member"
    PROMPT = "prompt"  # a catch-up prompt with buttons, before anyone above the briefer hears
    WITHDRAWN = "withdrawn"
    APPROVAL_REQUEST = "approval_request"
    APPROVAL_DECIDED = "approval_decided"
    CHASE = "chase"  # a director or the chief executive asked for the briefer to be reminded
    SCRUTINY_NOTICE = "scrutiny_notice"  # a general exception, told to the scrutiny chair
    URGENCY_RECORD = "urgency_record"  # special urgency: democratic services record agreement
    OFFICER_DIGEST = "officer_digest"
    CHIEF_EXECUTIVE_DIGEST = "chief_executive_digest"
    MEMBER_DIGEST = "member_digest"  # only to members who asked for it, only by email
    REDRAW = "redraw"


class DeliveryNote(StrEnum):
    """What the delivery log says about a message that was in doubt after a crash."""

    ALREADY_POSTED = "already_posted"  # found on the platform: recorded, not sent again
    POSSIBLE_DUPLICATE = "possible_duplicate"  # the platform cannot be asked: sent again


@dataclass(frozen=True)
class SendResult:
    """What one platform said about one message."""

    outcome: DeliveryOutcome
    platform: str = ""
    message_id: str = ""
    channel: str = ""
    error_code: str = ""
    detail: str = ""
    retry_after: float | None = None
    user_id: str = ""
    note: str = ""  # DeliveryNote: found already posted, or possibly posted twice

    @classmethod
    def delivered(
        cls, platform: str, *, message_id: str, channel: str, user_id: str = ""
    ) -> SendResult:
        return cls(
            DeliveryOutcome.DELIVERED,
            platform=platform,
            message_id=message_id,
            channel=channel,
            user_id=user_id,
        )

    @classmethod
    def rate_limited(cls, platform: str, *, retry_after: float | None) -> SendResult:
        return cls(
            DeliveryOutcome.RATE_LIMITED,
            platform=platform,
            error_code="ratelimited",
            retry_after=retry_after,
        )

    @classmethod
    def not_found(cls, platform: str, *, error_code: str, detail: str = "") -> SendResult:
        return cls(
            DeliveryOutcome.RECIPIENT_NOT_FOUND,
            platform=platform,
            error_code=error_code,
            detail=detail,
        )

    @classmethod
    def failed(cls, platform: str, *, error_code: str, detail: str = "") -> SendResult:
        return cls(DeliveryOutcome.FAILED, platform=platform, error_code=error_code, detail=detail)


@dataclass(frozen=True)
class PostedRef:
    """Where a card was shown: enough for its platform to update it in place."""

    platform: str
    channel: str
    message_id: str
    recipient_email: str


@dataclass(frozen=True)
class Account:
    """A person's account on one platform: who it is, and what reaches them there."""

    platform: str
    email: str
    user_id: str
    tenant_id: str = ""
    detail: dict[str, Any] = field(default_factory=dict, hash=False, compare=True)
    reachable: bool = True


class Recipient(Protocol):
    """Who a message is for, as far as a platform needs to know."""

    @property
    def email(self) -> str: ...

    @property
    def name(self) -> str: ...


@runtime_checkable
class ChatAdapter(Protocol):
    """What every platform adapter provides to the core."""

    platform: str

    def mount(self, web_app: web.Application) -> None:
        """Add the adapter's HTTP routes to the bot's one aiohttp app."""

    async def start(self) -> None:
        """Connect (Socket Mode, connector sessions) once the server is up."""

    async def stop(self) -> None:
        """Disconnect and release what `start` took."""

    async def send(self, recipient: Recipient, card: Card, *, dedupe_key: str = "") -> SendResult:
        """Send a card to a person in a direct message (tagged with its outbox key if it can)."""
        ...

    async def update(self, posted: PostedRef, card: Card) -> SendResult:
        """Redraw a card previously sent."""
        ...


@runtime_checkable
class PostedLookup(Protocol):
    """An adapter that can tell whether a message was already posted (Slack, by metadata)."""

    async def find_posted(
        self, recipient: Recipient, *, dedupe_key: str, since: datetime
    ) -> SendResult | None:
        """The message tagged `dedupe_key` posted to this person since `since`, if any.

        None: not there. A result that is not DELIVERED: the platform could not be asked.
        """
        ...


@runtime_checkable
class InteractiveAdapter(Protocol):
    """An adapter that reads a person's commands from a terminal until its input ends."""

    async def run(self, stop: asyncio.Event) -> None:
        """Read and act on commands until the input ends or `stop` is set; then set `stop`."""


class AdapterSettings(Protocol):
    """An adapter's own settings: at least whether the council has turned it on."""

    @property
    def enabled(self) -> bool: ...


@dataclass(frozen=True)
class AdapterCommand:
    """A command line command an adapter contributes (e.g. `teams-package`)."""

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace, Settings], int]


@dataclass(frozen=True)
class AdapterPlugin:
    """What an adapter registers under the entry-point group: light to import.

    `create` imports the platform's SDK only when the adapter is really started, so
    `nosurprises --help` and `nosurprises status` never load slack-bolt or botbuilder.
    """

    name: str
    read_settings: Callable[[SettingsTable], AdapterSettings]
    create: Callable[[Hub, Any], ChatAdapter]
    commands: tuple[AdapterCommand, ...] = field(default=())
    interactive: bool = False  # reads from a terminal (the console); `serve --no-console` skips it


def adapter_settings(settings: Settings, name: str) -> Any:
    """The settings an adapter read for itself, or None if it is not installed."""
    return settings.adapters.get(name)
