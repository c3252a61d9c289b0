"""A card as an email: multipart plain text and HTML, buttons as signed links, a calendar hold
when the card asks the person to act, threaded per decision, with a one-click way out."""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, make_msgid

from bot.delivery.ports import Recipient
from bot.i18n.catalogue import ENGLISH, languages, translator
from bot.service import EmailExtras
from bot.views.bilingual import html_lang, say
from bot.views.cards import RAG_MARK, Button, Card, CardField
from bot.views.email_phrases import (
    BUTTONS_INTRO,
    CALENDAR_ATTACHED,
    FEED_LINE,
    ICS_FILENAME,
    PREFERENCES_LINE,
    SIGN_OFF,
    SUBJECT,
    SUBJECT_PLAIN,
    TEXT_BUTTON,
)

# Long links must stay whole: the default 78-column folding would turn List-Unsubscribe into an
# RFC 2047 encoded word, which mail clients do not read as an address. 998 is SMTP's own limit.
# 7bit: non-ASCII text goes quoted-printable, so no server needs 8BITMIME.
HEADERS_UNFOLDED = SMTP.clone(max_line_length=998, cte_type="7bit")
BOLD = re.compile(r"\*([^*]+)\*")
# Colours with at least 4.5:1 contrast against white text (WCAG AA).
BUTTON_COLOURS = {"primary": "#14532d", "danger": "#7f1d1d", "default": "#1e3a8a"}
RAG_COLOURS = {"red": "#b91c1c", "amber": "#b45309", "green": "#15803d", "grey": "#4b5563"}


@dataclass(frozen=True)
class Sender:
    """Who the bot's emails come from, and where its links point."""

    address: str
    name: str
    public_url: str
    council: str

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2] or "localhost"


def act_url(base: str, token: str) -> str:
    return f"{base}/email/act/{token}"


def preferences_url(base: str, token: str) -> str:
    return f"{base}/email/preferences/{token}"


def feed_url(base: str, token: str) -> str:
    return f"{base}/calendar/{token}.ics"


def thread_id(sender: Sender, thread: str, recipient_email: str) -> str:
    """The Message-ID every email about one decision to one person replies to, so mail
    clients group them; it names no one (a hash), and is never itself sent."""
    person = hashlib.sha256(recipient_email.lower().encode()).hexdigest()[:12]
    return f"<{thread}.{person}@{sender.domain}>"


def rich(text: str) -> str:
    """Card text for the HTML part: escaped, with *bold* marks made bold."""
    return BOLD.sub(r"<strong>\1</strong>", html.escape(text))


def compose(
    card: Card,
    recipient: Recipient,
    extras: EmailExtras,
    sender: Sender,
    *,
    now: datetime,
    language: str = ENGLISH,
) -> EmailMessage:
    """The whole message for one card to one person; its own words (the links' introduction,
    the footer) in `language`, as the card's are."""
    message = EmailMessage(policy=HEADERS_UNFOLDED)
    if extras.calendar_ref:
        message["Subject"] = SUBJECT.format(heading=card.title, title=extras.calendar_ref)
    else:
        message["Subject"] = SUBJECT_PLAIN.format(heading=card.title)
    message["From"] = formataddr((sender.name, sender.address))
    message["To"] = formataddr((recipient.name, recipient.email))
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid(domain=sender.domain)
    if extras.thread:
        root = thread_id(sender, extras.thread, recipient.email)
        message["In-Reply-To"] = root
        message["References"] = root
    preferences = preferences_url(sender.public_url, extras.preferences_token)
    message["List-Unsubscribe"] = f"<{preferences}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"  # RFC 8058
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
    message.set_content(_text(card, extras, sender, language))
    message.add_alternative(_html(card, extras, sender, language), subtype="html")
    if extras.calendar is not None:
        message.add_attachment(
            extras.calendar,
            maintype="text",
            subtype="calendar",
            filename=ICS_FILENAME.format(ref=extras.calendar_ref or "briefing"),
            params={"method": "PUBLISH"},
        )
    return message


def _footer_lines(card: Card, extras: EmailExtras, sender: Sender, language: str) -> list[str]:
    lines = []
    if card.footer:
        lines.append(card.footer)
    feed = feed_url(sender.public_url, extras.feed_token)
    preferences = preferences_url(sender.public_url, extras.preferences_token)
    for code in languages(language):
        tr = translator(code)
        if extras.calendar is not None:
            lines.append(tr(CALENDAR_ATTACHED))
        lines.append(tr(FEED_LINE, url=feed))
        lines.append(tr(PREFERENCES_LINE, url=preferences))
    lines.append(say(language, lambda tr: tr(SIGN_OFF, council=sender.council), short=True))
    return lines


def _text(card: Card, extras: EmailExtras, sender: Sender, language: str) -> str:
    mark = RAG_MARK.get(card.rag, "")
    out = [f"{mark} {card.title}".strip(), ""]
    out += list(card.lines)  # *bold* marks read well in plain text
    if card.fields:
        out.append("")
        out += [f"{f.label}: {f.value}" for f in card.fields if f.value]
    if card.all_buttons:
        out += ["", *say(language, lambda tr: tr(BUTTONS_INTRO)).split("\n\n")]
    out += _text_links(card.buttons, extras, sender)
    for section in card.sections:
        # A block per member of an officer's card about a decision, with its own links.
        mark = RAG_MARK.get(section.rag, "")
        out += ["", f"{mark} {section.title}".strip(), *section.lines]
        out += [f"{f.label}: {f.value}" for f in section.fields if f.value]
        out += _text_links(section.buttons, extras, sender)
    out += ["", "--", *_footer_lines(card, extras, sender, language)]
    return "\n".join(out) + "\n"


def _text_links(buttons: tuple[Button, ...], extras: EmailExtras, sender: Sender) -> list[str]:
    return [
        TEXT_BUTTON.format(label=b.label, url=act_url(sender.public_url, extras.links[b.payload]))
        for b in buttons
    ]


def _html(card: Card, extras: EmailExtras, sender: Sender, language: str) -> str:
    colour = RAG_COLOURS.get(card.rag, "#111827")
    mark = f'<span aria-hidden="true">{RAG_MARK.get(card.rag, "")}</span>'
    parts = [
        f'<!DOCTYPE html><html lang="{html_lang(language)}"><head><meta charset="utf-8">',
        f"<title>{html.escape(card.title)}</title></head>",
        '<body style="font-family:Arial,Helvetica,sans-serif;color:#111827;'
        'background:#ffffff;font-size:16px;line-height:1.5">',
        f'<h1 style="font-size:20px;color:{colour}">{mark} {html.escape(card.title)}</h1>',
    ]
    parts += [f"<p>{rich(line)}</p>" for line in card.lines if line]
    parts += _html_fields(card.fields)
    if card.all_buttons:
        intro = say(language, lambda tr: tr(BUTTONS_INTRO)).split("\n\n")
        parts += [f"<p>{html.escape(text)}</p>" for text in intro]
    parts += _html_links(card.buttons, extras, sender)
    for section in card.sections:
        mark = f'<span aria-hidden="true">{RAG_MARK.get(section.rag, "")}</span>'
        parts.append(f'<h2 style="font-size:17px">{mark} {html.escape(section.title)}</h2>')
        parts += [f"<p>{rich(line)}</p>" for line in section.lines if line]
        parts += _html_fields(section.fields)
        parts += _html_links(section.buttons, extras, sender)
    # Private addresses are long unbroken tokens: let them wrap rather than widen the mail.
    parts.append('<hr><p style="font-size:14px;color:#374151;overflow-wrap:anywhere">')
    footer = _footer_lines(card, extras, sender, language)
    parts.append("<br>".join(_linked(line) for line in footer))
    parts.append("</p></body></html>")
    return "".join(parts)


def _html_fields(fields: tuple[CardField, ...]) -> list[str]:
    shown = [f for f in fields if f.value]
    if not shown:
        return []
    return [
        '<table role="presentation" style="border-collapse:collapse">',
        *(
            '<tr><th scope="row" style="text-align:left;padding:2px 12px 2px 0">'
            f"{html.escape(f.label)}</th><td>{html.escape(f.value)}</td></tr>"
            for f in shown
        ),
        "</table>",
    ]


def _html_links(buttons: tuple[Button, ...], extras: EmailExtras, sender: Sender) -> list[str]:
    """Buttons as signed links styled as buttons, in one paragraph."""
    if not buttons:
        return []
    parts = ["<p>"]
    for b in buttons:
        background = BUTTON_COLOURS.get(b.style, BUTTON_COLOURS["default"])
        parts.append(
            f'<a href="{html.escape(act_url(sender.public_url, extras.links[b.payload]))}" '
            f'style="display:inline-block;margin:0 8px 8px 0;padding:10px 16px;'
            f"background:{background};color:#ffffff;text-decoration:underline;"
            f'border-radius:4px">{html.escape(b.label)}</a>'
        )
    parts.append("</p>")
    return parts


URL = re.compile(r"(https?://\S+)")


def _linked(line: str) -> str:
    """A footer line with its address made a link."""
    return URL.sub(lambda m: f'<a href="{m.group(1)}">{m.group(1)}</a>', html.escape(line))
