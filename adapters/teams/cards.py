"""Cards as Adaptive Cards 1.5, and Action.Submit values back into the core's terms.

A Card's title sits in a band coloured by its RAG status (with the same emoji the other
platforms show), its lines are TextBlocks, its fields a FactSet, its footer small print.
A button with no inputs is an Action.Submit; a button with inputs opens (Action.ShowCard)
a small form of Input.Text / Input.ChoiceSet built from Button.inputs, whose Action.Submit
sends them. Every Action.Submit carries {"ns_payload": <the signed, opaque payload>,
"ns_button": n}; input ids are prefixed per button (ns<n>_<name>) so two forms on one card can
both have a "note".
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from typing import Any

from bot.i18n.catalogue import ENGLISH, languages
from bot.views.bilingual import SEPARATOR, option_label, say
from bot.views.cards import RAG_MARK, Button, Card, CardField, CardSection, Input, InputKind
from bot.views.platform_phrases import ADD_TO_CALENDAR, FORM_SEND, NEEDED, RAG_WORDS_TEAMS

CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
PAYLOAD_KEY = "ns_payload"
BUTTON_KEY = "ns_button"
# A date and time is two inputs on Teams (Input.Date + Input.Time); the time's id is the
# date's with this after it, and the two are joined again on submit.
TIME_SUFFIX = "__time"
MAX_PEOPLE = 100
ROW_STRIDE = 10  # more than any one briefing's buttons
# A typeahead's Data.Query names its dataset: this, then the reassign button's signed payload,
# so the application/search invoke says which briefing it is about without trusting the client.
PEOPLE_DATASET = "ns_people:"

RAG_STYLE = {"red": "attention", "amber": "warning", "green": "good", "grey": "emphasis"}
RAG_COLOUR = {"red": "Attention", "amber": "Warning", "green": "Good", "grey": "Default"}
BUTTON_STYLE = {"primary": "positive", "danger": "destructive"}

_BOLD = re.compile(r"(?<![*\w])\*([^*\n]+?)\*(?![*\w])")
_CODE = re.compile(r"`([^`\n]+)`")


def markdown(text: str) -> str:
    """The core writes Slack-style emphasis (*bold*, `code`); Adaptive Cards want **bold**."""
    text = _BOLD.sub(r"**\1**", text)
    return _CODE.sub(r"**\1**", text)


def _text(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": markdown(text), "wrap": True, **extra}


def _words(language: str, message: str, **values: str) -> str:
    return say(language, lambda tr: tr(message, **values), short=True)


def _inputs(prefix: str, spec: Input, language: str, now: datetime | None) -> list[dict[str, Any]]:
    """The form elements for one input: a date and time is a date picker and a time picker,
    both starting at `now` (the council's local time)."""
    element = _input(prefix, spec, language)
    if spec.kind != InputKind.DATETIME:
        return [element]
    for key in ("placeholder", "maxLength", "isMultiline"):
        element.pop(key, None)
    date = {**element, "type": "Input.Date"}
    # The date's label names both; the time picker sits just under it.
    time = {
        **{k: v for k, v in element.items() if k != "label"},
        "type": "Input.Time",
        "id": f"{element['id']}{TIME_SUFFIX}",
    }
    if now is not None:
        date["value"] = f"{now:%Y-%m-%d}"
        time["value"] = f"{now:%H:%M}"
    return [date, time]


def _input(prefix: str, spec: Input, language: str) -> dict[str, Any]:
    element: dict[str, Any] = {
        "id": f"{prefix}{spec.name}",
        "label": spec.label,
        "isRequired": spec.required,
    }
    if spec.required:
        # Each language's label says what is needed in that language.
        element["errorMessage"] = say(
            language,
            lambda tr: tr(NEEDED, label=_one_language(spec.label, tr.language, language)),
            short=True,
        )
    if spec.placeholder:
        element["placeholder"] = spec.placeholder
    if spec.kind == InputKind.PERSON and spec.search:
        # Too many people for a card: Teams asks the bot (application/search) as one types.
        element |= {
            "type": "Input.ChoiceSet",
            "style": "filtered",
            "choices": [],
            "choices.data": {"type": "Data.Query", "dataset": f"{PEOPLE_DATASET}{spec.search}"},
        }
    elif spec.kind == InputKind.PERSON and 0 < len(spec.options) <= MAX_PEOPLE:
        # Only the people the rules allow, by name; Teams filters the list as one types.
        # A longer list would outgrow a card (about 28 KB), so it stays a typed name.
        element.pop("placeholder", None)
        element |= {
            "type": "Input.ChoiceSet",
            "style": "filtered",
            "choices": [{"title": label, "value": value} for value, label in spec.named_options],
        }
    elif spec.options and spec.kind != InputKind.PERSON:
        element |= {
            "type": "Input.ChoiceSet",
            # A short list of methods reads best laid out; a pick of days stays compact.
            "style": "expanded" if spec.kind == InputKind.CHOICE else "compact",
            "choices": [
                {"title": option_label(language, spec.name, option), "value": option}
                for option in spec.options
            ],
        }
    else:
        element |= {"type": "Input.Text", "isMultiline": spec.multiline}
        if not spec.multiline:
            element["maxLength"] = 200
        else:
            element["maxLength"] = 2000
    return element


def _one_language(label: str, code: str, language: str) -> str:
    """One language's part of a bilingual label ('Pam? / Why?' → 'Pam' for cy)."""
    parts = label.split(SEPARATOR)
    codes = languages(language)
    text = parts[codes.index(code)] if len(parts) == len(codes) else label
    return text.rstrip("?:")


def _action(index: int, button: Button, language: str, now: datetime | None) -> dict[str, Any]:
    data = {PAYLOAD_KEY: button.payload, BUTTON_KEY: index}
    submit: dict[str, Any] = {"type": "Action.Submit", "title": button.label, "data": data}
    style = BUTTON_STYLE.get(button.style)
    if style:
        submit["style"] = style
    if not button.inputs:
        return submit
    prefix = f"ns{index}_"
    form = {
        "type": "AdaptiveCard",
        "body": [e for spec in button.inputs for e in _inputs(prefix, spec, language, now)],
        "actions": [{**submit, "title": _words(language, FORM_SEND)}],
    }
    return {"type": "Action.ShowCard", "title": button.label, "card": form}


def adaptive_card(card: Card, now: datetime | None = None) -> dict[str, Any]:
    """The Adaptive Card (a JSON-ready dict) for a core Card, its own words in the card's
    language; date and time pickers start at `now` (local time) when given."""
    language = card.language or ENGLISH
    if _people_offered(card) > MAX_PEOPLE:
        # Each member's row offers its own people to pass a briefing to; together they would
        # outgrow a card, so each is a typed name instead.
        card = card.with_buttons(_typed_people)
    mark = RAG_MARK.get(card.rag, "")
    heading: list[dict[str, Any]] = [
        _text(f"{mark} {card.title}".strip(), weight="Bolder", size="Medium")
    ]
    if card.rag:
        heading.append(
            _text(
                _words(language, RAG_WORDS_TEAMS[card.rag])
                if card.rag in RAG_WORDS_TEAMS
                else card.rag.title(),
                size="Small",
                weight="Bolder",
                spacing="None",
                color=RAG_COLOUR.get(card.rag, "Default"),
            )
        )
    title: dict[str, Any] = {"type": "Container", "items": heading, "bleed": True}
    if card.rag in RAG_STYLE:
        title["style"] = RAG_STYLE[card.rag]
    body: list[dict[str, Any]] = [title]
    gap = False
    for line in card.lines:
        if not line.strip():
            gap = True
            continue
        body.append(_text(line, spacing="Medium" if gap else "Small"))
        gap = False
    facts = _facts(card.fields)
    if facts:
        body.append(facts)
    # A form's input ids need a number unique on the card; each member's row numbers from its
    # own place, so a redraw that empties one row leaves the others' exactly as they were.
    for position, section in enumerate(card.sections):
        body.append(_section(section, len(card.buttons) + ROW_STRIDE * position, language, now))
    if card.footer:
        body.append(_text(card.footer, size="Small", isSubtle=True, spacing="Medium"))
    content: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": VERSION,
        "body": body,
        "msteams": {"width": "Full"},
    }
    if card.buttons:
        content["actions"] = [_action(i, b, language, now) for i, b in enumerate(card.buttons)]
    if card.calendar_url:
        content.setdefault("actions", []).append(
            {
                "type": "Action.OpenUrl",
                "title": _words(language, ADD_TO_CALENDAR),
                "url": card.calendar_url,
            }
        )
    return content


def _people_offered(card: Card) -> int:
    return sum(
        len(i.options) for b in card.all_buttons for i in b.inputs if i.kind == InputKind.PERSON
    )


def _typed_people(button: Button) -> Button:
    return replace(
        button,
        inputs=tuple(
            replace(i, options=(), option_labels=()) if i.kind == InputKind.PERSON else i
            for i in button.inputs
        ),
    )


def _facts(fields: tuple[CardField, ...]) -> dict[str, Any] | None:
    facts = [{"title": f.label, "value": markdown(f.value)} for f in fields if f.value]
    return {"type": "FactSet", "facts": facts, "spacing": "Medium"} if facts else None


def _section(
    section: CardSection, first: int, language: str, now: datetime | None
) -> dict[str, Any]:
    """One member of an officer's card about a decision: a Container with who, where it
    stands, and that briefing's own ActionSet (its buttons numbered from `first`)."""
    mark = RAG_MARK.get(section.rag, "")
    items: list[dict[str, Any]] = [_text(f"{mark} {section.title}".strip(), weight="Bolder")]
    items += [_text(line, spacing="Small") for line in section.lines if line.strip()]
    facts = _facts(section.fields)
    if facts:
        items.append({**facts, "spacing": "Small"})
    if section.buttons:
        items.append(
            {
                "type": "ActionSet",
                "actions": [
                    _action(first + i, b, language, now) for i, b in enumerate(section.buttons)
                ],
            }
        )
    return {"type": "Container", "items": items, "separator": True, "spacing": "Medium"}


def attachment(card: Card, now: datetime | None = None) -> dict[str, Any]:
    return {"contentType": CONTENT_TYPE, "content": adaptive_card(card, now)}


def searched_payload(dataset: Any) -> str | None:
    """The signed payload a typeahead's dataset carries; None if the dataset is not ours."""
    if not isinstance(dataset, str) or not dataset.startswith(PEOPLE_DATASET):
        return None
    return dataset[len(PEOPLE_DATASET) :]


def submitted(value: Any) -> tuple[str, dict[str, str]] | None:
    """(payload, inputs) from an Action.Submit value (or Action.Execute data); None if the
    value is not one of ours."""
    if not isinstance(value, dict):
        return None
    payload = value.get(PAYLOAD_KEY)
    if not isinstance(payload, str) or not payload:
        return None
    index = value.get(BUTTON_KEY)
    prefix = f"ns{index}_" if isinstance(index, int | str) else None
    inputs: dict[str, str] = {}
    if prefix is not None:
        for key, raw in value.items():
            if isinstance(key, str) and key.startswith(prefix) and raw not in (None, ""):
                inputs[key[len(prefix) :]] = str(raw).strip()
    for key in [k for k in inputs if k.endswith(TIME_SUFFIX)]:
        time = inputs.pop(key)
        day = inputs.get(key[: -len(TIME_SUFFIX)])
        if day and time:
            # What the core reads: ISO local time, taken in the council's time zone.
            inputs[key[: -len(TIME_SUFFIX)]] = f"{day}T{time}"
    return payload, {k: v for k, v in inputs.items() if v}
