"""Engines and the schema's revision, without the ORM: what every command needs to open the
database, importable on its own by `nosurprises status`, which never imports SQLModel,
pydantic or the ORM (issue 15). Sessions and migrations are in bot/store/db.py.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_REVISION = re.compile(r"^(down_revision|revision)\b[^=]*=\s*(?:\"([^\"]*)\"|None)", re.MULTILINE)


def normalise_url(url: str) -> str:
    """Use the psycopg 3 driver for plain postgresql:// URLs."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


SUPPORTED_BACKENDS = ("sqlite", "postgresql")


# Prepared statements each pooled SQLite connection keeps. Python's default, 128, held about
# 6 MB a connection in the serving process (every length of an `IN (…)` list is a statement of
# its own): a third of its growth after 1,000 questions (issue 15). The statements run in a
# loop (delivery, the sweep) are far fewer than this.
SQLITE_CACHED_STATEMENTS = 32


class UnsupportedDatabase(ValueError):
    """The database URL names no database this bot can use (the message never shows it)."""


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str) -> Engine:
    """An engine for `url`; a SQLite file's folder is created, and WAL is switched on."""
    url = normalise_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise UnsupportedDatabase(
            "the database URL could not be read: it should look like "
            "postgresql://user:password@host/database or sqlite:///path/to/file.db"
        ) from None
    if parsed.get_backend_name() not in SUPPORTED_BACKENDS:
        # Only the scheme is shown: the rest of a URL can hold a password.
        raise UnsupportedDatabase(
            f"{parsed.get_backend_name()} databases are not supported: use a postgresql:// "
            "or sqlite:/// database URL"
        )
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={
                "check_same_thread": False,
                "timeout": 30,
                "cached_statements": SQLITE_CACHED_STATEMENTS,
            },
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


@cache
def head_revision() -> str:
    """The newest migration's revision, read from the files: importing Alembic to ask costs
    a quarter of a second on every command (issue 15), so it is only imported to migrate."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found = dict((name, value) for name, value in _REVISION.findall(path.read_text()))
        if found.get("revision"):
            revisions.add(found["revision"])
            if found.get("down_revision"):
                parents.add(found["down_revision"])
    heads = revisions - parents
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads, not one")
    return heads.pop()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None for a database never migrated."""
    # Connecting is outside the try: an unreachable database must say so, not look empty.
    with engine.connect() as connection:
        try:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except DBAPIError:
            # No alembic_version table yet: a new, empty database.
            return None


def is_current(engine: Engine) -> bool:
    """Whether the schema is at the newest migration."""
    return current_revision(engine) == head_revision()


class SchemaOutOfDate(RuntimeError):
    """The database needs `nosurprises db upgrade`."""


def ensure_current(engine: Engine) -> None:
    """Refuse a database whose schema is behind the code's."""
    if not is_current(engine):
        raise SchemaOutOfDate(
            "the database schema is not up to date; run `nosurprises db upgrade` first"
        )


def open_engine(url: str, *, migrate: bool | None = None) -> Engine:
    """An engine on a database at the newest schema. An embedded SQLite (or any, with
    `migrate`) is upgraded here; any other must have been upgraded already (SchemaOutOfDate)."""
    engine = make_engine(url)
    if migrate is None:
        migrate = is_sqlite(engine)
    if not migrate:
        ensure_current(engine)
    elif not is_current(engine):
        from bot.store.db import upgrade  # Alembic and the table models: only to migrate

        upgrade(engine)
    return engine


def database_reachable(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
