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
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from bot.briefings.actions import (
    Outcome,
    Services,
    matching,
    may_reassign,
    perform,
    reassign_candidates,
)
from bot.briefings.notices import perform_decision_action
from bot.briefings.states import ACTIVE
from bot.briefings.together import on_decisions
from bot.briefings.waiting import escalation_context
from bot.delivery.channels import NO_CHOICE, Choice, load_choices, save_choice
from bot.delivery.hub import Hub
from bot.delivery.ports import Account, MessageKind, PostedRef
from bot.headsups import record as headsups
from bot.links import LinkClaim, LinkProblem, LinkPurpose, LinkRefused, LinkSigner
from bot.memory_trim import TrimWhenIdle
from bot.store import audit, identities
from bot.store.directory import Directory, PersonView
from bot.store.models import Briefing, Decision, ProcessedEvent
from bot.store.secrets import link_key, payload_key
from bot.views.bilingual import draw_each, language_of, say, speaking
from bot.views.cards import (
    DECISION_ACTIONS,
    ESCALATION_ACTIONS,
    MEMBER_ACTIONS,
    Action,
    ActionKind,
    BadPayload,
    Button,
    Card,
    InputKind,
    PayloadSigner,
)
from bot.views.commands import answer, my_open_briefings, not_set_up_card, parse_query
from bot.views.email_phrases import (
    LINK_ALTERED,
    LINK_EXPIRED,
    LINK_MALFORMED,
    LINK_NOT_IN_DIRECTORY,
    LINK_NOT_YOURS,
    LINK_NOTHING_TO_DO,
    LINK_WRONG_PURPOSE,
    PREFERENCES_SAVED,
    PREFERENCES_UNSUBSCRIBED,
)
from bot.views.ics import briefing_events, calendar_bytes
from bot.views.numbers import number_for, read_number
from bot.views.phrases import NOT_SET_UP, UNREADABLE_BUTTON
from bot.views.renderer import STATE_WORDS, button
from bot.views.shared_rows import data_version, one_version

log = logging.getLogger(__name__)
T = TypeVar("T")

# The most people a card or a modal lists; beyond it, the platform asks as the person types.
LISTED_PEOPLE = 100

# A wide answer (a whole window of status) takes tens of milliseconds of CPU; on these few
# threads of their own they queue behind each other, not in front of the cheap steps (a click,
# a look-up, a narrow question) on the event loop's default executor (issue 15).
HEAVY_ANSWERS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="nosurprises-answers")
# Their transient peaks stay with the allocator: the last of a burst gives them back.
HEAVY_ANSWERS_TRIM = TrimWhenIdle()


@dataclass
class ActionReply:
    ok: bool
    message: str
    card: Card | None = None  # the actor's copy, redrawn from database state
    changed: bool = False
    refused: bool = False  # not allowed (as opposed to a value that needs correcting)
    stranger: bool = False  # the actor is not in the council's directory
    kind: str = ""  # the button's ActionKind, once its payload could be read
    briefing_id: int | None = None  # the briefing it acted on, if it was one's button


@dataclass
class CommandReply:
    cards: list[Card] = field(default_factory=list)


@dataclass(frozen=True)
class Actor:
    """A person in the council's directory, as an adapter may know them."""

    email: str
    name: str
    roles: frozenset[str]
    language: str = ""  # their own (people.csv), else empty: the council's default


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
        return ActionReply(False, stranger_text(hub), refused=True, stranger=True)
    reply = await asyncio.to_thread(_act, hub, payload, actor_email, platform, inputs or {})
    hub.app.metrics.count_action(kind=reply.kind, outcome=action_outcome(reply))
    if reply.changed:
        hub.wakeup.wake()  # committed: what it queued (a member's request, say) goes out now
    # The briefing acted on: an officer's card about a whole decision may be carried by
    # another of its briefings (after a hand-over, say).
    changed = reply.briefing_id or (reply.card.briefing_id if reply.card is not None else None)
    if reply.changed and changed is not None:
        await hub.redraw(changed, skip=source)
    if reply.card is not None and source is not None:
        # The copy redrawn in place keeps the calendar link its first posting carried.
        reply = replace(reply, card=await hub.hold_linked(reply.card, source.recipient_email))
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
            language = language_of(app.directory(session).person(actor_email), app.settings)
            return ActionReply(False, say(language, lambda tr: tr(UNREADABLE_BUTTON)), refused=True)
        if kind == ActionKind.ACKNOWLEDGE_HEADSUP:
            actor = app.directory(session).person(actor_email)
            with speaking(language_of(actor, app.settings)):
                done = headsups.acknowledge(
                    session,
                    headsup_context(hub, session),
                    recipient_id=briefing_id,
                    actor=actor_email,
                    platform=platform,
                    now=now,
                )
            stranger = app.directory(session).person(actor_email) is None
            return ActionReply(
                done.ok,
                stranger_text(hub) if stranger else done.message,
                None if stranger else done.card,
                changed=done.changed,
                refused=done.refused or stranger,
                stranger=stranger,
            )
        services = Services(app.settings, app.calendar, app.directory(session))
        if kind in DECISION_ACTIONS:
            return _act_on_decision(
                hub, session, kind, briefing_id, actor_email, platform, inputs, services
            )
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
            renderer = hub.renderer(session)
            if kind in ESCALATION_ACTIONS:
                person = services.directory.person(actor_email)
                step = "chief_executive" if person and person.has("chief_executive") else "director"
                card = renderer.escalation_card(
                    briefing,
                    decision,
                    viewer=actor_email,
                    kind=step,
                    context=escalation_context(session, decision.id or 0),
                    now=now,
                )
            else:
                card = renderer.briefer_card(
                    briefing,
                    decision,
                    viewer=actor_email,
                    together=on_decisions(session, [decision.id or 0])[decision.id or 0],
                    now=now,
                )
    return ActionReply(
        outcome.ok,
        outcome.message,
        card,
        changed=outcome.changed,
        refused=outcome.refused,
        stranger=services.directory.person(actor_email) is None,
        kind=str(kind),
        briefing_id=briefing_id if briefing is not None else None,
    )


@dataclass(frozen=True)
class FormToFill:
    """A button's inputs drawn for one person: what a modal or form asks before it acts."""

    button: Button
    language: str


async def form_for(
    hub: Hub, *, kind: ActionKind, actor_email: str | None, payload: str = ""
) -> FormToFill | None:
    """The inputs `kind` needs, worded for this person; None for someone not in the directory.
    Given the button's payload, a person field lists only the people the rules allow."""
    if not actor_email:
        return None

    def run() -> FormToFill | None:
        with hub.app.session() as session:
            directory = hub.app.directory(session)
            person = directory.person(actor_email.lower())
            candidates = _candidates(session, directory, payload) if payload else None
        if person is None:
            return None
        language = language_of(person, hub.app.settings)
        card = draw_each(language, lambda: Card(title="", buttons=(button(kind),)))
        form = card.buttons[0]
        offered = _offer(form, candidates, payload) if candidates is not None else form
        return FormToFill(offered, language)

    return await asyncio.to_thread(run)


async def with_people_to_choose(hub: Hub, *, card: Card) -> Card:
    """The card with each person field listing only the people the rules allow (for
    platforms that draw a button's form on the card itself)."""
    if not any(i.kind == InputKind.PERSON for b in card.all_buttons for i in b.inputs):
        return card

    def run() -> Card:
        with hub.app.session() as session:
            directory = hub.app.directory(session)

            def offered(b: Button) -> Button:
                candidates = _candidates(session, directory, b.payload)
                return _offer(b, candidates) if candidates is not None else b

            return card.with_buttons(offered)

    return await asyncio.to_thread(run)


def _offer(form: Button, candidates: list[PersonView], payload: str = "") -> Button:
    """The button with its person fields choosing among `candidates`, shown by name; too many
    to list, the field searches them instead (keyed by the signed payload, the button's own
    unless given)."""
    listed = candidates if len(candidates) <= LISTED_PEOPLE else []
    return replace(
        form,
        inputs=tuple(
            replace(
                i,
                options=tuple(p.email for p in listed),
                option_labels=tuple(p.name for p in listed),
                search="" if listed or not candidates else (payload or form.payload),
            )
            if i.kind == InputKind.PERSON
            else i
            for i in form.inputs
        ),
    )


async def eligible_officers(
    hub: Hub, *, payload: str, actor_email: str | None, text: str, limit: int, skip: int = 0
) -> list[Actor]:
    """The officers whose name or email holds what was typed and to whom this person may pass
    the reassign button's briefing (at most `limit`, after `skip`). Nobody for a payload that is
    not a current, signed Reassign, or for someone who may not reassign it; nothing changes."""
    if not actor_email or limit <= 0:
        return []

    def run() -> list[Actor]:
        with hub.app.session() as session:
            try:
                kind, briefing_id, version = PayloadSigner(payload_key(session)).open(payload)
            except BadPayload:
                log.info("a search for people came with a payload that is not ours")
                return []
            briefing = session.get(Briefing, briefing_id) if kind == ActionKind.REASSIGN else None
            if briefing is None or briefing.version != version:
                return []
            directory = hub.app.directory(session)
            actor = directory.person(actor_email.lower())
            decision = session.get(Decision, briefing.decision_id)
            services = Services(hub.app.settings, hub.app.calendar, directory)
            if (
                actor is None
                or decision is None
                or not may_reassign(actor, briefing, decision, services)
            ):
                return []
            found = matching(reassign_candidates(directory, briefing), text)
        start = max(skip, 0)
        return [Actor(p.email, p.name, p.roles, p.language) for p in found[start : start + limit]]

    return await asyncio.to_thread(run)


def _candidates(session: Session, directory: Directory, payload: str) -> list[PersonView] | None:
    """Whom a reassign button's briefing may go to; None if the payload is not one."""
    try:
        kind, briefing_id, _version = PayloadSigner(payload_key(session)).open(payload)
    except BadPayload:
        return None
    found = session.get(Briefing, briefing_id) if kind == ActionKind.REASSIGN else None
    return reassign_candidates(directory, found) if found is not None else None


def stranger_text(hub: Hub) -> str:
    """What someone outside the directory is told, in the council's language."""
    return say(hub.app.settings.council.language, lambda tr: tr(NOT_SET_UP))


def _act_on_decision(
    hub: Hub,
    session: Session,
    kind: ActionKind,
    decision_id: int,
    actor_email: str,
    platform: str,
    inputs: dict[str, str],
    services: Services,
) -> ActionReply:
    """A button about a decision (a statutory notice), not about one briefing."""
    now = hub.app.now()
    with speaking(language_of(services.directory.person(actor_email), services.settings)):
        outcome = perform_decision_action(
            session=session,
            kind=kind,
            decision_id=decision_id,
            actor_email=actor_email,
            platform=platform,
            inputs=inputs,
            services=services,
            now=now,
        )
    stranger = services.directory.person(actor_email) is None
    card = None
    decision = session.get(Decision, decision_id)
    if decision is not None and not stranger:
        notice = (
            MessageKind.SCRUTINY_NOTICE
            if kind == ActionKind.SCRUTINY_ACKNOWLEDGE
            else MessageKind.URGENCY_RECORD
        )
        card = hub.renderer(session).notice_card(decision, viewer=actor_email, kind=notice)
    return ActionReply(
        outcome.ok,
        outcome.message,
        card,
        changed=outcome.changed,
        refused=outcome.refused,
        stranger=stranger,
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
    minute (RAG moves with the clock) and the data's version (`shared_rows.data_version`: the
    audit chain's length, which grows with every state change, reachability, and the status
    read model's state). Identical questions in flight at once are worked out once.
    """
    if not actor_email:
        return CommandReply([not_set_up_card(hub.app.settings.council.language)])
    email = actor_email.lower()
    wide = parse_query(text).kind == "status"

    def version() -> tuple[Any, ...]:
        with hub.app.session() as session:
            return data_version(session)

    def reply(session: Session) -> CommandReply:
        return CommandReply(
            answer(app=hub.app, session=session, text=text, actor_email=email, direct=direct)
        )

    def run() -> CommandReply:
        with hub.app.session() as session:
            return reply(session)

    def run_with_version() -> tuple[tuple[Any, ...], CommandReply]:
        with hub.app.session() as session, one_version(session):
            # Read first, in the answer's own session: the answer is built on this version.
            found = data_version(session)
            return found, reply(session)

    async def on_heavy_threads(work: Callable[[], T]) -> T:
        return await asyncio.wrap_future(HEAVY_ANSWERS_TRIM.submit(HEAVY_ANSWERS, work))

    async def compute() -> CommandReply:
        return await (on_heavy_threads(run) if wide else asyncio.to_thread(run))

    minute = hub.app.now().replace(second=0, microsecond=0)
    question = (email, " ".join(text.split()), direct, minute)
    if wide and not hub.answers.seen(question):
        # Nothing kept or on its way can answer it: the version is read with the answer, in
        # one step on the heavy threads, not in a step of its own first (issue 15).
        return await hub.answers.first(question, lambda: on_heavy_threads(run_with_version))
    await hub.answers.settled(question)
    key = (*question, await asyncio.to_thread(version))
    return await hub.answers.get(key, compute)


def headsup_context(hub: Hub, session: Session) -> headsups.Context:
    """What the heads-up functions need, for this session."""
    app = hub.app
    return headsups.Context(
        app.settings, app.calendar, app.directory(session), PayloadSigner(payload_key(session))
    )


async def handle_headsup(
    hub: Hub, *, text: str, actor_email: str | None, platform: str, direct: bool = True
) -> CommandReply:
    """`/headsup …` from any platform: tell the right people, and confirm to the sender."""
    if not actor_email:
        return CommandReply([not_set_up_card(hub.app.settings.council.language)])
    email = actor_email.lower()

    def run() -> CommandReply:
        with hub.app.session() as session:
            if hub.app.directory(session).person(email) is None:
                return CommandReply([not_set_up_card(hub.app.settings.council.language)])
            sender = hub.app.directory(session).person(email)
            with speaking(language_of(sender, hub.app.settings)):
                given = headsups.give(
                    session,
                    headsup_context(hub, session),
                    sender=email,
                    text=text,
                    platform=platform,
                    now=hub.app.now(),
                    direct=direct,
                )
            return CommandReply([given.card])

    reply = await asyncio.to_thread(run)
    hub.wakeup.wake()  # the people told hear at once (a refusal queues nothing: a wasted look)
    return reply


async def home_cards(hub: Hub, *, actor_email: str | None, limit: int = 10) -> list[Card]:
    """A person's dashboard: the cards waiting on them (briefings, then heads-ups to
    acknowledge), then the same summary as `/surprises mine` with recent heads-ups."""
    if not actor_email:
        return [not_set_up_card(hub.app.settings.council.language)]
    email = actor_email.lower()

    def run() -> list[Card]:
        app = hub.app
        with app.session() as session:
            renderer = hub.renderer(session)
            if renderer.directory.person(email) is None:
                return [not_set_up_card(hub.app.settings.council.language)]
            now = app.now()
            cards = []
            waiting = my_open_briefings(session, email, now)[:limit]
            decisions = {
                d.id: d
                for d in session.scalars(
                    select(Decision).where(col(Decision.id).in_({b.decision_id for b in waiting}))
                )
            }
            together = on_decisions(
                session, {b.decision_id for b in waiting if b.briefer_email == email}
            )
            shown: set[int] = set()
            for briefing in waiting:
                # An officer's briefings on one decision are one card, where the first is.
                if briefing.briefer_email == email and briefing.decision_id in shown:
                    continue
                if briefing.briefer_email == email:
                    shown.add(briefing.decision_id)
                cards.append(
                    renderer.briefer_card(
                        briefing,
                        decisions[briefing.decision_id],
                        viewer=email,
                        together=together.get(briefing.decision_id, []),
                        now=now,
                    )
                )
            cards += headsups.waiting_cards(
                session, headsup_context(hub, session), viewer=email, now=now
            )[:limit]
            cards += answer(app=app, session=session, text="mine", actor_email=email, direct=True)
            return cards

    return await asyncio.to_thread(run)


async def button_numbers(hub: Hub, *, payloads: list[str]) -> list[int | None]:
    """The stable number of each button (bot.views.numbers), for platforms that type them."""

    def run() -> list[int | None]:
        with hub.app.session() as session:
            signer = PayloadSigner(payload_key(session))
        numbers: list[int | None] = []
        for payload in payloads:
            try:
                kind, target, _version = signer.open(payload)
            except BadPayload:
                numbers.append(None)
                continue
            numbers.append(number_for(kind, target))
        return numbers

    return await asyncio.to_thread(run)


async def press_number(
    hub: Hub,
    *,
    number: int,
    actor_email: str | None,
    platform: str,
    inputs: dict[str, str] | None = None,
) -> ActionReply | None:
    """Press the button a number names as things stand now (its card need not be on screen:
    after a restart, say); None if the number names no briefing or heads-up."""
    found = read_number(number)
    if found is None:
        return None
    kind, target = found

    def sign() -> str | None:
        with hub.app.session() as session:
            signer = PayloadSigner(payload_key(session))
            if kind == ActionKind.ACKNOWLEDGE_HEADSUP:
                return signer.sign(kind, target, 1) if headsups.exists(session, target) else None
            if kind in DECISION_ACTIONS:  # the target is a decision (renderer signs version 0)
                return signer.sign(kind, target, 0) if session.get(Decision, target) else None
            briefing = session.get(Briefing, target)
            return signer.sign(kind, target, briefing.version) if briefing is not None else None

    payload = await asyncio.to_thread(sign)
    if payload is None:
        return None
    return await handle_action(
        hub, payload=payload, actor_email=actor_email, platform=platform, inputs=inputs
    )


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
    if person is None:
        return None
    return Actor(person.email, person.name, person.roles, person.language)


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


# --- email: signed links, calendar holds and feeds, channel choices ----------------------------


@dataclass(frozen=True)
class EmailExtras:
    """What an email of a card carries besides the card: links for its buttons (by payload),
    a thread key (one per decision), a calendar hold, and the person's own private links."""

    links: dict[str, str]
    thread: str
    calendar: bytes | None
    calendar_ref: str
    feed_token: str
    preferences_token: str


@dataclass
class LinkPage:
    """What a page opened from an emailed link shows."""

    ok: bool
    message: str = ""
    problem: str = ""  # why a link was refused: a LinkProblem, or "not_in_directory"
    card: Card | None = None  # the card as the person sees it now
    button: Button | None = None  # the action to confirm, with its inputs
    version: int = 0  # the briefing's version the confirm form was drawn for
    done: bool = False  # POST: the action took effect
    language: str = "en"  # what the page is written in: the person's, or the council's


@dataclass
class ChoicePage:
    ok: bool
    message: str = ""
    problem: str = ""
    email_off: bool = False
    digest_by_email: bool = False
    feed_token: str = ""
    language: str = "en"


LINK_PROBLEMS = {
    LinkProblem.MALFORMED: LINK_MALFORMED,
    LinkProblem.ALTERED: LINK_ALTERED,
    LinkProblem.EXPIRED: LINK_EXPIRED,
    LinkProblem.WRONG_PURPOSE: LINK_WRONG_PURPOSE,
}


async def email_extras(
    hub: Hub, *, recipient_email: str, card: Card, valid_for: timedelta
) -> EmailExtras:
    """Signed links for a card's buttons (expiring after `valid_for`), its decision's thread,
    and a calendar hold when the card asks the person to act."""
    return await asyncio.to_thread(_email_extras, hub, recipient_email.lower(), card, valid_for)


def _email_extras(hub: Hub, email: str, card: Card, valid_for: timedelta) -> EmailExtras:
    app = hub.app
    now = app.now()
    with app.session() as session:
        signer = LinkSigner(link_key(session))
        links = {
            button.payload: signer.make(
                purpose=LinkPurpose.ACT,
                email=email,
                payload=button.payload,
                expires=now + valid_for,
            )
            for button in card.all_buttons
        }
        thread, calendar, ref = "", None, ""
        briefing = session.get(Briefing, card.briefing_id) if card.briefing_id else None
        if briefing is not None:
            decision = session.get(Decision, briefing.decision_id)
            assert decision is not None
            thread, ref = f"decision-{decision.id}", decision.ref
            if card.all_buttons:  # it asks them to act: a prompt, a reminder, a request to confirm
                renderer = hub.renderer(session)
                calendar = calendar_bytes(
                    briefing_events(renderer, briefing, decision, viewer=email, now=now),
                    language=language_of(renderer.directory.person(email), app.settings),
                )
        feed, preferences = _personal_tokens(signer, email)
        return EmailExtras(
            links=links,
            thread=thread,
            calendar=calendar,
            calendar_ref=ref,
            feed_token=feed,
            preferences_token=preferences,
        )


def _personal_tokens(signer: LinkSigner, email: str) -> tuple[str, str]:
    """A person's own calendar feed and preferences tokens (they do not expire)."""
    return (
        signer.make(purpose=LinkPurpose.CALENDAR, email=email),
        signer.make(purpose=LinkPurpose.PREFERENCES, email=email),
    )


@dataclass(frozen=True)
class PersonalLinks:
    email: str
    name: str
    feed_token: str
    preferences_token: str


async def personal_links(hub: Hub, *, person: str) -> PersonalLinks | None:
    """The private calendar feed and preferences tokens of someone in the directory (by email
    or name), for people who never receive an email to find them in; None if nobody matches."""

    def run() -> PersonalLinks | None:
        with hub.app.session() as session:
            found = hub.app.directory(session).find(person)
            if found is None:
                return None
            feed, preferences = _personal_tokens(LinkSigner(link_key(session)), found.email)
            return PersonalLinks(found.email, found.name, feed, preferences)

    return await asyncio.to_thread(run)


async def link_page(hub: Hub, *, token: str) -> LinkPage:
    """GET: what an emailed link would do, and a form to confirm it. Writes nothing, so a
    link scanner fetching it changes nothing."""
    return await asyncio.to_thread(_link_page, hub, token)


def _open_link(
    hub: Hub, session: Session, token: str, purpose: LinkPurpose, *, audit_as: str = ""
) -> tuple[LinkClaim | None, LinkPage | None]:
    """The claim a link makes, or the page refusing it; a refusal of a POST (`audit_as` names
    the action it tried) is audited."""
    refused: LinkPage | None = None
    # Nobody can be named from a refused link, so it is refused in the council's language.
    council = hub.app.settings.council.language
    try:
        claim = LinkSigner(link_key(session)).open(token, purpose=purpose, now=hub.app.now())
    except LinkRefused as exc:
        problem = LINK_PROBLEMS[exc.problem]
        refused = LinkPage(
            False,
            say(council, lambda tr: tr(problem)),
            problem=exc.problem.value,
            language=council,
        )
    else:
        if hub.app.directory(session).person(claim.email) is None:
            refused = LinkPage(
                False,
                say(council, lambda tr: tr(LINK_NOT_IN_DIRECTORY)),
                problem="not_in_directory",
                language=council,
            )
    if refused is None:
        return claim, None
    if audit_as:
        audit.record(
            session,
            action=audit_as,
            at=hub.app.now(),
            platform="email",
            outcome="refused",
            reason=refused.problem,
        )
    return None, refused


def _link_page(hub: Hub, token: str) -> LinkPage:
    with hub.app.session() as session:
        claim, refused = _open_link(hub, session, token, LinkPurpose.ACT)
        if refused is not None:
            return refused
        assert claim is not None
        return _confirm_page(hub, session, claim)


def _confirm_page(hub: Hub, session: Session, claim: LinkClaim, message: str = "") -> LinkPage:
    """The card as the link's person sees it now, with the link's action if still open."""
    language = language_of(hub.app.directory(session).person(claim.email), hub.app.settings)
    try:
        kind, briefing_id, _version = PayloadSigner(payload_key(session)).open(claim.payload)
    except BadPayload:
        return LinkPage(
            False,
            say(language, lambda tr: tr(LINK_ALTERED)),
            problem=LinkProblem.ALTERED.value,
            language=language,
        )
    if kind == ActionKind.ACKNOWLEDGE_HEADSUP:
        return _headsup_page(hub, session, claim, briefing_id, message)
    briefing = session.get(Briefing, briefing_id)
    if briefing is None:
        return LinkPage(
            False,
            say(language, lambda tr: tr(UNREADABLE_BUTTON)),
            problem="unknown",
            language=language,
        )
    decision = session.get(Decision, briefing.decision_id)
    assert decision is not None
    card = hub.renderer(session).briefing_card(
        briefing, decision, viewer=claim.email, now=hub.app.now()
    )
    button = next((b for b in card.buttons if b.kind == kind), None)
    if button is not None and kind == ActionKind.REASSIGN:
        button = _offer(button, reassign_candidates(hub.app.directory(session), briefing))
    if button is None:
        if not _may_answer(hub.app.directory(session), briefing, kind, claim.email):
            return LinkPage(
                False,
                message or say(language, lambda tr: tr(LINK_NOT_YOURS)),
                problem="not_yours",
                card=card,
                language=language,
            )
        state = briefing.state
        nothing = say(
            language, lambda tr: tr(LINK_NOTHING_TO_DO, state=tr(STATE_WORDS[state]).lower())
        )
        return LinkPage(True, message or nothing, card=card, language=language)
    return LinkPage(
        True, message, card=card, button=button, version=briefing.version, language=language
    )


def _headsup_page(
    hub: Hub, session: Session, claim: LinkClaim, recipient_id: int, message: str
) -> LinkPage:
    """An emailed heads-up's Acknowledge link: the heads-up as its person sees it now."""
    card = headsups.card_for(
        session, headsup_context(hub, session), recipient_id=recipient_id, viewer=claim.email
    )
    if card is None:
        return LinkPage(False, message or LINK_NOT_YOURS, problem="not_yours")
    button = next(iter(card.buttons), None)
    return LinkPage(
        True, message or ("" if button else headsups.ALREADY), card=card, button=button, version=1
    )


def _may_answer(directory: Directory, briefing: Briefing, kind: ActionKind, email: str) -> bool:
    """Whether this person could ever press this button (the core checks again when they do):
    the member for a member's answer; else the briefer, their manager or their director."""
    if kind in MEMBER_ACTIONS:
        return email == briefing.member_email
    briefer = directory.person(briefing.briefer_email)
    line = {briefing.briefer_email}
    if briefer is not None:
        line |= {briefer.manager_email, directory.director_of(briefer.email)}
    return email in line


async def follow_link(
    hub: Hub, *, token: str, inputs: dict[str, str], version: int | None = None
) -> LinkPage:
    """POST: act as the link's person, with the confirm form's inputs, through the same path
    as a chat click (audited with platform `email`; every copy of the card redrawn). A refused
    link is audited and changes nothing."""
    opened = await asyncio.to_thread(_link_for_action, hub, token, version)
    if isinstance(opened, LinkPage):
        return opened
    claim, payload = opened
    reply = await handle_action(
        hub, payload=payload, actor_email=claim.email, platform="email", inputs=inputs
    )

    def after() -> LinkPage:
        with hub.app.session() as session:
            page = _confirm_page(hub, session, claim, reply.message)
        page.ok, page.done = reply.ok, reply.changed
        if reply.changed:
            page.button = None  # done: nothing left to confirm on this page
        return page

    return await asyncio.to_thread(after)


def _link_for_action(hub: Hub, token: str, version: int | None) -> tuple[LinkClaim, str] | LinkPage:
    """The link's claim and the button payload a POST acts with, or the page refusing it."""
    with hub.app.session() as session:
        claim, refused = _open_link(hub, session, token, LinkPurpose.ACT, audit_as="link")
        if refused is not None:
            return refused
        assert claim is not None
        payload = claim.payload
        signer = PayloadSigner(payload_key(session))
        if version is not None:
            # The confirm form was drawn for this version of the briefing: act on what the
            # person saw (a change since then is refused as out of date by the core).
            try:
                kind, briefing_id, _old = signer.open(payload)
            except BadPayload:
                pass  # the core refuses and audits it
            else:
                payload = signer.sign(kind, briefing_id, version)
        return claim, payload


async def calendar_feed(hub: Hub, *, token: str) -> bytes | None:
    """A person's private calendar of their open briefings, or None if the token is refused."""
    return await asyncio.to_thread(_calendar_feed, hub, token)


def _calendar_feed(hub: Hub, token: str) -> bytes | None:
    app = hub.app
    now = app.now()
    with app.session() as session:
        claim, refused = _open_link(hub, session, token, LinkPurpose.CALENDAR)
        if refused is not None:
            return None
        assert claim is not None
        email = claim.email
        briefings = list(
            session.scalars(
                select(Briefing)
                .where(
                    (col(Briefing.briefer_email) == email) | (col(Briefing.member_email) == email),
                    col(Briefing.state).in_(list(ACTIVE)),
                )
                .order_by(col(Briefing.due_at), col(Briefing.id))
            )
        )
        decisions = {
            d.id: d
            for d in session.scalars(
                select(Decision).where(col(Decision.id).in_({b.decision_id for b in briefings}))
            )
        }
        renderer = hub.renderer(session)
        events = [
            event
            for b in briefings
            for event in briefing_events(
                renderer, b, decisions[b.decision_id], viewer=email, now=now
            )
        ]
        return calendar_bytes(
            events, language=language_of(renderer.directory.person(email), app.settings)
        )


async def calendar_hold(hub: Hub, *, token: str) -> bytes | None:
    """One briefing's calendar hold (its deadline and decision day) for the person a chat
    card's link names; None if the token is refused or they are no longer on the briefing.
    Reads only: calendar clients and link scanners fetch it freely."""
    return await asyncio.to_thread(_calendar_hold, hub, token)


def _calendar_hold(hub: Hub, token: str) -> bytes | None:
    app = hub.app
    with app.session() as session:
        claim, refused = _open_link(hub, session, token, LinkPurpose.HOLD)
        if refused is not None or claim is None or not claim.payload.isdigit():
            return None
        briefing = session.get(Briefing, int(claim.payload))
        if briefing is None or claim.email not in (briefing.briefer_email, briefing.member_email):
            return None
        decision = session.get(Decision, briefing.decision_id)
        assert decision is not None
        renderer = hub.renderer(session)
        return calendar_bytes(
            briefing_events(renderer, briefing, decision, viewer=claim.email, now=app.now()),
            language=language_of(renderer.directory.person(claim.email), app.settings),
        )


async def channel_choice(hub: Hub, *, token: str) -> ChoicePage:
    """GET: a person's own choices of how to hear from the bot. Writes nothing."""
    return await asyncio.to_thread(_channel_choice, hub, token, None)


async def set_channel_choice(
    hub: Hub, *, token: str, email_off: bool, digest_by_email: bool
) -> ChoicePage:
    """POST: keep a person's choices (one-click unsubscribe is email_off); audited."""
    return await asyncio.to_thread(
        _channel_choice, hub, token, Choice(email_off, digest_by_email and not email_off)
    )


def _channel_choice(hub: Hub, token: str, new: Choice | None) -> ChoicePage:
    app = hub.app
    now = app.now()
    with app.session() as session:
        claim, refused = _open_link(
            hub,
            session,
            token,
            LinkPurpose.PREFERENCES,
            audit_as="channel_choice" if new is not None else "",
        )
        if refused is not None:
            return ChoicePage(
                False, refused.message, problem=refused.problem, language=refused.language
            )
        assert claim is not None
        language = language_of(app.directory(session).person(claim.email), app.settings)
        message = ""
        if new is not None:
            if save_choice(session, claim.email, new, now=now):
                audit.record(
                    session,
                    action="channel_choice",
                    at=now,
                    actor_email=claim.email,
                    platform="email",
                    details={"email_off": new.email_off, "digest_by_email": new.digest_by_email},
                )
            said = PREFERENCES_UNSUBSCRIBED if new.email_off else PREFERENCES_SAVED
            message = say(language, lambda tr: tr(said))
        choice = load_choices(session, [claim.email]).get(claim.email, NO_CHOICE)
        feed, _ = _personal_tokens(LinkSigner(link_key(session)), claim.email)
        return ChoicePage(
            True,
            message,
            email_off=choice.email_off,
            digest_by_email=choice.digest_by_email,
            feed_token=feed,
            language=language,
        )
