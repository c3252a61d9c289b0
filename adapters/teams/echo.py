"""A bare botbuilder echo bot: the stock CloudAdapter and connector client, nothing of ours.

Only for benchmarks (bench/bench_teams.py): it is the floor our adapter is measured against —
what the SDK itself costs to receive an activity and reply to it. Unauthenticated; never mount
it in production.
"""

from __future__ import annotations

from types import SimpleNamespace

from aiohttp import web
from botbuilder.core import ActivityHandler, MessageFactory, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication


class _Echo(ActivityHandler):
    async def on_message_activity(self, turn_context: TurnContext):
        await turn_context.send_activity(MessageFactory.text(f"Echo: {turn_context.activity.text}"))


def mount_echo_bot(web_app: web.Application, path: str = "/api/echo") -> None:
    adapter = CloudAdapter(
        ConfigurationBotFrameworkAuthentication(SimpleNamespace(APP_ID="", APP_PASSWORD=""))
    )
    bot = _Echo()

    async def messages(request: web.Request) -> web.StreamResponse:
        return await adapter.process(request, bot)

    web_app.router.add_post(path, messages)
