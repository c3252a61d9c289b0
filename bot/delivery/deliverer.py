"""Delivering the outbox: claim due messages, draw each card fresh, send, record every attempt.

Each message is recorded in its own commit as soon as its platform answers, so a crash can
repeat at most the few messages in flight; claims carry a heartbeat (see outbox.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import (
    Connection,
    Dialect,
    Select,
    TextClause,
    any_,
    bindparam,
    func,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from bot.briefings.states import LIVE
from bot.briefings.together import briefed_by, is_briefer_step
from bot.briefings.waiting import ESCALATION_KINDS, escalation_context
from bot.delivery.among import among
from bot.delivery.channels import NO_CHOICE, Choice, load_choices
from bot.delivery.outbox import Claimed, claim, heartbeat, release_stale, renew, retry_delay
from bot.delivery.pgpipeline import Statement, run_each
from bot.delivery.ports import DeliveryOutcome, MessageKind, SendResult
from bot.store.directory import PersonView
from bot.store.models import (
    Briefing,
    BriefingState,
    ChatIdentity,
    Decision,
    Nudge,
    NudgeStatus,
    table_of,
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
# A result that cannot be recorded because the database is away is kept and retried this long
# (the message stays claimed meanwhile; if this process dies it is looked for before resending).
RECORD_PATIENCE_SECONDS = 900.0
RECORD_BACKOFF_MAX_SECONDS = 5.0
# Claimed ahead of sending, per message in flight: a claim, its draw and their queries cost
# the same for one message or many, so claiming a few sends' worth at once keeps throughput
# up; a crash leaves these few claimed (back in the queue, in doubt, within a minute).
# On PostgreSQL three claims' worth (one being sent, one being drawn, one whose query waits
# on the server), 32 a claim; SQLite claims half its four as the other half is sent.
CLAIM_AHEAD = {"sqlite": 4, "postgresql": 12}
# Claims under way at once. On PostgreSQL the next claim's query waits on the server while
# this process draws the batch before it, so sending never waits for a claim; SQLite has one
# database thread, and nothing to wait for but itself.
CLAIMS_AT_ONCE = {"sqlite": 1, "postgresql": 2}
# Threads doing a deliverer's database work: SQLite takes one writer at a time.
DATABASE_THREADS = {"sqlite": 1, "postgresql": 4}
# The DB-API's errors for a database that is away (its other errors are bugs or bad data).
OUTAGE_ERRORS = frozenset({"OperationalError", "InterfaceError"})
T = TypeVar("T")


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


class _RecordStatements:
    """The statements that record one result, built once per dialect (one commit per message
    is only fast when nothing is compiled again for each). On PostgreSQL each result is one
    statement in autocommit (data-modifying CTEs): one round trip, atomic; SQLite runs the same
    steps as separate statements in one transaction."""

    ATTEMPT = (
        "INSERT INTO deliveryattempt (nudge_id, platform, attempted_at, outcome, error_code, "
        "detail, retry_after_seconds, note) VALUES (:id, :attempt_platform, :now, :outcome, "
        ":error_code, :detail, :retry_after, :note)"
    )
    # One row per briefing the card shows: its own, and on an officer's one card about a
    # decision (`together` is then their email) each of theirs on it, so a change to any of
    # them finds the card to redraw.
    # Two look-ups by index (the primary key; the decision's briefings), never a scan.
    POSTED = (
        "INSERT INTO postedcard (briefing_id, recipient_email, platform, channel, message_id, "
        "view, posted_at) SELECT id, :email, :platform, :channel, :message_id, :view, :now "
        "FROM briefing WHERE id = CAST(:briefing_id AS INTEGER) UNION ALL "
        "SELECT id, :email, :platform, :channel, :message_id, :view, :now FROM briefing "
        "WHERE decision_id = (SELECT decision_id FROM briefing "
        "WHERE id = CAST(:briefing_id AS INTEGER)) AND briefer_email = :together "
        "AND id <> CAST(:briefing_id AS INTEGER)"
    )
    # Posted is posted, even if this claim was taken over while the database was away.
    SENT = (
        f"UPDATE nudge SET status = '{NudgeStatus.SENT.value}', attempts = :attempts, "
        "platform = :platform, last_error = '', claimed_by = '', sent_at = :now, "
        f"in_doubt = false WHERE id = :id AND status <> '{NudgeStatus.SENT.value}'"
    )
    UNSENT = (
        "UPDATE nudge SET status = :status, attempts = :attempts, platform = :platform, "
        "last_error = :error_code, claimed_by = '', send_at = COALESCE(:send_at, send_at) "
        "WHERE id = :id AND claimed_by = :token"
    )
    CANCEL = (
        f"UPDATE nudge SET status = '{NudgeStatus.CANCELLED.value}', claimed_by = '', "
        "last_error = 'no longer needed' WHERE id = :id AND claimed_by = :token"
    )

    # Whether a platform reaches a person, written only when that changed (an upsert: two
    # deliverers may reach the same new person at once); a user id, once known, is kept.
    REACH = (
        "INSERT INTO chatidentity (platform, email, platform_user_id, tenant_id, detail, "
        "reachable, updated_at) VALUES (:reach_platform, :email, :user_id, '', '{}', :ok, :now) "
        "ON CONFLICT (platform, email) DO UPDATE SET reachable = excluded.reachable, "
        "updated_at = excluded.updated_at, platform_user_id = CASE "
        "WHEN excluded.platform_user_id <> '' THEN excluded.platform_user_id "
        "ELSE chatidentity.platform_user_id END"
    )

    def __init__(self) -> None:
        self._built: dict[tuple[str, str], list[_Prepared]] = {}

    def steps(self, dialect: Dialect, outcome: str) -> list[_Prepared]:
        """The statements recording a result (`sent`, `unsent` or `cancel`), or one platform's
        reach of its recipient (`reach`)."""
        key = (dialect.name, outcome)
        if key not in self._built:
            sql = {
                "sent": [self.ATTEMPT, self.POSTED, self.SENT],
                "unsent": [self.ATTEMPT, self.UNSENT],
                "cancel": [self.CANCEL],
                "reach": [self.REACH],
            }[outcome]
            if dialect.name == "postgresql" and len(sql) > 1:
                *writes, last = sql
                ctes = ", ".join(f"w{i} AS ({w})" for i, w in enumerate(writes))
                sql = [f"WITH {ctes} {last}"]
            when = table_of(Nudge).c.sent_at.type
            self._built[key] = [
                _Prepared(_typed(text(statement), when), dialect, f"nosurprises_{outcome}_{i}")
                for i, statement in enumerate(sql)
            ]
        return self._built[key]


def _typed(statement: TextClause, when: Any) -> TextClause:
    names = {"now", "send_at"} & set(statement._bindparams)
    return statement.bindparams(*(bindparam(n, type_=when) for n in sorted(names)))


class _Prepared:
    """A statement compiled once to the driver's own SQL, run on a DB-API cursor: at a
    thousand messages a second, SQLAlchemy's per-execution work would be most of the cost."""

    def __init__(self, statement: TextClause, dialect: Dialect, name: str) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        self.positions = compiled.positiontup
        self.processors: dict[str, Callable[[Any], Any]] = {
            name: processor
            for name, processor in compiled._bind_processors.items()
            if callable(processor)
        }
        # On PostgreSQL, the same statement as a hop's pipeline sends it (pgpipeline.py).
        self.pipelined = (
            Statement(name, self.sql, self.processors) if dialect.name == "postgresql" else None
        )

    def run(self, cursor: Any, params: dict[str, Any]) -> None:
        values = {
            name: self.processors[name](value) if name in self.processors else value
            for name, value in params.items()
        }
        if self.positions is None:
            cursor.execute(self.sql, values)
        else:
            cursor.execute(self.sql, [values[name] for name in self.positions])


RECORD = _RecordStatements()


@dataclass
class _Job:
    nudge_id: int
    attempts: int
    kind: str
    briefing_id: int | None
    person: PersonView | None
    card: Card | None  # None: no longer relevant, cancel
    dedupe_key: str = ""
    token: str = ""
    in_doubt_since: datetime | None = None  # its last sender died mid-send: look before sending
    claimed_mono: float = 0.0  # when this process claimed it (time.monotonic)
    choice: Choice = NO_CHOICE  # the person's own choice of channels


@dataclass
class _Record:
    """One result as recording it will write it."""

    params: dict[str, Any]
    outcome: str  # which of RECORD's statements: sent, unsent or cancel
    stats: DeliveryStats
    email: str
    reach: list[tuple[str, bool, str]]  # reachability to remember: (platform, ok, user id)
    now: datetime


_mates_statements: dict[str, Select[Any]] = {}


def _mates_statement(dialect: str) -> Select[Any]:
    """Every briefing on the decisions of the briefings `:ids` (built once per dialect: an
    aliased table is costly to build for every batch)."""
    if dialect not in _mates_statements:
        named = aliased(Briefing)
        decisions = (
            select(col(named.decision_id))
            .where(among(col(named.id), "ids", dialect=dialect))
            .scalar_subquery()
        )
        if dialect == "postgresql":
            # Their decisions as one array (`ARRAY(SELECT …)`), worked out first: the
            # briefings on them are then found by index, where `IN (subquery)` was planned as
            # a hash join over every briefing.
            on_them = col(Briefing.decision_id) == any_(func.array(decisions))
        else:
            on_them = col(Briefing.decision_id).in_(decisions)
        _mates_statements[dialect] = select(Briefing).where(on_them).order_by(col(Briefing.id))
    return _mates_statements[dialect]


@cache
def _decisions_statement(dialect: str) -> Select[Any]:
    """The decisions `:ids` (built once per dialect)."""
    return select(Decision).where(among(col(Decision.id), "ids", dialect=dialect))


@cache
def _reach_statement(dialect: str) -> Select[Any]:
    """What the database knows of reaching the people `:emails` (built once per dialect)."""
    identities = table_of(ChatIdentity)
    return select(
        identities.c.platform,
        identities.c.email,
        identities.c.reachable,
        identities.c.platform_user_id,
    ).where(among(identities.c.email, "emails", dialect=dialect))


def _on_decisions_of(
    session: Session, briefing_ids: set[int], *, dialect: str
) -> dict[int, list[Briefing]]:
    """Every briefing on the decisions these briefings are about, in id order, by decision."""
    found: dict[int, list[Briefing]] = defaultdict(list)
    if not briefing_ids:
        return found
    for briefing in session.scalars(_mates_statement(dialect), {"ids": sorted(briefing_ids)}):
        found[briefing.decision_id].append(briefing)
    return found


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def is_outage(exc: BaseException) -> bool:
    """A database error worth waiting out (connection lost, server down, SQLite busy), raised
    through SQLAlchemy or straight from the driver (a record's statements run on its cursor)."""
    raised: BaseException | None = exc
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        raised = exc.orig
    # By the DB-API's names, whichever driver raised it (psycopg's AdminShutdown, say, is an
    # OperationalError).
    return any(kind.__name__ in OUTAGE_ERRORS for kind in type(raised).__mro__)


class Deliverer:
    """Sends what the outbox says is due. Any number may run against one database."""

    def __init__(
        self, hub: Hub, *, worker: str | None = None, concurrency: int | None = None
    ) -> None:
        self.hub = hub
        self.app = hub.app
        self.worker = worker or worker_id()
        self.concurrency = max(1, concurrency or self.app.settings.outbox.concurrency)
        self._in_flight: dict[int, str] = {}  # claimed and not yet recorded: id → claim token
        self._renewed_at: dict[int, float] = {}  # when each one's heartbeat last took
        # Reachability already in the database, so a send writes ChatIdentity only on change.
        self._reach: dict[tuple[str, str], tuple[bool, str]] = {}
        self._executor: ThreadPoolExecutor | None = None
        self._released_at = float("-inf")
        self._sending: asyncio.Semaphore | None = None
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[Connection] = []
        # Results waiting for the database thread, recorded one commit each but handed over
        # in one hop: a thread hop per message cost as much as recording it (issue 15).
        self._unrecorded: list[tuple[_Job, SendResult | None, asyncio.Future[DeliveryStats]]] = []
        self._recorders: set[asyncio.Task[None]] = set()  # kept referenced while they run
        self._recording = 0  # recorders still taking results (not merely not yet done)
        self._record_lanes = 1

    async def _db(self, work: Callable[..., T], *args: Any) -> T:
        # Database work runs on this deliverer's own thread(s): SQLite takes one writer at a
        # time, and a queue of small commits on one thread beats threads waiting on its lock.
        assert self._executor is not None
        return await asyncio.get_running_loop().run_in_executor(self._executor, work, *args)

    async def run_once(self, *, max_batches: int | None = None) -> DeliveryStats:
        """Deliver every due message (in working hours only), a few in flight at once."""
        total = DeliveryStats()
        if not self.app.calendar.is_working_time(self.app.now()):
            return total
        threads = DATABASE_THREADS.get(self.app.engine.dialect.name, 2)
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="deliver-db")
        # On PostgreSQL a record is a round trip that mostly waits for the server: several
        # recorders at once overlap those waits; one thread is left for claims and heartbeats.
        self._record_lanes = max(1, threads - 1)
        self._sending = asyncio.Semaphore(self.concurrency)
        self._released_at = float("-inf")  # look for dead processes' claims straight away
        beating = asyncio.create_task(self._keep_heartbeat())
        tasks: set[asyncio.Task[DeliveryStats]] = set()
        try:
            await self._deliver_all(total, tasks, max_batches)
        finally:
            # Whatever stopped the claims, what is in flight is still recorded.
            if tasks:
                for stats in await asyncio.gather(*tasks, return_exceptions=True):
                    if isinstance(stats, DeliveryStats):
                        total.add(stats)
            beating.cancel()
            await asyncio.gather(beating, return_exceptions=True)
            executor, self._executor = self._executor, None
            await asyncio.to_thread(executor.shutdown)
            self._close_connections()
        return total

    async def _deliver_all(
        self,
        total: DeliveryStats,
        tasks: set[asyncio.Task[DeliveryStats]],
        max_batches: int | None,
    ) -> None:
        dialect = self.app.engine.dialect.name
        at_once = CLAIMS_AT_ONCE.get(dialect, 1)
        claimed_at_most = min(
            self.app.settings.outbox.batch_size, self.concurrency * CLAIM_AHEAD.get(dialect, 4)
        )
        # With one claim at a time, claim again once half is free; with two, once a third is,
        # so the next claim is under way while the batch before it is drawn and sent.
        low_water = max(1, claimed_at_most // (at_once + 1))
        claims: dict[asyncio.Task[list[_Job]], int] = {}  # claims under way → most each takes
        batches = 0
        exhausted = False
        try:
            while True:
                free = claimed_at_most - len(tasks) - sum(claims.values())
                if max_batches is not None and batches >= max_batches:
                    exhausted = True
                idle = not tasks and not claims
                if not exhausted and len(claims) < at_once and (free >= low_water or idle):
                    # A copy: the database thread must not read a dict this loop is changing.
                    claiming = asyncio.create_task(
                        self._db(self._claim_and_draw, free, set(self._in_flight))
                    )
                    claims[claiming] = free
                    batches += 1
                    continue
                if idle:
                    return
                await asyncio.wait({*tasks, *claims}, return_when=asyncio.FIRST_COMPLETED)
                for claiming in [c for c in claims if c.done()]:
                    del claims[claiming]
                    jobs = claiming.result()
                    exhausted = exhausted or not jobs
                    self._start(jobs, tasks)
                for task in [t for t in tasks if t.done()]:
                    tasks.discard(task)
                    total.add(task.result())
        finally:
            # A claim still under way when another failed: its messages are sent all the same,
            # rather than left claimed until their heartbeat goes stale.
            for claiming in claims:
                with contextlib.suppress(Exception):
                    self._start(await claiming, tasks)

    def _start(self, jobs: list[_Job], tasks: set[asyncio.Task[DeliveryStats]]) -> None:
        for job in jobs:
            self._in_flight[job.nudge_id] = job.token
            tasks.add(asyncio.create_task(self._deliver_one(job)))

    async def _keep_heartbeat(self) -> None:
        interval = max(0.05, self.app.settings.outbox.claim_timeout_seconds / 4)
        while True:
            await asyncio.sleep(interval)
            claims = dict(self._in_flight)
            if not claims:
                continue
            beat_at = time.monotonic()
            try:
                for nudge_id in await self._db(self._beat, claims):
                    self._renewed_at[nudge_id] = beat_at
            except Exception as exc:
                # The database is away: the records wait for it too; nothing to do but retry.
                log.warning("could not refresh the delivery heartbeat: %s", type(exc).__name__)

    def _beat(self, claims: dict[int, str]) -> set[int]:
        with self.app.session() as session:
            return heartbeat(session, claims=claims, now=self.app.now())

    def _claim_and_draw(self, limit: int, in_flight: set[int]) -> list[_Job]:
        now = self.app.now()
        outbox = self.app.settings.outbox
        timeout = timedelta(seconds=outbox.claim_timeout_seconds)
        with self._claim_session() as session:
            # Looking for dead processes' claims a few times a timeout is enough.
            if time.monotonic() - self._released_at > timeout.total_seconds() / 4:
                release_stale(session, now=now, timeout=timeout, keep=in_flight)
                self._released_at = time.monotonic()
            nudges = claim(
                session,
                worker=self.worker,
                now=now,
                limit=min(limit, outbox.batch_size),
                release=False,
            )
            if not nudges:
                return []
            self._learn_reach(session, {n.recipient_email for n in nudges})
            return self._draw(session, nudges)

    @contextlib.contextmanager
    def _claim_session(self) -> Iterator[Session]:
        """A session for claiming and drawing a batch. On PostgreSQL it runs on this thread's
        kept connection, in autocommit: the claim is committed as it runs (its one statement,
        as before), and the batch costs no pool check-out, ping and reset; the draw's reads
        each see the latest committed data, as they did (READ COMMITTED)."""
        if self.app.engine.dialect.name != "postgresql":
            with self.app.session() as session:
                yield session
            return
        try:
            with Session(bind=self._connection(), expire_on_commit=False) as session:
                yield session
        except Exception:
            self._drop_connection()
            raise

    def _learn_reach(self, session: Session, emails: set[str]) -> None:
        unknown = {e for e in emails if not any((p, e) in self._reach for p in self.hub.adapters)}
        if not unknown:
            return
        dialect = self.app.engine.dialect.name
        for identity in session.connection().execute(
            _reach_statement(dialect), {"emails": sorted(unknown)}
        ):
            self._reach[(identity.platform, identity.email)] = (
                identity.reachable,
                identity.platform_user_id,
            )

    def _draw(self, session: Session, nudges: list[Claimed]) -> list[_Job]:
        now = self.app.now()
        dialect = self.app.engine.dialect.name
        renderer = self.hub.renderer(session)
        briefing_ids = {n.briefing_id for n in nudges if n.briefing_id}
        # The batch's briefings and every other briefing on their decisions (an officer's one
        # card lists theirs): one query, each row loaded once.
        together_by = _on_decisions_of(session, briefing_ids, dialect=dialect)
        briefings = {
            b.id: b for on_one in together_by.values() for b in on_one if b.id in briefing_ids
        }
        decision_ids = {b.decision_id for b in briefings.values()}
        decisions = (
            {
                d.id: d
                for d in session.scalars(
                    _decisions_statement(dialect), {"ids": sorted(decision_ids)}
                )
            }
            if decision_ids
            else {}
        )
        # The officers' prompts and reminders in this batch are drawn with every briefing on
        # their decisions: looked up in one query.
        officer_steps = {
            n.id
            for n in nudges
            if (b := briefings.get(n.briefing_id or 0)) is not None
            # (or was: the briefing that queued it may have been passed on since)
            and n.recipient_email in (b.briefer_email, *b.former_briefers)
            and is_briefer_step(b.ladder, n.kind)
        }
        jobs = []
        for nudge in nudges:
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
                elif briefing is not None and nudge.id in officer_steps:
                    # The officer's prompts and reminders: one card per decision listing each
                    # member they owe a briefing on it; sent while any of those still waits.
                    together = together_by[briefing.decision_id]
                    mine = briefed_by(together, nudge.recipient_email)
                    if any(BriefingState(b.state) in OFFICER_STEP_STATES for b in mine):
                        card = renderer.briefer_card(
                            next((b for b in mine if b.id == briefing.id), mine[0]),
                            decisions[briefing.decision_id],
                            viewer=nudge.recipient_email,
                            together=together,
                            kind=nudge.kind,
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
            jobs.append(
                _Job(
                    nudge.id,
                    nudge.attempts,
                    nudge.kind,
                    nudge.briefing_id,
                    person,
                    card,
                    dedupe_key=nudge.dedupe_key,
                    token=nudge.claimed_by,
                    in_doubt_since=nudge.send_at if nudge.in_doubt else None,
                    claimed_mono=time.monotonic(),
                )
            )
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

    async def _deliver_one(self, job: _Job) -> DeliveryStats:
        try:
            assert self._sending is not None
            # A send is in flight until it is recorded: that is what a crash can repeat.
            async with self._sending:
                if not await self._still_mine(job):
                    return DeliveryStats()
                result = await self._send(job)
                stats = await self._record_patiently(job, result)
            platform = result.platform if result is not None else ""
            self.app.metrics.count_delivery(platform=platform, kind=job.kind, stats=stats)
            return stats
        finally:
            self._in_flight.pop(job.nudge_id, None)
            self._renewed_at.pop(job.nudge_id, None)

    async def _still_mine(self, job: _Job) -> bool:
        """Whether this claim is surely still ours: yes while its heartbeat is fresh; after a
        lapse (the database was away) only if renewing it finds it unclaimed by anyone else."""
        fresh_since = max(job.claimed_mono, self._renewed_at.get(job.nudge_id, float("-inf")))
        if time.monotonic() - fresh_since < self.app.settings.outbox.claim_timeout_seconds / 2:
            return True
        try:
            mine = await self._db(self._renew, job)
        except Exception as exc:
            log.warning("could not check message %s is still ours: %s", job.nudge_id,
                        type(exc).__name__)  # fmt: skip
            return False
        if not mine:
            log.info("message %s was taken over while the database was away", job.nudge_id)
        return mine

    def _renew(self, job: _Job) -> bool:
        with self.app.session() as session:
            return renew(session, nudge_id=job.nudge_id, token=job.token, now=self.app.now())

    async def _send(self, job: _Job) -> SendResult | None:
        if job.card is None:
            return None
        if job.person is None:
            return SendResult(
                DeliveryOutcome.RECIPIENT_NOT_FOUND,
                error_code="not_in_directory",
                detail="the recipient is no longer in the directory",
            )
        return await self.hub.deliver(
            job.person,
            job.card,
            kind=job.kind,
            choice=job.choice,
            dedupe_key=job.dedupe_key,
            in_doubt_since=job.in_doubt_since,
        )

    async def _record_patiently(self, job: _Job, result: SendResult | None) -> DeliveryStats:
        """Record one result in its own commit, waiting out a database outage."""
        started = time.monotonic()
        delay = 0.1
        while True:
            try:
                return await self._record_soon(job, result)
            except Exception as exc:
                if not is_outage(exc) or time.monotonic() - started > RECORD_PATIENCE_SECONDS:
                    # Left claimed: once its heartbeat is stale it is looked for, then resent.
                    log.error(
                        "could not record message %s (%s); it will be checked and retried",
                        job.nudge_id,
                        type(exc).__name__,
                    )
                    return DeliveryStats(claimed=1)
                log.warning("database unavailable; recording message %s again", job.nudge_id)
            await asyncio.sleep(delay)
            delay = min(RECORD_BACKOFF_MAX_SECONDS, delay * 2)

    async def _record_soon(self, job: _Job, result: SendResult | None) -> DeliveryStats:
        """Record one result in its own commit, on the database thread with whatever other
        results are waiting (one hop for them all); raises what recording it raised."""
        future: asyncio.Future[DeliveryStats] = asyncio.get_running_loop().create_future()
        self._unrecorded.append((job, result, future))
        if self._recording < self._record_lanes:
            self._recording += 1
            recorder = asyncio.create_task(self._record_waiting())
            self._recorders.add(recorder)
            recorder.add_done_callback(self._recorders.discard)
        return await future

    async def _record_waiting(self) -> None:
        try:
            while self._unrecorded:
                batch, self._unrecorded = self._unrecorded, []
                try:
                    outcomes = await self._db(self._record_each, [(j, r) for j, r, _ in batch])
                except Exception as exc:  # the hop itself failed: each waiter hears why
                    outcomes = [exc] * len(batch)
                except BaseException:
                    for _, _, future in batch:
                        future.cancel()
                    raise
                self._settle(batch, outcomes)
        finally:
            # Counted out as soon as it stops taking results, with no await in between: a
            # result queued after this starts a recorder of its own (a finished task stays in
            # `_recorders` until its done-callback runs, so that set cannot tell).
            self._recording -= 1

    @staticmethod
    def _settle(
        batch: list[tuple[_Job, SendResult | None, asyncio.Future[DeliveryStats]]],
        outcomes: list[DeliveryStats | BaseException],
    ) -> None:
        for (_, _, future), outcome in zip(batch, outcomes, strict=True):
            if future.done():  # its waiter was cancelled
                continue
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    def _record_each(
        self, results: list[tuple[_Job, SendResult | None]]
    ) -> list[DeliveryStats | BaseException]:
        """Each result in its own commit, in order. After an outage the rest are not tried:
        they wait with it (each waiter backs off and tries again)."""
        pipelined = self.app.engine.dialect.name == "postgresql"
        outcomes: list[DeliveryStats | BaseException] = []
        while len(outcomes) < len(results):
            last = outcomes[-1] if outcomes else None
            if isinstance(last, BaseException) and is_outage(last):
                outcomes.append(last)
                continue
            record = self._plan(*results[len(outcomes)])
            if pipelined:
                # The rest of the hop: one round trip for all.
                run = [record, *(self._plan(j, r) for j, r in results[len(outcomes) + 1 :])]
                outcomes += self._write_pipelined(run)
                continue
            try:
                outcomes.append(self._record_one(record))
            except Exception as exc:
                outcomes.append(exc)
        return outcomes

    def _plan(self, job: _Job, result: SendResult | None) -> _Record:
        """What recording one result writes (nothing is written yet)."""
        now = self.app.now()
        stats = DeliveryStats(claimed=1)
        params: dict[str, Any] = {"id": job.nudge_id, "token": job.token, "now": now}
        email = job.person.email if job.person else ""
        reach: list[tuple[str, bool, str]] = []
        if result is None:
            stats.cancelled += 1
            outcome = "cancel"
        else:
            params |= {
                "attempt_platform": result.platform or "-",
                "outcome": result.outcome.value,
                "error_code": result.error_code,
                "detail": result.detail[:500],
                "retry_after": result.retry_after,
                "note": result.note,
                "attempts": job.attempts + 1,
                "platform": result.platform,
            }
            outcome = "unsent"
            if result.outcome == DeliveryOutcome.DELIVERED:
                stats.sent += 1
                stats.by_platform[result.platform] = 1
                outcome = "sent"
                params |= {
                    "briefing_id": job.briefing_id,
                    "together": email if job.card is not None and job.card.sections else None,
                    "email": email,
                    "channel": result.channel,
                    "message_id": result.message_id,
                    "view": job.kind,
                }
                if self._reach_changed(result.platform, email, True, result.user_id):
                    reach.append((result.platform, True, result.user_id))
            elif result.outcome == DeliveryOutcome.RECIPIENT_NOT_FOUND:
                stats.unreachable += 1
                params |= {"status": NudgeStatus.UNREACHABLE.value, "send_at": None}
                reach += [
                    (p, False, "") for p in self.hub.adapters if (p, email) not in self._reach
                ]
            else:
                params |= self._retry_or_fail(result, job.attempts + 1, now, stats)
        return _Record(params, outcome, stats, email, reach, now)

    def _record_one(self, record: _Record) -> DeliveryStats:
        connection = self._connection()
        try:
            with connection.begin():
                cursor = connection.connection.cursor()
                self._write(cursor, connection.dialect, record)
                cursor.close()
        except Exception:
            self._drop_connection()
            raise
        self._remember_reach(record)
        return record.stats

    @staticmethod
    def _statements(dialect: Dialect, record: _Record) -> list[tuple[_Prepared, dict[str, Any]]]:
        """One record's statements, each with its parameters, in order."""
        steps = [(step, record.params) for step in RECORD.steps(dialect, record.outcome)]
        for platform, ok, user_id in record.reach:
            reach = {"reach_platform": platform, "email": record.email, "user_id": user_id}
            steps += [
                (step, reach | {"ok": ok, "now": record.now})
                for step in RECORD.steps(dialect, "reach")
            ]
        return steps

    def _write(self, cursor: Any, dialect: Dialect, record: _Record) -> None:
        """One record's statements, on a cursor inside its transaction."""
        for step, params in self._statements(dialect, record):
            step.run(cursor, params)

    def _remember_reach(self, record: _Record) -> None:
        """Once a record is committed: the reachability it wrote is what the database has."""
        for platform, ok, user_id in record.reach:
            known = self._reach.get((platform, record.email))
            self._reach[(platform, record.email)] = (ok, user_id or (known[1] if known else ""))

    def _write_pipelined(self, records: list[_Record]) -> list[DeliveryStats | BaseException]:
        """PostgreSQL: several results sent together, each in a transaction of its own, and
        their answers read back together. Each committed stays committed; one that failed
        hears why; after a lost connection, it and every one after it wait for a retry."""
        connection = self._connection()
        driver = connection.connection.driver_connection
        assert driver is not None
        transactions = []
        for record in records:
            steps = self._statements(connection.dialect, record)
            transactions.append(
                [
                    (step.pipelined, step.pipelined.values(params))
                    for step, params in steps
                    if step.pipelined
                ]
            )
        # The statements prepared on this database connection, kept with it (it goes back to
        # the pool after a run, prepared statements and all, and may be this thread's next).
        prepared = connection.connection.info.setdefault("record_statements_prepared", set())
        try:
            with driver.lock:
                answers = run_each(driver.pgconn, prepared, transactions)
        except Exception as exc:
            self._drop_connection()  # it may be left mid-pipeline
            return [exc] * len(records)
        if any(is_outage(answer) for answer in answers if answer is not None):
            self._drop_connection()
        outcomes: list[DeliveryStats | BaseException] = []
        for record, answer in zip(records, answers, strict=True):
            if answer is None:
                self._remember_reach(record)
                outcomes.append(record.stats)
            else:
                outcomes.append(answer)
        return outcomes

    def _connection(self) -> Connection:
        """This thread's connection, kept for the run: no pool check-out (and ping) per
        message. On PostgreSQL it autocommits, each result being one statement."""
        connection: Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = self.app.engine.connect()
            if connection.dialect.name == "postgresql":
                connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            self._local.connection = connection
            with self._lock:
                self._connections.append(connection)
        return connection

    def _drop_connection(self) -> None:
        connection: Connection | None = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.invalidate()  # after an outage it is no use; the next is fresh

    def _close_connections(self) -> None:
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            with contextlib.suppress(Exception):
                connection.close()

    def _retry_or_fail(
        self, result: SendResult, tries: int, now: datetime, stats: DeliveryStats
    ) -> dict[str, Any]:
        outbox = self.app.settings.outbox
        rate_limited = result.outcome == DeliveryOutcome.RATE_LIMITED
        if rate_limited:
            stats.rate_limited += 1
        limit = outbox.max_attempts * (RATE_LIMIT_PATIENCE if rate_limited else 1)
        if tries >= limit:
            stats.failed += 1
            return {"status": NudgeStatus.FAILED.value, "send_at": None}
        stats.retrying += 1
        delay = retry_delay(
            tries,
            base=outbox.backoff_base_seconds,
            cap=outbox.backoff_max_seconds,
            retry_after=result.retry_after,
        )
        if rate_limited and result.retry_after is not None:
            # Honour Retry-After exactly (but never "now": no hot loop within a run).
            delay = max(1.0, result.retry_after)
        return {"status": NudgeStatus.PENDING.value, "send_at": now + timedelta(seconds=delay)}

    def _reach_changed(self, platform: str, email: str, ok: bool, user_id: str) -> bool:
        known = self._reach.get((platform, email))
        if not email:
            return False
        return known is None or known[0] != ok or bool(user_id and known[1] != user_id)
