"""Words in the recipient's language, or in two (Welsh first) for a bilingual council: the
marked messages, dates and stored phrases said again, without drawing a card. Apart from the
card drawing (bot/views/bilingual.py) so that `nosurprises status` words its rows without
importing the cards (issue 15: start-up)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from functools import cache, lru_cache
from typing import Any

from bot.config import Settings
from bot.i18n.catalogue import ENGLISH, Plural, Translator, language_for, languages, translator
from bot.store.directory import PersonView
from bot.views.phrases import (
    CHANGE_FROM_TO,
    CHANGE_LABELS,
    CHANGE_MOVED,
    CHANGE_ONLY,
    EXEMPT_ITEM,
    EXEMPT_ITEM_PARAGRAPHS,
    NONE_GIVEN,
    REASON_LEADER,
    REASON_PORTFOLIO_HOLDER,
    REASON_WARD,
)
from bot.views.platform_phrases import METHOD_WORDS, WORKING_DAYS

SEPARATOR = " / "  # between the two languages of a short label, as on bilingual signs


def language_of(person: PersonView | None, settings: Settings) -> str:
    """The language setting a message to this person is drawn in (en, cy or cy+en)."""
    return language_for(person.language if person else "", settings.council.language)


# The language the card or answer being drawn now is in: set by speaking(), read by words().
_speaking: ContextVar[str] = ContextVar("speaking", default=ENGLISH)


@contextmanager
def speaking(language: str) -> Iterator[None]:
    """Draw everything inside in `language` (one code, or 'cy+en' for an answer in both)."""
    token = _speaking.set(language)
    try:
        yield
    finally:
        _speaking.reset(token)


def words(message: str, /, **values: Any) -> str:
    """A marked message in the language being spoken now (dates in `values` read in it too)."""
    if not values:
        return _label(_speaking.get(), message)
    return say(_speaking.get(), lambda tr: tr(message, **values))


@lru_cache(maxsize=2048)
def _label(language: str, message: str) -> str:
    """A message with nothing to fill in (a field's label, a state): the same every time."""
    return say(language, lambda tr: tr(message))


def counted(message: Plural, count: int, /, **values: Any) -> str:
    """A counted message in the language being spoken now."""
    return say(_speaking.get(), lambda tr: tr.plural(message, count, **values))


def day(value: date) -> str:
    """A date in the language being spoken now: 'Tue 4 Feb', 'Maw 4 Chwef'."""
    return _day(_speaking.get(), value)


@lru_cache(maxsize=2048)
def _day(language: str, value: date) -> str:
    return say(language, lambda tr: tr.short_date(value), short=True)


def long_day(value: date) -> str:
    """'Tue 4 Feb 2027', 'Maw 4 Chwef 2027', in the language being spoken now."""
    return say(_speaking.get(), lambda tr: tr.long_date(value), short=True)


def exempt_words(paragraphs: tuple[str, ...] | list[str]) -> str:
    """'Exempt item (paragraph 3)', in the language being spoken now."""
    if not paragraphs:
        return words(EXEMPT_ITEM)
    return counted(EXEMPT_ITEM_PARAGRAPHS, len(paragraphs), paragraphs=", ".join(paragraphs))


def say(language: str, build: Callable[[Translator], str], *, short: bool = False) -> str:
    """Words in each language of the setting, first language first: paragraphs one after the
    other, or (`short`, for a heading, a label or a calendar entry's title) on one line."""
    codes = languages(language)
    if len(codes) == 1:
        return build(translator(codes[0]))  # one language: nothing to merge (most messages)
    texts = [build(translator(code)) for code in codes]
    if short:
        merged = texts[0]
        for text in texts[1:]:
            merged = both(merged, text)
        return merged
    return "\n\n".join(dict.fromkeys(texts))  # the same words twice are said once


def html_lang(language: str) -> str:
    """The page's lang attribute: the language it is (first) written in."""
    return {"en": "en-GB"}.get(languages(language)[0], languages(language)[0])


def option_label(language: str, input_name: str, value: str) -> str:
    """How a form shows one choice: '2 working days', 'Meeting'; the value itself is kept."""

    def word(tr: Translator) -> str:
        if input_name == "until" and value.isdigit():
            return tr.plural(WORKING_DAYS, int(value))
        return tr(METHOD_WORDS[value]) if value in METHOD_WORDS else tr(value)

    return say(language, word, short=True)


def both(first: str, second: str) -> str:
    """Two languages' words for one short label, side by side (once, if the same)."""
    if not first or not second or first == second:
        return first or second
    return f"{first}{SEPARATOR}{second}"


def speaking_now() -> str:
    """The language being spoken now (for helpers that take a language setting)."""
    return _speaking.get()


def reasons_words(reasons: tuple[str, ...] | list[str]) -> str:
    """Why a member is owed a briefing, as the rules stored it, in the language spoken now."""
    return _reasons(_speaking.get(), tuple(reasons))


@lru_cache(maxsize=2048)
def _reasons(language: str, reasons: tuple[str, ...]) -> str:
    # Many members are owed a briefing for the same few reasons: each said once per language.
    templates = (REASON_PORTFOLIO_HOLDER, REASON_WARD, REASON_LEADER)
    with speaking(language):
        return "; ".join(from_stored(reason, templates) for reason in reasons)


def changes_words(described: str) -> str:
    """What changed on an item, as the sweep stored it in English, in the language spoken now."""
    templates = (CHANGE_MOVED, CHANGE_FROM_TO, CHANGE_ONLY)
    return "; ".join(from_stored(part, templates) for part in described.split("; ") if part)


def from_stored(text: str, templates: tuple[str, ...]) -> str:
    """Text stored in English from one of `templates`, said again in the language spoken now
    (labels and dates in it too); text made from none of them is shown as it is."""
    for template in templates:
        found = _filled(template, text)
        if found is not None:
            return words(template, **{k: _stored_value(v) for k, v in found.items()})
    return text


def _stored_value(value: str) -> str:
    if value in CHANGE_LABELS:
        return words(CHANGE_LABELS[value])
    if value == NONE_GIVEN:
        return words(NONE_GIVEN)
    return say(_speaking.get(), lambda tr: tr.english_dates(value), short=True)


def _filled(template: str, text: str) -> dict[str, str] | None:
    """The values `template` was filled with to make `text`, or None if it did not make it."""
    match = _pattern(template).fullmatch(text)
    return match.groupdict() if match else None


@cache
def _pattern(template: str) -> re.Pattern[str]:
    """What text made from `template` looks like: each {placeholder} a named group."""
    return re.compile(
        "".join(
            f"(?P<{part[1:-1]}>.+?)" if part.startswith("{") else re.escape(part)
            for part in re.split(r"({\w+})", template)
            if part
        )
    )
