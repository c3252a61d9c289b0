"""The Slack adapter: slack-bolt's AsyncApp at POST /slack/events (or Socket Mode).

Thin by design: verify (bolt's signature check stays on), ack at once, map the Slack user to
a person by email, call one core service, render the answer as Block Kit.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import SlackSettings
from bot.delivery.hub import Hub, PostedRef
from bot.delivery.outbox import SendResult
from bot.service import first_time, handle_action, handle_command, home_cards, needs_inputs
from bot.store import identities
from bot.store.directory import PersonView
from bot.store.models import DeliveryOutcome
from bot.views.cards import ActionKind, Button, Card, Input
from bot.views.renderer import BUTTON_INPUTS, BUTTON_LABELS

log = logging.getLogger(__name__)
PLATFORM = "slack"
ACTION_PREFIX = "ns:"
MODAL = "ns_modal"
RAG_MARK = {"red": "🔴", "amber": "🟠", "grey": "⚪", "green": "🟢"}
# Slack's limits: 50 blocks a message (100 in a view), 3000 characters a section, 150 a
# header, 10 fields a section, 2000 characters a button value.
MAX_BLOCKS, MAX_HOME_BLOCKS, MAX_SECTION, MAX_HEADER, MAX_FIELDS = 50, 100, 3000, 150, 10
NOT_SET_UP = (
    "Sorry, No Surprises does not know who you are yet: your Slack account's email address is "
    "not in the council's directory. Democratic services can add you."
)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": _clip(text or " ", MAX_SECTION)}


def card_blocks(card: Card, *, limit: int = MAX_BLOCKS) -> list[dict[str, Any]]:
    """A card as Block Kit, within Slack's limits: long cards are cut with a note, never lost."""
    mark = RAG_MARK.get(card.rag, "")
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": _clip(f"{mark} {card.title}".strip(), MAX_HEADER),
            },
        }
    ]
    # Lines are grouped into sections of up to 3000 characters.
    chunk = ""
    for line in card.lines:
        candidate = f"{chunk}\n{line}" if chunk else line
        if len(candidate) > MAX_SECTION and chunk:
            blocks.append({"type": "section", "text": _mrkdwn(chunk)})
            chunk = line
        else:
            chunk = candidate
    if chunk.strip():
        blocks.append({"type": "section", "text": _mrkdwn(chunk)})
    fields = [f for f in card.fields if f.value]
    for start in range(0, len(fields), MAX_FIELDS):
        blocks.append(
            {
                "type": "section",
                "fields": [
                    _mrkdwn(f"*{f.label}*\n{_clip(f.value, 1900)}")
                    for f in fields[start : start + 10]
                ],
            }
        )
    if card.buttons:
        blocks.append(
            {
                "type": "actions",
                "block_id": f"ns_buttons_{card.briefing_id or 0}",
                "elements": [_button(b) for b in card.buttons[:25]],
            }
        )
    if card.footer:
        blocks.append({"type": "context", "elements": [_mrkdwn(card.footer)]})
    if len(blocks) > limit:
        kept = blocks[: limit - 1]
        kept.append({"type": "context", "elements": [_mrkdwn("…shortened to fit Slack.")]})
        blocks = kept
    return blocks


def _button(button: Button) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "action_id": f"{ACTION_PREFIX}{button.kind.value}",
        "text": {"type": "plain_text", "text": _clip(button.label, 75)},
        "value": button.payload,
    }
    if button.style in ("primary", "danger"):
        element["style"] = button.style
    return element


def modal_view(
    button_kind: ActionKind, label: str, inputs: tuple[Input, ...], metadata: dict[str, Any]
) -> dict[str, Any]:
    """A modal collecting a button's inputs; private_metadata carries the signed payload."""
    blocks = []
    for item in inputs:
        if item.options:
            element: dict[str, Any] = {
                "type": "static_select",
                "action_id": item.name,
                "options": [
                    {"text": {"type": "plain_text", "text": _option_label(item, o)}, "value": o}
                    for o in item.options
                ],
            }
        else:
            element = {
                "type": "plain_text_input",
                "action_id": item.name,
                "multiline": item.multiline,
            }
            if item.placeholder:
                element["placeholder"] = {"type": "plain_text", "text": item.placeholder}
        blocks.append(
            {
                "type": "input",
                "block_id": item.name,
                "optional": not item.required,
                "label": {"type": "plain_text", "text": item.label},
                "element": element,
            }
        )
    return {
        "type": "modal",
        "callback_id": MODAL,
        "title": {"type": "plain_text", "text": _clip(label, 24)},
        "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": json.dumps(metadata),
        "blocks": blocks,
    }


def _option_label(item: Input, value: str) -> str:
    if item.name == "until" and value.isdigit():
        return f"{value} working day{'s' if value != '1' else ''}"
    return value.title()


def modal_inputs(view: dict[str, Any]) -> dict[str, str]:
    """The values a person typed or chose in the modal, by input name."""
    values: dict[str, str] = {}
    for block_id, block in view.get("state", {}).get("values", {}).items():
        for action in block.values():
            if action.get("type") == "static_select":
                chosen = action.get("selected_option") or {}
                values[block_id] = chosen.get("value", "")
            else:
                values[block_id] = action.get("value") or ""
    return values


class SlackAdapter:
    platform = PLATFORM

    def __init__(
        self,
        hub: Hub,
        settings: SlackSettings,
        *,
        process_before_response: bool = False,
        concurrency: int = 4,
    ) -> None:
        self.hub = hub
        self.app = hub.app
        self.settings = settings
        base_url = settings.api_url if settings.api_url.endswith("/") else settings.api_url + "/"
        self.client = AsyncWebClient(token=settings.bot_token, base_url=base_url)
        self.client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
        self.bolt = AsyncApp(
            client=self.client,
            signing_secret=settings.signing_secret,
            process_before_response=process_before_response,
        )
        # Bursts of reminders are paced: a few posts at a time, not hundreds at once.
        self._posting = asyncio.Semaphore(concurrency)
        self._socket_handler: Any = None
        # Slack user id → email: a Slack account's id never changes hands.
        self._emails: dict[str, str] = {}
        self._register()
        hub.register(self)

    # --- wiring -------------------------------------------------------------------------------

    def mount(self, web_app: web.Application) -> None:
        async def events(request: web.Request) -> web.Response:
            return await to_aiohttp_response(
                await self.bolt.async_dispatch(await to_bolt_request(request))
            )

        web_app.router.add_post("/slack/events", events)

    async def start(self) -> None:
        if self.settings.app_token:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            self._socket_handler = AsyncSocketModeHandler(self.bolt, self.settings.app_token)
            await self._socket_handler.connect_async()

    async def stop(self) -> None:
        if self._socket_handler is not None:
            await self._socket_handler.close_async()

    def _register(self) -> None:
        self.bolt.command("/surprises")(self._on_command)
        self.bolt.action(re.compile(f"^{ACTION_PREFIX}"))(self._on_click)
        self.bolt.view(MODAL)(self._on_modal)
        self.bolt.event("app_home_opened")(self._on_home)

    # --- who is acting ------------------------------------------------------------------------

    async def actor_email(self, user_id: str) -> str | None:
        """The person behind a Slack user id, by the email on their Slack profile."""
        if user_id in self._emails:
            return self._emails[user_id]
        known = await asyncio.to_thread(
            identities.lookup_by_user, self.app, platform=PLATFORM, user_id=user_id
        )
        if known is not None:
            self._emails[user_id] = known.email
            return known.email
        try:
            info = await self.client.users_info(user=user_id)
        except SlackApiError:
            return None
        found = ((info.get("user") or {}).get("profile") or {}).get("email", "").lower()
        if not found:
            return None
        await asyncio.to_thread(
            identities.remember, self.app, platform=PLATFORM, email=found, user_id=user_id
        )
        self._emails[user_id] = found
        return found

    async def _in_directory(self, email: str | None) -> bool:
        if not email:
            return False

        def check() -> bool:
            with self.app.session() as session:
                return self.app.directory(session).person(email) is not None

        return await asyncio.to_thread(check)

    # --- listeners ----------------------------------------------------------------------------

    async def _on_command(self, ack, command, respond) -> None:
        await ack()  # within Slack's 3 seconds, always; the answer follows at response_url
        email = await self.actor_email(command["user_id"])
        if not await self._in_directory(email):
            await respond(text=NOT_SET_UP, response_type="ephemeral")
            return
        direct = str(command.get("channel_id", "")).startswith("D")
        reply = await handle_command(
            self.hub,
            text=command.get("text", ""),
            actor_email=email,
            platform=PLATFORM,
            direct=direct,
        )
        for card in reply.cards:
            await respond(
                text=_clip(card.text, 3000),
                blocks=card_blocks(card),
                response_type="ephemeral",
                replace_original=False,
            )

    async def _on_click(self, ack, body, action, client, respond) -> None:
        kind_text = action["action_id"].removeprefix(ACTION_PREFIX)
        try:
            kind = ActionKind(kind_text)
        except ValueError:
            await ack()
            return
        email = await self.actor_email(body["user"]["id"])
        source = _source(body, email or "")
        if not await self._in_directory(email):
            await ack()
            await respond(text=NOT_SET_UP, response_type="ephemeral", replace_original=False)
            return
        if needs_inputs(kind):
            await ack()
            metadata = {
                "payload": action.get("value", ""),
                "channel": source.channel if source else "",
                "ts": source.message_id if source else "",
            }
            await client.views_open(
                trigger_id=body["trigger_id"],
                view=modal_view(kind, BUTTON_LABELS[kind][0], BUTTON_INPUTS[kind], metadata),
            )
            return
        await ack()
        reply = await handle_action(
            self.hub,
            payload=action.get("value", ""),
            actor_email=email,
            platform=PLATFORM,
            source=source,
        )
        await self._after_action(reply, source, email or "", respond)

    async def _on_modal(self, ack, body, view) -> None:
        try:
            metadata = json.loads(view.get("private_metadata") or "{}")
        except ValueError:
            metadata = {}
        email = await self.actor_email(body["user"]["id"])
        if not await self._in_directory(email):
            await ack(response_action="errors", errors={_first_block(view): NOT_SET_UP[:150]})
            return
        source = None
        if metadata.get("channel") and metadata.get("ts"):
            source = PostedRef(PLATFORM, metadata["channel"], metadata["ts"], email or "")
        reply = await handle_action(
            self.hub,
            payload=str(metadata.get("payload", "")),
            actor_email=email,
            platform=PLATFORM,
            inputs=modal_inputs(view),
            source=source,
        )
        if not reply.ok and not reply.refused:
            # A value the core would not accept (no reason given, a future time): say so in
            # the modal, which stays open.
            await ack(response_action="errors", errors={_first_block(view): reply.message[:150]})
            return
        await ack()
        await self._after_action(reply, source, email or "", None)

    async def _after_action(self, reply, source: PostedRef | None, email: str, respond) -> None:
        if source is not None and reply.card is not None:
            try:
                await self.client.chat_update(
                    channel=source.channel,
                    ts=source.message_id,
                    text=_clip(reply.card.text, 3000),
                    blocks=card_blocks(reply.card),
                )
            except SlackApiError as exc:
                log.warning("could not redraw the Slack message: %s", exc.response.get("error"))
        if respond is not None:
            await respond(text=reply.message, response_type="ephemeral", replace_original=False)
        elif source is not None and source.channel:
            user = await asyncio.to_thread(
                identities.lookup_by_email, self.app, platform=PLATFORM, email=email
            )
            if user is not None:
                await self.client.chat_postEphemeral(
                    channel=source.channel, user=user.platform_user_id, text=reply.message
                )

    async def _on_home(self, event, body) -> None:
        event_id = body.get("event_id") or f"home:{event.get('user')}:{event.get('event_ts')}"
        if not await asyncio.to_thread(first_time, self.hub, f"slack:{event_id}"):
            return  # Slack's retry of an event already handled
        email = await self.actor_email(event["user"])
        if not await self._in_directory(email):
            cards = [Card(title="You are not set up yet", lines=(NOT_SET_UP,))]
        else:
            cards = await home_cards(self.hub, actor_email=email or "")
        blocks: list[dict[str, Any]] = []
        for card in cards:
            card_part = card_blocks(card)
            if len(blocks) + len(card_part) + 1 > MAX_HOME_BLOCKS:
                blocks.append(
                    {
                        "type": "context",
                        "elements": [_mrkdwn("…more waiting: ask `/surprises mine`.")],
                    }
                )
                break
            blocks += card_part + [{"type": "divider"}]
        await self.client.views_publish(
            user_id=event["user"], view={"type": "home", "blocks": blocks}
        )

    # --- what the core asks of every platform -------------------------------------------------

    async def send(self, recipient: PersonView, card: Card) -> SendResult:
        """A direct message to a person, found by email (cached; looked up again on failure)."""
        known = await asyncio.to_thread(
            identities.lookup_by_email, self.app, platform=PLATFORM, email=recipient.email
        )
        user_id = known.platform_user_id if known and known.platform_user_id else ""
        for attempt in range(2):
            if not user_id:
                try:
                    found = await self.client.users_lookupByEmail(email=recipient.email)
                except SlackApiError as exc:
                    return self._failure(exc)
                user_id = found["user"]["id"]
                await asyncio.to_thread(
                    identities.remember,
                    self.app,
                    platform=PLATFORM,
                    email=recipient.email,
                    user_id=user_id,
                )
            try:
                async with self._posting:
                    posted = await self.client.chat_postMessage(
                        channel=user_id, text=_clip(card.text, 3000), blocks=card_blocks(card)
                    )
            except SlackApiError as exc:
                error = exc.response.get("error", "")
                if attempt == 0 and error in ("channel_not_found", "user_not_found"):
                    user_id = ""  # the cached id went stale: look the person up again
                    continue
                return self._failure(exc)
            return SendResult(
                DeliveryOutcome.DELIVERED,
                platform=PLATFORM,
                message_id=posted["ts"],
                channel=posted["channel"],
                user_id=user_id,
            )
        return SendResult(DeliveryOutcome.FAILED, platform=PLATFORM, error_code="lookup_loop")

    async def update(self, posted: PostedRef, card: Card) -> SendResult:
        try:
            await self.client.chat_update(
                channel=posted.channel,
                ts=posted.message_id,
                text=_clip(card.text, 3000),
                blocks=card_blocks(card),
            )
        except SlackApiError as exc:
            return self._failure(exc)
        return SendResult(
            DeliveryOutcome.DELIVERED,
            platform=PLATFORM,
            message_id=posted.message_id,
            channel=posted.channel,
        )

    @staticmethod
    def _failure(exc: SlackApiError) -> SendResult:
        response = exc.response
        error = response.get("error", "") if hasattr(response, "get") else ""
        status = getattr(response, "status_code", 0)
        if status == 429 or error == "ratelimited":
            retry = float(
                response.headers.get("Retry-After", response.headers.get("retry-after", 1))
            )
            return SendResult(
                DeliveryOutcome.RATE_LIMITED,
                platform=PLATFORM,
                error_code="ratelimited",
                retry_after=retry,
            )
        if error in ("users_not_found", "user_not_found", "account_inactive"):
            return SendResult(
                DeliveryOutcome.RECIPIENT_NOT_FOUND,
                platform=PLATFORM,
                error_code=error,
                detail="not in the Slack workspace",
            )
        return SendResult(
            DeliveryOutcome.FAILED,
            platform=PLATFORM,
            error_code=error or str(status),
            detail="Slack Web API error",
        )


def _source(body: dict[str, Any], email: str) -> PostedRef | None:
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id"
    )
    ts = (body.get("message") or {}).get("ts") or (body.get("container") or {}).get("message_ts")
    if not channel or not ts:
        return None
    return PostedRef(PLATFORM, channel, ts, email)


def _first_block(view: dict[str, Any]) -> str:
    blocks = view.get("blocks") or [{}]
    return blocks[0].get("block_id", "note")
