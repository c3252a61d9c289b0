"""The pure rules of a heads-up: reading `/headsup …`, and choosing who must be told.

No I/O and no clock: the directory is an in-memory snapshot, the decision a plain record.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from bot.store.directory import Directory


class About(StrEnum):
    DECISION = "decision"
    WARD = "ward"
    PORTFOLIO = "portfolio"


class Channel(StrEnum):
    PRESS_RELEASE = "press_release"
    NEWSLETTER = "newsletter"
    SOCIAL_MEDIA = "social_media"
    COUNCIL_QUESTION = "council_question"
    OTHER = "other"


class Reason(StrEnum):
    """Why the rules chose someone, in the order they are listed."""

    PORTFOLIO_HOLDER = "portfolio_holder"
    WARD_COUNCILLOR = "ward_councillor"
    LEAD_OFFICER = "lead_officer"
    DIRECTOR = "director"
    COMMUNICATIONS = "communications"


# The words people use for what they are about to do, longest first so "ward newsletter"
# wins over "newsletter".
CHANNEL_WORDS: tuple[tuple[str, Channel], ...] = (
    ("question at council", Channel.COUNCIL_QUESTION),
    ("council question", Channel.COUNCIL_QUESTION),
    ("ward newsletter", Channel.NEWSLETTER),
    ("press release", Channel.PRESS_RELEASE),
    ("social media", Channel.SOCIAL_MEDIA),
    ("newsletter", Channel.NEWSLETTER),
    ("question", Channel.COUNCIL_QUESTION),
    ("social", Channel.SOCIAL_MEDIA),
    ("press", Channel.PRESS_RELEASE),
    ("post", Channel.SOCIAL_MEDIA),
    ("other", Channel.OTHER),
)


class BadHeadsUp(ValueError):
    """The words after /headsup cannot be read; the message says how to write them."""


@dataclass(frozen=True)
class Request:
    about: About
    subject: str  # a reference (upper case), a ward or a portfolio, as typed
    channel: Channel
    message: str


def parse(text: str) -> Request:
    """Read `[ward NAME | portfolio NAME | REF] [press release|newsletter|…]: what you will say`."""
    words = re.sub(r"^/?headsup\b", "", text.strip(), flags=re.IGNORECASE).strip()
    head, colon, message = words.partition(":")
    head, message = head.strip(), " ".join(message.split())
    if not colon or not head or not message:
        raise BadHeadsUp("missing")
    channel = Channel.OTHER
    lowered = head.lower()
    for phrase, found in CHANNEL_WORDS:
        if lowered == phrase or lowered.endswith(" " + phrase):
            channel = found
            head = head[: len(head) - len(phrase)].strip()
            break
    kind, _, rest = head.partition(" ")
    if kind.lower() == About.WARD and rest.strip():
        return Request(About.WARD, rest.strip(), channel, message)
    if kind.lower() == About.PORTFOLIO and rest.strip():
        return Request(About.PORTFOLIO, rest.strip(), channel, message)
    if head and " " not in head:
        return Request(About.DECISION, head.upper(), channel, message)
    raise BadHeadsUp("subject")


class DecisionLike(Protocol):
    portfolio: str
    portfolio_holder: str
    lead_officer_email: str
    all_wards: bool
    wards: list[str]


@dataclass(frozen=True)
class Recipient:
    email: str
    reason: Reason


def for_decision(
    decision: DecisionLike, directory: Directory, *, sender: str, communications: Sequence[str]
) -> list[Recipient]:
    """The portfolio holder, the wards' councillors (not for All Wards: that is everyone), the
    lead officer, their director, and the communications team."""
    portfolio = directory.portfolio(decision.portfolio) or directory.portfolio_of_holder(
        decision.portfolio_holder
    )
    found: list[tuple[str, Reason]] = []
    if portfolio is not None:
        found.append((portfolio.holder_email, Reason.PORTFOLIO_HOLDER))
    if not decision.all_wards:
        found += _councillors(directory, decision.wards)
    lead = decision.lead_officer_email.lower()
    found.append((lead, Reason.LEAD_OFFICER))
    director = directory.director_of(lead) if lead else ""
    found.append((director or (portfolio.director_email if portfolio else ""), Reason.DIRECTOR))
    return _finish(found, directory, sender, communications)


def for_ward(
    ward: str, directory: Directory, *, sender: str, communications: Sequence[str]
) -> list[Recipient]:
    """The ward's councillors and the communications team."""
    return _finish(_councillors(directory, [ward]), directory, sender, communications)


def for_portfolio(
    name: str, directory: Directory, *, sender: str, communications: Sequence[str]
) -> list[Recipient]:
    """The portfolio holder, the portfolio's director and the communications team."""
    portfolio = directory.portfolio(name)
    found: list[tuple[str, Reason]] = []
    if portfolio is not None:
        found = [
            (portfolio.holder_email, Reason.PORTFOLIO_HOLDER),
            (portfolio.director_email, Reason.DIRECTOR),
        ]
    return _finish(found, directory, sender, communications)


def _councillors(directory: Directory, wards: Iterable[str]) -> list[tuple[str, Reason]]:
    return [(e, Reason.WARD_COUNCILLOR) for w in wards for e in directory.ward_councillors(w)]


def _finish(
    found: list[tuple[str, Reason]],
    directory: Directory,
    sender: str,
    communications: Sequence[str],
) -> list[Recipient]:
    """Each person once (under their first reason), never the sender, only people the
    directory knows (a message to anyone else could not be delivered)."""
    found = found + [(e, Reason.COMMUNICATIONS) for e in communications]
    chosen: dict[str, Reason] = {}
    for email, reason in found:
        email = email.lower()
        if email and email != sender.lower() and directory.person(email) is not None:
            chosen.setdefault(email, reason)
    return [Recipient(email, reason) for email, reason in chosen.items()]
