"""Giving and acknowledging heads-ups, and reading them back for one viewer.

Synchronous functions on a Session (bot.service runs them in a worker thread). Every heads-up
and every acknowledgement is audited; a refused acknowledgement is audited too.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, func, select
from sqlmodel import Session, col

from bot.config import Settings
from bot.decisions.calendar import CouncilCalendar
from bot.delivery.outbox import enqueue
from bot.headsups import views
from bot.headsups.rules import (
    About,
    BadHeadsUp,
    Channel,
    Reason,
    for_decision,
    for_portfolio,
    for_ward,
    parse,
)
from bot.store import audit
from bot.store.directory import Directory
from bot.store.models import Briefing, Decision, HeadsUp, HeadsUpRecipient
from bot.views.access import (
    ItemParties,
    entitled_to_exempt,
    is_exempt,
    parties_for,
    sees_everything,
)
from bot.views.bilingual import draw_each, exempt_words, language_of, words
from bot.views.cards import Card, PayloadSigner
from bot.views.status_queries import connection

MESSAGE_KIND = "headsup"
RECENT_DAYS = 14
# Long enough for a paragraph; a whole press release belongs in a link.
MAX_MESSAGE = 1500


@dataclass(frozen=True)
class Given:
    ok: bool
    card: Card
    headsup_id: int | None = None


@dataclass(frozen=True)
class Acknowledged:
    ok: bool
    message: str
    changed: bool = False
    refused: bool = False
    card: Card | None = None


@dataclass(frozen=True)
class Context:
    """What the functions here need besides a session."""

    settings: Settings
    calendar: CouncilCalendar
    directory: Directory
    signer: PayloadSigner


def give(
    session: Session,
    ctx: Context,
    *,
    sender: str,
    text: str,
    platform: str,
    now: datetime,
    direct: bool = True,
) -> Given:
    """Read `/headsup …`, choose who must be told, record it, audit it and queue their cards."""
    if text.strip().removeprefix("/").lower().removeprefix("headsup").strip() in ("", "help", "?"):
        return Given(False, views.usage_card())
    try:
        request = parse(text)
    except BadHeadsUp:
        return Given(False, views.usage_card(words(views.NOT_UNDERSTOOD)))
    if len(request.message) > MAX_MESSAGE:
        problem = words(views.TOO_LONG, length=len(request.message), limit=MAX_MESSAGE)
        return Given(False, views.usage_card(problem))
    directory = ctx.directory
    communications = ctx.settings.council.communications
    decision: Decision | None = None
    if request.about == About.DECISION:
        decision = session.scalar(select(Decision).where(col(Decision.ref) == request.subject))
        if decision is not None and not _may_name(session, directory, decision, sender):
            audit.record(
                session,
                action="headsup",
                at=now,
                actor_email=sender,
                platform=platform,
                outcome="refused",
                decision_ref=decision.ref,
                reason="not_entitled_to_exempt_item",
            )
            decision = None  # answered as if unknown: its existence is not confirmed
        if decision is None:
            return Given(False, views.usage_card(words(views.NO_DECISION, ref=request.subject)))
        subject = decision.ref
        chosen = for_decision(decision, directory, sender=sender, communications=communications)
    elif request.about == About.WARD:
        ward = _ward_named(directory, request.subject)
        if ward is None:
            return Given(False, views.usage_card(words(views.NO_WARD, ward=request.subject)))
        subject = ward
        chosen = for_ward(ward, directory, sender=sender, communications=communications)
    else:
        portfolio = directory.portfolio(request.subject)
        if portfolio is None:
            problem = words(views.NO_PORTFOLIO, portfolio=request.subject)
            return Given(False, views.usage_card(problem))
        subject = portfolio.name
        chosen = for_portfolio(subject, directory, sender=sender, communications=communications)
    # The sender may name an exempt item (they are entitled), but its title is shown to them
    # only in a direct message.
    title = decision.title if decision else ""
    if decision is not None and is_exempt(decision.restriction) and not direct:
        title = exempt_words(decision.exempt_paragraphs)
    shown = views.subject_text(request.about, subject, title)
    if not chosen:
        return Given(False, views.usage_card(words(views.NOBODY, subject=shown)))
    headsup = HeadsUp(
        sender_email=sender,
        about_kind=request.about,
        about=subject,
        decision_ref=decision.ref if decision else "",
        channel=request.channel,
        message=request.message,
        platform=platform,
        created_at=now,
    )
    session.add(headsup)
    session.flush()
    assert headsup.id is not None
    rows = [HeadsUpRecipient(headsup_id=headsup.id, email=r.email, reason=r.reason) for r in chosen]
    session.add_all(rows)
    session.flush()
    audit.record(
        session,
        action="headsup",
        at=now,
        actor_email=sender,
        platform=platform,
        decision_ref=headsup.decision_ref,
        details={
            "headsup": headsup.id,
            "about": f"{request.about.value}:{subject}",
            "channel": request.channel.value,
            "told": [f"{r.email} ({r.reason.value})" for r in chosen],
        },
    )
    for row in rows:
        card = headsup_card(session, ctx, headsup, row, viewer=row.email)
        enqueue(
            session,
            recipient=row.email,
            kind=MESSAGE_KIND,
            key=f"headsup{headsup.id}:{row.email}",
            send_at=now,
            calendar=ctx.calendar,
            card=card.to_dict(),
            per_briefing=False,
        )
    told = [(directory.name_of(r.email), r.reason) for r in chosen]
    return Given(
        True,
        views.sent_card(about=request.about, subject=shown, channel=request.channel, told=told),
        headsup.id,
    )


def acknowledge(
    session: Session, ctx: Context, *, recipient_id: int, actor: str, platform: str, now: datetime
) -> Acknowledged:
    """The person told of a heads-up acknowledges it; only they may, and only once."""
    row = session.get(HeadsUpRecipient, recipient_id)
    headsup = session.get(HeadsUp, row.headsup_id) if row is not None else None
    if row is None or headsup is None:
        return Acknowledged(False, words(views.GONE), refused=True)
    details = {"headsup": headsup.id}
    if row.email != actor:
        audit.record(
            session,
            action="headsup_acknowledged",
            at=now,
            actor_email=actor,
            platform=platform,
            outcome="refused",
            decision_ref=headsup.decision_ref,
            reason="not_the_recipient",
            details=details,
        )
        return Acknowledged(False, words(views.NOT_YOURS), refused=True)
    changed = row.acknowledged_at is None
    if changed:
        row.acknowledged_at = now
        session.add(row)
        audit.record(
            session,
            action="headsup_acknowledged",
            at=now,
            actor_email=actor,
            platform=platform,
            decision_ref=headsup.decision_ref,
            details=details,
        )
    card = headsup_card(session, ctx, headsup, row, viewer=actor)
    message = (
        words(views.ACKNOWLEDGED, sender=ctx.directory.name_of(headsup.sender_email))
        if changed
        else words(views.ALREADY)
    )
    return Acknowledged(True, message, changed=changed, card=card)


ALREADY = views.ALREADY


def card_for(session: Session, ctx: Context, *, recipient_id: int, viewer: str) -> Card | None:
    """The heads-up card of this recipient row, if the viewer is the person it was for."""
    row = session.get(HeadsUpRecipient, recipient_id)
    headsup = session.get(HeadsUp, row.headsup_id) if row is not None else None
    if row is None or headsup is None or row.email != viewer:
        return None
    return headsup_card(session, ctx, headsup, row, viewer=viewer)


def exists(session: Session, recipient_id: int) -> bool:
    """Whether a heads-up recipient row (an Acknowledge button's target) exists."""
    return session.get(HeadsUpRecipient, recipient_id) is not None


def headsup_card(
    session: Session,
    ctx: Context,
    headsup: HeadsUp,
    row: HeadsUpRecipient | None,
    *,
    viewer: str,
) -> Card:
    """A heads-up's card for one viewer (always a direct message)."""
    # The exempt label, if any, is worded in each language the card is drawn in.
    return draw_each(
        language_of(ctx.directory.person(viewer), ctx.settings),
        lambda: views.headsup_card(
            _seen(session, ctx.directory, headsup, row, viewer=viewer, direct=True),
            calendar=ctx.calendar,
            signer=ctx.signer,
        ),
    )


def waiting_cards(session: Session, ctx: Context, *, viewer: str, now: datetime) -> list[Card]:
    """Heads-ups of the last 14 days told to this person and not yet acknowledged."""
    since = now - timedelta(days=RECENT_DAYS)
    found = session.execute(
        select(HeadsUp, HeadsUpRecipient)
        .join(HeadsUpRecipient, col(HeadsUpRecipient.headsup_id) == col(HeadsUp.id))
        .where(
            col(HeadsUpRecipient.email) == viewer,
            col(HeadsUpRecipient.acknowledged_at).is_(None),
            col(HeadsUp.created_at) >= since,
        )
        .order_by(col(HeadsUp.created_at).desc(), col(HeadsUp.id).desc())
    ).all()
    return [headsup_card(session, ctx, h, r, viewer=viewer) for h, r in found]


def recent_lines(
    session: Session,
    *,
    directory: Directory,
    calendar: CouncilCalendar,
    viewer: str,
    direct: bool,
    now: datetime,
) -> list[str]:
    """ "Heads-ups in the last 14 days" that this viewer may see: those they gave or were told
    of; the chief executive, leader, monitoring officer and democratic services see all.
    (Lines only: nothing here is signed, so no signing key is read for them.)"""
    person = directory.person(viewer)
    if person is None:
        return []
    since = now - timedelta(days=RECENT_DAYS)
    query = select(HeadsUp).where(col(HeadsUp.created_at) >= since)
    if not sees_everything(person):
        told = select(col(HeadsUpRecipient.headsup_id)).where(col(HeadsUpRecipient.email) == viewer)
        query = query.where((col(HeadsUp.sender_email) == viewer) | col(HeadsUp.id).in_(told))
    headsups = list(session.scalars(query.order_by(col(HeadsUp.created_at).desc()).limit(20)))
    # None to count for (most people, most days): no statement for their recipients.
    rows = (
        list(
            session.scalars(
                select(HeadsUpRecipient).where(
                    col(HeadsUpRecipient.headsup_id).in_([h.id for h in headsups])
                )
            )
        )
        if headsups
        else []
    )
    told_count = Counter(r.headsup_id for r in rows)
    acked_count = Counter(r.headsup_id for r in rows if r.acknowledged_at is not None)
    mine = {r.headsup_id: r for r in rows if r.email == viewer}
    seen = []
    for h in headsups:
        hid = h.id or 0
        item = _seen(session, directory, h, mine.get(hid), viewer=viewer, direct=direct)
        seen.append(replace(item, told=told_count[hid], acked=acked_count[hid]))
    return views.recent_lines(seen, calendar=calendar, days=RECENT_DAYS)


def recent(
    session: Session,
    *,
    directory: Directory,
    calendar: CouncilCalendar,
    viewer: str,
    direct: bool,
    now: datetime,
) -> tuple[list[str], datetime]:
    """The viewer's `recent_lines`, and the first instant after `now` they could read
    differently by the clock alone (`recent_until`)."""
    until = recent_until(session, now)
    if until == datetime.max.replace(tzinfo=now.tzinfo) and directory.person(viewer):
        # No heads-up in the last 14 days, for anyone (most days): nothing of theirs to find.
        return views.recent_lines([], calendar=calendar, days=RECENT_DAYS), until
    lines = recent_lines(
        session, directory=directory, calendar=calendar, viewer=viewer, direct=direct, now=now
    )
    return lines, until


# Built once, with a parameter: building a statement costs more than running it.
_OLDEST_SINCE = select(func.min(col(HeadsUp.created_at))).where(
    col(HeadsUp.created_at) >= bindparam("since")
)


def recent_until(session: Session, now: datetime) -> datetime:
    """The first instant after `now` at which a heads-up leaves the last 14 days, for anyone."""
    # On the connection, not through the ORM (half the cost): every answer asks (issue 15).
    oldest = (
        connection(session)
        .execute(_OLDEST_SINCE, {"since": now - timedelta(days=RECENT_DAYS)})
        .scalar()
    )
    if oldest is None:
        return datetime.max.replace(tzinfo=now.tzinfo)
    # SQLite hands back naive datetimes; they are UTC.
    return oldest.replace(tzinfo=oldest.tzinfo or UTC) + timedelta(days=RECENT_DAYS)


# --- who may see what -----------------------------------------------------------------------


def _seen(
    session: Session,
    directory: Directory,
    headsup: HeadsUp,
    row: HeadsUpRecipient | None,
    *,
    viewer: str,
    direct: bool,
) -> views.Seen:
    about = About(headsup.about_kind)
    title, message = "", headsup.message
    masked = False  # an exempt item the viewer may not read about: its label stands alone
    if about == About.DECISION:
        decision = session.scalar(select(Decision).where(col(Decision.ref) == headsup.about))
        title = decision.title if decision is not None else ""
        if decision is not None and is_exempt(decision.restriction):
            entitled = direct and (
                viewer == headsup.sender_email or _entitled(session, directory, decision, viewer)
            )
            if not entitled:
                title, message, masked = exempt_words(decision.exempt_paragraphs), "", True
    subject = views.subject_text(about, headsup.about, title)
    if masked:
        subject = title  # the reference of an exempt item says nothing; its label is enough
    return views.Seen(
        recipient_id=row.id if row is not None and row.email == viewer else None,
        sender_name=directory.name_of(headsup.sender_email),
        channel=Channel(headsup.channel),
        about=about,
        subject=subject,
        message=message,
        reason=Reason(row.reason) if row is not None and row.email == viewer else None,
        created_at=headsup.created_at,
        acknowledged_at=row.acknowledged_at if row is not None and row.email == viewer else None,
    )


def _parties(session: Session, directory: Directory, decision: Decision) -> ItemParties:
    briefings = session.scalars(select(Briefing).where(col(Briefing.decision_id) == decision.id))
    return parties_for(decision, briefings, directory)


def _may_name(session: Session, directory: Directory, decision: Decision, sender: str) -> bool:
    """Anyone may give a heads-up about an open item; an exempt one only those entitled."""
    if not is_exempt(decision.restriction):
        return True
    return _entitled(session, directory, decision, sender)


def _entitled(session: Session, directory: Directory, decision: Decision, email: str) -> bool:
    """Schedule 12A's circle, with the lead officer and their director in it before the sweep
    makes the lead officer the briefer."""
    lead = decision.lead_officer_email.lower()
    if lead and email in (lead, directory.director_of(lead)):
        return True
    return entitled_to_exempt(directory.person(email), _parties(session, directory, decision))


def _ward_named(directory: Directory, name: str) -> str | None:
    """The ward as the directory spells it, if any councillor represents it."""
    wanted = " ".join(name.lower().split())
    for person in directory.people.values():
        for ward in person.wards:
            if " ".join(ward.lower().split()) == wanted:
                return ward
    return None
