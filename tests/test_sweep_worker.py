"""The sweep's worker process (bot/briefings/sweep_worker.py) writes exactly what the sweep
writes on its own; one bad item is still skipped and flagged; a worker that cannot start or
dies leaves the sweep to assess in process, saying so in one line; an interrupt stops it."""

from __future__ import annotations

import json
import logging
import multiprocessing
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sweep_faults
from livebot import Bot, email, give_line_manager, make_bot, reimport_decisions, sqlite_url
from sqlalchemy import text
from test_status_queries import _synthetic_bot

from bot.briefings import reconcile, sweep_worker
from bot.briefings.escalate import run_sweep_tick
from bot.decisions.kinds import DecisionStatus
from bot.store.models import Briefing, BriefingState
from bot.views.phrases import NOT_ASSESSED_DATE

SAMPLE_NOW = datetime(2027, 1, 5, 9, 30, tzinfo=UTC)
IN_WORKER = 1
IN_PROCESS = 10**9
# Every column of what a sweep writes: ids, states, ladders, times, the audit chain's hashes.
TABLES = ("briefing", "nudge", "auditevent", "decision", "sweepstate")


@pytest.fixture(autouse=True)
def worker_plans_every_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks read while the worker starts up are planned by the worker all the same, so each
    test knows where every chunk was planned (test_chunks_read_while_the_worker_starts...)."""
    monkeypatch.setattr(sweep_worker, "PLAN_HERE_WHILE_STARTING", False)


def dump(bot: Bot) -> dict[str, list[tuple[Any, ...]]]:
    with bot.app.engine.connect() as connection:
        return {
            table: [tuple(r) for r in connection.execute(text(f"SELECT * FROM {table} ORDER BY 1"))]
            for table in TABLES
        }


def tick(bot: Bot, threshold: int, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(reconcile, "WORKER_THRESHOLD", threshold)
    with bot.app.session() as session:
        return run_sweep_tick(app=bot.app, session=session)


def planned_by_worker(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if "the worker process planned" in r.getMessage()
    ]


def test_the_worker_writes_what_the_sweep_writes_on_a_synthetic_council(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO)
    # Small chunks: several are read ahead, planned and written while others are in flight.
    monkeypatch.setattr(reconcile, "CHUNK", 40)
    sizes = dict(decisions=300, people=120, wards=10, portfolios=5)
    ours, now = _synthetic_bot(tmp_path / "worker", **sizes)
    theirs, _ = _synthetic_bot(tmp_path / "in-process", **sizes)
    for when in (now, now + timedelta(days=20), now + timedelta(days=45)):
        ours.set(when)
        theirs.set(when)
        # Later days reconcile decisions that have briefings (due times moved on, items past).
        mine, other = tick(ours, IN_WORKER, monkeypatch), tick(theirs, IN_PROCESS, monkeypatch)
        assert mine.sweep.actions == other.sweep.actions
        assert mine.sweep.assessed == other.sweep.assessed > 0
    planned = planned_by_worker(caplog)
    assert planned[0] == "sweep: the worker process planned 8 of 8 chunks" and len(planned) == 3
    assert all(
        re.fullmatch(r"sweep: the worker process planned (\d+) of \1 chunks", p) for p in planned
    )
    mine_now, theirs_now = dump(ours), dump(theirs)
    assert len(mine_now["briefing"]) > 300 and len(mine_now["auditevent"]) > 300
    for table in TABLES:
        assert mine_now[table] == theirs_now[table], table


def _change_the_sample_council(bot: Bot) -> None:
    """A briefing acknowledged, then its item's date moved (re-opened), an item withdrawn
    (closed, people told) and a new line manager (a new directory: every item swept again)."""
    holder = bot.briefing("HBC-2027-003", email("Sarah Whitlock"))
    with bot.app.session() as session:
        row = session.get(Briefing, holder.id)
        assert row is not None
        row.state = BriefingState.ACKNOWLEDGED
        row.briefed_at = row.acknowledged_at = datetime(2027, 1, 5, 11, tzinfo=UTC)
    bot.set(datetime(2027, 1, 7, 10, tzinfo=UTC))
    reimport_decisions(
        bot.app,
        {
            "HBC-2027-003": {"decision_due": date(2027, 1, 28)},
            "HBC-2027-005": {"status": DecisionStatus.WITHDRAWN},
        },
    )
    give_line_manager(bot.app, email("Imran Qureshi"), email("Aisha Rahman"), "Communities")


def test_the_worker_writes_what_the_sweep_writes_on_the_sample_council(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO)
    ours = make_bot(sqlite_url(tmp_path / "worker"), SAMPLE_NOW)
    theirs = make_bot(sqlite_url(tmp_path / "in-process"), SAMPLE_NOW)
    first = tick(ours, IN_WORKER, monkeypatch), tick(theirs, IN_PROCESS, monkeypatch)
    assert first[0].sweep.actions == first[1].sweep.actions
    for bot in (ours, theirs):
        _change_the_sample_council(bot)
    second = tick(ours, IN_WORKER, monkeypatch), tick(theirs, IN_PROCESS, monkeypatch)
    assert second[0].sweep.actions == second[1].sweep.actions
    kinds = {a.kind for a in second[0].sweep.actions}
    assert {"reopen", "close"} <= kinds
    assert planned_by_worker(caplog) == ["sweep: the worker process planned 1 of 1 chunks"] * 2
    mine, other = dump(ours), dump(theirs)
    for table in TABLES:
        assert mine[table] == other[table], table


def test_the_worker_writes_what_the_sweep_writes_on_postgresql(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    import pgcluster
    from conftest import NO_POSTGRES, shared_dir

    from bot.store.models import AppSecret
    from bot.store.secrets import PAYLOAD_KEY, payload_key

    if not pgcluster.binaries_available():
        pytest.skip(NO_POSTGRES)
    caplog.set_level(logging.INFO)
    cluster = pgcluster.shared_cluster(shared_dir())
    ours = make_bot(cluster.new_database("test"), SAMPLE_NOW, migrate=True)
    theirs = make_bot(cluster.new_database("test"), SAMPLE_NOW, migrate=True)
    # One button-signing key for both (SQLite's copies of one template share theirs), so the
    # cards the rest of the tick queues are signed alike.
    with ours.app.session() as session:
        key = payload_key(session)
    with theirs.app.session() as session:
        secret = session.get(AppSecret, PAYLOAD_KEY)
        if secret is None:
            payload_key(session)
            secret = session.get(AppSecret, PAYLOAD_KEY)
        assert secret is not None
        secret.value = key.decode()
    with theirs.app.session() as session:
        assert payload_key(session) == key
    first = tick(ours, IN_WORKER, monkeypatch), tick(theirs, IN_PROCESS, monkeypatch)
    for bot in (ours, theirs):
        _change_the_sample_council(bot)
    second = tick(ours, IN_WORKER, monkeypatch), tick(theirs, IN_PROCESS, monkeypatch)
    assert planned_by_worker(caplog) == ["sweep: the worker process planned 1 of 1 chunks"] * 2
    assert first[0].sweep.actions == first[1].sweep.actions
    assert second[0].sweep.actions == second[1].sweep.actions
    mine, other = dump(ours), dump(theirs)
    for table in TABLES:
        assert mine[table] == other[table], table
    for bot in (ours, theirs):
        bot.app.engine.dispose()


def test_an_item_that_raises_in_the_worker_is_skipped_and_flagged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO)
    monkeypatch.setattr(reconcile, "assess", sweep_faults.assess_failing_on_bad)
    bot = make_bot(sqlite_url(tmp_path), SAMPLE_NOW)
    report = tick(bot, IN_WORKER, monkeypatch)
    assert planned_by_worker(caplog) == ["sweep: the worker process planned 1 of 1 chunks"]
    assert report.sweep.not_assessed == {sweep_faults.BAD: NOT_ASSESSED_DATE}
    assert all(a.ref != sweep_faults.BAD for a in report.sweep.actions)
    assert report.sweep.assessed == 11
    with bot.app.engine.connect() as connection:
        flags, error, fingerprint = connection.execute(
            text("SELECT flags, assess_error, swept_fingerprint FROM decision WHERE ref = :r"),
            {"r": sweep_faults.BAD},
        ).one()
        per_item = dict(
            connection.execute(
                text(
                    "SELECT d.ref, count(*) FROM briefing b JOIN decision d "
                    "ON d.id = b.decision_id GROUP BY d.ref"
                )
            ).all()
        )
    assert "could not be assessed: a date on it is outside the range" in flags
    assert error == NOT_ASSESSED_DATE and fingerprint == ""
    assert sweep_faults.BAD not in per_item and per_item["HBC-2027-001"] == 2
    warned = [r for r in caplog.records if "could not be assessed" in r.getMessage()]
    assert [r.getMessage() for r in warned] == [
        f"sweep: {sweep_faults.BAD} could not be assessed (OverflowError: date value out of "
        "range); skipped, the rest go on"
    ]
    # Tried again at the next sweep; once the rules work, its briefings are opened.
    monkeypatch.setattr(reconcile, "assess", sweep_faults.assess)
    assert tick(bot, IN_WORKER, monkeypatch).sweep.not_assessed == {}


def test_a_worker_that_dies_leaves_the_sweep_to_assess_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO)
    monkeypatch.setattr(reconcile, "CHUNK", 3)
    monkeypatch.setattr(reconcile, "assess", sweep_faults.assess_dying_in_worker)
    ours = make_bot(sqlite_url(tmp_path / "dying"), SAMPLE_NOW)
    theirs = make_bot(sqlite_url(tmp_path / "in-process"), SAMPLE_NOW)
    mine, other = tick(ours, IN_WORKER, monkeypatch), tick(theirs, IN_PROCESS, monkeypatch)
    said = [r for r in caplog.records if "worker process" in r.getMessage()]
    assert said[0].getMessage() == (
        "sweep: the worker process stopped (BrokenProcessPool); assessing in this process instead"
    )
    assert said[0].levelno == logging.WARNING and said[0].exc_info is None
    assert said[1].getMessage() == "sweep: the worker process planned 0 of 1 chunks"
    assert mine.sweep.actions == other.sweep.actions and mine.sweep.not_assessed == {}
    assert dump(ours) == dump(theirs)


def test_a_worker_that_cannot_start_leaves_the_sweep_to_assess_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    def no_processes(*args: Any, **kwargs: Any) -> Any:
        raise OSError("no more processes")

    monkeypatch.setattr(sweep_worker, "ProcessPoolExecutor", no_processes)
    ours = make_bot(sqlite_url(tmp_path / "no-worker"), SAMPLE_NOW)
    theirs = make_bot(sqlite_url(tmp_path / "in-process"), SAMPLE_NOW)
    mine, other = tick(ours, IN_WORKER, monkeypatch), tick(theirs, IN_PROCESS, monkeypatch)
    said = [r for r in caplog.records if "worker process" in r.getMessage()]
    assert [r.getMessage() for r in said] == [
        "sweep: the worker process could not start (OSError); assessing in this process instead"
    ]
    assert said[0].exc_info is None
    assert mine.sweep.actions == other.sweep.actions
    assert dump(ours) == dump(theirs)


def test_an_interrupted_sweep_stops_its_worker_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    real = reconcile._apply_plan
    applied: list[int] = []

    def interrupted(*args: Any) -> None:
        applied.append(1)
        if len(applied) == 2:
            raise KeyboardInterrupt
        real(*args)

    monkeypatch.setattr(reconcile, "CHUNK", 3)
    monkeypatch.setattr(reconcile, "_apply_plan", interrupted)
    bot = make_bot(sqlite_url(tmp_path), SAMPLE_NOW)
    before = dump(bot)
    with pytest.raises(KeyboardInterrupt):
        tick(bot, IN_WORKER, monkeypatch)
    assert multiprocessing.active_children() == []
    assert dump(bot) == before


def test_a_worker_working_out_fingerprints_leaves_unchanged_items_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    """With no record of the last sweep the worker works every fingerprint out itself: an
    item whose fingerprint has not changed is left as the sweep on its own leaves it."""
    caplog.set_level(logging.INFO)
    ours = make_bot(sqlite_url(tmp_path / "worker"), SAMPLE_NOW)
    theirs = make_bot(sqlite_url(tmp_path / "in-process"), SAMPLE_NOW)
    for bot in (ours, theirs):
        tick(bot, IN_PROCESS, monkeypatch)
        with bot.app.engine.begin() as connection:
            connection.execute(text("DELETE FROM sweepstate"))
            # One item asked to be swept again; and a new title it has not been swept for.
            connection.execute(
                text("UPDATE decision SET swept_fingerprint = '' WHERE ref = 'HBC-2027-004'")
            )
            connection.execute(
                text(
                    "UPDATE decision SET content_hash = 'changed', title = 'Renamed' "
                    "WHERE ref = 'HBC-2027-006'"
                )
            )
    mine, other = tick(ours, IN_WORKER, monkeypatch), tick(theirs, IN_PROCESS, monkeypatch)
    assert planned_by_worker(caplog) == ["sweep: the worker process planned 1 of 1 chunks"]
    assert mine.sweep.assessed == other.sweep.assessed == 2
    assert mine.sweep.actions == other.sweep.actions
    assert dump(ours) == dump(theirs)


@pytest.mark.parametrize(
    ("member", "briefer"),
    [
        ("a@example.org", "b@example.org"),
        ('quo"te\\d@example.org', "ünïcode “curly” \u2028 <tag> & %s@example.org"),
    ],
)
def test_a_new_briefings_audit_details_are_what_details_text_writes(member: str, briefer: str):
    from bot.briefings.sweep_plan import created_details
    from bot.decisions.rules import Requirement
    from bot.store.audit import details_text

    due = datetime(2027, 2, 3, 17, tzinfo=UTC)
    requirement = Requirement(member, briefer, due.date(), due, ("Ward councillor for Mill",))
    assert created_details(requirement) == details_text(
        {"member": member, "briefer": briefer, "due_at": due.isoformat()}
    )


def test_chunks_read_while_the_worker_starts_are_planned_here_with_the_same_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO)
    monkeypatch.setattr(sweep_worker, "PLAN_HERE_WHILE_STARTING", True)
    monkeypatch.setattr(reconcile, "CHUNK", 40)
    sizes = dict(decisions=300, people=120, wards=10, portfolios=5)
    ours, _ = _synthetic_bot(tmp_path / "worker", **sizes)
    theirs, _ = _synthetic_bot(tmp_path / "in-process", **sizes)
    mine, other = tick(ours, IN_WORKER, monkeypatch), tick(theirs, IN_PROCESS, monkeypatch)
    [planned] = planned_by_worker(caplog)
    found = re.fullmatch(r"sweep: the worker process planned (\d+) of 8 chunks", planned)
    # The first chunks are read long before a new process has imported what it needs.
    assert found is not None and int(found.group(1)) < 8
    assert mine.sweep.actions == other.sweep.actions
    assert dump(ours) == dump(theirs)


def _events_name_their_briefings(bot: Bot) -> int:
    """How many `briefing_created` events name a briefing of another item or member."""
    with bot.app.engine.connect() as connection:
        events = connection.execute(
            text(
                "SELECT a.details, b.member_email, a.decision_ref, d.ref FROM auditevent a "
                "JOIN briefing b ON b.id = a.briefing_id JOIN decision d ON d.id = b.decision_id "
                "WHERE a.action = 'briefing_created'"
            )
        ).all()
    assert events
    return sum(
        # Text on SQLite, decoded already on PostgreSQL.
        (details if isinstance(details, dict) else json.loads(details))["member"] != member
        or ref != own
        for details, member, ref, own in events
    )


def test_new_briefings_ids_taken_in_order_or_looked_up_are_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A chunk's new ids are the ones after the largest before it, in order, when nothing
    else took any; otherwise looked up by (decision, member): either way the same."""
    monkeypatch.setattr(reconcile, "CHUNK", 5)
    ours = make_bot(sqlite_url(tmp_path / "in-order"), SAMPLE_NOW)
    theirs = make_bot(sqlite_url(tmp_path / "looked-up"), SAMPLE_NOW)
    tick(ours, IN_PROCESS, monkeypatch)
    looked_up: list[int] = []

    def never_in_order(self: Any, before: int, count: int) -> None:
        looked_up.append(count)

    monkeypatch.setattr(reconcile._Reconciler, "_ids_in_order", never_in_order)
    tick(theirs, IN_PROCESS, monkeypatch)
    assert len(looked_up) >= 2
    assert dump(ours) == dump(theirs)
    assert _events_name_their_briefings(ours) == 0


def test_ids_skipped_by_a_postgresql_sequence_are_noticed(monkeypatch: pytest.MonkeyPatch):
    import pgcluster
    from conftest import NO_POSTGRES, shared_dir

    if not pgcluster.binaries_available():
        pytest.skip(NO_POSTGRES)
    bot = make_bot(
        pgcluster.shared_cluster(shared_dir()).new_database("test"), SAMPLE_NOW, migrate=True
    )
    real = reconcile._Reconciler._ids_in_order
    answers: list[list[int] | None] = []

    def after_a_gap(self: Any, before: int, count: int) -> list[int] | None:
        answers.append(real(self, before, count))
        return answers[-1]

    with bot.app.engine.begin() as connection:
        # Another writer took ids and never used them: the new rows' ids have a gap before them.
        connection.execute(text("SELECT setval(pg_get_serial_sequence('briefing', 'id'), 500)"))
    monkeypatch.setattr(reconcile._Reconciler, "_ids_in_order", after_a_gap)
    tick(bot, IN_PROCESS, monkeypatch)
    assert answers == [None]
    assert _events_name_their_briefings(bot) == 0
    bot.app.engine.dispose()


def test_the_worker_imports_no_orm_no_pydantic_and_no_http_client():
    # The worker is a new interpreter: each module it needs is imported before it can plan, and
    # meanwhile the sweep plans in its own process. It needs only the rules, the directory and
    # the calendar, so it starts in a third of the time the ORM would add.
    import subprocess
    import sys

    probe = (
        "import json, sys, bot.briefings.sweep_worker, bot.briefings.sweep_plan\n"
        "print(json.dumps(sorted(m for m in ('sqlmodel', 'pydantic', 'sqlalchemy.orm', 'httpx',"
        " 'aiohttp', 'alembic', 'bot.store.models') if m in sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == []
