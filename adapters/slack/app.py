"""The Slack adapter: slack-bolt's AsyncApp at POST /slack/events (or Socket Mode).

Thin by design: verify (bolt's signature check stays on), ack at once, map the Slack user to
an email, call one core service, render the answer as Block Kit. Whether that email belongs to
someone in the council's directory is the core's question, not this module's.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from datetime import datetime
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.slack.blocks import (
    ACTION_PREFIX,
    CALENDAR_ACTION,
    MAX_HOME_BLOCKS,
    MAX_OPTIONS,
    MODAL,
    PEOPLE_SEARCH,
    card_blocks,
    clip,
    modal_inputs,
    modal_view,
    mrkdwn,
    people_options,
)
from adapters.slack.settings import SlackSettings
from adapters.slack.shape import problem_with
from bot.delivery.hub import Hub
from bot.delivery.ports import PostedRef, Recipient, SendResult
from bot.service import (
    ActionReply,
    account_by_email,
    account_by_user,
    eligible_officers,
    first_time,
    form_for,
    handle_action,
    handle_command,
    handle_headsup,
    home_cards,
    needs_inputs,
    remember_account,
    stranger_text,
)
from bot.views.bilingual import say
from bot.views.cards import ActionKind, Card
from bot.views.platform_phrases import MORE_WAITING

log = logging.getLogger(__name__)
PLATFORM = "slack"
STALE_ID_ERRORS = ("channel_not_found", "user_not_found")
# Every reminder carries its outbox key in Slack message metadata, so after a crash the bot can
# see whether it was posted (conversations.history) instead of posting it twice.
METADATA_EVENT = "nosurprises_message"
HISTORY_PAGE = 200
HISTORY_PAGES = 5
# Slack's clock and ours may differ a little: look a few minutes further back.
HISTORY_MARGIN_SECONDS = 300


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
        self.settings = settings
        base_url = settings.api_url if settings.api_url.endswith("/") else settings.api_url + "/"
        self.client = AsyncWebClient(token=settings.bot_token, base_url=base_url)
        self.client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
        self.bolt = AsyncApp(
            client=self.client,
            signing_secret=settings.signing_secret,
            process_before_response=process_before_response,
        )
        self._verifier = (
            SignatureVerifier(settings.signing_secret) if settings.signing_secret else None
        )
        # Bursts of reminders are paced: a few posts at a time, not hundreds at once.
        self._posting = asyncio.Semaphore(concurrency)
        self._socket_handler: Any = None
        # Slack user id → email: a Slack account's id never changes hands.
        self._emails: dict[str, str] = {}
        # Answers posted to response URLs share one HTTP session (and its open connections).
        self._answering: tuple[aiohttp.ClientSession, asyncio.AbstractEventLoop] | None = None
        self._register()
        hub.register(self)

    # --- wiring -------------------------------------------------------------------------------

    def mount(self, web_app: web.Application) -> None:
        async def events(request: web.Request) -> web.Response:
            raw = await request.text()
            # The signature first (as bolt would): a forgery gets 401 however malformed it is.
            if self._verifier is not None and not self._verifier.is_valid_request(
                raw, dict(request.headers)
            ):
                return web.json_response({"error": "invalid request"}, status=401)
            try:
                bolt_request = await to_bolt_request(request)
                problem = problem_with(bolt_request.body)
            except Exception as exc:  # bolt parses and reads the body as it builds the request
                problem = f"the body cannot be read ({type(exc).__name__})"
            if problem is not None:
                log.warning("slack: refused a signed request: %s", problem)
                return web.json_response({"error": problem}, status=400)
            return await to_aiohttp_response(await self.bolt.async_dispatch(bolt_request))

        web_app.router.add_post("/slack/events", events)

    async def start(self) -> None:
        if self.settings.app_token:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            self._socket_handler = AsyncSocketModeHandler(self.bolt, self.settings.app_token)
            await self._socket_handler.connect_async()

    async def stop(self) -> None:
        if self._socket_handler is not None:
            await self._socket_handler.close_async()
        if self._answering is not None:
            session, self._answering = self._answering[0], None
            await session.close()

    def _answering_session(self) -> aiohttp.ClientSession:
        """The HTTP session for answers at response URLs, opened on first use in this loop."""
        loop = asyncio.get_running_loop()
        if self._answering is None or self._answering[0].closed or self._answering[1] is not loop:
            self._answering = (aiohttp.ClientSession(), loop)
        return self._answering[0]

    async def _respond(self, respond: Any, **message: Any) -> None:
        """bolt's `respond`, over a kept-open connection: bolt's own opens and closes one for
        every answer, which cost more of a `/surprises` answer than drawing it (issue 15)."""
        url = getattr(respond, "response_url", None)
        if not url:
            await respond(**message)  # bolt says why it cannot
            return
        client = AsyncWebhookClient(
            url=url,
            proxy=getattr(respond, "proxy", None),
            ssl=getattr(respond, "ssl", None),
            session=self._answering_session(),
        )
        await client.send(**message)

    def _register(self) -> None:
        self.bolt.command("/surprises")(self._on_command)
        self.bolt.command("/headsup")(self._on_headsup)
        self.bolt.action(re.compile(f"^{ACTION_PREFIX}"))(self._on_click)
        self.bolt.action(CALENDAR_ACTION)(self._on_calendar_link)
        self.bolt.view(MODAL)(self._on_modal)
        self.bolt.options(PEOPLE_SEARCH)(self._on_people_search)
        self.bolt.event("app_home_opened")(self._on_home)
        self.bolt.error(self._on_error)

    async def _on_error(self, error: Exception) -> None:
        # One line, no traceback: what failed and where, for the operator's log.
        log.warning("slack: a request could not be handled (%s: %s)", type(error).__name__, error)

    # --- who is acting ------------------------------------------------------------------------

    async def actor_email(self, user_id: str | None) -> str | None:
        """The email on a Slack user's profile (remembered: a Slack id never changes hands)."""
        if not user_id:
            return None
        if user_id in self._emails:
            return self._emails[user_id]
        known = await account_by_user(self.hub, platform=PLATFORM, user_id=user_id)
        if known is not None:
            self._emails[user_id] = known.email
            return known.email
        try:
            info = await self.client.users_info(user=user_id)
        except SlackApiError:
            return None
        found = str(((info.get("user") or {}).get("profile") or {}).get("email") or "").lower()
        if not found:
            return None
        await remember_account(self.hub, platform=PLATFORM, email=found, user_id=user_id)
        self._emails[user_id] = found
        return found

    # --- listeners ----------------------------------------------------------------------------

    async def _on_command(self, ack, command, respond) -> None:
        await ack()  # within Slack's 3 seconds, always; the answer follows at response_url
        await self._answer_command(handle_command, command, respond)

    async def _on_headsup(self, ack, command, respond) -> None:
        await ack()  # within Slack's 3 seconds; the confirmation follows at response_url
        await self._answer_command(handle_headsup, command, respond)

    async def _answer_command(self, handler, command, respond) -> None:
        """Run a slash command through the core and answer privately at its response_url."""
        email = await self.actor_email(command.get("user_id"))
        reply = await handler(
            self.hub,
            text=command.get("text", ""),
            actor_email=email,
            platform=PLATFORM,
            direct=str(command.get("channel_id", "")).startswith("D"),
        )
        for card in reply.cards:
            await self._respond(
                respond,
                text=clip(card.text, 3000),
                blocks=card_blocks(card),
                response_type="ephemeral",
                replace_original=False,
            )

    async def _on_calendar_link(self, ack) -> None:
        """The browser opens the link itself; Slack only wants to hear the click was seen."""
        await ack()

    async def _on_click(self, ack, body, action, client, respond) -> None:
        await ack()  # bolt's rule: acknowledge before any look-up
        try:
            kind = ActionKind(str(action.get("action_id", "")).removeprefix(ACTION_PREFIX))
        except ValueError:
            return
        user_id = (body.get("user") or {}).get("id")
        email = await self.actor_email(user_id)
        source = _source(body, email or "")
        from_home = (body.get("view") or {}).get("type") == "home"
        if needs_inputs(kind):
            form = await form_for(
                self.hub, kind=kind, actor_email=email, payload=str(action.get("value", ""))
            )
            if form is None:
                await self._respond(
                    respond,
                    text=stranger_text(self.hub),
                    response_type="ephemeral",
                    replace_original=False,
                )
                return
            metadata = {
                "payload": action.get("value", ""),
                "channel": source.channel if source else "",
                "ts": source.message_id if source else "",
                "home": "1" if from_home else "",
            }
            await client.views_open(
                trigger_id=body.get("trigger_id", ""),
                view=modal_view(
                    kind,
                    form.button.label,
                    form.button.inputs,
                    metadata,
                    form.language,
                    now=self.hub.app.now(),
                ),
            )
            return
        reply = await handle_action(
            self.hub,
            payload=str(action.get("value", "")),
            actor_email=email,
            platform=PLATFORM,
            source=source,
        )
        if from_home and user_id:
            # App Home has no response URL: the answer is the dashboard drawn again.
            await self._publish_home(user_id, email, notice=reply.message)
            return
        await self._after_action(reply, source, email or "", respond)

    async def _on_people_search(self, ack, body) -> None:
        """A reassign modal's menu asking who matches what was typed: the officers the core
        says this person may pass the briefing to (named by the modal's signed payload)."""
        email = await self.actor_email((body.get("user") or {}).get("id"))
        people = await eligible_officers(
            self.hub,
            payload=str(_metadata(body.get("view") or {}).get("payload", "")),
            actor_email=email,
            text=str(body.get("value") or ""),
            limit=MAX_OPTIONS,
        )
        await ack(options=people_options([(p.email, p.name) for p in people]))

    async def _on_modal(self, ack, body, view) -> None:
        metadata = _metadata(view)
        email = await self.actor_email((body.get("user") or {}).get("id"))
        source = None
        if metadata.get("channel") and metadata.get("ts"):
            source = PostedRef(PLATFORM, str(metadata["channel"]), str(metadata["ts"]), email or "")
        reply = await handle_action(
            self.hub,
            payload=str(metadata.get("payload", "")),
            actor_email=email,
            platform=PLATFORM,
            inputs=modal_inputs(view),
            source=source,
        )
        if not reply.ok and (not reply.refused or reply.stranger):
            # A value the core would not accept (no reason given, a future time), or someone
            # not set up: say so in the modal, which stays open.
            await ack(response_action="errors", errors={_first_block(view): reply.message[:150]})
            return
        await ack()
        user_id = (body.get("user") or {}).get("id")
        if metadata.get("home") == "1" and user_id:
            await self._publish_home(user_id, email, notice=reply.message)
            return
        await self._after_action(reply, source, email or "", None)

    async def _after_action(
        self, reply: ActionReply, source: PostedRef | None, email: str, respond
    ) -> None:
        if source is not None and reply.card is not None:
            try:
                await self.client.chat_update(
                    channel=source.channel,
                    ts=source.message_id,
                    text=clip(reply.card.text, 3000),
                    blocks=card_blocks(reply.card),
                )
            except SlackApiError as exc:
                log.warning("could not redraw the Slack message: %s", exc.response.get("error"))
        if respond is not None:
            await self._respond(
                respond, text=reply.message, response_type="ephemeral", replace_original=False
            )
        elif source is not None and source.channel:
            user = await account_by_email(self.hub, platform=PLATFORM, email=email)
            if user is not None:
                await self.client.chat_postEphemeral(
                    channel=source.channel, user=user.user_id, text=reply.message
                )

    async def _on_home(self, event, body) -> None:
        event_id = body.get("event_id") or f"home:{event.get('user')}:{event.get('event_ts')}"
        if not await first_time(self.hub, f"slack:{event_id}"):
            return  # Slack's retry of an event already handled
        await self._publish_home(event["user"], await self.actor_email(event.get("user")))

    async def _publish_home(self, user_id: str, email: str | None, *, notice: str = "") -> None:
        """The person's dashboard in App Home; `notice` (the answer to a press) on top."""
        cards = await home_cards(self.hub, actor_email=email)
        blocks: list[dict[str, Any]] = (
            [{"type": "section", "text": mrkdwn(clip(notice, 3000))}] if notice else []
        )
        language = (cards[0].language if cards else "") or self.hub.app.settings.council.language
        more_waiting = say(language, lambda tr: tr(MORE_WAITING))
        for card in cards:
            card_part = card_blocks(card)
            if len(blocks) + len(card_part) + 1 > MAX_HOME_BLOCKS:
                blocks.append(
                    {
                        "type": "context",
                        "elements": [mrkdwn(more_waiting)],
                    }
                )
                break
            blocks += [*card_part, {"type": "divider"}]
        await self.client.views_publish(user_id=user_id, view={"type": "home", "blocks": blocks})

    # --- what the core asks of every platform -------------------------------------------------

    async def send(self, recipient: Recipient, card: Card, *, dedupe_key: str = "") -> SendResult:
        """A direct message to a person, found by email (cached; looked up again on failure)."""
        extra: dict[str, Any] = {}
        if dedupe_key:
            extra["metadata"] = {
                "event_type": METADATA_EVENT,
                "event_payload": {"dedupe_key": dedupe_key},
            }
        user_id = ""
        for attempt in range(2):
            if not user_id:
                try:
                    user_id = await self._user_id(recipient, fresh=attempt > 0)
                except SlackApiError as exc:
                    return self._failure(exc)
            try:
                async with self._posting:
                    posted = await self.client.chat_postMessage(
                        channel=user_id,
                        text=clip(card.text, 3000),
                        blocks=card_blocks(card),
                        **extra,
                    )
            except SlackApiError as exc:
                error = exc.response.get("error", "")
                if attempt == 0 and error in STALE_ID_ERRORS:
                    user_id = ""  # the cached id went stale: look the person up again
                    continue
                return self._failure(exc)
            return SendResult.delivered(
                PLATFORM, message_id=posted["ts"], channel=posted["channel"], user_id=user_id
            )
        return SendResult.failed(PLATFORM, error_code="lookup_loop")

    async def _user_id(self, recipient: Recipient, *, fresh: bool = False) -> str:
        """The person's Slack user id: remembered, else looked up by email (and remembered)."""
        if not fresh:
            known = await account_by_email(self.hub, platform=PLATFORM, email=recipient.email)
            if known is not None and known.user_id:
                return known.user_id
        found = await self.client.users_lookupByEmail(email=recipient.email)
        user_id = str(found["user"]["id"])
        await remember_account(self.hub, platform=PLATFORM, email=recipient.email, user_id=user_id)
        return user_id

    async def find_posted(
        self, recipient: Recipient, *, dedupe_key: str, since: datetime
    ) -> SendResult | None:
        """The message tagged with `dedupe_key` in the person's DM since `since`, if posted."""
        try:
            user_id = await self._user_id(recipient)
            opened = await self.client.conversations_open(users=user_id)
            channel = str(opened["channel"]["id"])
            oldest = f"{since.timestamp() - HISTORY_MARGIN_SECONDS:.6f}"
            cursor: str | None = None
            for _page in range(HISTORY_PAGES):
                history = await self.client.conversations_history(
                    channel=channel,
                    oldest=oldest,
                    include_all_metadata=True,
                    limit=HISTORY_PAGE,
                    cursor=cursor,
                )
                for message in history.get("messages") or []:
                    if _dedupe_key(message) == dedupe_key:
                        return SendResult.delivered(
                            PLATFORM, message_id=str(message["ts"]), channel=channel,
                            user_id=user_id,
                        )  # fmt: skip
                cursor = (history.get("response_metadata") or {}).get("next_cursor") or None
                if not cursor:
                    return None
        except SlackApiError as exc:
            return self._failure(exc)
        # Too much history to be sure: better to wait and ask again than to post twice.
        return SendResult.failed(PLATFORM, error_code="history_too_long")

    async def update(self, posted: PostedRef, card: Card) -> SendResult:
        try:
            await self.client.chat_update(
                channel=posted.channel,
                ts=posted.message_id,
                text=clip(card.text, 3000),
                blocks=card_blocks(card),
            )
        except SlackApiError as exc:
            return self._failure(exc)
        return SendResult.delivered(PLATFORM, message_id=posted.message_id, channel=posted.channel)

    @staticmethod
    def _failure(exc: SlackApiError) -> SendResult:
        response = exc.response
        error = response.get("error", "") if hasattr(response, "get") else ""
        status = getattr(response, "status_code", 0)
        if status == 429 or error == "ratelimited":
            retry = float(
                response.headers.get("Retry-After", response.headers.get("retry-after", 1))
            )
            return SendResult.rate_limited(PLATFORM, retry_after=retry)
        if error in ("users_not_found", "user_not_found", "account_inactive"):
            return SendResult.not_found(
                PLATFORM, error_code=error, detail="not in the Slack workspace"
            )
        return SendResult.failed(
            PLATFORM, error_code=error or str(status), detail="Slack Web API error"
        )


def _source(body: dict[str, Any], email: str) -> PostedRef | None:
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id"
    )
    ts = (body.get("message") or {}).get("ts") or (body.get("container") or {}).get("message_ts")
    if not channel or not ts:
        return None
    return PostedRef(PLATFORM, channel, ts, email)


def _dedupe_key(message: dict[str, Any]) -> str:
    metadata = message.get("metadata") or {}
    if not isinstance(metadata, dict) or metadata.get("event_type") != METADATA_EVENT:
        return ""
    payload = metadata.get("event_payload") or {}
    return str(payload.get("dedupe_key", "")) if isinstance(payload, dict) else ""


def _first_block(view: dict[str, Any]) -> str:
    blocks = view.get("blocks") or [{}]
    return blocks[0].get("block_id", "note")


def _metadata(view: dict[str, Any]) -> dict[str, Any]:
    """The modal's private_metadata as we wrote it; anything else reads as empty."""
    try:
        metadata = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return metadata if isinstance(metadata, dict) else {}
