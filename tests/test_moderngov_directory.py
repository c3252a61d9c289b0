"""The directory from ModernGov: councillors, wards, parties and portfolios from
GetCouncillorsByWard, shown as a diff, applied only with --apply, each change in the history."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import web
from livebot import Bot, email, make_bot, sqlite_url
from loopback import serving
from sqlalchemy import func, select

from bot.cli import main as cli
from bot.intake.directory_sync import (
    Change,
    CurrentPerson,
    CurrentPortfolio,
    DirectoryChangeKind,
    plan_directory_sync,
)
from bot.intake.moderngov_xml import Councillor, councillors_by_ward
from bot.store.models import AuditEvent, DirectoryChange, Person, Portfolio

NOW = datetime(2027, 1, 5, 9, 30, tzinfo=UTC)


def councillor(name: str, party: str = "", posts: str = "", mail: str = "") -> str:
    address = f"<workaddress>Civic Centre <email>{mail}</email></workaddress>" if mail else ""
    return (
        f"<councillor><councillorid>1</councillorid><fullusername>{name}</fullusername>"
        f"<politicalpartytitle>{party}</politicalpartytitle><keyposts>{posts}</keyposts>"
        f"{address}</councillor>"
    )


def ward(title: str, *people: str) -> str:
    return (
        f"<ward><wardtitle>{title}</wardtitle><councillors>{''.join(people)}</councillors></ward>"
    )


FEED = (
    '<?xml version="1.0" encoding="utf-8"?><councillorsbyward><wards>'
    + ward(
        "Quayside",
        councillor(
            "Councillor Daniel Okafor", posts="Cabinet Member for Regeneration and Planning"
        ),
        councillor("Cllr Tariq Shah", party="Labour"),
    )
    + ward("Riverside", councillor("Councillor Ben Carrow"), councillor("Councillor Rosa Lind"))
    + ward("Northgate", councillor("Councillor Sarah Whitlock"), councillor("Cllr Peter Walsh"))
    + ward(
        "Millbrook",
        councillor("Councillor Helen Marsh", posts="Cabinet Member for Culture and Tourism"),
    )
    + ward(
        "Eastfield",
        councillor("Councillor Joanne Achebe"),
        councillor("Councillor Gwen Price"),
        councillor("Councillor Emma Doyle"),
    )
    + ward("Castle Hill", councillor("Councillor Marcus Feld"), councillor("Kwame Mensah"))
    + ward(
        "Westcliff",
        councillor("Councillor Alan Brook", posts="Leader of the Council"),
        councillor("Councillor Sophie Lane"),
        councillor("Councillor Ghost Person"),
    )
    + ward(
        "St Anne's",
        councillor("Councillor Priya Natarajan"),
        councillor(
            "Councillor Nia Jones", party="Green", mail="Nia.Jones@harbourside.example.gov.uk"
        ),
    )
    + ward("", councillor("Councillor Vacancy"))  # placeholder wards some feeds carry
    + "</wards></councillorsbyward>"
)


@dataclass
class Site:
    url: str = ""
    feed: str = FEED
    status: int = 200

    async def councillors(self, _request: web.Request) -> web.Response:
        return web.Response(text=self.feed, content_type="text/xml", status=self.status)

    async def service(self, request: web.Request) -> web.Response:
        op = request.match_info["op"]
        if op == "GetCommittees":
            body = (
                "<committees><committee><committeeid>110</committeeid><committeetitle>Cabinet"
                "</committeetitle></committee></committees>"
            )
        elif op == "GetMeetings":
            body = (
                "<getmeetings><meeting><meetingid>5100</meetingid><meetingdate>10/12/2026"
                "</meetingdate></meeting><meeting><meetingid>5201</meetingid><meetingdate>"
                "14/01/2027</meetingdate></meeting></getmeetings>"
            )
        else:  # the most recent meeting held, not the next one, lists the executive
            assert request.query["lMeetingId"] == "5100"
            body = (
                "<meeting><meetingid>5100</meetingid><meetingdate>10/12/2026</meetingdate>"
                '<attendees><attendee name="Councillor Sophie Lane" roledescription="Cabinet '
                'Member for Children and Families"/><attendee name="Councillor Ben Carrow" '
                'roledescription="Committee Member"/></attendees></meeting>'
            )
        return web.Response(text=body, content_type="text/xml")


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    council = Site()
    app = web.Application()
    app.router.add_get("/mgWebService.asmx/GetCouncillorsByWard", council.councillors)
    app.router.add_get("/mgWebService.asmx/{op}", council.service)
    async with serving(app) as council.url:
        yield council


@pytest.fixture
def bot(tmp_path: Path) -> Bot:
    return make_bot(sqlite_url(tmp_path), NOW, seed=True)


def run(bot: Bot, site: Site, tmp_path: Path, monkeypatch, *args: str) -> int:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[[sources.moderngov]]\nname = "harbourside"\nbase_url = "{site.url}"\n'
        'requests_per_second = 1000\nexecutive_committees = ["Cabinet"]\n'
        '[sources.moderngov.portfolios]\n"Peter Walsh" = "Housing"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("NOSURPRISES_DATABASE_URL", str(bot.app.engine.url))
    monkeypatch.setenv("NOSURPRISES_NOW", "2027-01-05T09:30")
    return cli(["--config", str(config), "import", "moderngov", "--directory", *args])


EXPECTED = [
    Change(DirectoryChangeKind.PARTY, email("Tariq Shah"), "Cllr Tariq Shah", "", "Labour"),
    Change(
        DirectoryChangeKind.PORTFOLIO_HOLDER,
        email("Peter Walsh"),
        "Cllr Peter Walsh",
        "Housing: Cllr Sarah Whitlock",
        "Housing: Cllr Peter Walsh",
    ),
    Change(
        DirectoryChangeKind.NEW_PORTFOLIO,
        email("Helen Marsh"),
        "Cllr Helen Marsh",
        "",
        "Culture and Tourism",
    ),
    Change(
        DirectoryChangeKind.MOVED_WARD,
        email("Emma Doyle"),
        "Cllr Emma Doyle",
        "Millbrook",
        "Eastfield",
    ),
    Change(
        DirectoryChangeKind.PORTFOLIO_HOLDER,
        email("Sophie Lane"),
        "Cllr Sophie Lane",
        "Children and Families: Cllr Ben Carrow",
        "Children and Families: Cllr Sophie Lane",
    ),
    Change(
        DirectoryChangeKind.ADDED,
        "nia.jones@harbourside.example.gov.uk",
        "Nia Jones",
        "",
        "St Anne's, Green",
    ),
    Change(DirectoryChangeKind.LEFT, email("Hugo Brandt"), "Cllr Hugo Brandt", "St Anne's"),
]


def directory_counts(bot: Bot) -> tuple[int, int, int, int]:
    with bot.app.session() as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(model))
            for model in (Person, Portfolio, DirectoryChange, AuditEvent)
        )


async def test_the_diff_is_shown_then_applied_only_with_apply(
    bot, site, tmp_path, monkeypatch, capsys
):
    before = directory_counts(bot)
    code = await asyncio.to_thread(run, bot, site, tmp_path, monkeypatch)
    out, err = capsys.readouterr()
    assert code == 0
    assert "7 change(s) would be made to the directory (run again with --apply" in out
    assert "moved ward: Cllr Emma Doyle: Millbrook → Eastfield" in out
    assert "left: Cllr Hugo Brandt: St Anne's → (none)" in out
    assert "Ghost Person" in err and "add them to people.csv" in err
    assert directory_counts(bot) == before  # nothing written without --apply

    code = await asyncio.to_thread(run, bot, site, tmp_path, monkeypatch, "--json")
    [result] = json.loads(capsys.readouterr().out)
    assert code == 0 and result["ok"] and not result["applied"]
    assert result["changes"] == [c.as_dict() for c in EXPECTED]

    code = await asyncio.to_thread(run, bot, site, tmp_path, monkeypatch, "--apply")
    assert code == 0 and "7 change(s) applied to the directory" in capsys.readouterr().out
    with bot.app.session() as session:
        history = [
            (c.kind, c.email, c.name, c.old_value, c.new_value, c.source, c.changed_at)
            for c in session.scalars(
                select(DirectoryChange)
                .where(DirectoryChange.source == "moderngov:harbourside")
                .order_by(DirectoryChange.id)
            )
        ]
        people = {p.email: p for p in session.scalars(select(Person))}
        holders = {p.name: p.holder_email for p in session.scalars(select(Portfolio))}
        synced = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "directory_synced")
        )
    assert history == [
        (c.kind.value, c.email, c.name, c.old, c.new, "moderngov:harbourside", NOW)
        for c in EXPECTED
    ]
    assert email("Hugo Brandt") not in people
    nia = people["nia.jones@harbourside.example.gov.uk"]
    assert (nia.name, nia.roles, nia.wards, nia.party) == (
        "Nia Jones",
        ["ward_councillor"],
        ["St Anne's"],
        "Green",
    )
    assert people[email("Emma Doyle")].wards == ["Eastfield"]
    assert people[email("Tariq Shah")].party == "Labour"
    assert "cabinet_member" in people[email("Peter Walsh")].roles
    assert holders["Housing"] == email("Peter Walsh")
    assert holders["Culture and Tourism"] == email("Helen Marsh")
    assert holders["Children and Families"] == email("Sophie Lane")
    assert synced == 1

    code = await asyncio.to_thread(run, bot, site, tmp_path, monkeypatch)
    assert code == 0 and "the directory already matches the site" in capsys.readouterr().out


async def test_a_refused_or_empty_feed_changes_nothing(bot, site, tmp_path, monkeypatch, capsys):
    before = directory_counts(bot)
    site.status = 403
    code = await asyncio.to_thread(run, bot, site, tmp_path, monkeypatch, "--apply")
    assert code == 1
    assert "the directory is unchanged" in capsys.readouterr().out
    site.status, site.feed = 200, "<councillorsbyward><wards></wards></councillorsbyward>"
    code = await asyncio.to_thread(run, bot, site, tmp_path, monkeypatch, "--apply")
    assert code == 1 and "lists no councillors" in capsys.readouterr().out
    assert directory_counts(bot) == before


def test_councillors_are_read_once_each_with_every_ward():
    feed = (
        "<councillorsbyward><wards>"
        + ward("Ashbrow", councillor("Councillor Jean Calvert", "Labour", "Deputy Leader"))
        + ward("Batley East", councillor("Cllr. Jean Calvert", "", "", "jean@k.example"))
        + ward("", councillor("Councillor Nobody"))
        + "</wards></councillorsbyward>"
    )
    assert councillors_by_ward(feed, "GetCouncillorsByWard") == [
        Councillor(
            "Jean Calvert",
            ("Ashbrow", "Batley East"),
            "Labour",
            ("Deputy Leader",),
            "jean@k.example",
        )
    ]


def test_a_councillor_matched_by_email_keeps_their_directory_name():
    plan = plan_directory_sync(
        current=[
            CurrentPerson(
                "a@x.example", "Cllr Ann Able", frozenset({"ward_councillor"}), ("North",)
            )
        ],
        portfolios=[CurrentPortfolio("Housing", "a@x.example")],
        councillors=[
            Councillor(
                "Annie Able",
                ("North",),
                key_posts=("Portfolio Holder for Housing",),
                email="a@x.example",
            )
        ],
        mapping={},
    )
    assert plan.changes == []
    assert plan.people["a@x.example"].roles == frozenset({"ward_councillor", "cabinet_member"})
