"""Which channel reaches whom: people.csv's `channels` column, the default (chat first, email
when chat cannot reach them), a person's own choices, and the email adapter's settings and
SMTP failures."""

from __future__ import annotations

import re
import socket
from dataclasses import replace
from pathlib import Path

import pytest
from livebot import (
    OWEN,
    SAMPLE_COUNCIL,
    RecordingAdapter,
    local,
    make_bot,
    postgres_url,
    sample_people,
    sqlite_url,
)

from adapters.email.adapter import EmailAdapter
from adapters.email.settings import EmailSettings, read_settings
from bot.cli import main as cli
from bot.config import ConfigError, SettingsTable
from bot.delivery.channels import Choice, load_choices, platform_order, save_choice
from bot.delivery.ports import DeliveryOutcome, MessageKind, SendResult
from bot.intake.directory_csv import parse_directory
from bot.intake.problems import ImportRejected
from bot.intake.store import store_directory
from bot.links import LinkPurpose, LinkSigner
from bot.store.secrets import link_key
from bot.views.cards import Card

HELEN = "helen.marsh@harbourside.example.gov.uk"
NOT_FOUND = SendResult.not_found("teams", error_code="not_installed")


# --- the order of platforms -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("listed", "choice", "kind", "expected"),
    [
        ((), Choice(), "", ["slack", "teams", "email"]),  # chat first, then email
        (("teams", "email"), Choice(), "", ["teams", "email"]),
        (("email",), Choice(), "", ["email"]),
        (("slack",), Choice(), "", ["slack"]),
        (("whatsapp",), Choice(), "", ["slack", "teams", "email"]),  # nothing listed is on
        ((), Choice(email_off=True), "", ["slack", "teams"]),
        ((), Choice(digest_by_email=True), MessageKind.OFFICER_DIGEST, ["email", "slack", "teams"]),
        ((), Choice(digest_by_email=True), "first_prompt", ["slack", "teams", "email"]),
        # A member's digest is an email they asked for, never a chat message.
        (("teams",), Choice(digest_by_email=True), MessageKind.MEMBER_DIGEST, ["email"]),
        ((), Choice(email_off=True), MessageKind.MEMBER_DIGEST, []),
    ],
)
def test_platform_order(listed, choice, kind, expected) -> None:
    assert (
        platform_order(["email", "slack", "teams"], listed=listed, choice=choice, kind=kind)
        == expected
    )


# --- people.csv ---------------------------------------------------------------------------------


def _people_with(tmp_path: Path, cell: str) -> Path:
    text = (SAMPLE_COUNCIL / "people.csv").read_text(encoding="utf-8").splitlines()
    rows = [text[0] + ",channels"] + [
        line + (f",{cell}" if "helen.marsh" in line else ",") for line in text[1:]
    ]
    path = tmp_path / "people.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_people_csv_channels_column_is_read_in_order(tmp_path: Path) -> None:
    people, _, _ = parse_directory(
        _people_with(tmp_path, "Teams; email"), SAMPLE_COUNCIL / "portfolios.csv"
    )
    helen = next(p for p in people if p.email == HELEN)
    assert helen.channels == ("teams", "email")
    assert all(p.channels == () for p in people if p.email != HELEN)


@pytest.mark.parametrize(
    ("cell", "reason"),
    [("pigeon", "unknown channel(s) pigeon"), ("email;email", "a channel is listed twice")],
)
def test_a_bad_channels_cell_names_file_line_and_column(
    tmp_path: Path, cell: str, reason: str
) -> None:
    with pytest.raises(ImportRejected) as caught:
        parse_directory(_people_with(tmp_path, cell), SAMPLE_COUNCIL / "portfolios.csv")
    [problem] = caught.value.problems
    assert (problem.file, problem.column) == ("people.csv", "channels")
    assert problem.line == 21 and reason in problem.reason


# --- the hub follows them -----------------------------------------------------------------------


async def test_the_hub_tries_chat_first_then_email_and_honours_each_choice(
    tmp_path: Path,
) -> None:
    teams = RecordingAdapter("teams", behaviour=lambda person, card: NOT_FOUND)
    bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 26, 9, 30), adapter=teams)
    email = RecordingAdapter("email")
    bot.hub.register(email)
    with bot.app.session() as session:
        helen = bot.app.directory(session).person(HELEN)
    assert helen is not None
    card = Card(title="Reminder")
    result = await bot.hub.deliver(helen, card)
    assert (result.platform, result.detail) == ("email", "not reachable on teams")
    assert [a[0] for a in teams.attempts] == [HELEN]

    # The council lists email first for her: Teams is not even tried.
    teams.clear()
    people, portfolios = sample_people()
    people = [replace(p, channels=("email",)) if p.email == HELEN else p for p in people]
    with bot.app.session() as session:
        store_directory(session, people, portfolios, now=bot.now())
    with bot.app.session() as session:
        helen = bot.app.directory(session).person(HELEN)
    assert helen is not None and helen.channels == ("email",)
    result = await bot.hub.deliver(helen, card)
    assert result.platform == "email" and teams.attempts == []

    # Her own choice, no email: nothing can reach her now, and the hub says so.
    result = await bot.hub.deliver(helen, card, choice=Choice(email_off=True))
    assert result.outcome == DeliveryOutcome.RECIPIENT_NOT_FOUND


async def test_a_digest_goes_by_email_when_the_person_asked(tmp_path: Path) -> None:
    teams = RecordingAdapter("teams")
    bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 26, 9, 5), adapter=teams)
    email = RecordingAdapter("email")
    bot.hub.register(email)
    owen = "owen.brady@harbourside.example.gov.uk"
    with bot.app.session() as session:
        save_choice(session, owen, Choice(digest_by_email=True), now=bot.now())
    await bot.sweep()
    await bot.deliver()
    [digest] = [s for s in email.sent if s.recipient == owen]
    assert digest.card.title.startswith("Good morning")
    # Everything else for Owen still comes in chat.
    assert teams.to(owen) and not [s for s in teams.to(owen) if "Good morning" in s.card.title]


# --- the email adapter's settings and failures -------------------------------------------------


def test_email_settings_keep_the_password_out_of_the_config_file() -> None:
    with pytest.raises(ConfigError, match="SMTP_PASSWORD"):
        read_settings(SettingsTable({"password": "x"}, "config.toml [email]"))
    settings = read_settings(
        SettingsTable(
            {"from_address": "bot@council.gov.uk", "public_url": "https://bot.council.gov.uk/"},
            "config.toml [email]",
            {"SMTP_HOST": "smtp.council.gov.uk", "SMTP_PASSWORD": "s3cret", "SMTP_PORT": "465"},
        )
    )
    assert settings.enabled and settings.port == 465 and settings.password == "s3cret"
    assert settings.public_url == "https://bot.council.gov.uk"
    assert "s3cret" not in repr(settings)
    with pytest.raises(ConfigError, match="public_url"):
        read_settings(SettingsTable({"enabled": True, "host": "h", "from_address": "a@b"}, "c"))
    with pytest.raises(ConfigError, match="https://"):
        read_settings(
            SettingsTable(
                {"host": "h", "from_address": "a@b", "public_url": "http://bot.council.gov.uk"},
                "c",
                {"SMTP_HOST": "h"},
            )
        )
    with pytest.raises(ConfigError, match="security"):
        read_settings(SettingsTable({"security": "ssl3"}, "c"))
    plain_login = {
        "host": "smtp.council.gov.uk",
        "security": "none",
        "username": "bot",
        "from_address": "a@b",
        "public_url": "https://bot.council.gov.uk",
    }
    with pytest.raises(ConfigError, match="a login needs starttls or tls"):
        read_settings(SettingsTable(plain_login, "c", {"SMTP_HOST": "smtp.council.gov.uk"}))


async def test_an_unreachable_smtp_server_is_a_failure_to_retry(tmp_path: Path) -> None:
    bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 26, 9, 30))
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    adapter = EmailAdapter(
        bot.hub,
        EmailSettings(
            enabled=True,
            host="127.0.0.1",
            port=port,
            security="none",
            password="never-in-a-log",
            from_address="bot@harbourside.example.gov.uk",
            public_url="https://bot.example",
            timeout_seconds=2,
        ),
    )
    with bot.app.session() as session:
        helen = bot.app.directory(session).person(HELEN)
    assert helen is not None
    result = await adapter.send(helen, Card(title="Reminder"))
    assert (result.outcome, result.error_code) == (DeliveryOutcome.FAILED, "smtp_unreachable")
    assert "never-in-a-log" not in repr(result)


# --- the `email-links` command ------------------------------------------------------------------


def test_email_links_prints_a_chat_users_private_calendar_feed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 26, 9, 30))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NOSURPRISES_DATABASE_URL", sqlite_url(tmp_path))
    monkeypatch.setenv("NOSURPRISES_PUBLIC_URL", "https://bot.harbourside.example.gov.uk")
    assert cli(["email-links", "Helen Marsh"]) == 0
    out = capsys.readouterr().out
    feed = re.search(
        r"calendar feed: (https://bot\.harbourside\.example\.gov\.uk/calendar/\S+)", out
    )
    assert feed is not None and "Cllr Helen Marsh's email preferences: https://" in out
    token = feed.group(1).rsplit("/", 1)[1].removesuffix(".ics")
    with bot.app.session() as session:
        claim = LinkSigner(link_key(session)).open(
            token, purpose=LinkPurpose.CALENDAR, now=bot.now()
        )
    assert claim.email == HELEN
    assert cli(["email-links", "Nobody Atall"]) == 1
    assert "nobody in the directory matches 'Nobody Atall'" in capsys.readouterr().err
    monkeypatch.delenv("NOSURPRISES_PUBLIC_URL")
    assert cli(["email-links", "Helen Marsh"]) == 2


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_choices_are_read_as_plain_rows_and_one_just_saved_is_read_back(
    request, tmp_path: Path, backend: str
) -> None:
    url = sqlite_url(tmp_path) if backend == "sqlite" else postgres_url(request)
    bot = make_bot(url, local(2027, 1, 5, 10, 0), migrate=True)
    try:
        with bot.app.session() as session:
            assert load_choices(session, [OWEN, HELEN]) == {}
            save_choice(session, OWEN, Choice(email_off=True), now=bot.now())
            # Not yet flushed: read back all the same, as a query through the session would.
            assert load_choices(session, {OWEN, HELEN}) == {OWEN: Choice(email_off=True)}
            session.commit()
        with bot.app.session() as session:
            assert load_choices(session, [OWEN]) == {OWEN: Choice(email_off=True)}
            assert load_choices(session, []) == {}
    finally:
        bot.app.engine.dispose()
