"""The sweep rewrites a decision's flags only when their hash changed (issue 15)."""

from __future__ import annotations

from datetime import UTC, datetime

from livebot import Bot, make_bot
from sqlalchemy import delete, select, update

from bot.briefings.escalate import run_sweep_tick
from bot.store.db import alembic_config
from bot.store.flags_hash import UNKNOWN, flags_hash
from bot.store.models import Decision, SweepState, table_of

NOW = datetime(2027, 1, 12, 9, 30, tzinfo=UTC)
STALE = [{"code": "stale", "text": "Left by hand"}]


def _tick(bot: Bot) -> None:
    with bot.app.session() as session:
        run_sweep_tick(app=bot.app, session=session)


def _stored(bot: Bot) -> dict[str, tuple[list[dict[str, str]], str]]:
    with bot.app.session() as session:
        return {d.ref: (d.flags, d.flags_hash) for d in session.scalars(select(Decision))}


def _assess_everything_again(bot: Bot) -> None:
    with bot.app.session() as session:
        session.execute(update(table_of(Decision)).values(swept_fingerprint=""))
        session.execute(delete(table_of(SweepState)))
        session.commit()


def _set_flags(bot: Bot, ref: str, **values: object) -> None:
    # A plain table update: no model object, so nothing but these columns changes.
    table = table_of(Decision)
    with bot.app.session() as session:
        session.execute(update(table).where(table.c.ref == ref).values(**values))
        session.commit()


def test_the_sweep_writes_only_flags_whose_hash_changed(database_url: str):
    bot = make_bot(database_url, NOW, migrate=True)
    _tick(bot)
    stored = _stored(bot)
    assert all(hash_ == flags_hash(flags) for flags, hash_ in stored.values())
    flagged = sorted(ref for ref, (flags, _) in stored.items() if flags)
    assert len(flagged) >= 2 and any(not flags for flags, _ in stored.values())
    kept, rewritten = flagged[:2]
    # Same hash as the sweep will work out: the flags are not written again.
    _set_flags(bot, kept, flags=STALE)
    # A hash that no longer matches: written again.
    _set_flags(bot, rewritten, flags=STALE, flags_hash=UNKNOWN)
    _assess_everything_again(bot)
    _tick(bot)
    after = _stored(bot)
    assert after[kept] == (STALE, stored[kept][1])
    assert after[rewritten] == stored[rewritten]
    assert {ref: v for ref, v in after.items() if ref != kept} == {
        ref: v for ref, v in stored.items() if ref != kept
    }
    bot.app.engine.dispose()


def test_flags_set_on_a_model_object_keep_their_hash(database_url: str):
    bot = make_bot(database_url, NOW, migrate=True)
    _tick(bot)
    ref = next(ref for ref, (flags, _) in _stored(bot).items() if flags)
    expected = _stored(bot)[ref]
    with bot.app.session() as session:
        decision = session.scalars(select(Decision).where(Decision.ref == ref)).one()
        decision.flags = STALE
        session.commit()
    assert _stored(bot)[ref] == (STALE, flags_hash(STALE))
    # So the next assessment sees a changed hash and puts the right flags back.
    _assess_everything_again(bot)
    _tick(bot)
    assert _stored(bot)[ref] == expected
    bot.app.engine.dispose()


def test_rows_from_before_the_migration_have_their_flags_written_once(database_url: str):
    from alembic import command

    bot = make_bot(database_url, NOW, migrate=True)
    _tick(bot)
    expected = _stored(bot)
    config = alembic_config(bot.app.engine)
    command.downgrade(config, "0012")
    command.upgrade(config, "head")
    assert {hash_ for _, hash_ in _stored(bot).values()} == {UNKNOWN}
    _assess_everything_again(bot)
    _tick(bot)
    assert _stored(bot) == expected
    bot.app.engine.dispose()


def test_no_flags_hash_to_the_default_and_order_counts():
    assert flags_hash([]) == ""
    one, two = {"code": "a", "text": "A"}, {"code": "b", "text": "B"}
    assert flags_hash([one, two]) not in ("", UNKNOWN, flags_hash([two, one]))
    assert flags_hash([{"text": "A", "code": "a"}]) == flags_hash([one])
