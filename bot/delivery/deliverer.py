"""Delivering the outbox: claim due messages, draw each card fresh, send, record every attempt."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from bot.briefings.states import LIVE
from bot.briefings.waiting import ESCALATION_KINDS, escalation_context
from bot.delivery.channels import NO_CHOICE, Choice, load_choices
from bot.delivery.outbox import claim, retry_delay
from bot.delivery.ports import DeliveryOutcome, MessageKind, SendResult
from bot.store.directory import PersonView
from bot.store.models import (
    Briefing,
    BriefingState,
    ChatIdentity,
    Decision,
    DeliveryAttempt,
    Nudge,
    NudgeStatus,
    PostedCard,
)
from bot.views.cards import Card

if TYPE_CHECKING:
    from bot.delivery.hub import Hub

log = logging.getLogger(__name__)

# Which briefing states still make each kind of message worth sending.
OFFICER_STEP_STATES = {BriefingState.OPEN, BriefingState.DISPUTED}
ESCALATION_STATES = set(LIVE)
RELEVANT_STATES: dict[str, set[BriefingState]] = {
    MessageKind.ACK_REQUEST: {BriefingState.BRIEFED},
    MessageKind.MEMBER_REMINDER: {BriefingState.BRIEFED},
    "director": ESCALATION_STATES,
    "chief_executive": ESCALATION_STATES,
    MessageKind.REASSIGNED: ESCALATION_STATES,
    MessageKind.CHASE: ESCALATION_STATES,
}
INFORMATIONAL = {
    MessageKind.WITHDRAWN,
    MessageKind.APPROVAL_REQUEST,
    MessageKind.APPROVAL_DECIDED,
    MessageKind.ACKNOWLEDGED,
    MessageKind.DISPUTED,
    MessageKind.CHANGED_BRIEFER,
    MessageKind.CHANGED_MEMBER,
}
# Sent once per decision and step, whichever member's briefing queued them.
DECISION_WIDE = ESCALATION_KINDS
# A platform that keeps rate limiting is given this many times max_attempts before giving up.
RATE_LIMIT_PATIENCE = 4


@dataclass
class DeliveryStats:
    claimed: int = 0
    sent: int = 0
    rate_limited: int = 0
    unreachable: int = 0
    failed: int = 0
    retrying: int = 0
    cancelled: int = 0
    by_platform: dict[str, int] = field(default_factory=dict)

    def add(self, other: DeliveryStats) -> None:
        for name in (
            "claimed",
            "sent",
            "rate_limited",
            "unreachable",
            "failed",
            "retrying",
            "cancelled",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for platform, n in other.by_platform.items():
            self.by_platform[platform] = self.by_platform.get(platform, 0) + n


@dataclass
class _Job:
    nudge_id: int
    attempts: int
    kind: str
    briefing_id: int | None
    person: PersonView | None
    card: Card | None  # None: no longer relevant, cancel
    choice: Choice = NO_CHOICE  # the person's own choice of channels


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Deliverer:
    """Sends what the outbox says is due. Any number may run against one database."""

    def __init__(self, hub: Hub, *, worker: str | None = None, concurrency: int = 8) -> None:
        self.hub = hub
        self.app = hub.app
        self.worker = worker or worker_id()
        self.concurrency = concurrency

    async def run_once(self, *, max_batches: int | None = None) -> DeliveryStats:
        """Deliver every due message (in working hours only), batch by batch."""
        total = DeliveryStats()
        now = self.app.now()
        if not self.app.calendar.is_working_time(now):
            return total
        batches = 0
        while max_batches is None or batches < max_batches:
            jobs = await asyncio.to_thread(self._claim_and_draw)
            if not jobs:
                break
            batches += 1
            results = await self._send_all(jobs)
            stats = await asyncio.to_thread(self._record, jobs, results)
            total.add(stats)
        return total

    def _claim_and_draw(self) -> list[_Job]:
        now = self.app.now()
        with self.app.session() as session:
            nudges = claim(
                session, worker=self.worker, now=now, limit=self.app.settings.outbox.batch_size
            )
            if not nudges:
                return []
            return self._draw(session, nudges)

    def _draw(self, session: Session, nudges: list[Nudge]) -> list[_Job]:
        now = self.app.now()
        renderer = self.hub.renderer(session)
        briefing_ids = {n.briefing_id for n in nudges if n.briefing_id}
        briefings = (
            {
                b.id: b
                for b in session.scalars(select(Briefing).where(col(Briefing.id).in_(briefing_ids)))
            }
            if briefing_ids
            else {}
        )
        decision_ids = {b.decision_id for b in briefings.values()}
        decisions = (
            {
                d.id: d
                for d in session.scalars(select(Decision).where(col(Decision.id).in_(decision_ids)))
            }
            if decision_ids
            else {}
        )
        jobs = []
        for nudge in nudges:
            assert nudge.id is not None
            person = renderer.directory.person(nudge.recipient_email)
            card: Card | None = None
            if nudge.briefing_id is None:
                card = Card.from_dict(nudge.card) if nudge.card else None
            else:
                briefing = briefings.get(nudge.briefing_id)
                if briefing is not None and nudge.kind in DECISION_WIDE:
                    # One message per decision and step, listing every member still waiting;
                    # nothing is sent once nobody is.
                    context = escalation_context(session, briefing.decision_id)
                    if context.waiting:
                        decision = decisions.get(briefing.decision_id) or session.get(
                            Decision, briefing.decision_id
                        )
                        assert decision is not None
                        card = renderer.escalation_card(
                            briefing,
                            decision,
                            viewer=nudge.recipient_email,
                            kind=nudge.kind,
                            context=context,
                            now=now,
                        )
                elif briefing is not None and self._still_relevant(nudge.kind, briefing):
                    decision = decisions[briefing.decision_id]
                    card = renderer.briefing_card(
                        briefing,
                        decision,
                        viewer=nudge.recipient_email,
                        kind=nudge.kind,
                        now=now,
                        note=str(nudge.card.get("note", "")),
                    )
            jobs.append(_Job(nudge.id, nudge.attempts, nudge.kind, nudge.briefing_id, person, card))
        choices = load_choices(session, {job.person.email for job in jobs if job.person})
        for job in jobs:
            if job.person is not None and job.person.email in choices:
                job.choice = choices[job.person.email]
        return jobs

    @staticmethod
    def _still_relevant(kind: str, briefing: Briefing) -> bool:
        if kind in INFORMATIONAL:
            return True
        states = RELEVANT_STATES.get(kind, OFFICER_STEP_STATES)
        return BriefingState(briefing.state) in states

    async def _send_all(self, jobs: list[_Job]) -> list[SendResult | None]:
        gate = asyncio.Semaphore(self.concurrency)

        async def one(job: _Job) -> SendResult | None:
            if job.card is None:
                return None
            if job.person is None:
                return SendResult(
                    DeliveryOutcome.RECIPIENT_NOT_FOUND,
                    error_code="not_in_directory",
                    detail="the recipient is no longer in the directory",
                )
            async with gate:
                return await self.hub.deliver(
                    job.person, job.card, kind=job.kind, choice=job.choice
                )

        return list(await asyncio.gather(*(one(job) for job in jobs)))

    def _record(self, jobs: list[_Job], results: list[SendResult | None]) -> DeliveryStats:
        now = self.app.now()
        outbox = self.app.settings.outbox
        stats = DeliveryStats(claimed=len(jobs))
        nudge_updates: list[dict[str, Any]] = []
        attempts: list[dict[str, Any]] = []
        posted: list[dict[str, Any]] = []
        reach: dict[tuple[str, str], tuple[bool, str]] = {}
        for job, result in zip(jobs, results, strict=True):
            if result is None:
                stats.cancelled += 1
                nudge_updates.append(
                    {
                        "nid": job.nudge_id,
                        "status": NudgeStatus.CANCELLED.value,
                        "attempts": job.attempts,
                        "send_at": None,
                        "sent_at": None,
                        "platform": "",
                        "last_error": "no longer needed",
                    }
                )
                continue
            tries = job.attempts + 1
            attempts.append(
                {
                    "nudge_id": job.nudge_id,
                    "platform": result.platform or "-",
                    "attempted_at": now,
                    "outcome": result.outcome.value,
                    "error_code": result.error_code,
                    "detail": result.detail[:500],
                    "retry_after_seconds": result.retry_after,
                }
            )
            email = job.person.email if job.person else ""
            update_row = {
                "nid": job.nudge_id,
                "attempts": tries,
                "platform": result.platform,
                "send_at": None,
                "sent_at": None,
                "last_error": result.error_code,
            }
            if result.outcome == DeliveryOutcome.DELIVERED:
                stats.sent += 1
                stats.by_platform[result.platform] = stats.by_platform.get(result.platform, 0) + 1
                update_row |= {"status": NudgeStatus.SENT.value, "sent_at": now, "last_error": ""}
                if job.briefing_id is not None:
                    posted.append(
                        {
                            "briefing_id": job.briefing_id,
                            "recipient_email": email,
                            "platform": result.platform,
                            "channel": result.channel,
                            "message_id": result.message_id,
                            "view": job.kind,
                            "posted_at": now,
                        }
                    )
                reach[(result.platform, email)] = (True, result.user_id)
            elif result.outcome == DeliveryOutcome.RECIPIENT_NOT_FOUND:
                stats.unreachable += 1
                update_row |= {"status": NudgeStatus.UNREACHABLE.value}
                for platform in self.hub.adapters:
                    reach.setdefault((platform, email), (False, ""))
            else:
                if result.outcome == DeliveryOutcome.RATE_LIMITED:
                    stats.rate_limited += 1
                limit = outbox.max_attempts * (
                    RATE_LIMIT_PATIENCE if result.outcome == DeliveryOutcome.RATE_LIMITED else 1
                )
                if tries >= limit:
                    stats.failed += 1
                    update_row |= {"status": NudgeStatus.FAILED.value}
                else:
                    stats.retrying += 1
                    delay = retry_delay(
                        tries,
                        base=outbox.backoff_base_seconds,
                        cap=outbox.backoff_max_seconds,
                        retry_after=result.retry_after,
                    )
                    if (
                        result.outcome == DeliveryOutcome.RATE_LIMITED
                        and result.retry_after is not None
                    ):
                        # Honour Retry-After exactly (but never "now": no hot loop within a run).
                        delay = max(1.0, result.retry_after)
                    update_row |= {
                        "status": NudgeStatus.PENDING.value,
                        "send_at": now + timedelta(seconds=delay),
                    }
            nudge_updates.append(update_row)
        with self.app.session() as session:
            self._apply(session, nudge_updates, attempts, posted, reach, now)
        return stats

    @staticmethod
    def _apply(
        session: Session,
        nudge_updates: list[dict[str, Any]],
        attempts: list[dict[str, Any]],
        posted: list[dict[str, Any]],
        reach: dict[tuple[str, str], tuple[bool, str]],
        now: Any,
    ) -> None:
        for row in nudge_updates:
            values = {
                "status": row["status"],
                "attempts": row["attempts"],
                "platform": row["platform"],
                "last_error": row["last_error"],
                "claimed_by": "",
            }
            if row["send_at"] is not None:
                values["send_at"] = row["send_at"]
            if row["sent_at"] is not None:
                values["sent_at"] = row["sent_at"]
            session.execute(update(Nudge).where(Nudge.id == row["nid"]).values(**values))
        if attempts:
            session.execute(insert(DeliveryAttempt), attempts)
        if posted:
            session.execute(insert(PostedCard), posted)
        if reach:
            known = {
                (c.platform, c.email): c
                for c in session.scalars(
                    select(ChatIdentity).where(col(ChatIdentity.email).in_({e for _, e in reach}))
                )
            }
            # An upsert, in key order: two deliverers may reach the same new person at once,
            # and a plain INSERT would fail the loser's whole batch (sends unrecorded, then
            # re-sent once the claim goes stale).
            dialect = session.get_bind().dialect.name
            upsert = postgresql_insert if dialect == "postgresql" else sqlite_insert
            for (platform, email), (ok, user_id) in sorted(reach.items()):
                if not email:
                    continue
                identity = known.get((platform, email))
                if (
                    identity is not None
                    and identity.reachable == ok
                    and (not user_id or identity.platform_user_id == user_id)
                ):
                    continue
                changes: dict[str, Any] = {"reachable": ok, "updated_at": now}
                if user_id:
                    changes["platform_user_id"] = user_id
                statement = upsert(ChatIdentity).values(
                    platform=platform,
                    email=email,
                    platform_user_id=user_id,
                    tenant_id="",
                    detail={},
                    reachable=ok,
                    updated_at=now,
                )
                session.execute(
                    statement.on_conflict_do_update(
                        index_elements=[ChatIdentity.platform, ChatIdentity.email], set_=changes
                    )
                )
