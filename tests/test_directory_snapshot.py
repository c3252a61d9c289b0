"""The directory snapshot is reloaded exactly when the stored directory's fingerprint moves,
including a change the asking session has made and not yet written (issue 15: the check is one
plain statement, so it must flush as the ORM look-up it replaced did)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from livebot import email, make_bot, sqlite_url
from sqlalchemy import select

from bot.store.models import DirectoryState, Person

START = datetime(2027, 1, 26, 9, 30, tzinfo=ZoneInfo("Europe/London"))
OWEN = email("Owen Brady")


def rename(session, who: str, name: str, fingerprint: str) -> None:
    session.scalars(select(Person).where(Person.email == who)).one().name = name
    state = session.get(DirectoryState, 1)
    assert state is not None
    state.fingerprint = fingerprint


def test_the_snapshot_follows_the_stored_fingerprint(tmp_path: Path):
    app = make_bot(sqlite_url(tmp_path), START).app
    with app.session() as session:
        first = app.directory(session)
        assert app.directory(session) is first  # unchanged: the same snapshot
    with app.session() as session:
        rename(session, OWEN, "Owen B. Brady", "after an import")
    with app.session() as session:
        assert app.directory(session).person(OWEN).name == "Owen B. Brady"


def test_a_change_this_session_has_not_written_yet_is_seen(tmp_path: Path):
    app = make_bot(sqlite_url(tmp_path), START).app
    with app.session() as session:
        app.directory(session)
        rename(session, OWEN, "Owen Bryn Brady", "mid-import")
        assert app.directory(session).person(OWEN).name == "Owen Bryn Brady"
