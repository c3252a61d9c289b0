"""The hub: the core's one view of the chat platforms.

Adapters register here. The core asks the hub to deliver a card to a person (trying each
platform in turn until one reaches them) and to redraw every copy of a briefing's card after
a change, so an acknowledgement in Teams updates the Slack message too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlmodel import col

from bot.briefings.together import on_decisions
from bot.briefings.waiting import ESCALATION_KINDS, escalation_context
from bot.delivery.channels import NO_CHOICE, Choice, platform_order
from bot.delivery.ports import (
    ChatAdapter,
    DeliveryNote,
    DeliveryOutcome,
    PostedLookup,
    PostedRef,
    SendResult,
)
from bot.delivery.wakeup import Wakeup
from bot.links import LinkPurpose, LinkSigner, hold_url
from bot.store.directory import PersonView
from bot.store.models import Briefing, Decision, PostedCard
from bot.store.secrets import link_key, payload_key
from bot.views.cards import Card, PayloadSigner
from bot.views.renderer import Renderer

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)


class SharedAnswers:
    """Answers keyed by everything they depend on; identical questions in flight share one.

    A key is a question and, last, the data's version. A question nothing kept or in flight
    can answer (`seen` is false) may be worked out by `first`, which learns the version as it
    answers, in one step instead of two; the same question asked meanwhile waits for it
    (`settled`) and then looks for its answer like any other."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._answers: dict[Hashable, Any] = {}
        self._flying: dict[Hashable, asyncio.Future[Any]] = {}
        self._questions: set[Hashable] = set()  # of the answers kept and the keys in flight
        self._first: dict[Hashable, asyncio.Future[Any]] = {}

    async def get(self, key: Hashable, compute: Callable[[], Awaitable[Any]]) -> Any:
        if key in self._answers:
            return self._answers[key]
        if key in self._flying:
            return await asyncio.shield(self._flying[key])
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._flying[key] = future
        self._questions.add(_question(key))
        try:
            value = await compute()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it, nobody else need see it
            raise
        finally:
            self._flying.pop(key, None)
        future.set_result(value)
        self._keep(key, value)
        return value

    def seen(self, question: Hashable) -> bool:
        """Whether an answer to `question` (a key without its version) is kept or on its way."""
        return question in self._questions or question in self._first

    async def first(
        self, question: Hashable, compute: Callable[[], Awaitable[tuple[Hashable, Any]]]
    ) -> Any:
        """Work out an answer `seen` has none for: `compute` gives the data's version it read
        and the answer, which is kept under the question and that version."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._first[question] = future
        try:
            version, value = await compute()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # its asker hears of it; those waiting look for themselves
            raise
        finally:
            self._first.pop(question, None)
        future.set_result(value)
        self._keep((*_parts(question), version), value)
        return value

    async def settled(self, question: Hashable) -> None:
        """Wait until any first answer to `question` on its way has arrived (or failed)."""
        pending = self._first.get(question)
        if pending is not None:
            await asyncio.wait([pending])

    def _keep(self, key: Hashable, value: Any) -> None:
        if len(self._answers) >= self.size:
            self._answers.clear()
            self._questions = {_question(k) for k in self._flying}
        self._answers[key] = value
        self._questions.add(_question(key))


def _parts(question: Hashable) -> tuple[Any, ...]:
    return question if isinstance(question, tuple) else (question,)


def _question(key: Hashable) -> Hashable:
    """A key without its last part, the data's version."""
    return key[:-1] if isinstance(key, tuple) else key


class Hub:
    def __init__(self, app: App) -> None:
        self.app = app
        self.adapters: dict[str, ChatAdapter] = {}
        self.answers = SharedAnswers()
        self.wakeup = Wakeup()  # an action's messages go out at once, not at the next tick
        self._signing_key: bytes | None = None  # made once per database, never changed

    def register(self, adapter: ChatAdapter) -> None:
        self.adapters[adapter.platform] = adapter

    def renderer(self, session) -> Renderer:
        return Renderer(
            settings=self.app.settings,
            calendar=self.app.calendar,
            directory=self.app.directory(session),
            signer=PayloadSigner(self._signing_key_from(session)),
        )

    def _signing_key_from(self, session) -> bytes:
        if self._signing_key is None:
            self._signing_key = payload_key(session)
        return self._signing_key

    async def deliver(
        self,
        person: PersonView,
        card: Card,
        *,
        kind: str = "",
        choice: Choice = NO_CHOICE,
        dedupe_key: str = "",
        in_doubt_since: datetime | None = None,
    ) -> SendResult:
        """Try each of the person's platforms in turn; 'not found' on one moves on to the next.

        The result names the platform that reached them and, in its detail, those that could
        not. A message in doubt (its sender died mid-send) is first looked for on a platform
        that can be asked; one that cannot is sent again and the result marked a possible
        duplicate.
        """
        last = SendResult(
            DeliveryOutcome.RECIPIENT_NOT_FOUND,
            error_code="no_adapter",
            detail="no chat platform is enabled",
        )
        order = platform_order(
            list(self.adapters), listed=person.channels, choice=choice, kind=kind
        )
        card = await self.hold_linked(card, person.email)
        missed: list[str] = []
        for adapter in (self.adapters[name] for name in order):
            try:
                result = await self._send_once(adapter, person, card, dedupe_key, in_doubt_since)
            except Exception as exc:
                log.exception("sending through %s failed", adapter.platform)
                result = SendResult(
                    DeliveryOutcome.FAILED, error_code="adapter_error", detail=type(exc).__name__
                )
            if not result.platform:
                result = replace(result, platform=adapter.platform)
            if result.outcome != DeliveryOutcome.RECIPIENT_NOT_FOUND:
                if missed and not result.detail:
                    result = replace(result, detail="not reachable on " + ", ".join(missed))
                return result
            missed.append(adapter.platform)
            last = result
        return last

    async def hold_linked(self, card: Card, email: str) -> Card:
        """A card that asks someone to act links their calendar hold (as an email attaches
        it), when the server has a public address."""
        if not (card.briefing_id and card.all_buttons and self.app.settings.server.public_url):
            return card
        return await asyncio.to_thread(self._with_hold, card, email)

    def _with_hold(self, card: Card, email: str) -> Card:
        email = email.lower()
        with self.app.session() as session:
            briefing = session.get(Briefing, card.briefing_id)
            # Only the briefer and the member have the hold (a director's chase card has none).
            if briefing is None or email not in (briefing.briefer_email, briefing.member_email):
                return card
            token = LinkSigner(link_key(session)).make(
                purpose=LinkPurpose.HOLD, email=email, payload=str(card.briefing_id)
            )
        return replace(card, calendar_url=hold_url(self.app.settings.server.public_url, token))

    @staticmethod
    async def _send_once(
        adapter: ChatAdapter,
        person: PersonView,
        card: Card,
        dedupe_key: str,
        in_doubt_since: datetime | None,
    ) -> SendResult:
        if in_doubt_since is None:
            return await adapter.send(person, card, dedupe_key=dedupe_key)
        if isinstance(adapter, PostedLookup):
            found = await adapter.find_posted(person, dedupe_key=dedupe_key, since=in_doubt_since)
            if found is not None:
                if found.outcome == DeliveryOutcome.DELIVERED:
                    return replace(found, note=DeliveryNote.ALREADY_POSTED)
                return found  # could not look: try again later rather than risk a second post
            return await adapter.send(person, card, dedupe_key=dedupe_key)
        result = await adapter.send(person, card, dedupe_key=dedupe_key)
        if result.outcome == DeliveryOutcome.DELIVERED:
            return replace(result, note=DeliveryNote.POSSIBLE_DUPLICATE)
        return result

    async def redraw(self, briefing_id: int, *, skip: PostedRef | None = None) -> int:
        """Redraw every posted copy of a briefing's card from database state."""
        jobs = await asyncio.to_thread(self._redraw_jobs, briefing_id)
        count = 0
        for posted, card in jobs:
            if skip and (posted.platform, posted.message_id) == (skip.platform, skip.message_id):
                continue
            adapter = self.adapters.get(posted.platform)
            if adapter is None:
                continue
            try:
                await adapter.update(posted, await self.hold_linked(card, posted.recipient_email))
                count += 1
            except Exception:
                log.exception("redrawing on %s failed", posted.platform)
        return count

    def _redraw_jobs(self, briefing_id: int) -> list[tuple[PostedRef, Card]]:
        with self.app.session() as session:
            briefing = session.get(Briefing, briefing_id)
            if briefing is None:
                return []
            decision = session.get(Decision, briefing.decision_id)
            assert decision is not None
            renderer = self.renderer(session)
            now = self.app.now()
            jobs = []
            context = None
            together = on_decisions(session, [briefing.decision_id])[briefing.decision_id]
            by_id = {b.id: b for b in together}
            # An officer's one card about the decision may have been posted before this
            # briefing was theirs (a hand-over, a new member): found by their other briefings.
            officers = {briefing.briefer_email, *briefing.former_briefers}
            seen: set[tuple[str, str]] = set()
            for posted in session.scalars(
                select(PostedCard).where(
                    (col(PostedCard.briefing_id) == briefing_id)
                    | (
                        col(PostedCard.briefing_id).in_(sorted(by_id))
                        & (
                            # An escalation lists every member waiting on the decision, so a
                            # change to any of their briefings redraws it.
                            col(PostedCard.view).in_(sorted(ESCALATION_KINDS))
                            | col(PostedCard.recipient_email).in_(sorted(officers))
                        )
                    )
                )
            ):
                if (posted.platform, posted.message_id) in seen:
                    continue  # an officer's one card has a row for each briefing it shows
                seen.add((posted.platform, posted.message_id))
                shown = by_id.get(posted.briefing_id, briefing)
                if posted.view in ESCALATION_KINDS:
                    context = context or escalation_context(session, briefing.decision_id)
                    card = renderer.escalation_card(
                        shown,
                        decision,
                        viewer=posted.recipient_email,
                        kind=posted.view,
                        context=context,
                        now=now,
                    )
                else:
                    card = renderer.briefer_card(
                        shown,
                        decision,
                        viewer=posted.recipient_email,
                        together=together,
                        now=now,
                    )
                jobs.append(
                    (
                        PostedRef(
                            posted.platform,
                            posted.channel,
                            posted.message_id,
                            posted.recipient_email,
                        ),
                        card,
                    )
                )
            return jobs
