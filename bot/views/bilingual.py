"""Drawing a message in the recipient's language, or in two (Welsh first) for a bilingual
council: each language is drawn whole, then the two are laid side by side."""

from __future__ import annotations

from collections.abc import Callable

from bot.config import Settings
from bot.i18n.catalogue import Translator, language_for, languages, translator
from bot.store.directory import PersonView
from bot.views.cards import Button, Card, CardField, Input
from bot.views.platform_phrases import METHOD_WORDS, WORKING_DAYS

SEPARATOR = " / "  # between the two languages of a short label, as on bilingual signs


def language_of(person: PersonView | None, settings: Settings) -> str:
    """The language setting a message to this person is drawn in (en, cy or cy+en)."""
    return language_for(person.language if person else "", settings.council.language)


def draw(language: str, build: Callable[[Translator], Card]) -> Card:
    """The card `build` draws, in each language of the setting, merged first language first."""
    cards = [build(translator(code)) for code in languages(language)]
    merged = cards[0]
    for other in cards[1:]:
        merged = _merge(merged, other)
    return Card(**{**merged.__dict__, "language": language})


def say(language: str, build: Callable[[Translator], str], *, short: bool = False) -> str:
    """Words in each language of the setting, first language first: paragraphs one after the
    other, or (`short`, for a heading, a label or a calendar entry's title) on one line."""
    texts = [build(translator(code)) for code in languages(language)]
    if short:
        merged = texts[0]
        for text in texts[1:]:
            merged = _both(merged, text)
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
        return tr(METHOD_WORDS[value]) if value in METHOD_WORDS else value.title()

    return say(language, word, short=True)


def _both(first: str, second: str) -> str:
    if not first or not second or first == second:
        return first or second
    return f"{first}{SEPARATOR}{second}"


def _merge(first: Card, second: Card) -> Card:
    lines = first.lines + (("",) if first.lines and second.lines else ()) + second.lines
    fields = tuple(
        CardField(_both(a.label, b.label), _both(a.value, b.value))
        for a, b in zip(first.fields, second.fields, strict=True)
    )
    buttons = tuple(
        Button(
            label=_both(a.label, b.label),
            kind=a.kind,
            payload=a.payload,
            style=a.style,
            inputs=tuple(
                Input(
                    name=x.name,
                    label=_both(x.label, y.label),
                    required=x.required,
                    multiline=x.multiline,
                    options=x.options,
                    placeholder=_both(x.placeholder, y.placeholder),
                )
                for x, y in zip(a.inputs, b.inputs, strict=True)
            ),
        )
        for a, b in zip(first.buttons, second.buttons, strict=True)
    )
    return Card(
        title=_both(first.title, second.title),
        lines=lines,
        fields=fields,
        rag=first.rag,
        buttons=buttons,
        footer=_both(first.footer, second.footer),
        briefing_id=first.briefing_id,
    )
