"""Calendar holds (RFC 5545): a briefing's deadline and its decision's date, for one person.

Calendars are synced to mail servers and shared with assistants, so an exempt item's title
never appears in one: it reads "Exempt item (paragraph N)" for everyone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta

import icalendar

from bot.decisions.rules import exempt_label
from bot.store.models import Briefing, Decision
from bot.timeutil import short_date
from bot.views.access import is_exempt
from bot.views.email_phrases import (
    CALENDAR_NAME,
    EVENT_BRIEFING_DUE,
    EVENT_BRIEFING_DUE_TEXT,
    EVENT_DECISION,
    EVENT_DECISION_TEXT,
)
from bot.views.renderer import STATE_WORDS, Renderer

PRODID = "-//No Surprises//Member briefings//EN"
UID_DOMAIN = "nosurprises.invalid"
DUE_HOLD = timedelta(minutes=30)  # the hold sits in the half hour before the deadline


def calendar_title(decision: Decision) -> str:
    """What a calendar may say about a decision: its title, or the exempt label."""
    if is_exempt(decision.restriction):
        return exempt_label(decision.exempt_paragraphs)
    return decision.title


def _uid(*parts: object) -> str:
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:24]
    return f"{digest}@{UID_DOMAIN}"


def briefing_events(
    renderer: Renderer,
    briefing: Briefing,
    decision: Decision,
    *,
    viewer: str,
    now: datetime,
) -> list[icalendar.Event]:
    """The deadline hold and the decision day, as this viewer's calendar should hold them."""
    title = calendar_title(decision)
    due_day = renderer.calendar.local_date(briefing.due_at)
    when = f"{decision.decision_maker or 'decision'}, {short_date(decision.decision_due)}"
    due = icalendar.Event()
    due.add("uid", _uid("due", briefing.id, viewer))
    due.add("dtstamp", now)
    due.add("dtstart", briefing.due_at - DUE_HOLD)
    due.add("dtend", briefing.due_at)
    due.add("summary", EVENT_BRIEFING_DUE.format(title=title))
    due.add(
        "description",
        EVENT_BRIEFING_DUE_TEXT.format(
            member=renderer.name(briefing.member_email),
            briefer=renderer.name(briefing.briefer_email),
            title=title,
            ref=decision.ref,
            due=short_date(due_day),
            when=when,
            status=STATE_WORDS[briefing.state],
        ),
    )
    due.add("transp", "TRANSPARENT")  # a reminder, not time taken out of the diary
    day = icalendar.Event()
    day.add("uid", _uid("decision", decision.id, viewer))
    day.add("dtstamp", now)
    day.add("dtstart", decision.decision_due)
    day.add("dtend", decision.decision_due + timedelta(days=1))
    day.add("summary", EVENT_DECISION.format(title=title))
    day.add(
        "description",
        EVENT_DECISION_TEXT.format(ref=decision.ref, when=when, due=short_date(due_day)),
    )
    day.add("transp", "TRANSPARENT")
    return [due, day]


def calendar_bytes(events: Iterable[icalendar.Event], *, method: str = "PUBLISH") -> bytes:
    """A whole calendar; events with the same UID (one decision day, several briefings) once."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    calendar.add("x-wr-calname", CALENDAR_NAME)
    seen: set[str] = set()
    for event in events:
        uid = str(event["uid"])
        if uid in seen:
            continue
        seen.add(uid)
        calendar.add_component(event)
    return calendar.to_ical()
