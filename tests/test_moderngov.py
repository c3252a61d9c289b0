"""ModernGov intake against a fixture server on loopback, shaped like the real XML and pages."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from livebot import Bot, email, make_bot, sqlite_url
from loopback import serving
from sqlalchemy import func, select

from bot.briefings.escalate import run_sweep_tick
from bot.cli import main as cli
from bot.config import ModernGovSource
from bot.intake.moderngov import Fetcher, SourceError, decision_due, read_source
from bot.intake.moderngov_pages import clean_text
from bot.intake.sources import pull_sources, stale_sources
from bot.server import health
from bot.store.models import Briefing, BriefingState, Decision, DecisionChange

NOW = datetime(2027, 1, 5, 9, 30, tzinfo=UTC)

ITEM = """<html><head><title>Issue</title></head><body>
<h1 class="mgMainTitleTxt">Issue details</h1>
<h2 class="mgSubTitleTxt">{title}</h2>
<p>{summary}</p>
<p><span class="mgLabel">Decision maker: </span>Cabinet</p>
<p><span class="mgLabel">Decision due: </span>{due}</p>
<p><span class="mgLabel">Lead member: </span>{member}</p>
<p><span class="mgLabel">Lead officer: </span>{officer}, Head of Service. Email: {officer_email}</p>
<p><span class="mgLabel">Wards affected: </span>{wards}</p>
<p><span class="mgLabel">Decision type: </span>{kind}</p>
<p><span class="mgLabel">Anticipated restriction: </span>{restriction}</p>
<p><span class="mgLabel">Explanation of anticipated restriction: </span>{why}</p>
<p><span class="mgLabel">Notice of proposed decision first published: </span>01/12/2026</p>
<p><span class="mgLabel">Decision status: </span>{status}</p>
<p><span class="mgLabel">Reference: </span>{ref}</p>
</body></html>"""


def item(ref: str, title: str, due: str, **extra: str) -> dict[str, str]:
    return {
        "ref": ref,
        "title": title,
        "due": due,
        "summary": f"To decide on {title.lower()}.",
        "member": "Cabinet Member for Housing",
        "officer": "Imran Qureshi",
        "officer_email": "imran.qureshi@harbourside.example.gov.uk",
        "wards": "(All Wards);",
        "kind": "Key",
        "restriction": "Open",
        "why": "",
        "status": "For Determination",
        **extra,
    }


@dataclass
class Council:
    """The fixture council's site: change `items` between pulls to make changes."""

    items: dict[str, dict[str, str]] = field(default_factory=dict)
    html_forbidden: bool = False
    hang: bool = False
    broken_meeting: bool = False
    label_less: str = ""
    requests: list[str] = field(default_factory=list)
    url: str = ""
    never: asyncio.Event = field(default_factory=asyncio.Event)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/{page}", self.page)
        app.router.add_get("/mgWebService.asmx/{op}", self.xml)
        return app

    async def page(self, request: web.Request) -> web.Response:
        self.requests.append(request.path_qs)
        if self.hang:
            await self.never.wait()
        if self.html_forbidden:
            return web.Response(status=403, text="Forbidden")
        page = request.match_info["page"]
        if page == "mgListPlans.aspx":
            body = (
                '<a href="mgListPlanItems.aspx?PlanId=1">Forward Plan <span class="mgHide">'
                " ref: 1</span></a>"
            )
        elif page == "mgListPlanItems.aspx":
            body = "".join(
                f'<li><a href="mgIssueHistoryHome.aspx?IId={n}">{i["title"]}'
                f'<span class="mgHide"> ref: {n}</span></a></li>'
                for n, i in self.items.items()
            )
        elif page == "mgIssueHistoryHome.aspx":
            iid = request.query["IId"]
            if iid == self.label_less:
                body = "<h2>Something else entirely</h2><p>No labels here.</p>"
            else:
                body = ITEM.format(**self.items[iid])
        else:
            return web.Response(status=404)
        return web.Response(text=f"<html><body>{body}</body></html>", content_type="text/html")

    async def xml(self, request: web.Request) -> web.Response:
        self.requests.append(request.path_qs)
        op = request.match_info["op"]
        if op == "GetCommittees":
            body = (
                "<committees><committeescount> 2</committeescount>"
                "<committee><committeeid>110</committeeid><committeetitle>Cabinet"
                "</committeetitle><committeedeleted>False</committeedeleted></committee>"
                "<committee><committeeid>144</committeeid><committeetitle>Audit Committee"
                "</committeetitle></committee></committees>"
            )
        elif op == "GetMeetings":
            assert request.query["lCommitteeId"] == "110", "only executive committees are read"
            body = (
                "<getmeetings><meetingscount> 2</meetingscount><committee><committeemeetings>"
                "<meeting><meetingid>5201</meetingid><meetingdate>14/01/2027</meetingdate>"
                "<meetingstatus>Confirmed</meetingstatus></meeting>"
                "<meeting><meetingid>5202</meetingid><meetingdate>21/01/2027</meetingdate>"
                "<meetingstatus>Cancelled</meetingstatus></meeting>"
                "</committeemeetings></committee></getmeetings>"
            )
        elif op == "GetMeeting":
            assert request.query["lMeetingId"] == "5201", "cancelled meetings are skipped"
            if self.broken_meeting:
                return web.Response(text="<meeting><agendaitems>", content_type="text/xml")
            body = (
                "<meeting><meetingid>5201</meetingid><meetingdate>14/01/2027</meetingdate>"
                "<meetingstatus>Confirmed</meetingstatus><agendaitems>"
                "<agendaitem><agendaitemid>1</agendaitemid><agendaitemtitle>Minutes"
                "</agendaitemtitle><isrestricted>False</isrestricted></agendaitem>"
                "<agendaitem><agendaitemid>2</agendaitemid><agendaitemtitle>Temporary "
                "Accommodation &amp;amp; Homelessness Contract</agendaitemtitle>"
                "<isrestricted>True</isrestricted></agendaitem>"
                "<agendaitem><agendaitemid>3</agendaitemid><agendaitemtitle>Housing "
                "Allocations Policy Review</agendaitemtitle><agendatext>&lt;p&gt;See the "
                '&lt;a href="mgIssueHistoryHome.aspx?IId=9003"&gt;forward plan&lt;/a&gt;'
                "&lt;/p&gt;</agendatext><isrestricted>False</isrestricted></agendaitem>"
                "</agendaitems></meeting>"
            )
        else:
            return web.Response(status=404)
        return web.Response(
            text=f'<?xml version="1.0" encoding="utf-8"?>{body}', content_type="text/xml"
        )


def plan() -> dict[str, dict[str, str]]:
    return {
        "9003": item("HBC-2027-003", "Housing Allocations Policy Review", "11 Feb 2027 by Cabinet"),
        "9005": item(
            "HBC-2027-005",
            "Millbrook Park Play Area Refurbishment",
            "Not before 26th Jan 2027 by Cabinet Member for Communities and Leisure",
            member="Cabinet Member for Communities and Leisure",
            officer="Owen Brady",
            officer_email="owen.brady@harbourside.example.gov.uk",
            wards="Millbrook;",
            kind="Non-key",
        ),
        "9010": item(
            "HBC-2027-010",
            "Disposal of Surplus Depot at Northgate",
            "11 Mar 2027 by Cabinet",
            restriction="Part exempt",
            why="Information relating to financial affairs (paragraph 3)",
            wards="Northgate;",
            member="Cabinet Member for Finance and Resources",
        ),
        "9011": item("HBC-2027-011", "School Transport Contract Extension", "March 2027"),
    }


@pytest.fixture
async def council() -> AsyncIterator[Council]:
    site = Council(items=plan())
    async with serving(site.app()) as site.url:
        yield site
        site.never.set()


@pytest.fixture
def bot(tmp_path: Path, council: Council) -> Bot:
    bot = make_bot(sqlite_url(tmp_path), NOW, seed=True)
    source = ModernGovSource(
        name="harbourside", base_url=council.url, executive_committees=("Cabinet",)
    )
    bot.app.settings = bot.app.settings.with_overrides(moderngov=(source,))
    return bot


FAST = {"requests_per_second": 1000.0, "timeout_seconds": 2.0, "backoff_seconds": 0.0}


async def pull(bot: Bot, **options: Any):
    return await asyncio.to_thread(
        pull_sources, app=bot.app, force=True, fetcher_options={**FAST, **options}
    )


def decisions(bot: Bot) -> dict[str, Decision]:
    with bot.app.session() as session:
        return {
            d.ref: d
            for d in session.scalars(
                select(Decision).where(Decision.source == "moderngov:harbourside")
            )
        }


async def test_reads_the_forward_plan_and_the_executive_agenda(bot: Bot, council: Council):
    [result] = await pull(bot)
    assert result.ok, result.error
    found = decisions(bot)
    assert set(found) == {
        "HBC-2027-003",
        "HBC-2027-005",
        "HBC-2027-010",
        "HBC-2027-011",
        "AGENDA-5201-2",
    }
    housing = found["HBC-2027-003"]
    assert housing.decision_due == date(2027, 2, 11) and housing.key_decision
    assert housing.all_wards and housing.lead_officer_email == email("Imran Qureshi")
    assert housing.first_published == date(2026, 12, 1)
    assert found["HBC-2027-005"].decision_due == date(2027, 1, 26)  # "Not before 26th Jan"
    assert found["HBC-2027-005"].wards == ["Millbrook"] and not found["HBC-2027-005"].key_decision
    assert found["HBC-2027-010"].restriction == "Part exempt"
    assert found["HBC-2027-010"].exempt_paragraphs == ["3"]
    assert found["HBC-2027-011"].decision_due == date(2027, 3, 1)  # "March 2027"
    agenda = found["AGENDA-5201-2"]
    # Double-encoded in the XML, decoded once it arrives; the restricted item is exempt.
    assert agenda.title == "Temporary Accommodation & Homelessness Contract"
    assert agenda.restriction == "Part exempt" and agenda.decision_due == date(2027, 1, 14)
    assert not any("5202" in r for r in council.requests if "GetMeeting?" in r)

    with bot.app.session() as session:
        run_sweep_tick(app=bot.app, session=session)
    flags = {f["code"] for f in decisions(bot)["AGENDA-5201-2"].flags}
    assert "not_on_forward_plan" in flags
    with bot.app.session() as session:
        owed = {
            (b.member_email)
            for b in session.scalars(
                select(Briefing).join(Decision).where(Decision.ref == "HBC-2027-003")
            )
        }
    assert owed == {email("Sarah Whitlock"), email("Alan Brook")}


async def test_every_kind_of_change_lands_in_the_history(bot: Bot, council: Council):
    await pull(bot)
    bot.set(datetime(2027, 1, 6, 10, tzinfo=UTC))
    council.items["9003"]["due"] = "28 Jan 2027 by Cabinet"  # brought forward
    council.items["9005"]["due"] = "Not before 2nd Feb 2027 by Cabinet Member"  # moved later
    council.items["9005"]["title"] = "Millbrook Park Play Area Renewal"  # title changed
    council.items["9010"]["restriction"] = "Open"  # restriction changed
    council.items["9010"]["kind"] = "Non-key"  # key-decision flag changed
    council.items["9011"]["status"] = "Withdrawn"
    council.items["9012"] = item("HBC-2027-099", "A New Item", "25 Mar 2027 by Cabinet")
    [result] = await pull(bot)
    assert result.ok and result.changes["created"] == 1
    with bot.app.session() as session:
        changes = {
            (d.ref, c.field, c.old_value, c.new_value)
            for c, d in session.execute(select(DecisionChange, Decision).join(Decision))
        }
    assert ("HBC-2027-003", "decision_due", "2027-02-11", "2027-01-28") in changes
    assert ("HBC-2027-005", "decision_due", "2027-01-26", "2027-02-02") in changes
    assert (
        "HBC-2027-005",
        "title",
        "Millbrook Park Play Area Refurbishment",
        "Millbrook Park Play Area Renewal",
    ) in changes
    assert ("HBC-2027-010", "restriction", "Part exempt", "Open") in changes
    assert ("HBC-2027-010", "key_decision", "Y", "N") in changes
    assert ("HBC-2027-011", "status", "For Determination", "Withdrawn") in changes
    # The agenda item now matches nothing new, and item 9010 disappearing is recorded too.
    del council.items["9010"]
    [result] = await pull(bot)
    assert result.changes["disappeared"] == 1
    assert decisions(bot)["HBC-2027-010"].missing_since is not None


async def test_a_changed_title_reopens_an_acknowledged_briefing(bot: Bot, council: Council):
    await pull(bot)
    with bot.app.session() as session:
        run_sweep_tick(app=bot.app, session=session)
    holder = bot.briefing("HBC-2027-003", email("Sarah Whitlock"))
    with bot.app.session() as session:
        row = session.get(Briefing, holder.id)
        row.state = BriefingState.ACKNOWLEDGED
        row.briefed_at = row.acknowledged_at = NOW
    bot.set(datetime(2027, 1, 7, 10, tzinfo=UTC))
    council.items["9003"]["title"] = "Housing Allocations Policy (revised)"
    await pull(bot)
    with bot.app.session() as session:
        run_sweep_tick(app=bot.app, session=session)
    reopened = bot.get(holder.id)
    assert (
        reopened.state == BriefingState.OPEN
        and reopened.changed_since_briefed == "the title changed"
    )


async def test_html_refused_while_the_xml_works_keeps_the_last_good_data(bot, council):
    await pull(bot)
    before = {ref: d.content_hash for ref, d in decisions(bot).items()}
    council.html_forbidden = True
    council.items["9003"]["title"] = "Should not arrive"
    [result] = await pull(bot)
    assert not result.ok
    assert "mgListPlans.aspx" in result.error and "HTTP 403" in result.error
    assert {ref: d.content_hash for ref, d in decisions(bot).items()} == before
    with bot.app.session() as session:
        [(name, since)] = stale_sources(session)
    assert name == "moderngov:harbourside" and since == NOW
    body = await asyncio.to_thread(health, bot.app)
    assert body["status"] == "degraded" and body["stale_sources"][0]["name"] == name
    council.html_forbidden = False
    assert (await pull(bot))[0].ok
    with bot.app.session() as session:
        assert stale_sources(session) == []


@pytest.mark.parametrize(
    ("problem", "page", "words"),
    [
        ("hang", "mgListPlans.aspx", "timed out"),
        ("broken_meeting", "GetMeeting?lMeetingId=5201", "not well-formed XML"),
        ("label_less", "mgIssueHistoryHome.aspx?IId=9005", "has no 'Decision due' label"),
    ],
)
async def test_failures_name_the_page_and_import_nothing(bot, council, problem, page, words):
    if problem == "label_less":
        council.label_less = "9005"
    else:
        setattr(council, problem, True)
    [result] = await pull(bot, timeout_seconds=0.2, retries=0)
    assert not result.ok and page in result.error and words in result.error
    with bot.app.session() as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(Decision)
                .where(Decision.source == "moderngov:harbourside")
            )
            == 0
        )


async def test_requests_are_paced_without_sleeping_for_real(council: Council):
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    async with aiohttp.ClientSession() as session:
        fetcher = Fetcher(session, requests_per_second=2.0, sleep=fake_sleep)
        records = await read_source(
            base_url=council.url,
            executive_committees=("Cabinet",),
            fetcher=fetcher,
            today=date(2027, 1, 5),
        )
    assert len(records) == 5
    assert len(waits) >= len(council.requests) - 1
    assert all(0 < w <= 0.5 for w in waits)


def test_decision_due_forms():
    assert decision_due("6 Feb 2027 by Executive", "p") == (date(2027, 2, 6), False)
    assert decision_due("Not before 2nd Nov 2027 by Portfolio Holder", "p") == (
        date(2027, 11, 2),
        True,
    )
    assert decision_due("March 2027", "p") == (date(2027, 3, 1), False)
    with pytest.raises(SourceError, match="could not be read"):
        decision_due("sometime soon", "page.aspx")
    with pytest.raises(SourceError, match="'6 Feb 2207' is outside 1990-2100"):
        decision_due("6 Feb 2207", "page.aspx")
    assert clean_text("Depot\x00 &amp;amp; Yard") == "Depot & Yard"


async def test_the_command_line_pulls_with_progress(bot, council, tmp_path, monkeypatch, capsys):
    config = tmp_path / "config.toml"
    config.write_text(
        f'[[sources.moderngov]]\nname = "harbourside"\nbase_url = "{council.url}"\n'
        'executive_committees = ["Cabinet"]\nrequests_per_second = 1000\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("NOSURPRISES_DATABASE_URL", str(bot.app.engine.url))
    monkeypatch.setenv("NOSURPRISES_NOW", "2027-01-05T09:30")
    code = await asyncio.to_thread(cli, ["--config", str(config), "import", "moderngov", "--json"])
    assert code == 0
    captured = capsys.readouterr()
    [result] = json.loads(captured.out)
    assert result["ok"] and result["items"] == 5
    assert "forward plan item 4 of 4" in captured.err


async def test_the_sweep_tick_pulls_sources_first_and_respects_the_interval(bot, council):
    from bot.ticks import sweep_tick

    source = bot.app.settings.moderngov[0]
    fast = ModernGovSource(
        name=source.name,
        base_url=source.base_url,
        executive_committees=source.executive_committees,
        requests_per_second=1000.0,
        interval_minutes=60,
    )
    bot.app.settings = bot.app.settings.with_overrides(moderngov=(fast,))
    report = await sweep_tick(bot.hub)
    assert report is not None and "HBC-2027-003" in decisions(bot)
    assert any(a.ref == "HBC-2027-003" for a in report.sweep.actions)
    fetched = len(council.requests)
    await sweep_tick(bot.hub)  # within the hour: not fetched again
    assert len(council.requests) == fetched
    bot.clock.advance(timedelta(minutes=61))
    await sweep_tick(bot.hub)
    assert len(council.requests) > fetched


async def test_status_json_and_healthz_carry_each_sources_last_good_pull(
    bot, council, tmp_path, monkeypatch, capsys
):
    await pull(bot)
    bot.set(datetime(2027, 1, 6, 10, tzinfo=UTC))
    council.html_forbidden = True
    await pull(bot)
    expected = {
        "name": "moderngov:harbourside",
        "last_good_pull": NOW.isoformat(),
        "last_attempt": datetime(2027, 1, 6, 10, tzinfo=UTC).isoformat(),
        "stale": True,
        "stale_since": datetime(2027, 1, 6, 10, tzinfo=UTC).isoformat(),
    }
    body = await asyncio.to_thread(health, bot.app)
    [source] = body["sources"]
    assert {k: source[k] for k in expected} == expected
    assert "refused automated requests" in str(source["error"])

    config = tmp_path / "config.toml"
    config.write_text(
        f'[[sources.moderngov]]\nname = "harbourside"\nbase_url = "{council.url}"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("NOSURPRISES_DATABASE_URL", str(bot.app.engine.url))
    monkeypatch.setenv("NOSURPRISES_NOW", "2027-01-06T10:30")
    code = await asyncio.to_thread(cli, ["--config", str(config), "status", "--json"])
    assert code == 0
    [source] = json.loads(capsys.readouterr().out)["sources"]
    assert {k: source[k] for k in expected} == expected

    council.html_forbidden = False
    await pull(bot)
    [source] = (await asyncio.to_thread(health, bot.app))["sources"]
    assert source["stale"] is False and source["stale_since"] is None


async def test_a_councils_own_procedural_wording_is_ignored_too(bot: Bot, council: Council):
    source = replace(bot.app.settings.moderngov[0], procedural_items=("Temporary Accommodation",))
    bot.app.settings = bot.app.settings.with_overrides(moderngov=(source,))
    [result] = await pull(bot)
    assert result.ok and "AGENDA-5201-2" not in decisions(bot)


def test_moderngov_settings_are_read_and_checked(tmp_path: Path):
    from bot.config import ConfigError, load_settings

    config = tmp_path / "config.toml"
    config.write_text(
        '[[sources.moderngov]]\nname = "n"\nbase_url = "https://x.example"\n'
        'contact = "ds@x.example"\nprocedural_items = ["reports of scrutiny"]\n'
        '[sources.moderngov.portfolios]\n"Ann Able" = "Housing"\n',
        encoding="utf-8",
    )
    [source] = load_settings(str(config), environ={}).moderngov
    assert source.contact == "ds@x.example"
    assert source.procedural_items == ("reports of scrutiny",)
    assert source.portfolios == {"Ann Able": "Housing"}
    config.write_text(
        '[[sources.moderngov]]\nname = "n"\nbase_url = "https://x.example"\n'
        "procedural_items = [1]\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"sources\.moderngov\[0\]\.procedural_items"):
        load_settings(str(config), environ={})


async def test_a_page_in_a_wrong_charset_is_read_not_fatal():
    async def page(_request: web.Request) -> web.Response:
        return web.Response(
            body="Café £5".encode("latin-1"), headers={"Content-Type": "text/html; charset=nope"}
        )

    app = web.Application()
    app.router.add_get("/p", page)
    async with serving(app) as url, aiohttp.ClientSession() as session:
        text = await Fetcher(session, requests_per_second=1000.0).get(f"{url}/p")
    assert text == "Caf\ufffd \ufffd5"
