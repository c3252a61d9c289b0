"""Drawing a card in the recipient's language, or in two (Welsh first) for a bilingual
council: each language is drawn whole, then the two are laid side by side. The words
themselves are said in bot/views/wording.py, whose names are given here too."""

from __future__ import annotations

from collections.abc import Callable

from bot.i18n.catalogue import Translator, languages, translator
from bot.views.cards import Button, Card, CardField, CardSection, Input
from bot.views.wording import SEPARATOR as SEPARATOR
from bot.views.wording import both as both
from bot.views.wording import changes_words as changes_words
from bot.views.wording import counted as counted
from bot.views.wording import day as day
from bot.views.wording import exempt_words as exempt_words
from bot.views.wording import from_stored as from_stored
from bot.views.wording import html_lang as html_lang
from bot.views.wording import language_of as language_of
from bot.views.wording import long_day as long_day
from bot.views.wording import option_label as option_label
from bot.views.wording import reasons_words as reasons_words
from bot.views.wording import say as say
from bot.views.wording import speaking as speaking
from bot.views.wording import speaking_now as speaking_now
from bot.views.wording import words as words


def draw_each(language: str, build: Callable[[], Card]) -> Card:
    """Like draw(), for builders that word themselves with words(): each language in turn."""

    def one(tr: Translator) -> Card:
        with speaking(tr.language):
            return build()

    return draw(language, one)


def draw(language: str, build: Callable[[Translator], Card]) -> Card:
    """The card `build` draws, in each language of the setting, merged first language first."""
    cards = [build(translator(code)) for code in languages(language)]
    merged = cards[0]
    for other in cards[1:]:
        merged = _merge(merged, other)
    return Card(**{**merged.__dict__, "language": language})


def _merge(first: Card, second: Card) -> Card:
    return Card(
        title=both(first.title, second.title),
        lines=_merge_lines(first.lines, second.lines),
        fields=_merge_fields(first.fields, second.fields),
        rag=first.rag,
        buttons=_merge_buttons(first.buttons, second.buttons),
        footer=both(first.footer, second.footer),
        briefing_id=first.briefing_id,
        sections=tuple(
            CardSection(
                title=both(a.title, b.title),
                lines=_merge_lines(a.lines, b.lines),
                fields=_merge_fields(a.fields, b.fields),
                rag=a.rag,
                buttons=_merge_buttons(a.buttons, b.buttons),
                briefing_id=a.briefing_id,
            )
            for a, b in zip(first.sections, second.sections, strict=True)
        ),
    )


def _merge_fields(
    first: tuple[CardField, ...], second: tuple[CardField, ...]
) -> tuple[CardField, ...]:
    return tuple(
        CardField(both(a.label, b.label), both(a.value, b.value))
        for a, b in zip(first, second, strict=True)
    )


def _merge_buttons(first: tuple[Button, ...], second: tuple[Button, ...]) -> tuple[Button, ...]:
    return tuple(
        Button(
            label=both(a.label, b.label),
            kind=a.kind,
            payload=a.payload,
            style=a.style,
            inputs=tuple(
                Input(
                    name=x.name,
                    label=both(x.label, y.label),
                    required=x.required,
                    multiline=x.multiline,
                    options=x.options,
                    placeholder=both(x.placeholder, y.placeholder),
                    kind=x.kind,
                )
                for x, y in zip(a.inputs, b.inputs, strict=True)
            ),
        )
        for a, b in zip(first, second, strict=True)
    )


def draw_all(language: str, build: Callable[[], list[Card]]) -> list[Card]:
    """Several cards (an answer), each language drawn whole, merged card by card."""
    drawn = []
    for code in languages(language):
        with speaking(code):
            drawn.append(build())
    if any(len(cards) != len(drawn[0]) for cards in drawn):
        return drawn[0]  # cannot happen for one question; never show a half-merged answer
    merged = []
    for cards in zip(*drawn, strict=True):
        card = cards[0]
        for other in cards[1:]:
            card = _merge(card, other)
        merged.append(Card(**{**card.__dict__, "language": language}))
    return merged


def _merge_lines(first: tuple[str, ...], second: tuple[str, ...]) -> tuple[str, ...]:
    return first + (("",) if first and second else ()) + second
