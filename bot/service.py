"""The core's entry points for every adapter: a click, a command, a personal home view.

Adapters verify and translate, then call one of these; the core does the work in a worker
thread (the event loop never waits on the database), commits, and redraws every copy of the
card on every platform.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from sqlalchemy import func, select

from bot.briefings.actions import Outcome, Services, perform
from bot.delivery.hub import Hub, PostedRef
from bot.store import audit
from bot.store.models import AuditHead, Briefing, ChatIdentity, Decision, ProcessedEvent
from bot.views.cards import Action, ActionKind, BadPayload, Card, PayloadSigner
from bot.views.commands import answer, my_open_briefings

log = logging.getLogger(__name__)


@dataclass
class ActionReply:
    ok: bool
    message: str
    card: Card | None = None  # the actor's copy, redrawn from database state
    changed: bool = False
    refused: bool = False  # not allowed (as opposed to a value that needs correcting)


@dataclass
class CommandReply:
    cards: list[Card] = field(default_factory=list)


async def handle_action(
    hub: Hub,
    *,
    payload: str,
    actor_email: str,
    platform: str,
    inputs: dict[str, str] | None = None,
    source: PostedRef | None = None,
) -> ActionReply:
    """A button press (with any inputs) from any platform."""
    reply = await asyncio.to_thread(_act, hub, payload, actor_email, platform, inputs or {})
    if reply.changed and reply.card is not None and reply.card.briefing_id is not None:
        await hub.redraw(reply.card.briefing_id, skip=source)
    return reply


def _act(
    hub: Hub, payload: str, actor_email: str, platform: str, inputs: dict[str, str]
) -> ActionReply:
    app = hub.app
    now = app.now()
    actor_email = actor_email.lower()
    with app.session() as session:
        signer = PayloadSigner.from_database(session)
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
            return ActionReply(
                False,
                "Sorry, that button could not be read, so nothing was "
                "changed. Please use the latest message from No Surprises.",
                refused=True,
            )
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
        outcome.ok, outcome.message, card, changed=outcome.changed, refused=outcome.refused
    )


def needs_inputs(kind: ActionKind) -> bool:
    """Whether a button must collect inputs (a modal, a form) before it can act."""
    from bot.views.renderer import BUTTON_INPUTS

    return any(i.required for i in BUTTON_INPUTS.get(kind, ()))


async def handle_command(
    hub: Hub, *, text: str, actor_email: str, platform: str, direct: bool
) -> CommandReply:
    """`/surprises …` from any platform.

    Answers are shared while nothing has changed: the key holds the person, the question, the
    minute (RAG moves with the clock) and the data's version (the audit chain's length, which
    grows with every state change, and the last change of anyone's reachability). Identical
    questions in flight at once are worked out once.
    """
    email = actor_email.lower()

    def version() -> tuple[int, str]:
        with hub.app.session() as session:
            seq, reach = session.execute(
                select(
                    select(AuditHead.seq).where(AuditHead.id == 1).scalar_subquery(),
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


async def home_cards(hub: Hub, *, actor_email: str, limit: int = 10) -> list[Card]:
    """A person's own view: what waits on them, then their status summary."""

    def run() -> list[Card]:
        app = hub.app
        email = actor_email.lower()
        with app.session() as session:
            renderer = hub.renderer(session)
            if renderer.directory.person(email) is None:
                return [
                    Card(
                        title="You are not set up yet",
                        lines=(
                            "Sorry, you are not in the council's directory, so No Surprises cannot "
                            "show you anything. Democratic services can add you.",
                        ),
                    )
                ]
            now = app.now()
            cards = []
            waiting = my_open_briefings(session, email, now)[:limit]
            decisions = {
                d.id: d
                for d in session.scalars(
                    select(Decision).where(Decision.id.in_({b.decision_id for b in waiting}))
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


def first_time(hub: Hub, key: str) -> bool:
    """Record an inbound delivery id; False if it was seen before (a platform retry)."""
    from sqlalchemy.exc import IntegrityError

    app = hub.app
    try:
        with app.session() as session:
            if session.get(ProcessedEvent, key) is not None:
                return False
            session.add(ProcessedEvent(key=key, seen_at=app.now()))
        return True
    except IntegrityError:
        return False
