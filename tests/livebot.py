"""Shared helpers for the live-bot tests: the sample council on a settable clock, a recording
chat adapter, and short ways to tick, click and read back what happened.

Nothing here sleeps: time only moves when a test sets the clock.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import fcntl
import hashlib
import itertools
import os
import pickle
import re
import shutil
import tempfile
import threading
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot.app import App
from bot.briefings.escalate import TickReport
from bot.cli import SAMPLE_COUNCIL, seed_sample_council
from bot.clock import SettableClock
from bot.config import Settings
from bot.decisions.calendar import CouncilCalendar
from bot.decisions.facts import DecisionFacts
from bot.delivery.deliverer import DeliveryStats
from bot.delivery.hub import Hub
from bot.delivery.ports import DeliveryOutcome, PostedRef, SendResult
from bot.intake.directory_csv import parse_directory
from bot.intake.forward_plan_csv import parse_forward_plan
from bot.intake.records import PersonRecord
from bot.intake.store import store_decisions, store_directory
from bot.service import ActionReply, handle_action
from bot.store.directory import PersonView
from bot.store.models import AuditEvent, Briefing, Decision, DeliveryAttempt, Nudge, TickRun
from bot.store.secrets import payload_key
from bot.ticks import deliver_tick, sweep_tick
from bot.views.cards import ActionKind, Button, Card, PayloadSigner

LONDON = ZoneInfo("Europe/London")
DOMAIN = "harbourside.example.gov.uk"


def email(name: str) -> str:
    """'Owen Brady' → owen.brady@harbourside.example.gov.uk."""
    return ".".join(name.lower().replace("cllr ", "").split()) + "@" + DOMAIN


# The sample council's people the tests talk about.
MARGARET = email("Margaret Hollis")  # chief executive
SIMON = email("Simon Reeve")  # Director of Place
AISHA = email("Aisha Rahman")  # Director of Communities
OWEN = email("Owen Brady")  # Head of Leisure and Parks (Place), reports to Simon
LENA = email("Lena Hart")  # Head of Highways and Parking (Place)
IMRAN = email("Imran Qureshi")  # Head of Housing (Communities), reports to Aisha
RACHEL = email("Rachel Pym")
TOM = email("Tom Ellery")
HELEN = email("Helen Marsh")  # Cabinet Member for Communities and Leisure, Millbrook
EMMA = email("Emma Doyle")  # ward councillor, Millbrook
SARAH = email("Sarah Whitlock")  # Cabinet Member for Housing
ALAN = email("Alan Brook")  # Leader
MARCUS = email("Marcus Feld")
STRANGER = "someone@elsewhere.example.org"

# HBC-2027-004 is Fully exempt (paragraph 3); nobody outside its circle may read this.
EXEMPT_REF = "HBC-2027-004"
EXEMPT_TITLE = "Emergency Temporary Accommodation Contract"


def local(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    """A council-local wall-clock time, as an aware datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


def sqlite_url(folder: Path, name: str = "bot.db") -> str:
    return f"sqlite:///{folder / name}"


# --- a chat adapter that records what the core asked of it ---------------------------------


@dataclass
class Sent:
    platform: str
    recipient: str
    card: Card
    message_id: str
    result: SendResult

    @property
    def text(self) -> str:
        return card_text(self.card)


Behaviour = Callable[[PersonView, Card], SendResult | None]


class RecordingAdapter:
    """Implements the hub's ChatAdapter protocol and remembers every send and update.

    `behaviour` may return a SendResult to answer instead of delivering (rate limits,
    failures, unknown users), or None to deliver normally; it may also raise.
    """

    def __init__(self, platform: str = "test", behaviour: Behaviour | None = None) -> None:
        self.platform = platform
        self.behaviour = behaviour
        self.sent: list[Sent] = []
        self.attempts: list[tuple[str, Card]] = []
        self.updated: list[tuple[PostedRef, Card]] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    async def send(self, recipient: PersonView, card: Card, *, dedupe_key: str = "") -> SendResult:
        with self._lock:
            self.attempts.append((recipient.email, card))
        answer = self.behaviour(recipient, card) if self.behaviour else None
        if answer is not None:
            return answer
        with self._lock:
            message_id = f"{self.platform}-{next(self._ids)}"
            result = SendResult(
                DeliveryOutcome.DELIVERED,
                platform=self.platform,
                message_id=message_id,
                channel=f"dm-{recipient.email}",
                user_id=f"U-{recipient.email}",
            )
            self.sent.append(Sent(self.platform, recipient.email, card, message_id, result))
        return result

    async def update(self, posted: PostedRef, card: Card) -> SendResult:
        with self._lock:
            self.updated.append((posted, card))
        return SendResult(
            DeliveryOutcome.DELIVERED,
            platform=self.platform,
            message_id=posted.message_id,
            channel=posted.channel,
        )

    def to(self, recipient: str, *, briefing_id: int | None = None) -> list[Sent]:
        return [
            s
            for s in self.sent
            if s.recipient == recipient
            and (briefing_id is None or briefing_id in briefings_on(s.card))
        ]

    def about(self, briefing_id: int) -> list[Sent]:
        return [s for s in self.sent if briefing_id in briefings_on(s.card)]

    def clear(self) -> None:
        with self._lock:
            self.sent.clear()
            self.attempts.clear()
            self.updated.clear()


def briefings_on(card: Card) -> set[int]:
    """The briefings a card is about: its own, and each member section's on an officer's
    card about a whole decision."""
    found = {s.briefing_id for s in card.sections if s.briefing_id is not None}
    return found | ({card.briefing_id} if card.briefing_id is not None else set())


def buttons_for(card: Card, briefing_id: int | None = None) -> tuple[Button, ...]:
    """A card's buttons for one briefing: the card's own, or that member's section's on an
    officer's card about a whole decision."""
    if briefing_id is None or not card.sections:
        return card.buttons
    return next((s.buttons for s in card.sections if s.briefing_id == briefing_id), ())


def card_text(card: Card) -> str:
    """Everything a person could read on a card (title, lines, fields, buttons, footer, and
    each member section of an officer's card about a decision)."""
    parts = [card.title, *card.lines, card.footer]
    parts += [f"{f.label}: {f.value}" for f in card.fields]
    parts += [b.label for b in card.buttons]
    for section in card.sections:
        parts += [section.title, *section.lines]
        parts += [f"{f.label}: {f.value}" for f in section.fields]
        parts += [b.label for b in section.buttons]
    return "\n".join(parts)


# --- the bot on a settable clock --------------------------------------------------------------


@dataclass
class Bot:
    """The sample council's bot with one recording adapter, driven by moving the clock."""

    app: App
    clock: SettableClock
    hub: Hub
    adapter: RecordingAdapter

    @property
    def calendar(self) -> CouncilCalendar:
        return self.app.calendar

    def now(self) -> datetime:
        return self.app.now()

    def set(self, when: datetime) -> None:
        self.clock.set(when)

    def morning(self, day: date, minutes: int = 1) -> datetime:
        """Just after the start of the working day `day`, as the scheduler's tick would run."""
        return self.calendar.start_of_day(day) + timedelta(minutes=minutes)

    # ticks -------------------------------------------------------------------------------

    def _tick_ok(self, name: str) -> None:
        with self.app.session() as session:
            run = session.get(TickRun, name)
            assert run is not None and run.last_status == "ok", (
                f"tick {name} failed: {run.last_error if run else 'never ran'}"
            )

    async def sweep(self) -> TickReport:
        report = await sweep_tick(self.hub)
        self._tick_ok("sweep")
        assert report is not None
        return report

    async def deliver(self) -> DeliveryStats:
        stats = await deliver_tick(self.hub)
        self._tick_ok("deliver")
        assert stats is not None
        return stats

    async def tick_at(self, when: datetime) -> tuple[TickReport, DeliveryStats]:
        """Set the clock, then run the sweep and delivery ticks (as the scheduler would)."""
        self.set(when)
        report = await self.sweep()
        return report, await self.deliver()

    async def working_mornings(self, first: date, last: date) -> None:
        """Tick once each working morning from `first` to `last` inclusive."""
        day = first
        while day <= last:
            if self.calendar.is_working_day(day):
                await self.tick_at(self.morning(day))
            day += timedelta(days=1)

    # reading back --------------------------------------------------------------------------

    def decision(self, ref: str) -> Decision:
        with self.app.session() as session:
            found = session.scalar(select(Decision).where(Decision.ref == ref))
            assert found is not None, ref
            return found

    def briefing(self, ref: str, member: str) -> Briefing:
        with self.app.session() as session:
            found = session.scalar(
                select(Briefing)
                .join(Decision, Decision.id == Briefing.decision_id)
                .where(Decision.ref == ref, Briefing.member_email == member)
            )
            assert found is not None, (ref, member)
            return found

    def get(self, briefing_id: int) -> Briefing:
        with self.app.session() as session:
            found = session.get(Briefing, briefing_id)
            assert found is not None
            return found

    def snapshot(self, briefing_id: int) -> dict[str, Any]:
        """Every column of a briefing, to prove an action changed nothing."""
        row = self.get(briefing_id)
        return {c.name: getattr(row, c.name) for c in Briefing.__table__.columns}

    def events(self, **where: Any) -> list[AuditEvent]:
        with self.app.session() as session:
            query = select(AuditEvent).order_by(AuditEvent.seq)
            for name, value in where.items():
                query = query.where(getattr(AuditEvent, name) == value)
            return list(session.scalars(query))

    def nudges(self, **where: Any) -> list[Nudge]:
        with self.app.session() as session:
            query = select(Nudge).order_by(Nudge.id)
            for name, value in where.items():
                query = query.where(getattr(Nudge, name) == value)
            return list(session.scalars(query))

    def attempts(self, nudge_id: int) -> list[DeliveryAttempt]:
        with self.app.session() as session:
            return list(
                session.scalars(
                    select(DeliveryAttempt)
                    .where(DeliveryAttempt.nudge_id == nudge_id)
                    .order_by(DeliveryAttempt.id)
                )
            )

    # acting --------------------------------------------------------------------------------

    def sign(self, kind: ActionKind, briefing_id: int, version: int | None = None) -> str:
        with self.app.session() as session:
            signer = PayloadSigner(payload_key(session))
        if version is None:
            version = self.get(briefing_id).version
        return signer.sign(kind, briefing_id, version)

    async def click(
        self,
        actor: str,
        kind: ActionKind,
        briefing_id: int,
        inputs: dict[str, str] | None = None,
        *,
        version: int | None = None,
        payload: str | None = None,
        platform: str = "test",
        source: PostedRef | None = None,
    ) -> ActionReply:
        """Press a button as `actor`, with a payload signed for the briefing's current version
        (or the given one), exactly as an adapter would pass it to the core."""
        return await handle_action(
            self.hub,
            payload=payload if payload is not None else self.sign(kind, briefing_id, version),
            actor_email=actor,
            platform=platform,
            inputs=inputs or {},
            source=source,
        )


def make_bot(
    database_url: str,
    start: datetime,
    *,
    settings: Settings | None = None,
    seed: bool = True,
    adapter: RecordingAdapter | None = None,
    migrate: bool | None = None,
) -> Bot:
    """Open a fresh database on a settable clock, seed the sample council, register an adapter.

    Unless `migrate` is given, a new SQLite file begins as a copy of a template made once per
    test run (migrated, and seeded at `start` if `seed`): migrating and seeding anew for every
    test was a fifth of the suite's time. A copy holds what migrating and seeding would have
    written, except that the copies of a template share one button-signing key.
    """
    settings = (settings or Settings()).with_overrides(database_url=database_url)
    clock = SettableClock(start)
    new_file = _new_sqlite_file(database_url) if migrate is None else None
    if new_file is not None:
        template = _fresh_template(start if seed else None, settings)
        new_file.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template, new_file)
        seed = False
    app = App.open(settings, clock=clock, migrate=migrate)
    if seed:
        seed_sample_council(app)
    hub = Hub(app)
    adapter = adapter or RecordingAdapter()
    hub.register(adapter)
    return Bot(app=app, clock=clock, hub=hub, adapter=adapter)


# --- template databases -----------------------------------------------------------------------
#
# Each template is built once per test run, by whichever process (pytest-xdist worker) needs it
# first, under a file lock that the others wait on; they all copy the same file. The templates
# live in the run's shared folder (conftest.py), else in a folder of this process's own.

_SHARED_DIR_VARIABLE = "NOSURPRISES_TEST_SHARED_DIR"  # set by conftest.py
_own_root: Path | None = None
_templates: dict[str, tuple[Path, Any]] = {}


def _template_root() -> Path:
    global _own_root
    shared = os.environ.get(_SHARED_DIR_VARIABLE)
    if shared:
        root = Path(shared) / "templates"
        root.mkdir(exist_ok=True)
        return root
    if _own_root is None:
        _own_root = Path(tempfile.mkdtemp(prefix="livebot-templates-"))
        atexit.register(shutil.rmtree, _own_root, True)
    return _own_root


_MISSING = object()


@contextlib.contextmanager
def _template_slot(key: str) -> Iterator[tuple[Path, Any]]:
    """Hold the lock on template `key`: yields its folder and what its builder returned, or
    _MISSING if it has not been built (then build it in a new folder and `_publish` it)."""
    home = _template_root() / re.sub(r"[^A-Za-z0-9_.-]", "_", key)
    home.mkdir(exist_ok=True)
    with open(home / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # waits while another process builds it
        built = home / "built.pickle"
        yield home, pickle.loads(built.read_bytes()) if built.exists() else _MISSING


def _publish(app: App, building: Path, home: Path, built: Any) -> None:
    """Close a template just built in the folder `building`: the one everyone copies now."""
    with app.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    app.engine.dispose()
    os.replace(building / "bot.db", home / "bot.db")
    (building / "built.pickle").write_bytes(pickle.dumps(built))
    os.replace(building / "built.pickle", home / "built.pickle")


def _new_sqlite_file(database_url: str) -> Path | None:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    path = Path(url.database)
    return None if path.exists() else path


def _fresh_template(seed_at: datetime | None, settings: Settings) -> Path:
    """A migrated database, with the sample council seeded at `seed_at` unless it is None."""
    if seed_at is None:
        key = "fresh-schema"
    else:
        # Everything seeding could depend on: the moment and the settings (but not the URL).
        recipe = f"{seed_at.isoformat()}|{settings.with_overrides(database_url='')!r}"
        key = f"fresh-sample-{hashlib.sha256(recipe.encode()).hexdigest()[:20]}"
    if key not in _templates:
        with _template_slot(key) as (home, built):
            if built is _MISSING:
                building = Path(tempfile.mkdtemp(dir=home))
                if seed_at is None:
                    options = Settings().with_overrides(database_url=sqlite_url(building))
                    app = App.open(options, migrate=True)
                else:
                    shutil.copyfile(_fresh_template(None, settings), building / "bot.db")
                    options = settings.with_overrides(database_url=sqlite_url(building))
                    app = App.open(options, clock=SettableClock(seed_at), migrate=True)
                    seed_sample_council(app)
                _publish(app, building, home, None)
            _templates[key] = (home / "bot.db", None)
    return _templates[key][0]


async def from_template(
    folder: Path,
    key: str,
    start: datetime,
    build: Callable[[Bot], Awaitable[Any]],
    *,
    settings: Settings | None = None,
) -> tuple[Bot, Any]:
    """A bot on a copy of a SQLite database prepared once per test run by `build`.

    Many tests start from the same moment of the same story; building it once and copying the
    file keeps a large parametrised matrix fast. Returns the bot (its clock where `build` left
    it, with a fresh recording adapter) and whatever `build` returned, which must pickle.
    """
    key = f"story-{key}"
    if key not in _templates:
        with _template_slot(key) as (home, built):
            if built is _MISSING:
                building = Path(tempfile.mkdtemp(dir=home))
                builder = make_bot(sqlite_url(building), start, settings=settings)
                extra = await build(builder)
                built = (builder.now(), extra)  # the clock where `build` left it
                _publish(builder.app, building, home, built)
            _templates[key] = (home / "bot.db", built)
    path, (now, extra) = _templates[key]
    shutil.copyfile(path, folder / "bot.db")
    return make_bot(sqlite_url(folder), now, settings=settings, seed=False), extra


def example_settings() -> Settings:
    """config.example.toml (with its Christmas closure days), read without the environment."""
    from bot.config import EXAMPLE_CONFIG, load_settings

    return load_settings(str(EXAMPLE_CONFIG), environ={})


# --- changing the council's data --------------------------------------------------------------


def sample_people() -> tuple[list[PersonRecord], list[Any]]:
    people, portfolios, _ = parse_directory(
        SAMPLE_COUNCIL / "people.csv", SAMPLE_COUNCIL / "portfolios.csv"
    )
    return people, portfolios


def reimport_directory(
    app: App,
    *,
    add: Iterable[PersonRecord] = (),
    managers: dict[str, str] | None = None,
) -> None:
    """Re-import the sample directory with extra people and some managers changed."""
    people, portfolios = sample_people()
    managers = managers or {}
    people = [
        dataclasses.replace(p, manager_email=managers[p.email]) if p.email in managers else p
        for p in people
    ] + list(add)
    with app.session() as session:
        store_directory(session, people, portfolios, now=app.now(), actor="test")


NINA = email("Nina Patel")


def give_line_manager(app: App, officer: str, director: str, directorate: str) -> str:
    """Put a line manager (Nina Patel, not a director) between `officer` and `director`.

    The sample council's officers all report straight to a director; the authorization rules
    treat the manager and the director as two different people, so the tests need both.
    """
    nina = PersonRecord(
        email=NINA,
        name="Nina Patel",
        roles=("officer",),
        job_title="Service Manager",
        directorate=directorate,
        manager_email=director,
    )
    reimport_directory(app, add=[nina], managers={officer: NINA})
    return NINA


def sample_decisions() -> list[DecisionFacts]:
    records, _ = parse_forward_plan(SAMPLE_COUNCIL / "forward_plan.csv")
    return records


def reimport_decisions(app: App, changes: dict[str, dict[str, Any]]) -> None:
    """Re-import the sample forward plan with some items' fields changed ({ref: {field: value}})."""
    records = [
        dataclasses.replace(r, **changes[r.ref]) if r.ref in changes else r
        for r in sample_decisions()
    ]
    with app.session() as session:
        store_decisions(session, records, source="csv", now=app.now(), actor="test")


# --- PostgreSQL ---------------------------------------------------------------------------------


def postgres_url(request: pytest.FixtureRequest) -> str:
    """conftest's `pg_url`: a fresh database in the run's throwaway cluster."""
    return request.getfixturevalue("pg_url")


def with_public_url(app: App, url: str) -> None:
    """Give the running bot a public address, as `[server] public_url` would."""
    app.settings = replace(app.settings, server=replace(app.settings.server, public_url=url))


def hold_dates(app: App, body: bytes, briefing_id: int) -> None:
    """An .ics a calendar client can parse, holding the briefing's deadline and decision day."""
    import icalendar

    events = icalendar.Calendar.from_ical(body).walk("VEVENT")
    with app.session() as session:
        briefing = session.get(Briefing, briefing_id)
        assert briefing is not None
        decision = session.get(Decision, briefing.decision_id)
        assert decision is not None
        ends = {event.decoded("dtend") for event in events}
        starts = {event.decoded("dtstart") for event in events}
        due = briefing.due_at if briefing.due_at.tzinfo else briefing.due_at.replace(tzinfo=UTC)
        assert due in {e.astimezone(UTC) for e in ends if isinstance(e, datetime)}
        assert decision.decision_due in starts
