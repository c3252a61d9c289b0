"""Cards as Block Kit, within Slack's limits, and the modal that collects a button's inputs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from bot.i18n.catalogue import ENGLISH
from bot.views.bilingual import option_label, say
from bot.views.cards import RAG_MARK, ActionKind, Button, Card, CardField, Input, InputKind
from bot.views.platform_phrases import ADD_TO_CALENDAR, MODAL_CANCEL, MODAL_SAVE, SHORTENED

ACTION_PREFIX = "ns:"
MODAL = "ns_modal"
CALENDAR_ACTION = "ns_calendar"  # a link button: Slack still reports the click, to be acked
PEOPLE_SEARCH = "ns_people"  # an external_select: Slack asks the bot for options as one types
# Slack's limits: 50 blocks a message (100 in a view), 3000 characters a section, 150 a
# header, 10 fields a section, 2000 characters a button value.
MAX_BLOCKS, MAX_HOME_BLOCKS, MAX_SECTION, MAX_HEADER, MAX_FIELDS = 50, 100, 3000, 150, 10
MAX_OPTIONS = 100  # a static_select's limit, and an options answer's


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": clip(text or " ", MAX_SECTION)}


def card_blocks(card: Card, *, limit: int = MAX_BLOCKS) -> list[dict[str, Any]]:
    """A card as Block Kit, within Slack's limits: long cards are cut with a note, never lost."""
    mark = RAG_MARK.get(card.rag, "")
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": clip(f"{mark} {card.title}".strip(), MAX_HEADER),
            },
        }
    ]
    # Lines are grouped into sections of up to 3000 characters.
    chunk = ""
    for line in card.lines:
        candidate = f"{chunk}\n{line}" if chunk else line
        if len(candidate) > MAX_SECTION and chunk:
            blocks.append({"type": "section", "text": mrkdwn(chunk)})
            chunk = line
        else:
            chunk = candidate
    if chunk.strip():
        blocks.append({"type": "section", "text": mrkdwn(chunk)})
    blocks += _field_blocks(card.fields)
    if card.buttons:
        blocks.append(
            {
                "type": "actions",
                "block_id": f"ns_buttons_{card.briefing_id or 0}",
                "elements": [_button(b) for b in card.buttons[:24]] + _calendar_link(card),
            }
        )
    for section in card.sections:
        # One member of an officer's card about a decision: who, where it stands, and that
        # briefing's own row of buttons.
        # Two blocks a member (who and where it stands, then the buttons), so a card of
        # twenty-odd members stays within Slack's fifty.
        mark = RAG_MARK.get(section.rag, "")
        text = "\n".join((f"{mark} *{section.title}*".strip(), *section.lines))
        row: dict[str, Any] = {"type": "section", "text": mrkdwn(text)}
        fields = _field_blocks(section.fields)
        if fields:
            row["fields"] = fields[0]["fields"]
        blocks.append(row)
        if section.buttons:
            blocks.append(
                {
                    "type": "actions",
                    "block_id": f"ns_buttons_{section.briefing_id or 0}",
                    "elements": [_button(b) for b in section.buttons[:25]],
                }
            )
    if card.sections and not card.buttons and card.calendar_url:
        blocks.append(
            {
                "type": "actions",
                "block_id": f"ns_calendar_{card.briefing_id or 0}",
                "elements": _calendar_link(card),
            }
        )
    if card.footer:
        blocks.append({"type": "context", "elements": [mrkdwn(card.footer)]})
    if len(blocks) > limit:
        kept = blocks[: limit - 1]
        note = say(card.language or ENGLISH, lambda tr: tr(SHORTENED), short=True)
        kept.append({"type": "context", "elements": [mrkdwn(note)]})
        blocks = kept
    return blocks


def _field_blocks(fields: tuple[CardField, ...]) -> list[dict[str, Any]]:
    """Fields as sections of up to ten, the empty ones left out."""
    shown = [f for f in fields if f.value]
    return [
        {
            "type": "section",
            "fields": [
                mrkdwn(f"*{f.label}*\n{clip(f.value, 1900)}")
                for f in shown[start : start + MAX_FIELDS]
            ],
        }
        for start in range(0, len(shown), MAX_FIELDS)
    ]


def _calendar_link(card: Card) -> list[dict[str, Any]]:
    if not card.calendar_url:
        return []
    label = say(card.language or ENGLISH, lambda tr: tr(ADD_TO_CALENDAR), short=True)
    return [
        {
            "type": "button",
            "action_id": CALENDAR_ACTION,
            "text": {"type": "plain_text", "text": clip(label, 75)},
            "url": card.calendar_url,
        }
    ]


def _button(button: Button) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "action_id": f"{ACTION_PREFIX}{button.kind.value}",
        "text": {"type": "plain_text", "text": clip(button.label, 75)},
        "value": button.payload,
    }
    if button.style in ("primary", "danger"):
        element["style"] = button.style
    return element


def modal_view(
    button_kind: ActionKind,
    label: str,
    inputs: tuple[Input, ...],
    metadata: dict[str, Any],
    language: str = ENGLISH,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A modal collecting a button's inputs, its own words in `language` (the label and the
    inputs come drawn in it); private_metadata carries the signed payload. A date and time
    is Slack's own picker, starting at `now`."""
    blocks = []
    for item in inputs:
        if item.kind == InputKind.DATETIME:
            element: dict[str, Any] = {"type": "datetimepicker", "action_id": item.name}
            if now is not None:
                element["initial_date_time"] = int(now.timestamp())
        elif item.kind == InputKind.PERSON and item.search:
            element = people_search(item)
        elif item.kind == InputKind.PERSON and 0 < len(item.options) <= MAX_OPTIONS:
            # Only the people the rules allow, by name; a longer list stays a typed name.
            element = {
                "type": "static_select",
                "action_id": item.name,
                "options": people_options(list(item.named_options)),
            }
        elif item.options and item.kind != InputKind.PERSON:
            element = {
                # A short list reads best laid out; a pick of days stays a compact menu.
                "type": "radio_buttons" if item.kind == InputKind.CHOICE else "static_select",
                "action_id": item.name,
                "options": [
                    {
                        "text": {
                            "type": "plain_text",
                            "text": option_label(language, item.name, o),
                        },
                        "value": o,
                    }
                    for o in item.options
                ],
            }
        else:
            element = {
                "type": "plain_text_input",
                "action_id": item.name,
                "multiline": item.multiline,
            }
            if item.placeholder:
                element["placeholder"] = {"type": "plain_text", "text": item.placeholder}
        blocks.append(
            {
                "type": "input",
                "block_id": item.name,
                "optional": not item.required,
                "label": {"type": "plain_text", "text": item.label},
                "element": element,
            }
        )
    return {
        "type": "modal",
        "callback_id": MODAL,
        "title": {"type": "plain_text", "text": clip(label, 24)},
        "submit": {"type": "plain_text", "text": clip(_short(language, MODAL_SAVE), 24)},
        "close": {"type": "plain_text", "text": clip(_short(language, MODAL_CANCEL), 24)},
        "private_metadata": json.dumps(metadata),
        "blocks": blocks,
    }


def people_search(item: Input) -> dict[str, Any]:
    """A menu whose options Slack asks the bot for as the person types (too many people to
    list); the modal's private_metadata says which briefing, signed."""
    element: dict[str, Any] = {
        "type": "external_select",
        "action_id": PEOPLE_SEARCH,
        "min_query_length": 1,
    }
    if item.placeholder:
        element["placeholder"] = {"type": "plain_text", "text": clip(item.placeholder, 150)}
    return element


def people_options(people: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """An options answer for an external_select: (value, name) each, within Slack's limits."""
    return [
        {"text": {"type": "plain_text", "text": clip(name, 75)}, "value": value}
        for value, name in people[:MAX_OPTIONS]
    ]


def _short(language: str, message: str) -> str:
    return say(language, lambda tr: tr(message), short=True)


def modal_inputs(view: dict[str, Any]) -> dict[str, str]:
    """The values a person typed or chose in the modal, by input name."""
    values: dict[str, str] = {}
    for block_id, block in view.get("state", {}).get("values", {}).items():
        for action in block.values():
            if action.get("type") in ("static_select", "external_select", "radio_buttons"):
                chosen = action.get("selected_option") or {}
                values[block_id] = chosen.get("value", "")
            elif action.get("type") == "datetimepicker":
                # Epoch seconds from the picker; the core reads ISO text with an offset.
                chosen_at = action.get("selected_date_time")
                values[block_id] = (
                    datetime.fromtimestamp(chosen_at, UTC).isoformat()
                    if isinstance(chosen_at, int)
                    else ""
                )
            else:
                values[block_id] = action.get("value") or ""
    return values
