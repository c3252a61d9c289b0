"""Engine, sessions and migrations. SQLite by default; PostgreSQL by URL."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlmodel import Session, create_engine

if TYPE_CHECKING:
    from alembic.config import Config

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


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Alembic's config treats "%" as interpolation: escape it (socket paths, passwords).
    url = engine.url.render_as_string(hide_password=False).replace("%", "%%")
    config.set_main_option("sqlalchemy.url", url)
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema up to the newest migration."""
    from alembic import command

    command.upgrade(alembic_config(engine), "head")


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


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session committed on success and rolled back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


# SQLite's page cache while a sweep or an import writes a whole council in one transaction:
# with the default 2 MB, index pages are evicted, read back and spilled again and again.
LARGE_PAGE_CACHE_KB = 65_536


@contextmanager
def large_page_cache(session: Session, kilobytes: int = LARGE_PAGE_CACHE_KB) -> Iterator[None]:
    """On SQLite, a larger page cache for this session's connection while the block runs,
    restored afterwards (a pooled connection keeps its setting). PostgreSQL: nothing to do."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        yield
        return
    # The driver's own connection: the block may end the session's transaction (a dry run
    # rolls back), and the setting belongs to this connection wherever the pool keeps it.
    driver = connection.connection.dbapi_connection
    assert driver is not None
    (before,) = driver.execute("PRAGMA cache_size").fetchone()
    driver.execute(f"PRAGMA cache_size = -{int(kilobytes)}")
    try:
        yield
    finally:
        # If the connection is gone, its setting went with it.
        with suppress(sqlite3.Error):
            driver.execute(f"PRAGMA cache_size = {int(before)}")


def database_reachable(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
