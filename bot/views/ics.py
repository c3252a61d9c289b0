"""Calendar holds (RFC 5545): a briefing's deadline and its decision's date, for one person.

Calendars are synced to mail servers and shared with assistants, so an exempt item's title
never appears in one: it reads "Exempt item (paragraph N)" for everyone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta

import icalendar

from bot.i18n.catalogue import ENGLISH, Translator
from bot.store.models import Briefing, Decision
from bot.views.access import is_exempt
from bot.views.bilingual import exempt_words, language_of, say, speaking
from bot.views.email_phrases import (
    CALENDAR_NAME,
    EVENT_BRIEFING_DUE,
    EVENT_BRIEFING_DUE_TEXT,
    EVENT_DECISION,
    EVENT_DECISION_TEXT,
    EVENT_DECISION_WORD,
)
from bot.views.renderer import STATE_WORDS, Renderer

PRODID = "-//No Surprises//Member briefings//EN"
UID_DOMAIN = "nosurprises.invalid"
DUE_HOLD = timedelta(minutes=30)  # the hold sits in the half hour before the deadline


def calendar_title(decision: Decision, language: str = ENGLISH) -> str:
    """What a calendar may say about a decision: its title, or the exempt label (in one
    language)."""
    if is_exempt(decision.restriction):
        with speaking(language):
            return exempt_words(decision.exempt_paragraphs)
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
    due_day = renderer.calendar.local_date(briefing.due_at)
    language = language_of(renderer.directory.person(viewer), renderer.settings)

    def when(tr: Translator) -> str:
        maker = decision.decision_maker or tr(EVENT_DECISION_WORD)
        return f"{maker}, {tr.short_date(decision.decision_due)}"

    due = icalendar.Event()
    due.add("uid", _uid("due", briefing.id, viewer))
    due.add("dtstamp", now)
    due.add("dtstart", briefing.due_at - DUE_HOLD)
    due.add("dtend", briefing.due_at)
    due.add(
        "summary",
        say(
            language,
            lambda tr: tr(EVENT_BRIEFING_DUE, title=calendar_title(decision, tr.language)),
            short=True,
        ),
    )
    due.add(
        "description",
        say(
            language,
            lambda tr: tr(
                EVENT_BRIEFING_DUE_TEXT,
                member=renderer.name(briefing.member_email),
                briefer=renderer.name(briefing.briefer_email),
                title=calendar_title(decision, tr.language),
                ref=decision.ref,
                due=tr.short_date(due_day),
                when=when(tr),
                status=tr(STATE_WORDS[briefing.state]),
            ),
        ),
    )
    due.add("transp", "TRANSPARENT")  # a reminder, not time taken out of the diary
    day = icalendar.Event()
    day.add("uid", _uid("decision", decision.id, viewer))
    day.add("dtstamp", now)
    day.add("dtstart", decision.decision_due)
    day.add("dtend", decision.decision_due + timedelta(days=1))
    day.add(
        "summary",
        say(
            language,
            lambda tr: tr(EVENT_DECISION, title=calendar_title(decision, tr.language)),
            short=True,
        ),
    )
    day.add(
        "description",
        say(
            language,
            lambda tr: tr(
                EVENT_DECISION_TEXT, ref=decision.ref, when=when(tr), due=tr.short_date(due_day)
            ),
        ),
    )
    day.add("transp", "TRANSPARENT")
    return [due, day]


def calendar_bytes(
    events: Iterable[icalendar.Event], *, method: str = "PUBLISH", language: str = ENGLISH
) -> bytes:
    """A whole calendar; events with the same UID (one decision day, several briefings) once."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    calendar.add("x-wr-calname", say(language, lambda tr: tr(CALENDAR_NAME), short=True))
    seen: set[str] = set()
    for event in events:
        uid = str(event["uid"])
        if uid in seen:
            continue
        seen.add(uid)
        calendar.add_component(event)
    return calendar.to_ical()
