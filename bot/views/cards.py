"""Platform-neutral messages: a Card with typed, signed buttons, and the Actions they produce.

Adapters render Cards (Block Kit, Adaptive Cards, plain text) and turn clicks into Actions;
no Slack or Teams type ever crosses into the core.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

# The same mark beside a card's title on every platform.
RAG_MARK = {"red": "🔴", "amber": "🟠", "grey": "⚪", "green": "🟢", "": ""}


class ActionKind(StrEnum):
    LOG_BRIEFING = "log_briefing"
    SNOOZE = "snooze"
    NOT_NEEDED = "not_needed"
    REASSIGN = "reassign"
    ACKNOWLEDGE = "acknowledge"
    NOT_YET_BRIEFED = "not_yet_briefed"
    NEED_MORE_INFO = "need_more_info"
    # On an escalation: what a director or the chief executive can do next.
    REMIND_BRIEFER = "remind_briefer"
    ASK_DIRECTOR = "ask_director"
    NOTED = "noted"
    # A second pair of eyes on "not needed" (portfolio holder, leader) or an exempt hand-over.
    APPROVE = "approve"
    DECLINE = "decline"
    # About a decision rather than one briefing: the button's id is the decision's.
    SCRUTINY_ACKNOWLEDGE = "scrutiny_acknowledge"
    RECORD_URGENCY = "record_urgency"
    # Not a briefing's: the payload's id is a heads-up recipient row (bot.headsups).
    ACKNOWLEDGE_HEADSUP = "acknowledge_headsup"


BRIEFER_ACTIONS = frozenset(
    {ActionKind.LOG_BRIEFING, ActionKind.SNOOZE, ActionKind.NOT_NEEDED, ActionKind.REASSIGN}
)
MEMBER_ACTIONS = frozenset(
    {ActionKind.ACKNOWLEDGE, ActionKind.NOT_YET_BRIEFED, ActionKind.NEED_MORE_INFO}
)
ESCALATION_ACTIONS = frozenset(
    {ActionKind.REMIND_BRIEFER, ActionKind.ASK_DIRECTOR, ActionKind.NOTED}
)
APPROVER_ACTIONS = frozenset({ActionKind.APPROVE, ActionKind.DECLINE})
DECISION_ACTIONS = frozenset({ActionKind.SCRUTINY_ACKNOWLEDGE, ActionKind.RECORD_URGENCY})
BRIEFING_METHODS = ("meeting", "call", "email", "chat")


class InputKind(StrEnum):
    """What a field is, so each adapter can offer its own native control for it."""

    TEXT = "text"
    DATETIME = "datetime"
    CHOICE = "choice"
    PERSON = "person"
    DAYS = "days"


@dataclass(frozen=True)
class Input:
    """A value a button needs before it can act (a modal field, a console key=value)."""

    name: str
    label: str
    required: bool = False
    multiline: bool = False
    options: tuple[str, ...] = ()
    placeholder: str = ""
    kind: InputKind = InputKind.TEXT
    # How each option is shown, when not one of the core's own words (a person's name).
    option_labels: tuple[str, ...] = ()
    # Too many people to list: the signed key a platform quotes back to the core
    # (bot.service.eligible_officers) to ask who matches what the person types.
    search: str = ""

    @property
    def named_options(self) -> tuple[tuple[str, str], ...]:
        """(value, label) for each option, the label its own where given (a person's name)."""
        return tuple(zip(self.options, self.option_labels or self.options, strict=True))


@dataclass(frozen=True)
class Button:
    label: str
    kind: ActionKind
    payload: str  # signed, opaque to adapters
    style: str = "default"  # primary | danger | default
    inputs: tuple[Input, ...] = ()


@dataclass(frozen=True)
class CardField:
    label: str
    value: str


@dataclass(frozen=True)
class CardSection:
    """One member's part of an officer's card about a decision: that briefing's state, due
    date and its own buttons (payloads stay per briefing)."""

    title: str
    lines: tuple[str, ...] = ()
    fields: tuple[CardField, ...] = ()
    rag: str = ""
    buttons: tuple[Button, ...] = ()
    briefing_id: int | None = None


@dataclass(frozen=True)
class Card:
    title: str
    lines: tuple[str, ...] = ()
    fields: tuple[CardField, ...] = ()
    rag: str = ""  # red | amber | grey | green | ""
    buttons: tuple[Button, ...] = ()
    footer: str = ""
    briefing_id: int | None = None
    # The language it was drawn in (en, cy, cy+en), so adapters word their own parts alike.
    language: str = ""
    # A signed link to this person's calendar hold for the briefing ("Add to calendar").
    calendar_url: str = ""
    # An officer owed several briefings on one decision: one section per member.
    sections: tuple[CardSection, ...] = ()

    @property
    def all_buttons(self) -> tuple[Button, ...]:
        """Every button on the card, the card's own first, then each section's in order."""
        return self.buttons + tuple(b for s in self.sections for b in s.buttons)

    def with_buttons(self, change: Callable[[Button], Button]) -> Card:
        """The card with `change` applied to every button, its sections' too."""
        return replace(
            self,
            buttons=tuple(change(b) for b in self.buttons),
            sections=tuple(
                replace(s, buttons=tuple(change(b) for b in s.buttons)) for s in self.sections
            ),
        )

    @property
    def text(self) -> str:
        """A plain fallback (notifications, screen readers)."""
        return " ".join((self.title, *self.lines)).strip()

    def to_dict(self) -> dict[str, Any]:
        """The card as plain data, exactly as `dataclasses.asdict` gives it, written out field
        by field: `asdict` deep-copies every value and was most of drawing a sweep's notices."""
        return {
            **_heading_dict(self),
            "footer": self.footer,
            "briefing_id": self.briefing_id,
            "language": self.language,
            "calendar_url": self.calendar_url,
            "sections": tuple(
                {**_heading_dict(s), "briefing_id": s.briefing_id} for s in self.sections
            ),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Card:
        return cls(
            title=data["title"],
            lines=tuple(data.get("lines", ())),
            fields=tuple(CardField(**f) for f in data.get("fields", ())),
            rag=data.get("rag", ""),
            buttons=_buttons_from(data.get("buttons", ())),
            footer=data.get("footer", ""),
            briefing_id=data.get("briefing_id"),
            language=data.get("language", ""),
            calendar_url=data.get("calendar_url", ""),
            sections=tuple(
                CardSection(
                    title=s["title"],
                    lines=tuple(s.get("lines", ())),
                    fields=tuple(CardField(**f) for f in s.get("fields", ())),
                    rag=s.get("rag", ""),
                    buttons=_buttons_from(s.get("buttons", ())),
                    briefing_id=s.get("briefing_id"),
                )
                for s in data.get("sections", ())
            ),
        )


def _copied(values: tuple[str, ...]) -> tuple[str, ...]:
    """A tuple of strings as it is (immutable); any other sequence copied, as `asdict` does."""
    return values if type(values) is tuple else type(values)(values)


def _heading_dict(part: Card | CardSection) -> dict[str, Any]:
    """The fields a card and a section share, first in both, in their declared order."""
    return {
        "title": part.title,
        "lines": _copied(part.lines),
        "fields": tuple(_field_dict(f) for f in part.fields),
        "rag": part.rag,
        "buttons": tuple(_button_dict(b) for b in part.buttons),
    }


def _field_dict(f: CardField) -> dict[str, Any]:
    return {"label": f.label, "value": f.value}


def _button_dict(b: Button) -> dict[str, Any]:
    return {
        "label": b.label,
        "kind": b.kind,
        "payload": b.payload,
        "style": b.style,
        "inputs": tuple(
            {
                "name": i.name,
                "label": i.label,
                "required": i.required,
                "multiline": i.multiline,
                "options": _copied(i.options),
                "placeholder": i.placeholder,
                "kind": i.kind,
                "option_labels": _copied(i.option_labels),
                "search": i.search,
            }
            for i in b.inputs
        ),
    }


def _buttons_from(data: Iterable[dict[str, Any]]) -> tuple[Button, ...]:
    return tuple(
        Button(
            label=b["label"],
            kind=ActionKind(b["kind"]),
            payload=b["payload"],
            style=b.get("style", "default"),
            inputs=tuple(
                Input(
                    **{
                        **i,
                        "options": tuple(i.get("options", ())),
                        "kind": InputKind(i.get("kind", InputKind.TEXT)),
                        "option_labels": tuple(i.get("option_labels", ())),
                    }
                )
                for i in b.get("inputs", ())
            ),
        )
        for b in data
    )


@dataclass(frozen=True)
class Action:
    """A click or command from any platform, with the actor identified by email."""

    kind: ActionKind
    actor_email: str
    platform: str
    briefing_id: int
    version: int
    inputs: dict[str, str] = field(default_factory=dict)


class BadPayload(ValueError):
    """A button payload that was tampered with or is malformed."""


def _payload_body(kind: ActionKind, briefing_id: int, version: int) -> str:
    """What json.dumps(separators=(",", ":")) writes for a payload, without building an
    encoder per call: every card carries several buttons, drawn a thousand times a second."""
    return f'{{"a":"{kind.value}","b":{briefing_id},"v":{version}}}'


class PayloadSigner:
    """Signs button payloads so a crafted or edited value is refused."""

    def __init__(self, key: bytes) -> None:
        self._key = key
        # The key's HMAC state, keyed once and copied for each payload: a copy costs less
        # than keying anew, and (unlike the one-shot `hmac.digest`, which lets go of the GIL
        # for every call) keeps a short payload's signature on the drawing thread.
        self._keyed = hmac.new(key, digestmod="sha256")

    def _sig(self, body: str) -> str:
        signature = self._keyed.copy()
        signature.update(body.encode())
        return signature.hexdigest()[:20]

    def sign(self, kind: ActionKind, briefing_id: int, version: int) -> str:
        body = _payload_body(kind, briefing_id, version)
        return f'{body[:-1]},"s":"{self._sig(body)}"}}'

    def open(self, payload: str) -> tuple[ActionKind, int, int]:
        """Validate a payload; raise BadPayload if it is malformed or its signature is wrong."""
        try:
            data = json.loads(payload)
            kind = ActionKind(data["a"])
            briefing_id, version, sig = data["b"], data["v"], data["s"]
        except (ValueError, KeyError, TypeError) as exc:
            raise BadPayload("malformed button payload") from exc
        if (
            not isinstance(briefing_id, int)
            or not isinstance(version, int)
            or set(data) != {"a", "b", "v", "s"}
        ):
            raise BadPayload("malformed button payload")
        body = _payload_body(kind, briefing_id, version)
        if not isinstance(sig, str) or not hmac.compare_digest(sig, self._sig(body)):
            raise BadPayload("button payload signature does not match")
        return kind, briefing_id, version
