"""A real SMTP server on loopback (aiosmtpd, with STARTTLS and authentication) and the bot's
server with the email adapter (and Teams, on the mock Bot Connector), for the email tests.

Nothing sleeps: aiosmtplib's send returns once the server has taken the message, so every
assertion can read the inbox straight away.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import re
import socket
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import aiohttp
from aiohttp import web
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from adapters.email.adapter import EmailAdapter
from adapters.email.settings import EmailSettings
from bot.app import App
from bot.delivery.hub import Hub
from bot.server import build_web_app

SMTP_USER = "nosurprises"
SMTP_PASSWORD = "correct horse battery staple"
FROM = "no-surprises@harbourside.example.gov.uk"
LINK = re.compile(r"(https?://\S+/email/act/\S+)")


def listening_socket() -> socket.socket:
    """A socket bound to a free loopback port: its address is known before anything serves."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock


def self_signed() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a fresh certificate for 127.0.0.1, and a client context trusting it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    import tempfile
    from pathlib import Path

    folder = Path(tempfile.mkdtemp(prefix="smtp-tls-"))
    (folder / "cert.pem").write_bytes(cert_pem)
    (folder / "key.pem").write_bytes(key_pem)
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    client = ssl.create_default_context(cadata=cert_pem.decode())
    return server, client


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    message: EmailMessage
    raw: bytes

    @property
    def to(self) -> str:
        return self.recipients[0]

    def part(self, content_type: str) -> Any:
        for part in self.message.walk():
            if part.get_content_type() == content_type:
                return part
        raise AssertionError(f"no {content_type} part in {self.message['Subject']!r}")

    @property
    def text(self) -> str:
        return str(self.part("text/plain").get_content())

    @property
    def html(self) -> str:
        return str(self.part("text/html").get_content())

    def links(self) -> dict[str, str]:
        """The action links in the plain-text part, by button label."""
        found = {}
        for line in self.text.splitlines():
            label, _, rest = line.partition(": ")
            match = LINK.match(rest)
            if match:
                found[label] = match.group(1)
        return found


@dataclass
class Inbox:
    """What the SMTP server received."""

    port: int
    client_tls: ssl.SSLContext
    mail: list[Mail] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)  # addresses the server says it does not know

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.mail.append(
            Mail(envelope.mail_from, list(envelope.rcpt_tos), parsed, envelope.original_content)
        )
        return "250 OK"

    def to(self, address: str) -> list[Mail]:
        return [m for m in self.mail if address in m.recipients]


async def smtp_server(*, implicit_tls: bool = False) -> AsyncIterator[Inbox]:
    """aiosmtpd on loopback requiring a login over TLS, in the test's own event loop: STARTTLS
    (submission, port 587 style), or TLS from the first byte (port 465 style)."""
    import asyncio

    server_tls, client_tls = self_signed()
    sock = listening_socket()
    inbox = Inbox(port=sock.getsockname()[1], client_tls=client_tls)

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any):
        ok = (
            isinstance(data, LoginPassword)
            and data.login.decode() == SMTP_USER
            and data.password.decode() == SMTP_PASSWORD
        )
        if ok:
            inbox.logins.append(data.login.decode())
        return AuthResult(success=ok, handled=False)  # aiosmtpd answers 535 itself

    loop = asyncio.get_running_loop()
    listener = await loop.create_server(
        lambda: SMTP(
            inbox,
            hostname="smtp.test",
            tls_context=None if implicit_tls else server_tls,
            require_starttls=not implicit_tls,
            auth_required=True,
            auth_require_tls=not implicit_tls,  # implicit TLS: the whole connection is TLS
            authenticator=authenticate,
        ),
        sock=sock,
        ssl=server_tls if implicit_tls else None,
    )
    try:
        yield inbox
    finally:
        listener.close()
        await listener.wait_closed()


def email_settings(inbox: Inbox, public_url: str, **changes: Any) -> EmailSettings:
    values: dict[str, Any] = {
        "enabled": True,
        "host": "127.0.0.1",
        "port": inbox.port,
        "security": "starttls",
        "username": SMTP_USER,
        "password": SMTP_PASSWORD,
        "from_address": FROM,
        "public_url": public_url,
        "link_valid_days": 14,
        "timeout_seconds": 10.0,
    }
    return EmailSettings(**(values | changes))


@dataclass
class Server:
    """The bot's own aiohttp server with the adapters mounted, and a plain HTTP client."""

    app: App
    hub: Hub
    email: EmailAdapter
    url: str
    http: aiohttp.ClientSession
    adapters: dict[str, Any]

    async def get(self, url: str) -> tuple[int, str]:
        async with self.http.get(url) as response:
            return response.status, await response.text()

    async def post(self, url: str, data: dict[str, str]) -> tuple[int, str]:
        async with self.http.post(url, data=data) as response:
            return response.status, await response.text()


async def serve_bot(
    app: App,
    inbox: Inbox,
    *,
    before_email: Any = None,
    **email_changes: Any,
) -> AsyncIterator[Server]:
    """Serve `app` on loopback; `before_email(hub, web_app)` may mount adapters tried first."""
    sock = listening_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    hub = Hub(app)
    web_app = build_web_app(app, hub)
    adapters: dict[str, Any] = {}
    if before_email is not None:
        adapters = before_email(hub, web_app)
    adapter = EmailAdapter(
        hub, email_settings(inbox, url, **email_changes), tls_context=inbox.client_tls
    )
    hub.register(adapter)
    adapter.mount(web_app)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.SockSite(runner, sock)
    await site.start()
    for other in adapters.values():
        await other.start()
    async with aiohttp.ClientSession() as http:
        yield Server(app, hub, adapter, url, http, adapters)
    for other in adapters.values():
        await other.stop()
    await runner.cleanup()
