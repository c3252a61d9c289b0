"""What people see of a heads-up: its card, the sender's confirmation, and the lines under
"Heads-ups in the last 14 days". Every person-facing word is a named constant here.

An exempt item's title and the sender's words about it reach only people entitled to them,
and only in a direct message; everyone else sees "Exempt item (paragraph N)".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.decisions.calendar import CouncilCalendar
from bot.headsups.rules import About, Channel, Reason
from bot.timeutil import short_date
from bot.views.cards import ActionKind, Button, Card, PayloadSigner

CHANNEL_WORDS = {
    Channel.PRESS_RELEASE: "a press release",
    Channel.NEWSLETTER: "a ward newsletter",
    Channel.SOCIAL_MEDIA: "a social media post",
    Channel.COUNCIL_QUESTION: "a question at council",
    Channel.OTHER: "something public",
}
REASON_WORDS = {
    Reason.PORTFOLIO_HOLDER: "the portfolio holder",
    Reason.WARD_COUNCILLOR: "a councillor for the ward",
    Reason.LEAD_OFFICER: "the lead officer",
    Reason.DIRECTOR: "the director",
    Reason.COMMUNICATIONS: "the communications team",
}
ABOUT_WARD = "{ward} ward"
ABOUT_PORTFOLIO = "the {portfolio} portfolio"
ABOUT_DECISION = "{ref} {title}"

CARD_TITLE = "Heads-up: {channel} about {subject}"
CARD_FROM = "From {sender}, {day}."
CARD_WHY = "You are told as {reason}, so that nobody hears of it first from elsewhere."
CARD_MESSAGE = "“{message}”"
CARD_MASKED = "What they will say is shown only to people entitled to see this exempt item."
CARD_ACKNOWLEDGED = "You acknowledged this on {day}."
ACKNOWLEDGE_LABEL = "Acknowledge"

SENT_TITLE = "Heads-up sent"
SENT_LINE = "{count} told of {channel} about {subject}:"
SENT_PERSON = "• {name} ({reason})"
SENT_LATER = "They will see it in their direct messages; each can acknowledge it."

USAGE_TITLE = "How to give a heads-up"
USAGE = (
    "Tell the right people before you say or publish something:",
    "`/headsup HBC-2027-003 press release: what you will say` — about a decision",
    "`/headsup ward Millbrook newsletter: what you will say` — about a ward",
    "`/headsup portfolio Housing social media: what you will say` — about a portfolio",
    "What it is: press release, newsletter, social media or question (optional).",
)
NOT_UNDERSTOOD = "Sorry, I could not read that heads-up, so nothing was sent."
NO_DECISION = "No item {ref} that you can see, so nothing was sent. Try `/surprises` for the list."
NO_WARD = "No ward called {ward} in the council's directory, so nothing was sent."
NO_PORTFOLIO = "No portfolio called {portfolio} in the council's directory, so nothing was sent."
TOO_LONG = (
    "That heads-up is {length:,} characters long, so nothing was sent: please keep it under "
    "{limit:,} and link to the rest."
)
NOBODY = "Nobody else needs telling about {subject}, so nothing was sent."

ACKNOWLEDGED = "Thank you: {sender} will see that you have acknowledged their heads-up."
ALREADY = "You had already acknowledged this heads-up."
NOT_YOURS = "Sorry, this heads-up was sent to someone else, so nothing was changed."
GONE = "Sorry, that heads-up could not be found, so nothing was changed."

RECENT_HEADING = "*Heads-ups in the last {days} days*"
RECENT_LINE = "{day} {sender}: {channel} about {subject} — {acked} of {told} acknowledged"
RECENT_NONE = "None."
WAITING_TITLE = "Heads-ups waiting for your acknowledgement"


@dataclass(frozen=True)
class Seen:
    """A heads-up as one viewer may see it (exempt details already masked or not)."""

    recipient_id: int | None  # the viewer's own row, if they were told
    sender_name: str
    channel: Channel
    about: About
    subject: str  # already masked if need be
    message: str  # "" when masked
    reason: Reason | None
    created_at: datetime
    acknowledged_at: datetime | None
    told: int = 0
    acked: int = 0


def subject_text(about: About, subject: str, title: str = "") -> str:
    """How the thing a heads-up is about reads in a sentence."""
    if about == About.WARD:
        return ABOUT_WARD.format(ward=subject)
    if about == About.PORTFOLIO:
        return ABOUT_PORTFOLIO.format(portfolio=subject)
    return ABOUT_DECISION.format(ref=subject, title=title).strip()


def headsup_card(seen: Seen, *, calendar: CouncilCalendar, signer: PayloadSigner) -> Card:
    """The card a person told of a heads-up gets: what, from whom, why them, and Acknowledge."""
    lines = [CARD_FROM.format(sender=seen.sender_name, day=_day(calendar, seen.created_at))]
    lines.append(CARD_MESSAGE.format(message=seen.message) if seen.message else CARD_MASKED)
    if seen.reason is not None:
        lines.append(CARD_WHY.format(reason=REASON_WORDS[seen.reason]))
    buttons: tuple[Button, ...] = ()
    if seen.acknowledged_at is not None:
        lines.append(CARD_ACKNOWLEDGED.format(day=_day(calendar, seen.acknowledged_at)))
    elif seen.recipient_id is not None:
        payload = signer.sign(ActionKind.ACKNOWLEDGE_HEADSUP, seen.recipient_id, 1)
        buttons = (
            Button(ACKNOWLEDGE_LABEL, ActionKind.ACKNOWLEDGE_HEADSUP, payload, style="primary"),
        )
    return Card(
        title=CARD_TITLE.format(channel=CHANNEL_WORDS[seen.channel], subject=seen.subject),
        lines=tuple(lines),
        rag="green" if seen.acknowledged_at is not None else "amber",
        buttons=buttons,
    )


def sent_card(
    *, about: About, subject: str, channel: Channel, told: list[tuple[str, Reason]]
) -> Card:
    """What the sender sees once their heads-up is on its way."""
    lines = [
        SENT_LINE.format(count=len(told), channel=CHANNEL_WORDS[channel], subject=subject),
        *(SENT_PERSON.format(name=name, reason=REASON_WORDS[reason]) for name, reason in told),
        SENT_LATER,
    ]
    return Card(title=SENT_TITLE, lines=tuple(lines), rag="green")


def usage_card(problem: str = "") -> Card:
    """How to write /headsup, after a short apology if something could not be read."""
    return Card(title=USAGE_TITLE, lines=((problem,) if problem else ()) + USAGE)


def recent_lines(seen: list[Seen], *, calendar: CouncilCalendar, days: int) -> list[str]:
    """The lines under "Heads-ups in the last N days", newest first."""
    lines = ["", RECENT_HEADING.format(days=days)]
    for item in seen:
        lines.append(
            RECENT_LINE.format(
                day=_day(calendar, item.created_at),
                sender=item.sender_name,
                channel=CHANNEL_WORDS[item.channel],
                subject=item.subject,
                acked=item.acked,
                told=item.told,
            )
        )
    if not seen:
        lines.append(RECENT_NONE)
    return lines


def _day(calendar: CouncilCalendar, moment: datetime) -> str:
    return short_date(calendar.local_date(moment))
