"""Email's settings (the `[email]` table and SMTP_* variables) and its plugin record. Light to
import: aiosmtplib loads only when email is started. The SMTP password comes only from the
environment, never the config file."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bot.config import ConfigError, Settings, SettingsTable
from bot.delivery.ports import AdapterCommand, AdapterPlugin, adapter_settings
from bot.views.email_phrases import (
    COMMAND_FEED,
    COMMAND_NEEDS_PUBLIC_URL,
    COMMAND_NOBODY,
    COMMAND_PREFERENCES,
)

if TYPE_CHECKING:
    from adapters.email.adapter import EmailAdapter
    from bot.delivery.hub import Hub

SECURITY = ("starttls", "tls", "none")


@dataclass(frozen=True)
class EmailSettings:
    enabled: bool = False
    host: str = ""
    port: int = 587
    security: str = "starttls"  # starttls (submission, 587) | tls (implicit, 465) | none
    username: str = ""
    password: str = field(default="", repr=False)
    from_address: str = ""
    from_name: str = "No Surprises"
    public_url: str = ""  # where links point: https://YOUR-HOST
    link_valid_days: int = 14
    timeout_seconds: float = 30.0


def read_settings(table: SettingsTable) -> EmailSettings:
    """`[email]`, overridden by SMTP_HOST, SMTP_PORT, SMTP_USERNAME, SMTP_FROM and
    NOSURPRISES_PUBLIC_URL; SMTP_PASSWORD only from the environment. SMTP_HOST turns it on."""
    if "password" in table.table:
        raise ConfigError(
            f"{table.where}.password: keep the SMTP password out of the config file; "
            "set SMTP_PASSWORD in the environment instead"
        )
    settings = EmailSettings(
        enabled=table.get("enabled", bool, False) or bool(table.environ.get("SMTP_HOST")),
        host=table.get("host", str, "", env="SMTP_HOST"),
        port=table.get("port", int, 587, env="SMTP_PORT"),
        security=table.get("security", str, "starttls").lower(),
        username=table.get("username", str, "", env="SMTP_USERNAME"),
        password=table.environ.get("SMTP_PASSWORD", ""),
        from_address=table.get("from_address", str, "", env="SMTP_FROM"),
        from_name=table.get("from_name", str, "No Surprises"),
        public_url=table.get("public_url", str, "", env="NOSURPRISES_PUBLIC_URL").rstrip("/"),
        link_valid_days=table.get("link_valid_days", int, 14),
        timeout_seconds=table.get("timeout_seconds", float, 30.0),
    )
    if settings.security not in SECURITY:
        raise ConfigError(
            f"{table.where}.security: expected one of {', '.join(SECURITY)}, "
            f"got {settings.security!r}"
        )
    if settings.enabled:
        for name, env in (
            ("host", "SMTP_HOST"),
            ("from_address", "SMTP_FROM"),
            ("public_url", "NOSURPRISES_PUBLIC_URL"),
        ):
            if not getattr(settings, name):
                raise ConfigError(f"{table.where}.{name}: required for email (or set {env})")
        if not settings.public_url.startswith("https://") and not _loopback(settings.public_url):
            # The links carry tokens that act for a person: never over plain HTTP.
            raise ConfigError(
                f"{table.where}.public_url: must start with https:// (got {settings.public_url!r})"
            )
        if settings.security == "none" and settings.username and not _loopback_host(settings.host):
            # A login over plain SMTP would send the password in the clear.
            raise ConfigError(
                f"{table.where}.security: a login needs starttls or tls (none is only for a "
                "relay on this machine)"
            )
        if settings.link_valid_days < 1:
            raise ConfigError(f"{table.where}.link_valid_days: must be at least 1")
    return settings


def _loopback(url: str) -> bool:
    return _loopback_host(urlsplit(url).hostname or "")


def _loopback_host(host: str) -> bool:
    return host in ("localhost", "127.0.0.1", "::1")


def create(hub: Hub, settings: EmailSettings) -> EmailAdapter:
    from adapters.email.adapter import EmailAdapter

    return EmailAdapter(hub, settings)


def _links_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("person", help="their email address or full name")


def print_links(args: argparse.Namespace, settings: Settings) -> int:
    """A person's private calendar feed and preferences addresses, to hand to someone who
    works only in chat (and so never receives an email carrying them)."""
    import asyncio

    from adapters.email.compose import feed_url, preferences_url
    from bot.app import App
    from bot.delivery.hub import Hub
    from bot.service import personal_links

    email: EmailSettings = adapter_settings(settings, "email") or EmailSettings()
    if not email.public_url:
        print(COMMAND_NEEDS_PUBLIC_URL, file=sys.stderr)
        return 2
    links = asyncio.run(personal_links(Hub(App.open(settings)), person=args.person))
    if links is None:
        print(COMMAND_NOBODY.format(who=args.person), file=sys.stderr)
        return 1
    base = email.public_url
    print(COMMAND_FEED.format(name=links.name, url=feed_url(base, links.feed_token)))
    print(
        COMMAND_PREFERENCES.format(
            name=links.name, url=preferences_url(base, links.preferences_token)
        )
    )
    return 0


PLUGIN = AdapterPlugin(
    name="email",
    read_settings=read_settings,
    create=create,
    commands=(
        AdapterCommand(
            name="email-links",
            help="print a person's private calendar feed and email preferences addresses",
            configure=_links_options,
            run=print_links,
        ),
    ),
)
