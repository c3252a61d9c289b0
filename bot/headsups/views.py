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
from bot.i18n.catalogue import N_
from bot.views.bilingual import day as day_words
from bot.views.bilingual import words
from bot.views.cards import ActionKind, Button, Card, PayloadSigner

CHANNEL_WORDS = {
    Channel.PRESS_RELEASE: N_("a press release"),
    Channel.NEWSLETTER: N_("a ward newsletter"),
    Channel.SOCIAL_MEDIA: N_("a social media post"),
    Channel.COUNCIL_QUESTION: N_("a question at council"),
    Channel.OTHER: N_("something public"),
}
REASON_WORDS = {
    Reason.PORTFOLIO_HOLDER: N_("the portfolio holder"),
    Reason.WARD_COUNCILLOR: N_("a councillor for the ward"),
    Reason.LEAD_OFFICER: N_("the lead officer"),
    Reason.DIRECTOR: N_("the director"),
    Reason.COMMUNICATIONS: N_("the communications team"),
}
ABOUT_WARD = N_("{ward} ward")
ABOUT_PORTFOLIO = N_("the {portfolio} portfolio")
ABOUT_DECISION = "{ref} {title}"

CARD_TITLE = N_("Heads-up: {channel} about {subject}")
CARD_FROM = N_("From {sender}, {day}.")
CARD_WHY = N_("You are told as {reason}, so that nobody hears of it first from elsewhere.")
CARD_MESSAGE = "“{message}”"
CARD_MASKED = N_("What they will say is shown only to people entitled to see this exempt item.")
CARD_ACKNOWLEDGED = N_("You acknowledged this on {day}.")
ACKNOWLEDGE_LABEL = N_("Acknowledge")

SENT_TITLE = N_("Heads-up sent")
SENT_LINE = N_("{count} told of {channel} about {subject}:")
SENT_PERSON = "• {name} ({reason})"
SENT_LATER = N_("They will see it in their direct messages; each can acknowledge it.")

USAGE_TITLE = N_("How to give a heads-up")
USAGE = (
    N_("Tell the right people before you say or publish something:"),
    N_("`/headsup HBC-2027-003 press release: what you will say` — about a decision"),
    N_("`/headsup ward Millbrook newsletter: what you will say` — about a ward"),
    N_("`/headsup portfolio Housing social media: what you will say` — about a portfolio"),
    N_("What it is: press release, newsletter, social media or question (optional)."),
)
NOT_UNDERSTOOD = N_("Sorry, I could not read that heads-up, so nothing was sent.")
NO_DECISION = N_(
    "No item {ref} that you can see, so nothing was sent. Try `/surprises` for the list."
)
NO_WARD = N_("No ward called {ward} in the council's directory, so nothing was sent.")
NO_PORTFOLIO = N_(
    "No portfolio called {portfolio} in the council's directory, so nothing was sent."
)
TOO_LONG = N_(
    "That heads-up is {length:,} characters long, so nothing was sent: please keep it under "
    "{limit:,} and link to the rest."
)
NOBODY = N_("Nobody else needs telling about {subject}, so nothing was sent.")

ACKNOWLEDGED = N_("Thank you: {sender} will see that you have acknowledged their heads-up.")
ALREADY = N_("You had already acknowledged this heads-up.")
NOT_YOURS = N_("Sorry, this heads-up was sent to someone else, so nothing was changed.")
GONE = N_("Sorry, that heads-up could not be found, so nothing was changed.")

RECENT_HEADING = N_("*Heads-ups in the last {days} days*")
RECENT_LINE = N_("{day} {sender}: {channel} about {subject} — {acked} of {told} acknowledged")
RECENT_NONE = N_("None.")
WAITING_TITLE = N_("Heads-ups waiting for your acknowledgement")


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
        return words(ABOUT_WARD, ward=subject)
    if about == About.PORTFOLIO:
        return words(ABOUT_PORTFOLIO, portfolio=subject)
    return ABOUT_DECISION.format(ref=subject, title=title).strip()


def headsup_card(seen: Seen, *, calendar: CouncilCalendar, signer: PayloadSigner) -> Card:
    """The card a person told of a heads-up gets: what, from whom, why them, and Acknowledge."""
    lines = [words(CARD_FROM, sender=seen.sender_name, day=_day(calendar, seen.created_at))]
    lines.append(CARD_MESSAGE.format(message=seen.message) if seen.message else words(CARD_MASKED))
    if seen.reason is not None:
        lines.append(words(CARD_WHY, reason=words(REASON_WORDS[seen.reason])))
    buttons: tuple[Button, ...] = ()
    if seen.acknowledged_at is not None:
        lines.append(words(CARD_ACKNOWLEDGED, day=_day(calendar, seen.acknowledged_at)))
    elif seen.recipient_id is not None:
        payload = signer.sign(ActionKind.ACKNOWLEDGE_HEADSUP, seen.recipient_id, 1)
        buttons = (
            Button(
                words(ACKNOWLEDGE_LABEL), ActionKind.ACKNOWLEDGE_HEADSUP, payload, style="primary"
            ),
        )
    return Card(
        title=words(CARD_TITLE, channel=words(CHANNEL_WORDS[seen.channel]), subject=seen.subject),
        lines=tuple(lines),
        rag="green" if seen.acknowledged_at is not None else "amber",
        buttons=buttons,
    )


def sent_card(
    *, about: About, subject: str, channel: Channel, told: list[tuple[str, Reason]]
) -> Card:
    """What the sender sees once their heads-up is on its way."""
    lines = [
        words(SENT_LINE, count=len(told), channel=words(CHANNEL_WORDS[channel]), subject=subject),
        *(
            SENT_PERSON.format(name=name, reason=words(REASON_WORDS[reason]))
            for name, reason in told
        ),
        words(SENT_LATER),
    ]
    return Card(title=words(SENT_TITLE), lines=tuple(lines), rag="green")


def usage_card(problem: str = "") -> Card:
    """How to write /headsup, after a short apology if something could not be read."""
    usage = tuple(words(line) for line in USAGE)
    return Card(title=words(USAGE_TITLE), lines=((problem,) if problem else ()) + usage)


def recent_lines(seen: list[Seen], *, calendar: CouncilCalendar, days: int) -> list[str]:
    """The lines under "Heads-ups in the last N days", newest first."""
    lines = ["", words(RECENT_HEADING, days=days)]
    for item in seen:
        lines.append(
            words(
                RECENT_LINE,
                day=_day(calendar, item.created_at),
                sender=item.sender_name,
                channel=words(CHANNEL_WORDS[item.channel]),
                subject=item.subject,
                acked=item.acked,
                told=item.told,
            )
        )
    if not seen:
        lines.append(words(RECENT_NONE))
    return lines


def _day(calendar: CouncilCalendar, moment: datetime) -> str:
    return day_words(calendar.local_date(moment))
