"""`nosurprises status` on plain Core statements answers exactly as the ORM path does.

The command reads through bot/store/tables_core.py over a bare connection, without the App, so
it never imports SQLModel, pydantic or the ORM (issue 15: start-up). Here its output, text and
`--json`, is compared byte for byte with the status the chat answers build (an App, an ORM
session, the App's directory), on the sample council and on a synthetic one with exempt items,
for several windows, viewers (a Welsh speaker among them) and a portfolio; and its rows with the
chat's paged answer, page by page. Its errors stay one sentence.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import pytest
from livebot import MARGARET, Bot, email, make_bot, sqlite_url
from sqlalchemy import update
from test_status_queries import _synthetic_bot

from bot.app import App
from bot.briefings.escalate import run_sweep_tick
from bot.cli import main
from bot.clock import SettableClock
from bot.config import load_settings
from bot.intake.source_health import configured_sources, source_health, stale_sources
from bot.store.identities import remember
from bot.store.models import Person, SourceState, table_of
from bot.timeutil import parse_datetime
from bot.views.status import NotInDirectory, build_status, format_status_text
from bot.views.status_page import wide_status_page

SAMPLE_NOW = datetime(2027, 1, 12, 9, 30, tzinfo=UTC)
# Each viewer's windows, as text or as JSON (True).
WINDOWS = ((7, False), (28, False), (28, True), (90, True), (180, False))


@dataclass(frozen=True)
class Council:
    bot: Bot
    config: Path
    now: str  # council local time, as `--now` takes it
    viewers: tuple[str | None, ...]
    portfolio: str


def _config(folder: Path, bot: Bot) -> Path:
    """A config naming the bot's database and one ModernGov source (for `--json`'s sources)."""
    path = folder / "config.toml"
    path.write_text(
        f'[database]\nurl = "{bot.app.settings.database_url}"\n\n'
        '[[sources.moderngov]]\nname = "hbc"\nbase_url = "https://democracy.example.gov.uk"\n',
        encoding="utf-8",
    )
    return path


def _local(bot: Bot, moment: datetime) -> str:
    return bot.app.calendar.local(moment).strftime("%Y-%m-%dT%H:%M")


def _welsh_speaker(bot: Bot, who: str) -> None:
    with bot.app.session() as session:
        session.execute(update(table_of(Person)).where(Person.email == who).values(language="cy"))


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Council:
    folder = tmp_path_factory.mktemp("core-sample")
    return _sample_council(folder, make_bot(sqlite_url(folder), SAMPLE_NOW))


def _sample_council(folder: Path, bot: Bot) -> Council:
    with bot.app.session() as session:
        run_sweep_tick(app=bot.app, session=session)
        # A stale source (a warning on standard error, and in `--json`'s sources).
        session.add(
            SourceState(
                name="moderngov:hbc",
                last_attempt_at=SAMPLE_NOW,
                stale_since=SAMPLE_NOW - timedelta(hours=5),
                last_error="the site did not answer",
            )
        )
    remember(bot.app, platform="test", email=email("Imran Qureshi"), user_id="U1", reachable=False)
    welsh = email("Sarah Whitlock")
    _welsh_speaker(bot, welsh)
    viewers = (None, MARGARET, email("Imran Qureshi"), welsh, email("Rachel Pym"))
    return Council(bot, _config(folder, bot), _local(bot, SAMPLE_NOW), viewers, "Housing")


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Council:
    folder = tmp_path_factory.mktemp("core-synthetic")
    bot, start = _synthetic_bot(folder, decisions=300, people=160, wards=12, portfolios=6)
    with bot.app.session() as session:
        run_sweep_tick(app=bot.app, session=session)
        directory = bot.app.directory(session)
    now = start + timedelta(days=20)  # some briefings overdue, some close
    people = sorted(directory.people.values(), key=lambda p: p.email)
    chief = next(p.email for p in people if p.has("chief_executive"))
    leader = next(p.email for p in people if p.has("leader"))
    director = next(p.email for p in people if p.has("director"))
    member = next(p.email for p in people if p.has("cabinet_member"))
    officer = next(p.email for p in people if p.roles == {"officer"})
    _welsh_speaker(bot, member)
    return Council(
        bot,
        _config(folder, bot),
        _local(bot, now),
        (None, chief, leader, director, member, officer),
        directory.portfolios[0].name,
    )


@contextlib.contextmanager
def _captured() -> Iterator[tuple[io.StringIO, io.StringIO]]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        yield out, err


@cache
def _app(config: Path, now: str) -> App:
    """The App the ORM path opened, on the settings the command reads."""
    settings = load_settings(str(config), adapters=False)
    return App.open(settings, clock=SettableClock(parse_datetime(now, settings.council.timezone)))


def _full_path(council: Council, options: dict[str, object]) -> tuple[int, str, str]:
    """What `status` printed when it opened the App and read through an ORM session."""
    app = _app(council.config, council.now)
    viewer = options.get("as")
    with _captured() as (out, err), app.session() as session:
        try:
            report = build_status(
                session=session,
                settings=app.settings,
                calendar=app.calendar,
                directory=app.directory(session),
                now=app.now(),
                viewer_email=viewer if isinstance(viewer, str) else None,
                days=int(str(options.get("days", 28))),
                portfolio=str(options.get("portfolio", "")),
            )
        except NotInDirectory:
            print(f"{viewer} is not in the council's directory.", file=err)
            return 1, out.getvalue(), err.getvalue()
        except ValueError as exc:
            print(str(exc), file=err)
            return 2, out.getvalue(), err.getvalue()
        if options.get("json"):
            sources = source_health(session, configured_sources(app.settings))
            report_json = {**report.as_dict(), "sources": sources}
            print(json.dumps(report_json, indent=2, default=str, ensure_ascii=False))
        else:
            print(format_status_text(report, app.calendar, app.settings.council.name))
        for name, since in stale_sources(session):
            local = app.calendar.local(since)
            print(
                f"warning: source {name} stale since {local:%a %d %b %Y %H:%M}: the last "
                "good data is shown",
                file=err,
            )
    return 0, out.getvalue(), err.getvalue()


def _command(council: Council, options: dict[str, object]) -> tuple[int, str, str]:
    """What `nosurprises status` prints now."""
    argv = ["--config", str(council.config), "status", "--now", council.now]
    for name, value in options.items():
        if value is True:
            argv.append(f"--{name}")
        else:
            argv += [f"--{name}", str(value)]
    with _captured() as (out, err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def _questions(council: Council) -> list[dict[str, object]]:
    asked: list[dict[str, object]] = []
    for viewer in council.viewers:
        for days, as_json in WINDOWS:
            options: dict[str, object] = {"days": days}
            if viewer is not None:
                options["as"] = viewer
            if as_json:
                options["json"] = True
            asked.append(options)
    asked += [
        {"portfolio": council.portfolio},
        {"portfolio": council.portfolio, "json": True, "as": council.viewers[1] or ""},
        {"portfolio": "No Such Portfolio"},  # a ValueError: exit 2, one line
        {"as": "nobody@example.gov.uk"},  # not in the directory: exit 1
    ]
    return asked


@pytest.mark.parametrize("which", ["sample", "synthetic"])
def test_status_prints_exactly_what_the_orm_path_printed(
    which: str, request: pytest.FixtureRequest
) -> None:
    council: Council = request.getfixturevalue(which)
    rows: list[dict[str, object]] = []
    for options in _questions(council):
        expected = _full_path(council, options)
        assert _command(council, options) == expected, options
        if expected[0] == 0 and options.get("json"):
            rows += json.loads(expected[1])["at_risk"]
    assert len(rows) > 40  # the comparison covered real rows, not empty windows
    # Exempt items were among them, whole for those entitled; and in the synthetic council
    # masked for its leader, who sees every item but is not owed these briefings.
    exempt_titles = {str(row["title"]) for row in rows if row["exempt"]}
    assert any(not title.startswith("Exempt item") for title in exempt_titles)
    masked = any(title.startswith("Exempt item") for title in exempt_titles)
    assert masked == (which == "synthetic")


def test_on_postgresql_too(pg_url: str, tmp_path: Path) -> None:
    # JSON columns and aware timestamps come back from psycopg as from the ORM.
    council = _sample_council(tmp_path, make_bot(pg_url, SAMPLE_NOW, migrate=True))
    viewers = (None, MARGARET, email("Sarah Whitlock"))
    for options in [
        *({"days": 180, "json": True} | ({"as": v} if v else {}) for v in viewers),
        {"days": 28},
    ]:
        expected = _full_path(council, options)
        assert expected[0] == 0 and _command(council, options) == expected, options


def test_the_rows_are_the_chat_answers_rows_page_by_page(synthetic: Council) -> None:
    bot, chief = synthetic.bot, synthetic.viewers[1]
    assert chief is not None
    settings = load_settings(str(synthetic.config), adapters=False)
    now = parse_datetime(synthetic.now, settings.council.timezone)
    for days in (28, 180):
        code, out, _ = _command(synthetic, {"days": days, "json": True, "as": chief})
        printed = json.loads(out)
        pages = []
        with bot.app.session() as session:
            directory = bot.app.directory(session)
            for page in range(1, 4):
                paged = wide_status_page(
                    session=session,
                    settings=bot.app.settings,
                    calendar=bot.app.calendar,
                    directory=directory,
                    now=now,
                    viewer_email=chief,
                    days=days,
                    page=page,
                )
                assert paged is not None
                assert paged.report.counts == printed["counts"]
                pages += [json.loads(json.dumps(r.as_dict(), default=str)) for r in paged.rows]
        assert code == 0 and len(pages) > 15  # more than one page
        assert pages == printed["at_risk"][: len(pages)]


def _one_sentence(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_a_new_sqlite_file_is_migrated_and_shows_an_empty_status(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "new" / "bot.db"}"\n')
    with _captured() as (out, err):
        code = main(["--config", str(config), "status"])
    assert code == 0 and err.getvalue() == ""
    assert "Red 0  Amber 0  Grey 0  Green 0" in out.getvalue()
    assert "Nothing is at risk in this window." in out.getvalue()


def test_an_unreachable_database_is_one_sentence(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[database]\nurl = "postgresql://nobody:secret@127.0.0.1:1/none"\n')
    with _captured() as (out, err):
        code = main(["--config", str(config), "status"])
    line = _one_sentence(err.getvalue())
    assert code == 3 and line.startswith("error: cannot use the database: ")
    assert "secret" not in line and out.getvalue() == ""


def test_an_unmigrated_database_is_one_sentence(pg_url: str, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{pg_url}"\n')
    with _captured() as (out, err):
        code = main(["--config", str(config), "status", "--json"])
    assert code == 2 and out.getvalue() == ""
    assert _one_sentence(err.getvalue()) == (
        "error: the database schema is not up to date; run `nosurprises db upgrade` first"
    )


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[council]\nnation = 'atlantis'\n", "nation"),
        ("[database\n", "not valid TOML"),
        ('[database]\nurl = "mysql://someone:secret@db/x"\n', "mysql databases are not supported"),
    ],
)
def test_a_bad_config_is_one_sentence(tmp_path: Path, text: str, says: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text(text)
    with _captured() as (out, err):
        code = main(["--config", str(config), "status"])
    line = _one_sentence(err.getvalue())
    assert code == 2 and line.startswith("error: ") and says in line, line
    assert "secret" not in line and out.getvalue() == ""
