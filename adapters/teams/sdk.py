"""Every botbuilder workaround in one place, so the Bot Framework SDK (end of support
31 Dec 2025) can be replaced by the Microsoft 365 Agents SDK by rewriting this module.

- StrictAuthentication: any token failure is a 401 (never a 500), the tenant is pinned, and
  unauthenticated mode is refused unless asked for.
- Cloud: a CloudAdapter whose outbound calls go through our aiohttp BotConnector (the SDK's
  own client sends through `requests` in a thread pool).
- ReusedConnectors: one connector client per service URL, not one per turn.
"""

from __future__ import annotations

import ipaddress
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aiohttp import web
from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    CallerIdConstants,
    ResourceResponse,
)
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConstants,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
)

from adapters.teams.connector import BotConnector

if TYPE_CHECKING:
    from adapters.teams.settings import TeamsSettings


def is_loopback_url(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_loopback_peer(request: web.Request) -> bool:
    try:
        return ipaddress.ip_address(request.remote or "").is_loopback
    except ValueError:
        return False


def sdk_configuration(
    settings: TeamsSettings, *, openid_metadata_url: str | None = None
) -> SimpleNamespace:
    """The configuration object ConfigurationBotFrameworkAuthentication reads.

    SingleTenant when a tenant id is set (tokens are then requested from that tenant), else
    MultiTenant. With an app id, the public cloud's endpoints are given explicitly, so the
    token-signing keys' OpenID metadata can be pointed at a loopback test double by tests
    while production follows exactly the same validation code.
    """
    config = SimpleNamespace(
        APP_ID=settings.app_id,
        APP_PASSWORD=settings.app_password,
        APP_TYPE="SingleTenant" if settings.tenant_id else "MultiTenant",
    )
    if settings.tenant_id:
        config.APP_TENANTID = settings.tenant_id
    if settings.app_id:
        config.TO_CHANNEL_FROM_BOT_LOGIN_URL = (
            AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX
        )
        config.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE = (
            AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE
        )
        config.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER = (
            AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER
        )
        config.OAUTH_URL = AuthenticationConstants.OAUTH_URL
        config.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL = (
            openid_metadata_url or AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL
        )
        config.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL = (
            AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL
        )
        config.CALLER_ID = CallerIdConstants.public_azure_channel
    return config


def tenant_of(activity: Activity) -> str:
    conversation = activity.conversation
    if conversation is not None and conversation.tenant_id:
        return conversation.tenant_id
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = found if isinstance(found := data.get("tenant"), dict) else {}
    return str(tenant.get("id") or "")


def is_personal(activity: Activity) -> bool:
    conversation = activity.conversation
    return bool(conversation is not None and conversation.conversation_type == "personal")


class StrictAuthentication(BotFrameworkAuthentication):
    """The SDK's authentication, made strict: whatever goes wrong while checking a request is a
    PermissionError (HTTP 401), never an unhandled error (HTTP 500).

    - With an app id, a request without a token is refused, and so is any token the SDK
      cannot validate (malformed, wrong signature, issuer, audience, service URL, expired).
    - Without one (local mode), a request *with* a token is refused: there is nothing to check
      it against, and the SDK would otherwise fail with a 500.
    - With a tenant configured, an activity from another tenant is refused.
    """

    def __init__(self, inner: BotFrameworkAuthentication, *, enabled: bool, tenant: str) -> None:
        self._inner = inner
        self._enabled = enabled
        self._tenant = tenant
        self._clients: dict[tuple[str, ...], Any] = {}

    async def authenticate_request(
        self, activity: Activity, auth_header: str
    ) -> AuthenticateRequestResult:
        if not self._enabled and auth_header:
            raise PermissionError("a token was sent, but no app id is configured to check it")
        if self._enabled and not auth_header:
            raise PermissionError("no Bot Framework token")
        try:
            result = await self._inner.authenticate_request(activity, auth_header)
        except PermissionError:
            raise
        except Exception as exc:  # malformed tokens, bad keys, metadata failures
            raise PermissionError(
                f"the token could not be validated ({type(exc).__name__})"
            ) from exc
        if self._tenant and tenant_of(activity) != self._tenant:
            raise PermissionError("the activity comes from another tenant")
        if result.connector_factory is not None:
            result.connector_factory = ReusedConnectors(
                result.connector_factory, self._clients, app_id_of(result.claims_identity)
            )
        return result

    async def authenticate_streaming_request(
        self, auth_header: str, channel_id_header: str
    ) -> AuthenticateRequestResult:
        raise PermissionError("streaming connections are not accepted")

    def create_connector_factory(self, claims_identity: ClaimsIdentity):
        return ReusedConnectors(
            self._inner.create_connector_factory(claims_identity),
            self._clients,
            app_id_of(claims_identity),
        )

    async def create_user_token_client(self, claims_identity: ClaimsIdentity):
        # The SDK builds a new msrest client for every activity (about 5 ms of CPU each, in
        # msrest's retry set-up); one per app id serves every turn just as well.
        key = ("user-token", app_id_of(claims_identity))
        client = self._clients.get(key)
        if client is None:
            client = await self._inner.create_user_token_client(claims_identity)
            self._clients[key] = client
        return client

    def create_bot_framework_client(self):
        return self._inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        return self._inner.get_originating_audience()

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        try:
            return await self._inner.authenticate_channel_request(auth_header)
        except PermissionError:
            raise
        except Exception as exc:
            raise PermissionError(
                f"the token could not be validated ({type(exc).__name__})"
            ) from exc


def app_id_of(claims_identity: ClaimsIdentity | None) -> str:
    claims = claims_identity.claims if claims_identity is not None else {}
    return str(
        claims.get(AuthenticationConstants.AUDIENCE_CLAIM)
        or claims.get(AuthenticationConstants.APP_ID_CLAIM)
        or ""
    )


class ReusedConnectors(ConnectorFactory):
    """The SDK's connector factory, reusing one connector client per service URL, audience and
    app id instead of building one (about 5 ms of CPU in msrest) for every activity. Only
    TeamsInfo look-ups use these clients; our own sends go through BotConnector."""

    LIMIT = 64

    def __init__(self, inner: ConnectorFactory, cache: dict[tuple[str, ...], Any], app_id: str):
        self._inner = inner
        self._cache = cache
        self.app_id_of = app_id

    async def create(self, service_url: str, audience: str | None = None):
        key = ("connector", service_url or "", audience or "", self.app_id_of)
        client = self._cache.get(key)
        if client is None:
            client = await self._inner.create(service_url, audience)
            if len(self._cache) >= self.LIMIT:
                self._cache.clear()
            self._cache[key] = client
        return client


class Cloud(CloudAdapter):
    """CloudAdapter whose sends and updates go through our aiohttp connector (with retries)
    instead of msrest's requests-in-a-thread client."""

    def __init__(self, authentication: BotFrameworkAuthentication, connector: BotConnector):
        super().__init__(authentication)
        self.connector = connector

    async def send_activities(
        self, context: TurnContext, activities: list[Activity]
    ) -> list[ResourceResponse]:
        responses = []
        for activity in activities:
            if activity.type == ActivityTypes.invoke_response:
                context.turn_state[self._INVOKE_RESPONSE_KEY] = activity
                responses.append(ResourceResponse(id=""))
                continue
            if activity.type == ActivityTypes.trace:
                responses.append(ResourceResponse(id=""))
                continue
            reply_to = activity.reply_to_id or ""
            if is_continuation(context.activity):
                reply_to = ""  # proactive: a new message, not a reply to the continuation
            activity.id = None
            body = activity.serialize()
            if not reply_to:
                body.pop("replyToId", None)
            data = await self.connector.post_activity(
                activity.service_url, activity.conversation.id, body, reply_to
            )
            responses.append(ResourceResponse(id=str(data.get("id", ""))))
        return responses

    async def update_activity(self, context: TurnContext, activity: Activity):
        data = await self.connector.update_activity(
            activity.service_url, activity.conversation.id, activity.id, activity.serialize()
        )
        return ResourceResponse(id=str(data.get("id") or activity.id))


def is_continuation(activity: Activity | None) -> bool:
    return bool(
        activity is not None
        and activity.type == ActivityTypes.event
        and activity.name == "ContinueConversation"
    )
