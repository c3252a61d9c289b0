"""Microsoft Teams: a botbuilder 4.17.1 CloudAdapter with a TeamsActivityHandler.

Inbound, POST /api/messages on the bot's own aiohttp server: the Bot Framework token is checked
(any failure is a 401, never a 500), the activity is translated and one core service is called
(bot.service). Outbound, replies, proactive reminders and in-place card updates go to the Bot
Connector through adapters.teams.connector (aiohttp, with backoff on 429/412/502/504).

Reaching people: a conversation reference for each person's personal chat with the bot is kept
in the ChatIdentity table (platform "teams", keyed by tenant and AAD object id, detail
{"reference": …}), captured on install, on conversationUpdate and on every message, so its
service URL stays current. A person known only from a team (added to one where the bot is
installed) gets {"member": …} instead, from which a personal chat is opened when first needed.
Nobody is ever identified by display name: the actor is the AAD user, mapped to a person by the
email or UPN the connector reports (TeamsInfo.get_member), cached in ChatIdentity.

Every botbuilder import of the project lives in this package, so the end-of-support Bot
Framework SDK can be replaced by the Microsoft 365 Agents SDK without touching bot/.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web
from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.core.teams import TeamsActivityHandler, TeamsInfo
from botbuilder.integration.aiohttp import (
    ConfigurationBotFrameworkAuthentication,
    ConfigurationServiceClientCredentialFactory,
)
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    AdaptiveCardInvokeResponse,
    ChannelAccount,
    ConversationReference,
)
from botframework.connector.auth import (
    AuthenticationConstants,
    ServiceClientCredentialsFactory,
)
from msrest.serialization import Model

from adapters.teams.cards import MAX_PEOPLE, attachment, searched_payload, submitted
from adapters.teams.coalesce import Coalescer
from adapters.teams.connector import BotConnector, ConnectorError, RetryPolicy
from adapters.teams.sdk import (
    Cloud,
    StrictAuthentication,
    is_continuation,
    is_loopback_peer,
    is_loopback_url,
    is_personal,
    sdk_configuration,
    tenant_of,
)
from adapters.teams.settings import TeamsSettings
from adapters.teams.shape import problem_with
from bot.config import ConfigError
from bot.delivery.hub import Hub
from bot.delivery.ports import Account, DeliveryOutcome, PostedRef, Recipient, SendResult
from bot.service import (
    account_by_email,
    account_by_user,
    eligible_officers,
    first_known_email,
    first_time,
    handle_action,
    handle_command,
    handle_headsup,
    home_cards,
    remember_account,
    with_people_to_choose,
)
from bot.views.bilingual import say
from bot.views.cards import Card
from bot.views.platform_phrases import (
    TEAMS_ALREADY_DONE,
    TEAMS_FAILED,
    TEAMS_NOT_IDENTIFIED,
    TEAMS_NOT_UNDERSTOOD,
    TEAMS_UNREADABLE_BUTTON,
    TEAMS_WELCOME,
)

log = logging.getLogger(__name__)

PLATFORM = "teams"
ROUTE = "/api/messages"
EXECUTE_INVOKE = "adaptiveCard/action"
CARD_RESPONSE = "application/vnd.microsoft.card.adaptive"
MESSAGE_RESPONSE = "application/vnd.microsoft.activity.message"
_MENTION = re.compile(r"<at\b[^>]*>.*?</at>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_COMMAND = re.compile(r"^/?surprises\b", re.IGNORECASE)
_HEADSUP = re.compile(r"^/?headsup\b", re.IGNORECASE)
# Adaptive Card tab invokes (the personal tab, drawn by the bot).
TAB_FETCH = "tab/fetch"
TAB_SUBMIT = "tab/submit"
# A Data.Query typeahead asking for choices as the person types.
SEARCH_INVOKE = "application/search"
SEARCH_RESPONSE = "application/vnd.microsoft.search.searchResponse"
SEARCH_PAGE = 15  # what Teams asks for when it does not say


@dataclass(frozen=True)
class _Actor:
    email: str
    user_id: str  # the AAD object id (or the channel user id where there is none)


class _TeamsBot(TeamsActivityHandler):
    """Routes Teams activities to the adapter; holds no state of its own."""

    def __init__(self, teams: TeamsAdapter) -> None:
        self.teams = teams

    async def on_message_activity(self, turn_context: TurnContext):
        await self.teams._on_message(turn_context)

    async def on_installation_update_add(self, turn_context: TurnContext):
        await self.teams._on_install(turn_context)

    async def on_installation_update_remove(self, turn_context: TurnContext):
        await self.teams._on_uninstall(turn_context)

    async def on_teams_members_added(self, teams_members_added, team_info, turn_context):
        await self.teams._on_members_added(teams_members_added, turn_context)

    async def on_invoke_activity(self, turn_context: TurnContext):
        if turn_context.activity.name == EXECUTE_INVOKE:
            return await self.teams._on_execute(turn_context)
        if turn_context.activity.name in (TAB_FETCH, TAB_SUBMIT):
            return await self.teams._on_tab(turn_context)
        if turn_context.activity.name == SEARCH_INVOKE:
            return await self.teams._on_search(turn_context)
        return await super().on_invoke_activity(turn_context)


class TeamsAdapter:
    """The hub's Teams platform: mounts /api/messages, sends and updates Adaptive Cards."""

    platform = PLATFORM

    def __init__(
        self,
        hub: Hub,
        settings: TeamsSettings,
        *,
        openid_metadata_url: str | None = None,
        credentials_factory: ServiceClientCredentialsFactory | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        """Production passes only the hub and the settings. The keywords are seams:
        `openid_metadata_url` (loopback addresses only) makes the token check trust signing
        keys served by a test double; `credentials_factory` replaces how outbound tokens are
        obtained (tests; a certificate or managed identity); `retry` tunes the backoff."""
        self.hub = hub
        self.settings = settings
        self.auth_enabled = bool(settings.app_id)
        check_settings(settings)
        if openid_metadata_url and not is_loopback_url(openid_metadata_url):
            raise ConfigError("the OpenID metadata override may only name a loopback address")
        config = sdk_configuration(settings, openid_metadata_url=openid_metadata_url)
        self._credentials_factory = credentials_factory or (
            ConfigurationServiceClientCredentialFactory(config)
        )
        self._credentials: Any = None
        authentication = StrictAuthentication(
            ConfigurationBotFrameworkAuthentication(
                config, credentials_factory=self._credentials_factory
            ),
            enabled=self.auth_enabled,
            tenant=settings.tenant_id,
        )
        self.connector = BotConnector(self._token, retry)
        self.cloud = Cloud(authentication, self.connector)
        self.cloud.on_turn_error = self._on_turn_error
        self.bot = _TeamsBot(self)
        self._started = False
        # Gone when nobody holds or waits for them.
        self._identity_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        self._commands = Coalescer()  # one person's identical question in flight: one answer
        hub.register(self)

    # --- lifecycle (bot.server.mount_adapters) ------------------------------------------------

    def mount(self, web_app: web.Application) -> None:
        web_app.router.add_post(ROUTE, self.handle_request)

    async def start(self) -> None:
        check_settings(self.settings)
        if not self.auth_enabled:
            log.warning(
                "Teams is running WITHOUT authentication (no TEAMS_APP_ID; "
                "allow_unauthenticated_local is on): only loopback requests are accepted. "
                "Never expose this to the internet."
            )
        await self.connector.start()
        self._started = True

    async def stop(self) -> None:
        self._started = False
        await self.connector.close()

    async def _token(self, force_refresh: bool) -> str:
        """The bearer token for calls to the Bot Connector ("" when unauthenticated)."""
        if not self.auth_enabled:
            return ""
        if self._credentials is None:
            self._credentials = await self._credentials_factory.create_credentials(
                self.settings.app_id,
                AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE,
                AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX,
                True,
            )
        return await asyncio.to_thread(self._credentials.get_access_token, force_refresh)

    # --- inbound HTTP -------------------------------------------------------------------------

    async def handle_request(self, request: web.Request) -> web.StreamResponse:
        if not self._started:
            return web.json_response({"error": "not ready"}, status=503)
        if not self.auth_enabled and not is_loopback_peer(request):
            log.warning("refused a Teams request from %s: unauthenticated mode", request.remote)
            return web.json_response({"error": "unauthorized"}, status=401)
        if "application/json" not in request.headers.get("Content-Type", ""):
            return web.json_response({"error": "expected application/json"}, status=415)
        try:
            body = await request.json()
            activity = Activity().deserialize(body) if isinstance(body, dict) else None
        except Exception:
            activity = None
        problem = "the body is not an activity" if activity is None else problem_with(activity)
        if problem is not None:
            log.warning("teams: refused a request: %s", problem)
            return web.json_response({"error": problem}, status=400)
        auth_header = request.headers.get("Authorization", "")
        try:
            invoke = await self.cloud.process_activity(auth_header, activity, self.bot.on_turn)
        except PermissionError as exc:
            log.warning("refused a Teams request: %s", exc)
            return web.json_response({"error": "unauthorized"}, status=401)
        if invoke is None:
            return web.Response(status=201)
        payload = invoke.body
        if isinstance(payload, Model):
            # Serialized once, here: the SDK's own path serializes it twice (4.17.1 bug).
            payload = payload.serialize()
        return web.json_response(payload, status=invoke.status or 200)

    def _said(self, message: str, cards: Sequence[Card] = (), /, **values: str) -> str:
        """The adapter's own words, in the language its cards were drawn in (the person's),
        else the council's."""
        language = (cards[0].language if cards else "") or self.hub.app.settings.council.language
        return say(language, lambda tr: tr(message, **values))

    async def _on_turn_error(self, context: TurnContext, error: Exception) -> None:
        # One line for the operator; the traceback only when debugging.
        log.error("teams: a turn failed (%s: %s)", type(error).__name__, error)
        log.debug("the failed turn", exc_info=(type(error), error, error.__traceback__))
        if isinstance(error, ConnectorError):
            return  # the connector is what failed: an apology would not get through either
        if context.activity is not None and context.activity.type == ActivityTypes.message:
            try:
                await self._reply(context, text=self._said(TEAMS_FAILED))
            except Exception:
                log.debug("could not tell the user about the failure", exc_info=True)

    # --- who is this? -------------------------------------------------------------------------

    async def _identify(
        self, context: TurnContext, account: ChannelAccount | None = None
    ) -> _Actor | None:
        """The person behind a Teams account, remembered with how to reach them.

        The AAD object id is looked up in ChatIdentity first; the connector is asked for the
        member's email and UPN only the first time (or when the tenant differs).
        """
        activity = context.activity
        account = account or activity.from_property
        if account is None or not account.id:
            return None
        key = account.aad_object_id or account.id
        lock = self._identity_locks.get(key)
        if lock is None:
            lock = self._identity_locks[key] = asyncio.Lock()
        async with lock:  # one look-up and one write when a person's first messages race
            return await self._identify_locked(context, account, key)

    async def _identify_locked(
        self, context: TurnContext, account: ChannelAccount, key: str
    ) -> _Actor | None:
        activity = context.activity
        tenant = tenant_of(activity)
        known = await account_by_user(self.hub, platform=PLATFORM, user_id=key)
        if known is not None and (known.tenant_id or "") == tenant:
            email = known.email
        else:
            member = account
            if not (getattr(member, "email", None) or getattr(member, "user_principal_name", None)):
                try:
                    member = await TeamsInfo.get_member(context, account.id)
                except Exception as exc:
                    log.warning("Teams could not tell us who %s is: %s", key, exc)
                    return None
            # The address the council's directory knows this account by (email, else UPN).
            email = await first_known_email(
                self.hub,
                [
                    getattr(member, "email", None) or "",
                    getattr(member, "user_principal_name", None) or "",
                ],
            )
            if not email:
                return None
        detail = dict(known.detail) if known is not None and known.email == email else {}
        reference = detail.get("reference")
        if is_personal(activity):
            fresh = _reference_dict(activity, account)
            if reference != fresh:
                detail["reference"] = fresh
                detail.pop("member", None)
        elif isinstance(reference, dict) and reference.get("serviceUrl") != activity.service_url:
            detail["reference"] = {**reference, "serviceUrl": activity.service_url}
        elif not reference:
            detail["member"] = _member_dict(activity, account)
        unchanged = (
            known is not None
            and known.email == email
            and known.tenant_id == tenant
            and known.reachable
            and known.detail == detail
        )
        if not unchanged:
            await remember_account(
                self.hub,
                platform=PLATFORM,
                email=email,
                user_id=key,
                tenant_id=tenant,
                detail=detail,
            )
        return _Actor(email=email, user_id=key)

    async def _seen(self, activity: Activity) -> bool:
        """True if this activity was handled before (Teams redelivered it)."""
        if not activity.id:
            return False
        conversation = activity.conversation.id if activity.conversation else ""
        key = f"{PLATFORM}:{conversation}:{activity.id}"
        return not await first_time(self.hub, key)

    # --- inbound activities -------------------------------------------------------------------

    async def _on_message(self, context: TurnContext) -> None:
        activity = context.activity
        actor = await self._identify(context)
        if await self._seen(activity):
            log.info("ignored a repeated Teams activity %s", activity.id)
            return
        if actor is None:
            await self._reply(context, text=self._said(TEAMS_NOT_IDENTIFIED))
            return
        pressed = submitted(activity.value)
        if pressed is not None:
            await self._on_submit(context, actor, *pressed)
            return
        await self._on_text(context, actor, _plain_text(activity.text or ""))

    async def _on_text(self, context: TurnContext, actor: _Actor, text: str) -> None:
        direct = is_personal(context.activity)
        word = text.lstrip("/").strip().lower()
        if _HEADSUP.match(text):
            given = await handle_headsup(
                self.hub, text=text, actor_email=actor.email, platform=PLATFORM, direct=direct
            )
            await self._reply(context, cards=given.cards)
            return
        if _COMMAND.match(text):
            command = "surprises" + _COMMAND.sub("", text, count=1)
        elif word in ("help", "?", "surprises help"):
            command = "surprises help"
        elif word in ("home", "hello", "hi", "start") and direct:
            cards = await home_cards(self.hub, actor_email=actor.email)
            await self._reply(context, cards=cards)
            return
        elif not word:
            return  # e.g. only a mention, or a card with no value
        else:
            reply = await handle_command(
                self.hub,
                text="surprises help",
                actor_email=actor.email,
                platform=PLATFORM,
                direct=direct,
            )
            await self._reply(
                context, text=self._said(TEAMS_NOT_UNDERSTOOD, reply.cards), cards=reply.cards
            )
            return
        cards = await self._commands.run(
            (actor.email, command, direct),
            lambda: self._answer(command, actor.email, direct),
        )
        await self._reply(context, cards=cards)

    async def _answer(self, command: str, email: str, direct: bool) -> list[Card]:
        reply = await handle_command(
            self.hub, text=command, actor_email=email, platform=PLATFORM, direct=direct
        )
        return reply.cards

    async def _on_submit(
        self, context: TurnContext, actor: _Actor, payload: str, inputs: dict[str, str]
    ) -> None:
        activity = context.activity
        card_id = activity.reply_to_id or ""
        conversation = activity.conversation.id
        source = PostedRef(PLATFORM, conversation, card_id, actor.email) if card_id else None
        reply = await handle_action(
            self.hub,
            payload=payload,
            actor_email=actor.email,
            platform=PLATFORM,
            inputs=inputs,
            source=source,
        )
        if reply.card is not None and card_id:
            [card] = await self._choosable([reply.card])
            try:
                await self.connector.update_activity(
                    activity.service_url,
                    conversation,
                    card_id,
                    _card_activity(card, activity_id=card_id, now=self.hub.app.local_now()),
                )
            except ConnectorError as exc:
                log.warning("could not update the Teams card in place: %s", exc)
        if reply.message:
            await self._reply(context, text=reply.message)

    async def _on_execute(self, context: TurnContext) -> InvokeResponse:
        """Action.Execute (Universal Actions): the refreshed card goes back in the response."""
        activity = context.activity
        value = activity.value if isinstance(activity.value, dict) else {}
        action = found if isinstance(found := value.get("action"), dict) else {}
        pressed = submitted(action.get("data"))
        actor = await self._identify(context)
        if await self._seen(activity):
            return _message_response(self._said(TEAMS_ALREADY_DONE))
        if actor is None:
            return _message_response(self._said(TEAMS_NOT_IDENTIFIED))
        if pressed is None:
            return _message_response(self._said(TEAMS_UNREADABLE_BUTTON))
        payload, inputs = pressed
        reply = await handle_action(
            self.hub,
            payload=payload,
            actor_email=actor.email,
            platform=PLATFORM,
            inputs=inputs,
            source=PostedRef(
                PLATFORM, activity.conversation.id, activity.reply_to_id or "", actor.email
            )
            if activity.reply_to_id
            else None,
        )
        if reply.card is None:
            return _message_response(reply.message)
        [card] = await self._choosable([reply.card])
        return InvokeResponse(
            status=200,
            body=AdaptiveCardInvokeResponse(
                status_code=200,
                type=CARD_RESPONSE,
                value=attachment(card, self.hub.app.local_now())["content"],
            ),
        )

    async def _on_search(self, context: TurnContext) -> InvokeResponse:
        """A reassign typeahead asking who matches what was typed: the officers the core says
        this person may pass the briefing to (named by the signed payload in the dataset)."""
        activity = context.activity
        value = activity.value if isinstance(activity.value, dict) else {}
        paging = found if isinstance(found := value.get("queryOptions"), dict) else {}
        payload = searched_payload(value.get("dataset"))
        actor = await self._identify(context)
        people = (
            await eligible_officers(
                self.hub,
                payload=payload,
                actor_email=actor.email,
                text=str(value.get("queryText") or ""),
                skip=_count(paging.get("skip"), 0),
                limit=min(_count(paging.get("top"), SEARCH_PAGE), MAX_PEOPLE),
            )
            if actor is not None and payload is not None
            else []
        )
        results = [{"title": p.name, "value": p.email} for p in people]
        return InvokeResponse(
            status=200, body={"type": SEARCH_RESPONSE, "value": {"results": results}}
        )

    async def _on_tab(self, context: TurnContext) -> InvokeResponse:
        """The personal tab (an Adaptive Card tab): the person's dashboard, as `home` shows it;
        a button pressed in the tab acts, then the tab is drawn again with the answer on top."""
        activity = context.activity
        actor = await self._identify(context)
        if actor is None:
            return _tab_response([], self._said(TEAMS_NOT_IDENTIFIED), now=self.hub.app.local_now())
        message = ""
        value = activity.value if isinstance(activity.value, dict) else {}
        pressed = submitted(value.get("data")) if activity.name == TAB_SUBMIT else None
        if pressed is not None:
            payload, inputs = pressed
            reply = await handle_action(
                self.hub, payload=payload, actor_email=actor.email, platform=PLATFORM, inputs=inputs
            )
            message = reply.message
        cards = await self._choosable(await home_cards(self.hub, actor_email=actor.email))
        return _tab_response(cards, message, now=self.hub.app.local_now())

    async def _on_install(self, context: TurnContext) -> None:
        actor = await self._identify(context)
        if not is_personal(context.activity) or await self._seen(context.activity):
            return
        if actor is None:
            await self._reply(context, text=self._said(TEAMS_NOT_IDENTIFIED))
            return
        name = context.activity.from_property.name if context.activity.from_property else ""
        cards = await home_cards(self.hub, actor_email=actor.email)
        await self._reply(
            context,
            text=self._said(TEAMS_WELCOME, cards, name=f" {name.split()[0]}" if name else ""),
            cards=cards,
        )

    async def _on_uninstall(self, context: TurnContext) -> None:
        activity = context.activity
        if not is_personal(activity) or activity.from_property is None:
            return
        key = activity.from_property.aad_object_id or activity.from_property.id
        known = await account_by_user(self.hub, platform=PLATFORM, user_id=key)
        if known is not None:
            await remember_account(
                self.hub,
                platform=PLATFORM,
                email=known.email,
                user_id=key,
                tenant_id=known.tenant_id,
                detail={},
                reachable=False,
            )

    async def _on_members_added(self, members: list[Any], context: TurnContext) -> None:
        activity = context.activity
        bot_id = activity.recipient.id if activity.recipient else ""
        if is_personal(activity):
            # The bot was added to someone's personal scope: remember that someone.
            await self._identify(context)
            return
        for member in members:
            if member.id == bot_id:
                continue
            try:
                await self._identify(context, member)
            except Exception:
                log.warning("could not look up a Teams member who joined", exc_info=True)

    # --- replying -----------------------------------------------------------------------------

    async def _choosable(self, cards: Sequence[Card]) -> list[Card]:
        """The cards with each reassign form listing (or searching) the officers the rules
        allow, as every card Teams shows must: sent, redrawn, answered or in the tab."""
        return [await with_people_to_choose(self.hub, card=card) for card in cards]

    async def _reply(
        self, context: TurnContext, *, text: str = "", cards: list[Card] | None = None
    ) -> str:
        """Answer the incoming activity in its conversation; the first new activity's id.

        Each card is a message of its own (the text, if any, goes with the first), so that a
        button press can redraw exactly its own card in place."""
        activity = context.activity
        reply_to = "" if is_continuation(activity) else (activity.id or "")
        now = self.hub.app.local_now()
        messages = [
            _message(text="" if n else text, cards=[card], now=now)
            for n, card in enumerate(await self._choosable(cards or []))
        ] or [_message(text=text, cards=[])]
        first = ""
        for body in messages:
            body |= {
                "from": _account(activity.recipient),
                "recipient": _account(activity.from_property),
                "conversation": {"id": activity.conversation.id},
            }
            if reply_to:
                body["replyToId"] = reply_to
            data = await self.connector.post_activity(
                activity.service_url, activity.conversation.id, body, reply_to
            )
            first = first or str(data.get("id", ""))
        return first

    # --- the hub's side: proactive messages and redraws ------------------------------------------

    async def send(self, recipient: Recipient, card: Card, *, dedupe_key: str = "") -> SendResult:
        known = await account_by_email(self.hub, platform=PLATFORM, email=recipient.email)
        detail = known.detail if known is not None else {}
        reference = detail.get("reference") if isinstance(detail, dict) else None
        if not reference and isinstance(detail.get("member"), dict) and known is not None:
            try:
                reference = await self._open_personal_chat(known, detail["member"])
            except ConnectorError as exc:
                return _failure(exc)
        if not reference:
            return SendResult.not_found(
                PLATFORM,
                error_code="no_conversation_reference",
                detail="the person has not installed No Surprises in Teams",
            )
        outcome: dict[str, Any] = {}

        async def deliver(context: TurnContext) -> None:
            try:
                outcome["id"] = await self._reply(context, cards=[card])
            except Exception as exc:
                outcome["error"] = exc

        try:
            await self.cloud.continue_conversation(
                ConversationReference().deserialize(reference),
                deliver,
                self.settings.app_id or None,
            )
        except Exception as exc:
            outcome.setdefault("error", exc)
        error = outcome.get("error")
        if isinstance(error, ConnectorError):
            return _failure(error)
        if error is not None:
            log.error("Teams proactive send failed", exc_info=error)
            return SendResult.failed(
                PLATFORM, error_code="adapter_error", detail=type(error).__name__
            )
        return SendResult.delivered(
            PLATFORM,
            message_id=outcome.get("id", ""),
            channel=reference["conversation"]["id"],
            user_id=known.user_id if known is not None else "",
        )

    async def update(self, posted: PostedRef, card: Card) -> SendResult:
        [card] = await self._choosable([card])
        known = await account_by_email(self.hub, platform=PLATFORM, email=posted.recipient_email)
        reference = known.detail.get("reference") if known is not None else None
        if not reference or not posted.message_id or not posted.channel:
            return SendResult.not_found(PLATFORM, error_code="no_conversation_reference")
        try:
            await self.connector.update_activity(
                reference["serviceUrl"],
                posted.channel,
                posted.message_id,
                _card_activity(card, activity_id=posted.message_id, now=self.hub.app.local_now()),
            )
        except ConnectorError as exc:
            return _failure(exc)
        return SendResult.delivered(PLATFORM, message_id=posted.message_id, channel=posted.channel)

    async def _open_personal_chat(self, known: Account, member: dict[str, Any]) -> dict[str, Any]:
        """Create the 1:1 conversation with someone known only from a team; remember it."""
        tenant = member.get("tenantId") or known.tenant_id
        parameters = {
            "isGroup": False,
            "bot": member["bot"],
            "members": [{"id": member["id"]}],
            "tenantId": tenant,
            "channelData": {"tenant": {"id": tenant}},
        }
        created = await self.connector.create_conversation(member["serviceUrl"], parameters)
        reference = {
            "bot": member["bot"],
            "user": {"id": member["id"], "aadObjectId": member.get("aadObjectId")},
            "conversation": {
                "id": created["id"],
                "conversationType": "personal",
                "tenantId": tenant,
            },
            "channelId": "msteams",
            "serviceUrl": member["serviceUrl"],
        }
        await remember_account(
            self.hub,
            platform=PLATFORM,
            email=known.email,
            user_id=known.user_id,
            tenant_id=known.tenant_id,
            detail={"reference": reference},
        )
        return reference


def check_settings(settings: TeamsSettings) -> None:
    """Refuse to run Teams unauthenticated unless that was asked for explicitly."""
    if not settings.app_id and not settings.allow_unauthenticated_local:
        raise ConfigError(
            "Teams is enabled but no app id is set (TEAMS_APP_ID): requests could not be "
            "authenticated. Set TEAMS_APP_ID and TEAMS_APP_PASSWORD, or for a local test "
            "with the Bot Framework Emulator set [teams] allow_unauthenticated_local = true."
        )
    if settings.app_id and not settings.app_password:
        raise ConfigError("TEAMS_APP_ID is set but TEAMS_APP_PASSWORD is not")


# --- building activities ----------------------------------------------------------------------


def _plain_text(text: str) -> str:
    """A message's words, without @mentions of the bot or Teams' HTML."""
    text = _MENTION.sub(" ", text)
    text = html.unescape(_TAG.sub(" ", text)).replace("\xa0", " ")
    return " ".join(text.split())


def _account(account: ChannelAccount | None) -> dict[str, Any]:
    if account is None:
        return {}
    data = {"id": account.id}
    if account.name:
        data["name"] = account.name
    return data


def _message(*, text: str = "", cards: list[Card], now: datetime | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"type": "message"}
    if text:
        body |= {"text": text, "textFormat": "markdown"}
    if cards:
        body["attachments"] = [attachment(card, now) for card in cards]
        body["summary"] = cards[0].text[:200]  # what a notification shows
    return body


def _card_activity(card: Card, *, activity_id: str, now: datetime) -> dict[str, Any]:
    return {"id": activity_id, **_message(cards=[card], now=now)}


def _tab_response(cards: list[Card], message: str, *, now: datetime) -> InvokeResponse:
    """A tab/fetch or tab/submit answer: the cards to draw, an answer to a press first."""
    shown = [Card(title=message)] + cards if message else cards
    return InvokeResponse(
        status=200,
        body={
            "tab": {
                "type": "continue",
                "value": {"cards": [{"card": attachment(c, now)["content"]} for c in shown]},
            }
        },
    )


def _count(value: Any, default: int) -> int:
    """A paging number from a typeahead request; anything but a whole number is the default."""
    whole = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    return value if whole else default


def _message_response(text: str) -> InvokeResponse:
    return InvokeResponse(
        status=200, body={"statusCode": 200, "type": MESSAGE_RESPONSE, "value": text}
    )


def _reference_dict(activity: Activity, user: ChannelAccount) -> dict[str, Any]:
    """The conversation reference for a personal chat, without the per-message activity id."""
    reference = TurnContext.get_conversation_reference(activity)
    reference.user = ChannelAccount(
        id=user.id, name=user.name, aad_object_id=user.aad_object_id, role=None
    )
    data = reference.serialize()
    data.pop("activityId", None)
    return data


def _member_dict(activity: Activity, account: Any) -> dict[str, Any]:
    """Enough to open a personal chat later with someone met in a team."""
    return {
        "id": account.id,
        "aadObjectId": getattr(account, "aad_object_id", None),
        "tenantId": tenant_of(activity),
        "serviceUrl": activity.service_url,
        "bot": _account(activity.recipient),
    }


def _failure(error: ConnectorError) -> SendResult:
    """A connector error in the outbox's terms."""
    if error.status == 429:
        outcome, code = DeliveryOutcome.RATE_LIMITED, "rate_limited"
    elif error.status in (403, 404):
        outcome = DeliveryOutcome.RECIPIENT_NOT_FOUND
        code = "bot_blocked_or_removed" if error.status == 403 else "conversation_not_found"
    elif error.status == 401:
        outcome, code = DeliveryOutcome.FAILED, "token_error"
    elif error.status == 0:
        outcome, code = DeliveryOutcome.FAILED, "connection_error"
    else:
        outcome, code = DeliveryOutcome.FAILED, f"http_{error.status}"
    return SendResult(
        outcome,
        platform=PLATFORM,
        error_code=code,
        detail=(error.code or error.message)[:200],
        retry_after=error.retry_after,
    )
