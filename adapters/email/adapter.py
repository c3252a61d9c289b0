"""The email adapter: sends cards over SMTP (aiosmtplib), and serves the pages its links open.

Thin like the others: it renders, sends and translates; every read and write of the database
is a call to bot.service. A GET never acts (mail scanners such as Safe Links fetch every
link); only the confirm form's POST does.
"""

from __future__ import annotations

import logging
import ssl
from datetime import timedelta

import aiosmtplib
from aiohttp import web

from adapters.email.compose import Sender, compose, feed_url
from adapters.email.pages import link_page_html, preferences_html
from adapters.email.settings import EmailSettings
from bot.delivery.hub import Hub
from bot.delivery.ports import PostedRef, Recipient, SendResult
from bot.service import (
    LinkPage,
    calendar_feed,
    channel_choice,
    email_extras,
    follow_link,
    link_page,
    set_channel_choice,
)
from bot.views.bilingual import say
from bot.views.cards import Card
from bot.views.email_phrases import LINK_ALTERED, METHOD_NOT_ALLOWED

log = logging.getLogger(__name__)

PLATFORM = "email"
# The form fields a confirm page may send: the inputs of every button (when, how, note…).
FORM_FIELDS = ("when", "how", "note", "until", "reason", "to")
# A refused link's HTTP status: gone when expired, forbidden when altered or not theirs.
PROBLEM_STATUS = {"expired": 410, "not_in_directory": 403, "not_yours": 403, "unknown": 404}
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the token is in the address: never pass it on
    "X-Robots-Tag": "noindex",
    "X-Frame-Options": "DENY",
}


class EmailAdapter:
    platform = PLATFORM

    def __init__(
        self, hub: Hub, settings: EmailSettings, *, tls_context: ssl.SSLContext | None = None
    ) -> None:
        self.hub = hub
        self.settings = settings
        self.tls_context = tls_context
        self.sender = Sender(
            address=settings.from_address,
            name=settings.from_name,
            public_url=settings.public_url,
            council=hub.app.settings.council.name,
        )

    # --- lifecycle ------------------------------------------------------------------------

    def mount(self, web_app: web.Application) -> None:
        web_app.router.add_get("/email/act/{token}", self._show_action)
        web_app.router.add_post("/email/act/{token}", self._confirm_action)
        web_app.router.add_get("/email/preferences/{token}", self._show_preferences)
        web_app.router.add_post("/email/preferences/{token}", self._save_preferences)
        web_app.router.add_get(r"/calendar/{token:[A-Za-z0-9_.-]+}.ics", self._calendar)

    async def start(self) -> None:
        """Nothing to open: each send makes its own SMTP connection."""

    async def stop(self) -> None:
        """Nothing held between sends."""

    # --- sending --------------------------------------------------------------------------

    async def send(self, recipient: Recipient, card: Card, *, dedupe_key: str = "") -> SendResult:
        extras = await email_extras(
            self.hub,
            recipient_email=recipient.email,
            card=card,
            valid_for=timedelta(days=self.settings.link_valid_days),
        )
        message = compose(
            card,
            recipient,
            extras,
            self.sender,
            now=self.hub.app.now(),
            language=card.language or self.hub.app.settings.council.language,
        )
        s = self.settings
        try:
            await aiosmtplib.send(
                # As bytes: aiosmtplib would otherwise re-fold the headers at 78 columns and
                # turn List-Unsubscribe into an encoded word (see compose.HEADERS_UNFOLDED).
                message.as_bytes(),
                sender=s.from_address,
                recipients=[recipient.email],
                hostname=s.host,
                port=s.port,
                username=s.username or None,
                password=s.password or None,
                use_tls=s.security == "tls",
                start_tls=s.security == "starttls",
                timeout=s.timeout_seconds,
                tls_context=self.tls_context,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = ",".join(str(r.code) for r in exc.recipients)
            return SendResult.not_found(PLATFORM, error_code="recipient_refused", detail=codes)
        except aiosmtplib.SMTPAuthenticationError as exc:
            # The server's words only: never the username or password.
            return SendResult.failed(PLATFORM, error_code="smtp_auth", detail=str(exc.code))
        except aiosmtplib.SMTPResponseException as exc:
            return SendResult.failed(
                PLATFORM, error_code=f"smtp_{exc.code}", detail=exc.message[:200]
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            return SendResult.failed(
                PLATFORM, error_code="smtp_unreachable", detail=type(exc).__name__
            )
        return SendResult.delivered(
            PLATFORM,
            message_id=str(message["Message-ID"]),
            channel=recipient.email,
            user_id=recipient.email,
        )

    async def update(self, posted: PostedRef, card: Card) -> SendResult:
        """A sent email cannot be changed, and a new one for every redraw would be noise: the
        page its links open is always drawn from the database, so it is never out of date."""
        return SendResult.delivered(PLATFORM, message_id=posted.message_id, channel=posted.channel)

    # --- the pages ------------------------------------------------------------------------

    @staticmethod
    def _page(body: str, status: int = 200) -> web.Response:
        return web.Response(
            text=body, status=status, content_type="text/html", headers=PAGE_HEADERS
        )

    def _link_response(self, page: LinkPage) -> web.Response:
        # A sound link the core declined (out of date, a value to correct) is still a page
        # to read and answer: only a link that is refused outright is an HTTP error.
        status = 200 if page.ok or not page.problem else PROBLEM_STATUS.get(page.problem, 403)
        return self._page(link_page_html(page, self.hub.app.local_now()), status)

    async def _show_action(self, request: web.Request) -> web.Response:
        page = await link_page(self.hub, token=request.match_info["token"])
        return self._link_response(page)

    async def _confirm_action(self, request: web.Request) -> web.Response:
        form = await request.post()
        inputs = {
            name: str(form[name]).strip()
            for name in FORM_FIELDS
            if name in form and str(form[name]).strip()
        }
        version_text = str(form.get("version", ""))
        if not version_text.isdigit():
            council = self.hub.app.settings.council.language
            return self._link_response(
                LinkPage(
                    False,
                    say(council, lambda tr: tr(METHOD_NOT_ALLOWED)),
                    problem="no_form",
                    language=council,
                )
            )
        page = await follow_link(
            self.hub,
            token=request.match_info["token"],
            inputs=inputs,
            version=int(version_text),
        )
        return self._link_response(page)

    async def _show_preferences(self, request: web.Request) -> web.Response:
        page = await channel_choice(self.hub, token=request.match_info["token"])
        return self._choice_response(page)

    async def _save_preferences(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("List-Unsubscribe") == "One-Click":  # RFC 8058, from the mail client
            page = await set_channel_choice(
                self.hub, token=request.match_info["token"], email_off=True, digest_by_email=False
            )
        else:
            page = await set_channel_choice(
                self.hub,
                token=request.match_info["token"],
                email_off="email_off" in form,
                digest_by_email="digest_by_email" in form,
            )
        return self._choice_response(page)

    def _choice_response(self, page) -> web.Response:
        feed = feed_url(self.sender.public_url, page.feed_token) if page.feed_token else ""
        return self._page(
            preferences_html(page, feed), 200 if page.ok else PROBLEM_STATUS.get(page.problem, 403)
        )

    async def _calendar(self, request: web.Request) -> web.Response:
        body = await calendar_feed(self.hub, token=request.match_info["token"])
        if body is None:
            return web.Response(
                text=say(self.hub.app.settings.council.language, lambda tr: tr(LINK_ALTERED)),
                status=404,
                content_type="text/plain",
                headers=PAGE_HEADERS,
            )
        return web.Response(
            body=body,
            content_type="text/calendar",
            charset="utf-8",
            headers={"Cache-Control": "private, max-age=900", "Referrer-Policy": "no-referrer"},
        )
