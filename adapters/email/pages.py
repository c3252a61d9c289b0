"""The pages emailed links open: plain, accessible HTML that needs no JavaScript.

Every control has a visible label, the order on the page is the order of the form, focus is
always visible, and text keeps at least 4.5:1 contrast.
"""

from __future__ import annotations

import html
from datetime import datetime

from bot.i18n.catalogue import ENGLISH
from bot.service import ChoicePage, LinkPage
from bot.views.bilingual import html_lang, option_label, say
from bot.views.cards import RAG_MARK, Button, Card, Input, InputKind
from bot.views.email_phrases import (
    CALENDAR_FEED_HEADING,
    CALENDAR_FEED_INTRO,
    CONFIRM_BUTTON,
    CONFIRM_INTRO,
    DONE_HEADING,
    NOT_DONE_HEADING,
    PAGE_TITLE,
    PREFERENCE_DIGEST_BY_EMAIL,
    PREFERENCE_EMAIL_OFF,
    PREFERENCES_HEADING,
    PREFERENCES_INTRO,
    PREFERENCES_SAVE,
)

STYLE = (
    "body{font-family:Arial,Helvetica,sans-serif;font-size:18px;line-height:1.5;color:#111827;"
    "background:#fff;max-width:40em;margin:1em auto;padding:0 1em}"
    "a{color:#1e3a8a}"
    "label,legend{display:block;font-weight:bold;margin-top:1em}"
    "input[type=text],input[type=datetime-local],select,textarea"
    "{font-size:inherit;width:100%;padding:.4em;border:2px solid #374151}"
    "fieldset{border:none;padding:0;margin:0}"
    "fieldset label{font-weight:normal;display:inline-block;margin:.2em 1.2em .2em 0}"
    "button{font-size:inherit;margin-top:1.2em;padding:.5em 1.2em;background:#14532d;"
    "color:#fff;border:2px solid #14532d;border-radius:4px;cursor:pointer}"
    ":focus{outline:3px solid #b45309;outline-offset:2px}"
    ".message{border-left:6px solid #1e3a8a;padding:.3em .8em;background:#f3f4f6}"
    "th{text-align:left;padding-right:1em;vertical-align:top}"
)


def document(title: str, body: str, language: str = ENGLISH) -> str:
    """A whole page."""
    return (
        f'<!DOCTYPE html><html lang="{html_lang(language)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{html.escape(title)} – {html.escape(_short(language, PAGE_TITLE))}</title>"
        f"<style>{STYLE}</style></head><body><main>{body}</main></body></html>"
    )


def card_html(card: Card) -> str:
    """A card's title, lines and fields (its buttons are the page's form)."""
    mark = RAG_MARK.get(card.rag, "")
    # The colour mark is decoration: the card's words say where things stand.
    parts = [f'<h2><span aria-hidden="true">{mark}</span> {html.escape(card.title)}</h2>']
    for line in card.lines:
        if line:
            parts.append(f"<p>{html.escape(line).replace('*', '')}</p>")
    if card.fields:
        parts.append("<table>")
        for f in card.fields:
            if f.value:
                parts.append(
                    f'<tr><th scope="row">{html.escape(f.label)}</th>'
                    f"<td>{html.escape(f.value)}</td></tr>"
                )
        parts.append("</table>")
    if card.footer:
        parts.append(f"<p>{html.escape(card.footer)}</p>")
    return "".join(parts)


def _field(item: Input, language: str, now: datetime | None = None) -> str:
    label = html.escape(item.label)  # the chat modal's own words
    name = html.escape(item.name)
    required = " required" if item.required else ""
    if item.kind == InputKind.PERSON and item.options:
        # Only the people the rules allow, by name; a page has room for any number.
        people = "".join(
            f'<option value="{html.escape(value)}">{html.escape(person)}</option>'
            for value, person in item.named_options
        )
        return (
            f'<label for="f-{name}">{label}</label>'
            f'<select id="f-{name}" name="{name}"{required}><option value=""></option>'
            f"{people}</select>"
        )
    if item.options:
        choices = "".join(
            f'<label><input type="radio" name="{name}" value="{html.escape(option)}"'
            f"{required if index == 0 else ''}> "
            f"{html.escape(option_label(language, item.name, option))}</label>"
            for index, option in enumerate(item.options)
        )
        return f"<fieldset><legend>{label}</legend>{choices}</fieldset>"
    hint = ""
    described = ""
    if item.placeholder:
        hint = f'<div id="hint-{name}">{html.escape(item.placeholder)}</div>'
        described = f' aria-describedby="hint-{name}"'
    if item.kind == InputKind.DATETIME:
        # The browser's own date and time picker, starting at now (the council's local time).
        value = f' value="{now:%Y-%m-%dT%H:%M}"' if now is not None else ""
        control = (
            f'<input type="datetime-local" id="f-{name}" name="{name}"{value}{required}{described}>'
        )
    elif item.multiline:
        control = f'<textarea id="f-{name}" name="{name}" rows="4"{required}{described}></textarea>'
    else:
        control = f'<input type="text" id="f-{name}" name="{name}"{required}{described}>'
    return f'<label for="f-{name}">{label}</label>{hint}{control}'


def _short(language: str, message: str, **values: str) -> str:
    return say(language, lambda tr: tr(message, **values), short=True)


def _paragraphs(language: str, message: str, **values: str) -> str:
    """A message as paragraphs, one a language (Welsh first on a bilingual council's page)."""
    texts = say(language, lambda tr: tr(message, **values)).split("\n\n")
    return "".join(f"<p>{html.escape(text)}</p>" for text in texts)


def _message(text: str) -> str:
    return "".join(
        f'<p class="message" role="status">{html.escape(part)}</p>' for part in text.split("\n\n")
    )


def confirm_form(
    button: Button, version: int, language: str = ENGLISH, now: datetime | None = None
) -> str:
    """The same inputs as the chat modal, and one button that acts; a date and time starts
    at `now` (local time) when given."""
    fields = "".join(_field(item, language, now) for item in button.inputs)
    return (
        f"{_paragraphs(language, CONFIRM_INTRO, label=button.label)}"
        '<form method="post">'
        f'<input type="hidden" name="version" value="{version}">'
        f"{fields}"
        f'<button type="submit">'
        f"{html.escape(_short(language, CONFIRM_BUTTON, label=button.label))}</button>"
        "</form>"
    )


def link_page_html(page: LinkPage, now: datetime | None = None) -> str:
    """What a link shows: why it was refused, or the card with its confirm form, or the result.
    `now` (local time) is where a date and time field starts."""
    parts = []
    language = page.language
    if page.done:
        parts.append(f"<h1>{html.escape(_short(language, DONE_HEADING))}</h1>")
    elif not page.ok:
        parts.append(f"<h1>{html.escape(_short(language, NOT_DONE_HEADING))}</h1>")
    else:
        parts.append(f"<h1>{html.escape(_short(language, PAGE_TITLE))}</h1>")
    if page.message:
        parts.append(_message(page.message))
    if page.card is not None:
        parts.append(card_html(page.card))
    if page.button is not None:
        parts.append(confirm_form(page.button, page.version, language, now))
    title = page.card.title if page.card is not None else _short(language, NOT_DONE_HEADING)
    return document(title, "".join(parts), language)


def preferences_html(page: ChoicePage, feed: str) -> str:
    """A person's choices of how to hear from the bot, and their calendar feed."""
    language = page.language
    heading = _short(language, PREFERENCES_HEADING)
    parts = [f"<h1>{html.escape(heading)}</h1>"]
    if page.message:
        parts.append(_message(page.message))
    if page.ok:
        off = " checked" if page.email_off else ""
        digest = " checked" if page.digest_by_email else ""
        parts.append(
            f"{_paragraphs(language, PREFERENCES_INTRO)}"
            '<form method="post">'
            f'<label><input type="checkbox" name="email_off" value="1"{off}> '
            f"{html.escape(_short(language, PREFERENCE_EMAIL_OFF))}</label>"
            f'<label><input type="checkbox" name="digest_by_email" value="1"{digest}> '
            f"{html.escape(_short(language, PREFERENCE_DIGEST_BY_EMAIL))}</label>"
            f'<button type="submit">{html.escape(_short(language, PREFERENCES_SAVE))}</button>'
            "</form>"
            f"<h2>{html.escape(_short(language, CALENDAR_FEED_HEADING))}</h2>"
            f"{_paragraphs(language, CALENDAR_FEED_INTRO)}"
            f'<p><a href="{html.escape(feed)}">{html.escape(feed)}</a></p>'
        )
    return document(heading, "".join(parts), language)
