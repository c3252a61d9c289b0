"""What adapters call: a click, a command, a personal home view, and who someone is.

Adapters verify and translate, then call one of these; the core does the work in a worker
thread (the event loop never waits on the database), commits, and redraws every copy of the
card on every platform. Whether the person is in the council's directory is decided here,
once, for every platform: an adapter passes the email it found (or None) and renders the
reply, which for a stranger is the one polite "not set up" answer.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from bot.briefings.actions import Outcome, Services, perform
from bot.delivery.hub import Hub
from bot.delivery.ports import Account, PostedRef
from bot.store import audit, identities
from bot.store.directory import PersonView
from bot.store.models import AuditHead, Briefing, ChatIdentity, Decision, ProcessedEvent
from bot.store.secrets import payload_key
from bot.views.cards import Action, ActionKind, BadPayload, Card, PayloadSigner
from bot.views.commands import answer, my_open_briefings, not_set_up_card
from bot.views.phrases import NOT_SET_UP, UNREADABLE_BUTTON

log = logging.getLogger(__name__)


@dataclass
class ActionReply:
    ok: bool
    message: str
    card: Card | None = None  # the actor's copy, redrawn from database state
    changed: bool = False
    refused: bool = False  # not allowed (as opposed to a value that needs correcting)
    stranger: bool = False  # the actor is not in the council's directory
    kind: str = ""  # the button's ActionKind, once its payload could be read


@dataclass
class CommandReply:
    cards: list[Card] = field(default_factory=list)


@dataclass(frozen=True)
class Actor:
    """A person in the council's directory, as an adapter may know them."""

    email: str
    name: str
    roles: frozenset[str]


async def handle_action(
    hub: Hub,
    *,
    payload: str,
    actor_email: str | None,
    platform: str,
    inputs: dict[str, str] | None = None,
    source: PostedRef | None = None,
) -> ActionReply:
    """A button press (with any inputs) from any platform; a stranger is refused politely."""
    if not actor_email:
        hub.app.metrics.count_action(kind="", outcome="stranger")
        return ActionReply(False, NOT_SET_UP, refused=True, stranger=True)
    reply = await asyncio.to_thread(_act, hub, payload, actor_email, platform, inputs or {})
    hub.app.metrics.count_action(kind=reply.kind, outcome=action_outcome(reply))
    if reply.changed and reply.card is not None and reply.card.briefing_id is not None:
        await hub.redraw(reply.card.briefing_id, skip=source)
    return reply


def action_outcome(reply: ActionReply) -> str:
    """How a button press ended, in one word for the metrics."""
    if reply.stranger:
        return "stranger"
    if reply.refused:
        return "refused"
    if not reply.ok:
        return "needs_input"  # a value the person must correct (a reason, a time)
    return "done" if reply.changed else "ok"


def _act(
    hub: Hub, payload: str, actor_email: str, platform: str, inputs: dict[str, str]
) -> ActionReply:
    app = hub.app
    now = app.now()
    actor_email = actor_email.lower()
    with app.session() as session:
        signer = PayloadSigner(payload_key(session))
        try:
            kind, briefing_id, version = signer.open(payload)
        except BadPayload as exc:
            audit.record(
                session,
                action="button",
                at=now,
                actor_email=actor_email,
                platform=platform,
                outcome="refused",
                reason=str(exc),
            )
            return ActionReply(False, UNREADABLE_BUTTON, refused=True)
        services = Services(app.settings, app.calendar, app.directory(session))
        action = Action(
            kind=kind,
            actor_email=actor_email,
            platform=platform,
            briefing_id=briefing_id,
            version=version,
            inputs=inputs,
        )
        outcome: Outcome = perform(session=session, action=action, services=services, now=now)
        card = None
        briefing = session.get(Briefing, briefing_id)
        if briefing is not None and services.directory.person(actor_email) is not None:
            decision = session.get(Decision, briefing.decision_id)
            assert decision is not None
            card = hub.renderer(session).briefing_card(
                briefing, decision, viewer=actor_email, now=now
            )
    return ActionReply(
        outcome.ok,
        outcome.message,
        card,
        changed=outcome.changed,
        refused=outcome.refused,
        stranger=services.directory.person(actor_email) is None,
        kind=str(kind),
    )


def needs_inputs(kind: ActionKind) -> bool:
    """Whether a button must collect inputs (a modal, a form) before it can act."""
    from bot.views.renderer import BUTTON_INPUTS

    return any(i.required for i in BUTTON_INPUTS.get(kind, ()))


async def handle_command(
    hub: Hub, *, text: str, actor_email: str | None, platform: str, direct: bool
) -> CommandReply:
    """`/surprises …` from any platform.

    Answers are shared while nothing has changed: the key holds the person, the question, the
    minute (RAG moves with the clock) and the data's version (the audit chain's length, which
    grows with every state change, and the last change of anyone's reachability). Identical
    questions in flight at once are worked out once.
    """
    if not actor_email:
        return CommandReply([not_set_up_card()])
    email = actor_email.lower()

    def version() -> tuple[int, str]:
        with hub.app.session() as session:
            seq, reach = session.execute(
                select(
                    select(col(AuditHead.seq)).where(col(AuditHead.id) == 1).scalar_subquery(),
                    select(func.max(ChatIdentity.updated_at)).scalar_subquery(),
                )
            ).one()
        return seq or 0, str(reach)

    def run() -> CommandReply:
        with hub.app.session() as session:
            return CommandReply(
                answer(app=hub.app, session=session, text=text, actor_email=email, direct=direct)
            )

    minute = hub.app.now().replace(second=0, microsecond=0)
    key = (email, " ".join(text.split()), direct, minute, await asyncio.to_thread(version))
    return await hub.answers.get(key, lambda: asyncio.to_thread(run))


async def home_cards(hub: Hub, *, actor_email: str | None, limit: int = 10) -> list[Card]:
    """A person's own view: what waits on them, then their status summary."""
    if not actor_email:
        return [not_set_up_card()]
    email = actor_email.lower()

    def run() -> list[Card]:
        app = hub.app
        with app.session() as session:
            renderer = hub.renderer(session)
            if renderer.directory.person(email) is None:
                return [not_set_up_card()]
            now = app.now()
            cards = []
            waiting = my_open_briefings(session, email, now)[:limit]
            decisions = {
                d.id: d
                for d in session.scalars(
                    select(Decision).where(col(Decision.id).in_({b.decision_id for b in waiting}))
                )
            }
            for briefing in waiting:
                cards.append(
                    renderer.briefing_card(
                        briefing, decisions[briefing.decision_id], viewer=email, now=now
                    )
                )
            cards += answer(app=app, session=session, text="", actor_email=email, direct=True)
            return cards

    return await asyncio.to_thread(run)


async def first_time(hub: Hub, key: str) -> bool:
    """Record an inbound delivery id; False if it was seen before (a platform retry)."""
    return await asyncio.to_thread(_first_time, hub, key)


def _first_time(hub: Hub, key: str) -> bool:
    app = hub.app
    try:
        with app.session() as session:
            if session.get(ProcessedEvent, key) is not None:
                return False
            session.add(ProcessedEvent(key=key, seen_at=app.now()))
        return True
    except IntegrityError:
        return False


# --- who someone is -----------------------------------------------------------------------------


async def find_person(hub: Hub, email_or_name: str) -> Actor | None:
    """The person in the council's directory with this email (or full name), if any."""

    def run() -> Actor | None:
        with hub.app.session() as session:
            return _actor(hub.app.directory(session).find(email_or_name))

    return await asyncio.to_thread(run)


async def first_known_email(hub: Hub, candidates: list[str]) -> str:
    """Of an account's addresses (email, UPN…), the one the directory knows; else the first."""
    emails = [c.strip().lower() for c in candidates if c and "@" in c]
    if not emails:
        return ""

    def run() -> str:
        with hub.app.session() as session:
            directory = hub.app.directory(session)
            return next((e for e in emails if directory.person(e) is not None), emails[0])

    return await asyncio.to_thread(run)


async def default_person(hub: Hub) -> Actor | None:
    """Who a demo starts as: the chief executive, since `/surprises` is theirs."""

    def run() -> Actor | None:
        with hub.app.session() as session:
            directory = hub.app.directory(session)
            first = next(iter(directory.chief_executives), None)
            return _actor(directory.person(first)) if first else None

    return await asyncio.to_thread(run)


def _actor(person: PersonView | None) -> Actor | None:
    return Actor(person.email, person.name, person.roles) if person is not None else None


async def account_by_user(hub: Hub, *, platform: str, user_id: str) -> Account | None:
    """What is remembered of a platform account, by the platform's user id."""
    return await asyncio.to_thread(
        identities.lookup_by_user, hub.app, platform=platform, user_id=user_id
    )


async def account_by_email(hub: Hub, *, platform: str, email: str) -> Account | None:
    """What is remembered of a person's account on a platform, by their email."""
    return await asyncio.to_thread(
        identities.lookup_by_email, hub.app, platform=platform, email=email
    )


async def remember_account(
    hub: Hub,
    *,
    platform: str,
    email: str,
    user_id: str,
    tenant_id: str = "",
    detail: dict[str, Any] | None = None,
    reachable: bool = True,
) -> None:
    """Keep what reaches a person on a platform; when two processes race, the first stands."""
    try:
        await asyncio.to_thread(
            identities.remember,
            hub.app,
            platform=platform,
            email=email,
            user_id=user_id,
            tenant_id=tenant_id,
            detail=detail,
            reachable=reachable,
        )
    except IntegrityError:
        log.info("a concurrent process remembered %s on %s first", user_id, platform)
