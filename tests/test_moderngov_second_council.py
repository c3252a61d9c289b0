"""A second council's site, laid out differently from the first (tables of th/td, "Decision:"
for the date, the title in the page title, several lead officers, "Recommendations Approved",
"Abandoned"), imported end to end through the real importer against a loopback server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from aiohttp import web
from livebot import Bot, email, make_bot, sqlite_url
from loopback import serving
from sqlalchemy import select

from bot.briefings.escalate import run_sweep_tick
from bot.config import ModernGovSource
from bot.decisions.facts import DecisionFacts
from bot.intake.moderngov_fetch import FIREWALL_REFUSAL
from bot.intake.sources import pull_sources
from bot.server import health
from bot.store.models import Briefing, Decision

NOW = datetime(2027, 1, 5, 9, 30, tzinfo=UTC)
SOURCE = "moderngov:eastmoor"
CONTACT = "democratic.services@eastmoor.example.gov.uk"

PAGE = """<html><head><title>Issue - items at meetings - {title} | Eastmoor City Council</title>
</head><body><div class="banner"><h1>Eastmoor City Council</h1></div>
<h2>Issue - items at meetings</h2>
<table class="mgDetailsTable">
 <tr><th>Reference</th><td>{ref}</td></tr>
 <tr><th>Summary</th><td>{summary}</td></tr>
 <tr><th>Decision</th><td>{due}</td></tr>
 <tr><th>Decision&nbsp;maker</th><td>Executive</td></tr>
 <tr><th>Portfolio holder</th><td>{member}</td></tr>
 <tr><th>Contact officer</th><td>{officer}</td></tr>
 <tr><th>Ward(s)</th><td>{wards}</td></tr>
 <tr><th>Key decision</th><td>{key}</td></tr>
 <tr><th>Anticipated restriction</th><td>{restriction}</td></tr>
 <tr><th>Exempt paragraphs</th><td>{paragraphs}</td></tr>
 <tr><th>Status</th><td>{status}</td></tr>
 <tr><th>First published</th><td>01/12/2026</td></tr>
</table>
<h2>Contact</h2><p>Democratic Services, Eastmoor City Council, Civic Centre.</p>
<h2>History</h2><p>Added to the plan.</p></body></html>"""

ITEMS = {
    "701": {
        "ref": "EM-701",
        "title": "Quayside Ferry Terminal and Slipway Acquisition",
        "summary": "To acquire the former ferry terminal for regeneration.",
        "due": "14 Jan 2027",
        "member": "Cllr Daniel Okafor",
        "officer": "Howard Anthony, Rachel Pym",
        "wards": "Quayside, Riverside",
        "key": "Yes",
        "restriction": "Part exempt",
        "paragraphs": "Paragraph 3",
        "status": "For Determination",
    },
    "702": {
        "ref": "EM-702",
        "title": "Parks &amp; Open Spaces Strategy",
        "summary": "A ten-year strategy for the city's parks.",
        "due": "11 Feb 2027",
        "member": "Cabinet Member for Communities and Leisure",
        "officer": "Owen Brady, Parks Manager",
        "wards": "All wards",
        "key": "No",
        "restriction": "Open",
        "paragraphs": "",
        "status": "Recommendations Approved",
    },
    "703": {
        "ref": "EM-703",
        "title": "Library Opening Hours",
        "summary": "Changes to opening hours at branch libraries.",
        "due": "March 2027",
        "member": "Cabinet Member for Communities and Leisure",
        "officer": "Owen Brady",
        "wards": "Millbrook",
        "key": "No",
        "restriction": "Open",
        "paragraphs": "",
        "status": "Abandoned",
    },
}


def agenda_item(number: int, title: str, extra: str = "") -> str:
    return (
        f"<agendaitem><agendaitemid>{number}</agendaitemid><agendaitemtitle>{title}"
        f"</agendaitemtitle>{extra}<isrestricted>False</isrestricted></agendaitem>"
    )


MEETING = (
    "<meeting><meetingid>901</meetingid><meetingdate>14/01/2027</meetingdate><agendaitems>"
    + agenda_item(1, "Apologies for Absence")
    + agenda_item(2, "Minutes of the previous meeting")
    + agenda_item(3, "Declarations of Interest")
    + agenda_item(4, "Leader&apos;s Announcements")
    # The plan's title with the council's name in front and "&" for "and": matched.
    + agenda_item(
        5, "Eastmoor City Council - Quayside Ferry Terminal &amp;amp; Slipway Acquisition"
    )
    # Worded differently, but it links to its plan item: matched.
    + agenda_item(
        6,
        "Green Spaces: the Strategy",
        "<agendatext>&lt;a href=&quot;ieIssueDetails.aspx?IId=702&quot;&gt;Plan entry&lt;/a&gt;"
        "</agendatext>",
    )
    # On no plan: it still knows its member, officer and ward.
    + agenda_item(
        7,
        "Beach Hut Licensing",
        "<agendatext>&lt;p&gt;Ward(s): Millbrook.&lt;/p&gt;</agendatext>"
        "<authorusername>Owen Brady</authorusername><commentlabel1>Presented By</commentlabel1>"
        "<commenttext1>Councillor Helen Marsh</commenttext1>",
    )
    + agenda_item(8, "Exclusion of the Press and Public")
    + "</agendaitems></meeting>"
)


@dataclass
class Eastmoor:
    firewall: bool = False
    url: str = ""
    agents: list[str] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/{page}", self.page)
        app.router.add_get("/mgWebService.asmx/{op}", self.xml)
        return app

    def _refused(self, request: web.Request) -> web.Response | None:
        self.agents.append(request.headers.get("User-Agent", ""))
        return web.Response(status=403, text="Request blocked") if self.firewall else None

    async def page(self, request: web.Request) -> web.Response:
        if refused := self._refused(request):
            return refused
        name = request.match_info["page"]
        if name == "mgListPlans.aspx":
            body = '<table><tr><td><a href="mgListPlanItems.aspx?RPId=5">Executive</a></td></tr>'
        elif name == "mgListPlanItems.aspx":
            body = "<table>" + "".join(
                f'<tr><td><a href="ieIssueDetails.aspx?IId={n}&amp;Opt=3">{i["title"]}</a>'
                f"</td><td>{i['due']}</td></tr>"
                for n, i in ITEMS.items()
            )
        elif name == "ieIssueDetails.aspx":
            body = PAGE.format(**ITEMS[request.query["IId"]])
        else:
            return web.Response(status=404)
        return web.Response(text=body, content_type="text/html")

    async def xml(self, request: web.Request) -> web.Response:
        if refused := self._refused(request):
            return refused
        op = request.match_info["op"]
        if op == "GetCommittees":
            body = (
                "<committees><committee><committeeid>5</committeeid><committeetitle>Executive"
                "</committeetitle></committee><committee><committeeid>6</committeeid>"
                "<committeetitle>Planning Committee</committeetitle></committee></committees>"
            )
        elif op == "GetMeetings":
            assert request.query["lCommitteeId"] == "5"
            body = (
                "<getmeetings><meeting><meetingid>901</meetingid><meetingdate>14/01/2027"
                "</meetingdate><meetingstatus>Confirmed</meetingstatus></meeting></getmeetings>"
            )
        elif op == "GetMeeting":
            body = MEETING
        else:
            return web.Response(status=404)
        return web.Response(text=body, content_type="text/xml")


@pytest.fixture
async def site() -> AsyncIterator[Eastmoor]:
    council = Eastmoor()
    async with serving(council.app()) as council.url:
        yield council


@pytest.fixture
def bot(tmp_path: Path, site: Eastmoor) -> Bot:
    bot = make_bot(sqlite_url(tmp_path), NOW, seed=True)
    source = ModernGovSource(
        name="eastmoor",
        base_url=site.url,
        executive_committees=("Executive",),
        requests_per_second=1000.0,
        contact=CONTACT,
    )
    settings = bot.app.settings
    bot.app.settings = settings.with_overrides(
        moderngov=(source,), council=replace(settings.council, name="Eastmoor City Council")
    )
    return bot


def stored(bot: Bot) -> dict[str, DecisionFacts]:
    with bot.app.session() as session:
        rows = session.scalars(select(Decision).where(Decision.source == SOURCE))
        return {row.ref: DecisionFacts.from_row(row) for row in rows}


async def pull(bot: Bot):
    return await asyncio.to_thread(
        pull_sources, app=bot.app, force=True, fetcher_options={"backoff_seconds": 0.0}
    )


def issue_url(site: Eastmoor, number: str) -> str:
    return f"{site.url}/ieIssueDetails.aspx?IId={number}&Opt=3"


async def test_a_second_councils_site_imports_every_field(bot: Bot, site: Eastmoor):
    [result] = await pull(bot)
    assert result.ok, result.error
    common = {"decision_maker": "Executive", "first_published": date(2026, 12, 1)}
    assert stored(bot) == {
        "EM-701": DecisionFacts(
            ref="EM-701",
            title="Quayside Ferry Terminal and Slipway Acquisition",
            decision_due=date(2027, 1, 14),
            summary="To acquire the former ferry terminal for regeneration.",
            portfolio="Cllr Daniel Okafor",
            portfolio_holder="Cllr Daniel Okafor",
            # The first officer named is not in the directory; the second briefs.
            lead_officer="Rachel Pym, Howard Anthony",
            lead_officer_email=email("Rachel Pym"),
            decision_due_text="14 Jan 2027",
            key_decision=True,
            wards=("Quayside", "Riverside"),
            restriction="Part exempt",
            exempt_paragraphs=("3",),
            source_url=issue_url(site, "701"),
            **common,  # type: ignore[arg-type]
        ),
        "EM-702": DecisionFacts(
            ref="EM-702",
            title="Parks & Open Spaces Strategy",
            decision_due=date(2027, 2, 11),
            summary="A ten-year strategy for the city's parks.",
            portfolio="Cabinet Member for Communities and Leisure",
            portfolio_holder="Cabinet Member for Communities and Leisure",
            lead_officer="Owen Brady",
            lead_officer_email=email("Owen Brady"),
            decision_due_text="11 Feb 2027",
            all_wards=True,
            status="Decision Made",
            source_url=issue_url(site, "702"),
            **common,  # type: ignore[arg-type]
        ),
        "EM-703": DecisionFacts(
            ref="EM-703",
            title="Library Opening Hours",
            decision_due=date(2027, 3, 1),
            summary="Changes to opening hours at branch libraries.",
            portfolio="Cabinet Member for Communities and Leisure",
            portfolio_holder="Cabinet Member for Communities and Leisure",
            lead_officer="Owen Brady",
            lead_officer_email=email("Owen Brady"),
            decision_due_text="March 2027",
            wards=("Millbrook",),
            status="Withdrawn",
            source_url=issue_url(site, "703"),
            **common,  # type: ignore[arg-type]
        ),
        "AGENDA-901-7": DecisionFacts(
            ref="AGENDA-901-7",
            title="Beach Hut Licensing",
            decision_due=date(2027, 1, 14),
            decision_maker="Executive",
            portfolio="Communities and Leisure",
            portfolio_holder="Councillor Helen Marsh",
            lead_officer="Owen Brady",
            lead_officer_email=email("Owen Brady"),
            decision_due_text="14 Jan 2027 by Executive",
            meeting_date=date(2027, 1, 14),
            wards=("Millbrook",),
            source_url=f"{site.url}/ieListDocuments.aspx?MId=901",
        ),
    }
    assert all(CONTACT in agent and "NoSurprises" in agent for agent in site.agents)

    with bot.app.session() as session:
        run_sweep_tick(app=bot.app, session=session)
        owed = {
            (ref, briefing.member_email, briefing.briefer_email)
            for briefing, ref in session.execute(
                select(Briefing, Decision.ref).join(Decision).where(Decision.source == SOURCE)
            )
        }
        flags = {
            ref: {flag["code"] for flag in flags}
            for ref, flags in session.execute(
                select(Decision.ref, Decision.flags).where(Decision.source == SOURCE)
            )
        }
    # The agenda item on no plan briefs its presenter's portfolio and its ward, flagged.
    assert ("AGENDA-901-7", email("Helen Marsh"), email("Owen Brady")) in owed
    assert ("AGENDA-901-7", email("Emma Doyle"), email("Owen Brady")) in owed
    assert "not_on_forward_plan" in flags["AGENDA-901-7"]
    assert ("EM-701", email("Daniel Okafor"), email("Rachel Pym")) in owed
    assert "not_on_forward_plan" not in flags["EM-701"]


async def test_a_firewall_refusal_is_named_and_the_last_good_data_kept(bot: Bot, site: Eastmoor):
    assert (await pull(bot))[0].ok
    before = stored(bot)
    site.firewall = True
    [result] = await pull(bot)
    assert not result.ok
    assert result.error == f"{site.url}/mgListPlans.aspx: {FIREWALL_REFUSAL}"
    assert "ask the council's web team to allow this server" in result.error
    assert stored(bot) == before
    body = await asyncio.to_thread(health, bot.app)
    [source] = [s for s in body["stale_sources"] if s["name"] == SOURCE]
    assert FIREWALL_REFUSAL in source["error"]
