"""The store on both backends: SQLite (the embedded default) and PostgreSQL give one answer."""

from __future__ import annotations

from datetime import UTC, datetime

from livebot import make_bot
from sqlalchemy import inspect, select

from bot.briefings.escalate import run_sweep_tick
from bot.store import audit
from bot.store.models import Briefing, Decision
from bot.views.status import build_status

NOW = datetime(2027, 1, 12, 9, 30, tzinfo=UTC)


def test_migrations_import_sweep_and_status(database_url: str):
    bot = make_bot(database_url, NOW, migrate=True)
    tables = set(inspect(bot.app.engine).get_table_names())
    assert {"decision", "briefing", "nudge", "auditevent", "alembic_version"} <= tables
    with bot.app.session() as session:
        report = run_sweep_tick(app=bot.app, session=session)
    assert report.sweep.counts() == {"create": 29}
    with bot.app.session() as session:
        again = run_sweep_tick(app=bot.app, session=session)
    assert again.sweep.actions == [] and again.steps == []
    with bot.app.session() as session:
        briefing = session.scalars(select(Briefing).order_by(Briefing.id)).first()
        decision = session.get(Decision, briefing.decision_id)
        # Timestamps come back aware UTC on both backends; dates stay dates.
        assert briefing.due_at.tzinfo is not None and briefing.due_at.utcoffset().seconds == 0
        assert briefing.created_at == NOW
        assert decision.decision_due.isoformat() == "2027-02-11"
        status = build_status(
            session=session,
            settings=bot.app.settings,
            calendar=bot.app.calendar,
            directory=bot.app.directory(session),
            now=NOW,
        )
        assert status.counts == {"red": 7, "amber": 2, "grey": 0, "green": 0}
        assert audit.verify(session).ok
    bot.app.engine.dispose()


def test_the_status_read_model_on_both_backends(database_url: str):
    """Built after the sweep, moved along by a state change, given up by a withdrawal: the
    chief executive's page from the model equals the full status on both databases."""
    from bot.briefings.states import BriefingState, move
    from bot.ticks import sweep_and_refresh
    from bot.views.status_model import model_is_current
    from bot.views.status_model_page import page_from_model

    bot = make_bot(database_url, NOW, migrate=True)
    with bot.app.session() as session:
        sweep_and_refresh(app=bot.app, session=session)
        directory = bot.app.directory(session)
        chief = next(iter(directory.chief_executives))
        portfolio = sorted(p.name for p in directory.portfolios)[0]

    def current() -> bool:
        with bot.app.session() as session:
            return model_is_current(session=session, settings=bot.app.settings, today=NOW.date())

    def same_as_full() -> None:
        for wanted in ("", portfolio):
            with bot.app.session() as session:
                options = dict(
                    session=session,
                    settings=bot.app.settings,
                    calendar=bot.app.calendar,
                    directory=bot.app.directory(session),
                    now=NOW,
                    viewer_email=chief,
                    days=90,
                    portfolio=wanted,
                )
                paged = page_from_model(**options, per_page=5)
                full = build_status(**options)
            assert paged is not None and paged.report.counts == full.counts
            assert paged.rows == full.at_risk[:5]

    assert current()
    same_as_full()
    with bot.app.session() as session:
        briefing = session.scalars(select(Briefing).order_by(Briefing.id)).first()
        move(briefing, BriefingState.BRIEFED)
    assert current()
    same_as_full()
    with bot.app.session() as session:
        move(session.get(Briefing, briefing.id), BriefingState.WITHDRAWN)
    assert not current()
    bot.app.engine.dispose()


def test_sqlite_connections_keep_a_bounded_number_of_prepared_statements(tmp_path):
    """Python's default of 128 held about 6 MB a connection in the server (issue 15)."""
    from sqlalchemy import event, text

    from bot.store.db import SQLITE_CACHED_STATEMENTS, make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'bounded.db'}")
    seen: dict[str, object] = {}

    @event.listens_for(engine, "do_connect")
    def _record(_dialect, _record, _cargs, cparams) -> None:  # type: ignore[no-untyped-def]
        seen.update(cparams)

    with engine.connect() as connection:
        assert connection.execute(text("SELECT 1")).scalar() == 1
    engine.dispose()
    assert seen["cached_statements"] == SQLITE_CACHED_STATEMENTS
    assert 0 < SQLITE_CACHED_STATEMENTS < 128
