"""Prometheus metrics for `/metrics`: what this process counted, and what the database says.

Counters (messages sent, retried and failed by platform and kind; ticks; actions) are this
process's since it started, as Prometheus expects; the queue, stale sources and the audit
chain's age are read from the database at each scrape, so they hold for every process.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest
from sqlalchemy import func, select
from sqlmodel import Session, col

from bot.store.models import AuditEvent, AuditHead, Nudge, NudgeStatus, SourceState
from bot.timeutil import as_utc

if TYPE_CHECKING:
    from bot.delivery.deliverer import DeliveryStats

CONTENT_TYPE = CONTENT_TYPE_LATEST
# Ticks run from milliseconds (an empty delivery) to seconds (a full sweep of a large plan).
TICK_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
# The outbox statuses a message waits in.
WAITING = (NudgeStatus.PENDING, NudgeStatus.SENDING)


class Metrics:
    """One registry per App, so several Apps in one process (tests) never share counts."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        labels = ["platform", "kind"]
        self.sent = Counter(
            "nosurprises_messages_sent", "Messages delivered", labels, registry=self.registry
        )
        self.retried = Counter(
            "nosurprises_messages_retried",
            "Sends that failed and will be tried again (rate limits included)",
            labels,
            registry=self.registry,
        )
        self.failed = Counter(
            "nosurprises_messages_failed",
            "Messages given up on: failed too often, or the person is on no platform",
            [*labels, "reason"],
            registry=self.registry,
        )
        self.queued = Gauge(
            "nosurprises_messages_queued",
            "Messages waiting in the outbox (pending, or being sent), by kind",
            ["kind", "status"],
            registry=self.registry,
        )
        self.tick_seconds = Histogram(
            "nosurprises_tick_duration_seconds",
            "How long each tick took",
            ["tick"],
            buckets=TICK_BUCKETS,
            registry=self.registry,
        )
        self.tick_failures = Counter(
            "nosurprises_tick_failures", "Ticks that ended in an error", ["tick"],
            registry=self.registry,
        )  # fmt: skip
        self.actions = Counter(
            "nosurprises_actions",
            "Button presses by kind and outcome (done, ok, needs_input, refused, stranger)",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self.stale_sources = Gauge(
            "nosurprises_stale_sources",
            "Forward plan sources whose last pull failed (their last good data is kept)",
            registry=self.registry,
        )
        self.audit_age = Gauge(
            "nosurprises_audit_checkpoint_age_seconds",
            "Seconds since the audit chain's signed checkpoint (its head, re-signed at every "
            "append) last moved",
            registry=self.registry,
        )

    def count_delivery(self, *, platform: str, kind: str, stats: DeliveryStats) -> None:
        """Count one message's recorded result."""
        platform = platform or "-"
        if stats.sent:
            self.sent.labels(platform, kind).inc()
        if stats.retrying:
            self.retried.labels(platform, kind).inc()
        if stats.failed:
            self.failed.labels(platform, kind, "failed").inc()
        if stats.unreachable:
            self.failed.labels(platform, kind, "unreachable").inc()

    def count_action(self, *, kind: str, outcome: str) -> None:
        self.actions.labels(kind or "unknown", outcome).inc()

    def observe_tick(self, name: str, seconds: float, *, failed: bool) -> None:
        self.tick_seconds.labels(name).observe(seconds)
        if failed:
            self.tick_failures.labels(name).inc()

    def render(self, session: Session, *, now: datetime) -> bytes:
        """The exposition text, with the database's figures read now."""
        self.queued.clear()
        waiting = session.execute(
            select(col(Nudge.kind), col(Nudge.status), func.count())
            .where(col(Nudge.status).in_(WAITING))
            .group_by(col(Nudge.kind), col(Nudge.status))
        ).all()
        for kind, status, count in waiting:
            self.queued.labels(kind, status).set(count)
        self.stale_sources.set(
            session.scalar(
                select(func.count())
                .select_from(SourceState)
                .where(col(SourceState.stale_since).is_not(None))
            )
            or 0
        )
        head = select(col(AuditHead.seq)).where(col(AuditHead.id) == 1).scalar_subquery()
        signed = session.scalar(select(col(AuditEvent.at)).where(col(AuditEvent.seq) == head))
        # No head row (deleted: the next append rebuilds it and the chain records that): the
        # newest event then says how long ago the chain last moved.
        moved = signed or session.scalar(select(func.max(col(AuditEvent.at))))
        self.audit_age.set((now - as_utc(moved)).total_seconds() if moved is not None else 0.0)
        return generate_latest(self.registry)
