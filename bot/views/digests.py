"""Digests: a weekday-morning list for each officer (and, by email, for each member who asked
for one), a Monday summary for the chief executive.

Queued by the sweep tick once their time has come each day (the dedupe key names the day or
week), so a late or missed tick still sends them, once.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from bot.briefings.states import LIVE, BriefingState
from bot.config import Settings
from bot.decisions.calendar import CouncilCalendar
from bot.delivery.outbox import enqueue
from bot.delivery.ports import MessageKind
from bot.i18n.catalogue import ENGLISH, Translator, translator
from bot.store import audit
from bot.store.directory import Directory
from bot.store.models import Briefing, ChannelChoice, Decision
from bot.views.bilingual import draw, language_of
from bot.views.cards import Card
from bot.views.commands import RAG_MARK
from bot.views.phrases import (
    AUDIT_HEAD_DIGEST,
    AUDIT_HEAD_MISSING_DIGEST,
    CHIEF_EXECUTIVE_DIGEST_TITLE,
    DIGEST_MORE_MINE,
    DIGEST_MORE_STATUS,
    MEMBER_DIGEST_AWAITING,
    MEMBER_DIGEST_LATE,
    MEMBER_DIGEST_MORE,
    MEMBER_DIGEST_SOON,
    MEMBER_DIGEST_TITLE,
    OFFICER_DIGEST_ROW,
    OFFICER_DIGEST_ROW_OVERDUE,
    OFFICER_DIGEST_TITLE,
    RAG_WORDS,
)
from bot.views.status import build_status

OFFICER_STATES = list(LIVE)
DIGEST_ROWS = 10
MEMBER_SOON = timedelta(days=7)  # how far ahead a member's digest looks for briefings due


def queue_digests(
    *,
    session: Session,
    settings: Settings,
    calendar: CouncilCalendar,
    directory: Directory,
    now: datetime,
) -> int:
    """Queue today's digests if their time has come. Returns how many were queued."""
    local = calendar.local(now)
    today = local.date()
    if not calendar.is_working_day(today):
        return 0
    queued = 0
    if local.time() >= settings.scheduler.officer_digest_time:
        queued += _officer_digests(session, settings, calendar, directory, now, today)
        queued += _member_digests(session, settings, calendar, directory, now, today)
    wanted_weekday = settings.scheduler.chief_executive_digest_weekday
    # On the configured weekday, or the first working day after it when that is a holiday.
    first_working = today.weekday() >= wanted_weekday and not any(
        calendar.is_working_day(today.fromordinal(today.toordinal() - back))
        for back in range(1, today.weekday() - wanted_weekday + 1)
    )
    if first_working and local.time() >= settings.scheduler.chief_executive_digest_time:
        year, week, _ = today.isocalendar()
        for email in directory.chief_executives:
            report = build_status(
                session=session,
                settings=settings,
                calendar=calendar,
                directory=directory,
                now=now,
                viewer_email=email,
            )
            head = audit.current_head(session)

            def chief_executive_card(tr: Translator, report=report, head=head) -> Card:
                lines = [
                    "  ".join(
                        f"{RAG_MARK[k]} {tr(RAG_WORDS[k])} {report.counts[k]}"
                        for k in ("red", "amber", "grey", "green")
                    ),
                    "",
                ]
                # One line per decision (its most pressing mark first, as the list is
                # sorted), each briefer after the members they are to brief.
                by_decision = _by_ref(report.at_risk)
                for rows in list(by_decision.values())[:DIGEST_ROWS]:
                    first = rows[0]
                    briefers: dict[str, list[str]] = {}
                    for row in rows:
                        briefers.setdefault(row.briefer_name, []).append(row.member_name)
                    who = "; ".join(
                        f"{', '.join(members)} ← {briefer}" for briefer, members in briefers.items()
                    )
                    lines.append(f"{RAG_MARK[first.rag.value]} *{first.ref}* {first.title}: {who}")
                if len(by_decision) > DIGEST_ROWS:
                    lines.append(tr(DIGEST_MORE_STATUS, count=len(by_decision) - DIGEST_ROWS))
                lines += ["", _head_line(tr, head)]
                return Card(title=tr(CHIEF_EXECUTIVE_DIGEST_TITLE), lines=tuple(lines))

            card = draw(language_of(directory.person(email), settings), chief_executive_card)
            if enqueue(
                session,
                recipient=email,
                kind=MessageKind.CHIEF_EXECUTIVE_DIGEST,
                key=f"ce_digest:{email}:{year}-W{week:02d}",
                send_at=now,
                calendar=calendar,
                card=card.to_dict(),
            ):
                queued += 1
    return queued


def audit_head_line(session: Session, tr: Translator | None = None) -> str:
    """The chain's count and head (shortened), for the chief executive to keep."""
    return _head_line(tr or translator(ENGLISH), audit.current_head(session))


def _head_line(tr: Translator, head: tuple[int, str] | None) -> str:
    if head is None:
        return tr(AUDIT_HEAD_MISSING_DIGEST)
    count, head_hash = head
    return tr(AUDIT_HEAD_DIGEST, count=count, head=head_hash[: audit.SHORT_HASH])


def _officer_digests(
    session: Session,
    settings: Settings,
    calendar: CouncilCalendar,
    directory: Directory,
    now: datetime,
    today,
) -> int:
    per_officer = _rows_by(
        session, col(Briefing.briefer_email), col(Briefing.state).in_(OFFICER_STATES)
    )
    queued = 0
    for email, items in per_officer.items():
        officer = directory.person(email)
        if officer is None:
            continue

        def officer_card(tr: Translator, items=items) -> Card:
            # One line per decision, naming every member to brief on it, by the soonest due
            # (items come soonest first, so a decision's first item is its most pressing).
            by_decision = _by_ref(items)
            lines = []
            for rows in list(by_decision.values())[:DIGEST_ROWS]:
                first = rows[0]
                names = [directory.name_of(item.member_email) for item in rows]
                row = OFFICER_DIGEST_ROW_OVERDUE if first.due_at < now else OFFICER_DIGEST_ROW
                lines.append(
                    tr(
                        row,
                        ref=first.ref,
                        title=first.title,
                        member=", ".join(names),
                        due=tr.short_date(calendar.local_date(first.due_at)),
                    )
                )
            if len(by_decision) > DIGEST_ROWS:
                lines.append(tr(DIGEST_MORE_MINE, count=len(by_decision) - DIGEST_ROWS))
            return Card(title=tr.plural(OFFICER_DIGEST_TITLE, len(items)), lines=tuple(lines))

        card = draw(language_of(officer, settings), officer_card)
        queued += _queue_daily(
            session, calendar, now, today, email, MessageKind.OFFICER_DIGEST, card
        )
    return queued


def _member_digests(
    session: Session,
    settings: Settings,
    calendar: CouncilCalendar,
    directory: Directory,
    now: datetime,
    today,
) -> int:
    """Each member who asked for the digest by email: briefings awaiting their acknowledgement,
    then those due to them within a week. Nobody with nothing to hear is written to."""
    wanted = set(
        session.scalars(
            select(col(ChannelChoice.email)).where(
                col(ChannelChoice.digest_by_email), ~col(ChannelChoice.email_off)
            )
        )
    )
    if not wanted:
        return 0
    per_member = _rows_by(
        session,
        col(Briefing.member_email),
        col(Briefing.member_email).in_(wanted),
        (col(Briefing.state) == BriefingState.BRIEFED)
        | (col(Briefing.state).in_(OFFICER_STATES) & (col(Briefing.due_at) <= now + MEMBER_SOON)),
    )
    queued = 0
    for email, items in per_member.items():
        member = directory.person(email)
        if member is None:
            continue
        # Awaiting their acknowledgement first: that is the one thing they can do today.
        items.sort(key=lambda i: (i.state != BriefingState.BRIEFED, i.due_at))

        def member_card(tr: Translator, items=items) -> Card:
            lines = []
            for item in items[:DIGEST_ROWS]:
                if item.state == BriefingState.BRIEFED:
                    row = MEMBER_DIGEST_AWAITING
                else:
                    row = MEMBER_DIGEST_LATE if item.due_at < now else MEMBER_DIGEST_SOON
                lines.append(
                    tr(
                        row,
                        ref=item.ref,
                        title=item.title,
                        briefer=directory.name_of(item.briefer_email),
                        due=tr.short_date(calendar.local_date(item.due_at)),
                    )
                )
            if len(items) > DIGEST_ROWS:
                lines.append(tr(MEMBER_DIGEST_MORE, count=len(items) - DIGEST_ROWS))
            return Card(title=tr.plural(MEMBER_DIGEST_TITLE, len(items)), lines=tuple(lines))

        card = draw(language_of(member, settings), member_card)
        queued += _queue_daily(
            session, calendar, now, today, email, MessageKind.MEMBER_DIGEST, card
        )
    return queued


def _rows_by(session: Session, person: Any, *conditions: Any) -> dict[str, list]:
    """Live briefings' rows for a digest, soonest due first, grouped by `person`'s column."""
    rows = session.execute(
        select(
            col(Briefing.briefer_email),
            col(Briefing.member_email),
            col(Briefing.due_at),
            col(Briefing.state),
            col(Decision.ref),
            col(Decision.title),
            person.label("person"),
        )
        .join(Decision, col(Decision.id) == col(Briefing.decision_id))
        .where(*conditions)
        .order_by(col(Briefing.due_at))
    ).all()
    grouped: dict[str, list] = defaultdict(list)
    for row in rows:
        grouped[row.person].append(row)
    return grouped


def _by_ref(rows: list[Any]) -> dict[str, list[Any]]:
    """Rows grouped by their decision's reference, in the order each decision first appears."""
    grouped: dict[str, list[Any]] = {}
    for row in rows:
        grouped.setdefault(row.ref, []).append(row)
    return grouped


def _queue_daily(
    session: Session,
    calendar: CouncilCalendar,
    now: datetime,
    today: date,
    email: str,
    kind: MessageKind,
    card: Card,
) -> int:
    """Queue one person's digest for today (once: the key names the day); 1 if queued."""
    queued = enqueue(
        session,
        recipient=email,
        kind=kind,
        key=f"{kind.value}:{email}:{today.isoformat()}",
        send_at=now,
        calendar=calendar,
        card=card.to_dict(),
    )
    return 1 if queued else 0
