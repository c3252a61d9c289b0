"""Slack's settings (the `[slack]` table and SLACK_* variables) and its plugin record."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.config import SettingsTable
from bot.delivery.ports import AdapterPlugin

if TYPE_CHECKING:
    from adapters.slack.app import SlackAdapter
    from bot.delivery.hub import Hub

DEFAULT_API_URL = "https://slack.com/api/"


@dataclass(frozen=True)
class SlackSettings:
    enabled: bool = False
    bot_token: str = field(default="", repr=False)
    signing_secret: str = field(default="", repr=False)
    app_token: str = field(default="", repr=False)  # Socket Mode
    api_url: str = DEFAULT_API_URL  # the Web API base, for tests and proxies


def read_settings(table: SettingsTable) -> SlackSettings:
    """`[slack]`, overridden by SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_APP_TOKEN and
    SLACK_API_URL; a bot token in the environment turns Slack on."""
    return SlackSettings(
        enabled=table.get("enabled", bool, False) or bool(table.environ.get("SLACK_BOT_TOKEN")),
        bot_token=table.get("bot_token", str, "", env="SLACK_BOT_TOKEN"),
        signing_secret=table.get("signing_secret", str, "", env="SLACK_SIGNING_SECRET"),
        app_token=table.get("app_token", str, "", env="SLACK_APP_TOKEN"),
        api_url=table.get("api_url", str, DEFAULT_API_URL, env="SLACK_API_URL"),
    )


def create(hub: Hub, settings: SlackSettings) -> SlackAdapter:
    from adapters.slack.app import SlackAdapter

    return SlackAdapter(hub, settings)


PLUGIN = AdapterPlugin(name="slack", read_settings=read_settings, create=create)
