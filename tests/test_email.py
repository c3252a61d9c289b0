"""Email end to end, with real parts: aiosmtpd on loopback (STARTTLS and a login) receives the
mail, the MIME is parsed, links are followed with a plain HTTP client against the bot's own
aiohttp server, and the Teams card is redrawn on the mock Bot Connector.

The sample council at Tue 26 Jan 2027 09:30 on a settable clock. Imran Qureshi (Head of Housing)
is on Teams; Cllr Sarah Whitlock, whom he must brief on HBC-2027-003, has no chat account at
all (nor has Tom Ellery, who must brief her on HBC-2027-010, exempt under paragraph 3).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
from email_rig import Inbox, Server, email_settings, serve_bot, smtp_server
from livebot import RecordingAdapter, from_template
from slack_mock import SIGNING_SECRET, MockSlack
from slack_mock import TOKEN as SLACK_TOKEN
from sqlalchemy import func, select, update
from teams_mock import Member, MockConnector, installation

from adapters.email.adapter import EmailAdapter
from adapters.slack.app import SlackAdapter
from adapters.slack.settings import SlackSettings
from adapters.teams.adapter import TeamsAdapter
from adapters.teams.connector import RetryPolicy
from adapters.teams.settings import TeamsSettings
from bot.app import App
from bot.delivery.channels import Choice, save_choice
from bot.delivery.ports import PostedRef, SendResult
from bot.links import LinkPurpose, LinkSigner
from bot.service import handle_action
from bot.store.models import AuditEvent, Briefing, Decision, DeliveryAttempt, Nudge, PostedCard
from bot.store.secrets import link_key, payload_key
from bot.ticks import deliver_tick, sweep_tick
from bot.timeutil import as_utc
from bot.views.cards import ActionKind, Card, PayloadSigner
from bot.views.email_phrases import LINK_ALTERED, LINK_EXPIRED

LONDON = ZoneInfo("Europe/London")
DOMAIN = "harbourside.example.gov.uk"
NOW = datetime(2027, 1, 26, 9, 30, tzinfo=LONDON)
IMRAN = Member("Imran Qureshi", f"imran.qureshi@{DOMAIN}", "aad-imran")
SARAH = f"sarah.whitlock@{DOMAIN}"
OWEN = f"owen.brady@{DOMAIN}"
AISHA = f"aisha.rahman@{DOMAIN}"  # Director of Communities, Imran's director
HOUSING = "HBC-2027-003"
EXEMPT = "HBC-2027-010"  # Part exempt, paragraph 3; Sarah is a Northgate ward councillor
EXEMPT_TITLE = "Disposal of Surplus Depot at Northgate"
TEAMS = TeamsSettings(enabled=True, allow_unauthenticated_local=True)
NOT_IN_SLACK = SendResult.not_found("slack", error_code="users_not_found")
VERSION_FIELD = re.compile(r'name="version" value="(\d+)"')


async def open_app(tmp_path: Any) -> App:
    """The sample council at NOW, swept once: built once per run, copied for each test."""

    async def sweep(bot: Any) -> None:
        await bot.sweep()

    bot, _ = await from_template(tmp_path, "email-swept", NOW, sweep)
    return bot.app


@pytest.fixture
def connector() -> Any:
    mock = MockConnector()
    mock.start_in_thread()
    mock.add(IMRAN)
    yield mock
    mock.stop_thread()


@pytest.fixture
async def inbox() -> AsyncIterator[Inbox]:
    async for found in smtp_server():
        yield found


@pytest.fixture
async def server(tmp_path: Any, inbox: Inbox, connector: MockConnector) -> AsyncIterator[Server]:
    def teams_first(hub: Any, web_app: Any) -> dict[str, Any]:
        teams = TeamsAdapter(
            hub,
            TEAMS,
            retry=RetryPolicy(attempts=2, base_seconds=0.0, cap_seconds=0.0, max_wait_seconds=1),
        )
        hub.register(teams)
        teams.mount(web_app)
        # Everyone but Sarah (and Imran, on Teams) is reachable in another chat: so only she
        # needs email, and the SMTP server sees only what the tests are about.
        hub.register(
            RecordingAdapter(
                "slack",
                behaviour=lambda person, card: NOT_IN_SLACK if person.email == SARAH else None,
            )
        )
        return {"teams": teams}

    app = await open_app(tmp_path)
    async for running in serve_bot(app, inbox, before_email=teams_first):
        async with running.http.post(
            f"{running.url}/api/messages", json=installation(IMRAN, connector.url)
        ) as response:
            assert response.status == 201
        yield running


def briefing(server: Server, ref: str, member: str) -> Briefing:
    with server.app.session() as session:
        found = session.scalar(
            select(Briefing)
            .join(Decision, Decision.id == Briefing.decision_id)  # type: ignore[arg-type]
            .where(Decision.ref == ref, Briefing.member_email == member)
        )
        assert found is not None
        return found


def snapshot(server: Server, briefing_id: int) -> dict[str, Any]:
    with server.app.session() as session:
        row = session.get(Briefing, briefing_id)
        assert row is not None
        return {c.name: getattr(row, c.name) for c in Briefing.__table__.columns}  # type: ignore[attr-defined]


def audit_count(server: Server) -> int:
    with server.app.session() as session:
        return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def teams_card(server: Server, briefing_id: int) -> PostedCard:
    with server.app.session() as session:
        found = session.scalar(
            select(PostedCard).where(
                PostedCard.briefing_id == briefing_id, PostedCard.platform == "teams"
            )
        )
        assert found is not None
        return found


async def log_in_chat(server: Server, ref: str, platform: str = "teams") -> Briefing:
    """The briefer logs their briefing of Sarah (from their chat card, where there is one);
    the request to acknowledge goes out."""
    await deliver_tick(server.hub)
    target = briefing(server, ref, SARAH)
    with server.app.session() as session:
        posted = session.scalar(
            select(PostedCard).where(
                PostedCard.briefing_id == target.id, PostedCard.platform == platform
            )
        )
        payload = PayloadSigner(payload_key(session)).sign(
            ActionKind.LOG_BRIEFING,
            target.id,  # type: ignore[arg-type]
            target.version,
        )
    source = None
    if posted is not None:
        source = PostedRef(platform, posted.channel, posted.message_id, target.briefer_email)
    reply = await handle_action(
        server.hub,
        payload=payload,
        actor_email=target.briefer_email,
        platform=platform,
        inputs={"how": "meeting"},
        source=source,
    )
    assert reply.ok and reply.changed, reply.message
    await deliver_tick(server.hub)
    return briefing(server, ref, SARAH)


def mail_about(inbox: Inbox, ref: str, to: str = SARAH) -> Any:
    found = [m for m in inbox.to(to) if ref in str(m.message["Subject"])]
    assert found, [m.message["Subject"] for m in inbox.mail]
    return found[-1]


# --- the story the issue asks for ---------------------------------------------------------------


async def test_a_member_with_no_chat_account_acknowledges_from_an_email_in_two_clicks(
    server: Server, inbox: Inbox, connector: MockConnector
) -> None:
    target = await log_in_chat(server, HOUSING)
    assert target.state == "briefed"
    # Imran's prompt came on Teams (never by email); Sarah, unknown to Teams, got an email.
    assert not inbox.to(IMRAN.email)
    assert set(inbox.logins) == {"nosurprises"}  # STARTTLS, then the login, for real
    mail = mail_about(inbox, HOUSING)
    assert "Imran Qureshi has logged that they briefed you" in mail.text
    with server.app.session() as session:
        nudge = session.scalar(
            select(Nudge).where(Nudge.briefing_id == target.id, Nudge.kind == "ack_request")
        )
        assert nudge is not None and nudge.platform == "email" and nudge.status == "sent"
        [attempt] = session.scalars(
            select(DeliveryAttempt).where(DeliveryAttempt.nudge_id == nudge.id)
        ).all()
    # The delivery log says which channel reached her, and which could not.
    assert (attempt.platform, attempt.outcome) == ("email", "delivered")
    assert attempt.detail == "not reachable on teams, slack"

    # Click one: open the link. A GET (as a link scanner would) changes nothing.
    link = mail.links()["Acknowledge"]
    before, events = snapshot(server, target.id), audit_count(server)  # type: ignore[arg-type]
    connector.clear()
    for _ in range(2):
        status, page = await server.get(link)
        assert status == 200
        assert "Confirm: Acknowledge" in page and "<script" not in page
    # A POST that is not the confirm form (no version drawn on the page) does nothing either.
    status, not_a_form = await server.post(link, {})
    assert status == 403 and "Please open this page from the link in your email" in not_a_form
    assert snapshot(server, target.id) == before  # type: ignore[arg-type]
    assert audit_count(server) == events
    assert not connector.of("update")

    # Click two: confirm. The core acts, audits it as email, and redraws Imran's Teams card.
    version = VERSION_FIELD.search(page)
    assert version is not None
    status, page = await server.post(link, {"version": version.group(1)})
    assert status == 200 and "Done" in page
    done = briefing(server, HOUSING, SARAH)
    assert done.state == "acknowledged"
    [event] = [
        e for e in server_events(server) if e.action == "acknowledge" and e.briefing_id == target.id
    ]
    assert (event.platform, event.actor_email) == ("email", SARAH)
    posted = teams_card(server, target.id)  # type: ignore[arg-type]
    [update] = connector.of("update", IMRAN.personal_conversation)
    assert update.activity_id == posted.message_id
    [card] = update.cards
    # Imran's one card about the item: Sarah's row is now green, acknowledged.
    [row] = [
        b
        for b in card["body"]
        if b["type"] == "Container" and "Cllr Sarah Whitlock" in b["items"][0]["text"]
    ]
    assert row["items"][0]["text"].startswith("🟢")
    assert "acknowledged" in update.text.lower()

    # The same link again: nothing to do, nothing changes.
    events = audit_count(server)
    status, page = await server.post(link, {"version": version.group(1)})
    assert "already" in page.lower() or "nothing to confirm" in page.lower()
    assert briefing(server, HOUSING, SARAH).version == done.version


def server_events(server: Server) -> list[AuditEvent]:
    with server.app.session() as session:
        return list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))


# --- what the email is --------------------------------------------------------------------------


async def test_the_email_is_multipart_threaded_per_decision_with_a_calendar_hold(
    server: Server, inbox: Inbox
) -> None:
    target = await log_in_chat(server, HOUSING)
    mail = mail_about(inbox, HOUSING)
    message = mail.message
    assert message.get_content_type() == "multipart/mixed"
    assert [p.get_content_type() for p in message.walk()][1:] == [
        "multipart/alternative",
        "text/plain",
        "text/html",
        "text/calendar",
    ]
    assert 'href="http://127.0.0.1' in mail.html and "Acknowledge</a>" in mail.html
    # The private addresses in the footer wrap instead of widening the mail (seen in a screenshot).
    assert "overflow-wrap:anywhere" in mail.html
    assert message["From"] == "No Surprises <no-surprises@harbourside.example.gov.uk>"
    assert message["To"] == f"Cllr Sarah Whitlock <{SARAH}>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["List-Unsubscribe"].startswith("<http://127.0.0.1")
    assert "/email/preferences/" in message["List-Unsubscribe"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert b"Content-Transfer-Encoding: 8bit" not in mail.raw  # no server needs 8BITMIME
    # On the wire as a plain address a mail client can use, not an encoded word.
    assert re.search(
        rb"\r\nList-Unsubscribe: <http://127\.0\.0\.1:\d+/email/preferences/", mail.raw
    )
    root = message["In-Reply-To"]
    assert root == message["References"] and root != message["Message-ID"]

    # The calendar hold: the briefing deadline and the decision date.
    calendar = icalendar.Calendar.from_ical(mail.part("text/calendar").get_content())
    events = {str(e["summary"]): e for e in calendar.walk("VEVENT")}
    due = events["Member briefing due: Housing Allocations Policy Review"]
    assert due.decoded("dtend") == target.due_at
    day = events["Decision: Housing Allocations Policy Review"]
    assert day.decoded("dtstart") == datetime(2027, 2, 11).date()

    # A reminder about the same decision joins the same thread.
    server.app.clock.set(server.app.now() + timedelta(days=3))  # type: ignore[attr-defined]
    card = server.hub.renderer  # the hub draws; the email adapter sends
    with server.app.session() as session:
        b = session.get(Briefing, target.id)
        d = session.get(Decision, b.decision_id)  # type: ignore[union-attr]
        drawn = card(session).briefing_card(b, d, viewer=SARAH, kind="member_reminder")  # type: ignore[arg-type]
        person = server.app.directory(session).person(SARAH)
    assert person is not None
    await server.email.send(person, drawn)
    again = mail_about(inbox, HOUSING)
    assert again.message["Message-ID"] != message["Message-ID"]
    assert again.message["In-Reply-To"] == root


async def test_an_exempt_item_reaches_only_its_member_and_calendars_show_only_the_label(
    server: Server, inbox: Inbox
) -> None:
    await log_in_chat(server, EXEMPT)
    mail = mail_about(inbox, EXEMPT)
    assert EXEMPT_TITLE in mail.text  # she is entitled, in a message to her alone
    assert "please do not forward" in mail.text
    assert EXEMPT_TITLE not in str(mail.message["Subject"])
    ics = mail.part("text/calendar").get_content()
    assert EXEMPT_TITLE not in ics
    summaries = {str(e["summary"]) for e in icalendar.Calendar.from_ical(ics).walk("VEVENT")}
    assert "Member briefing due: Exempt item (paragraph 3)" in summaries


# --- the confirm page ---------------------------------------------------------------------------


async def test_the_confirm_page_has_the_chat_modal_inputs_and_posting_them_logs_the_briefing(
    server: Server, inbox: Inbox
) -> None:
    # Imran's officer prompts go by email too when the council lists email first for him.
    target = briefing(server, HOUSING, SARAH)
    with server.app.session() as session:
        b = session.get(Briefing, target.id)
        d = session.get(Decision, b.decision_id)  # type: ignore[union-attr]
        drawn = server.hub.renderer(session).briefing_card(b, d, viewer=IMRAN.email)  # type: ignore[arg-type]
        person = server.app.directory(session).person(IMRAN.email)
    assert person is not None
    result = await server.email.send(person, drawn)
    assert result.outcome == "delivered"
    mail = mail_about(inbox, HOUSING, to=IMRAN.email)
    link = mail.links()["I've briefed them"]
    status, page = await server.get(link)
    assert status == 200
    # Labelled controls, in the order of the chat modal: when, how (a choice), note.
    assert (
        page.index('for="f-when"')
        < page.index("<legend>How?</legend>")
        < page.index('for="f-note"')
    )
    assert '<input type="radio" name="how" value="meeting" required>' in page
    assert '<textarea id="f-note" name="note"' in page
    # The browser's own date and time picker, starting at now in the council's time.
    assert '<input type="datetime-local" id="f-when" name="when" value="2027-01-26T09:30"' in page
    assert 'method="post"' in page and "<script" not in page
    # The picker starts at now; the hint says so in words, with no ISO date to copy.
    assert "Set to now; change it if you briefed them earlier." in page
    assert "e.g. 2027" not in page
    version = VERSION_FIELD.search(page)
    assert version is not None
    # A "how" the core does not know is refused with the form shown again; nothing changes.
    before = snapshot(server, target.id)  # type: ignore[arg-type]
    status, page = await server.post(link, {"version": version.group(1), "how": "pigeon"})
    assert "Confirm: I&#x27;ve briefed them" in page and "Done" not in page
    assert snapshot(server, target.id) == before  # type: ignore[arg-type]
    status, page = await server.post(
        link,
        {
            "version": version.group(1),
            "how": "call",
            "note": "Went through the policy",
            "when": "2027-01-25T15:20",  # what a datetime-local picker posts
        },
    )
    assert status == 200 and "Done" in page
    logged = briefing(server, HOUSING, SARAH)
    assert (logged.state, logged.briefed_how) == ("briefed", "call")
    assert as_utc(logged.briefed_at) == datetime(2027, 1, 25, 15, 20, tzinfo=LONDON)
    assert logged.briefing_note == "Went through the policy"
    [event] = [e for e in server_events(server) if e.action == "log_briefing"]
    assert (event.platform, event.actor_email) == ("email", IMRAN.email)


async def test_the_reassign_page_offers_only_the_officers_the_rules_allow(
    server: Server, inbox: Inbox
) -> None:
    target = briefing(server, HOUSING, SARAH)
    with server.app.session() as session:
        b = session.get(Briefing, target.id)
        d = session.get(Decision, b.decision_id)  # type: ignore[union-attr]
        drawn = server.hub.renderer(session).briefing_card(b, d, viewer=IMRAN.email)  # type: ignore[arg-type]
        directory = server.app.directory(session)
    person = directory.person(IMRAN.email)
    assert person is not None
    await server.email.send(person, drawn)
    link = mail_about(inbox, HOUSING, to=IMRAN.email).links()["Reassign"]
    status, page = await server.get(link)
    assert status == 200
    offered = set(re.findall(r'<option value="([^"]+)">', page))
    officers = {p.email for p in directory.people.values() if p.has("officer")}
    assert offered == officers - {target.briefer_email, target.member_email}
    chosen = sorted(offered)[0]
    assert f'<option value="{chosen}">{directory.people[chosen].name}</option>' in page
    version = VERSION_FIELD.search(page)
    assert version is not None
    status, page = await server.post(link, {"version": version.group(1), "to": chosen})
    assert status == 200 and "Done" in page
    assert briefing(server, HOUSING, SARAH).briefer_email == chosen


# --- links that must be refused -----------------------------------------------------------------


async def _sarahs_link(server: Server, inbox: Inbox) -> tuple[str, Briefing]:
    target = await log_in_chat(server, HOUSING)
    return mail_about(inbox, HOUSING).links()["Acknowledge"], target


async def test_an_altered_link_is_refused_and_changes_nothing(server: Server, inbox: Inbox) -> None:
    link, target = await _sarahs_link(server, inbox)
    token = link.rsplit("/", 1)[1]
    body, sig = token.split(".")
    # Swap her briefing for another in the signed body: the signature no longer matches.
    altered = (
        f"{link.rsplit('/', 1)[0]}/{body[:-2]}{'A' if body[-2] != 'A' else 'B'}{body[-1]}.{sig}"
    )
    before = snapshot(server, target.id)  # type: ignore[arg-type]
    for method in (server.get, lambda url: server.post(url, {"version": str(target.version)})):
        status, page = await method(altered)  # type: ignore[operator]
        assert status == 403
        assert LINK_ALTERED.replace("'", "&#x27;") in page
    assert snapshot(server, target.id) == before  # type: ignore[arg-type]
    refused = [e for e in server_events(server) if e.action == "link"]
    assert [(e.outcome, e.reason, e.platform) for e in refused] == [("refused", "altered", "email")]


async def test_an_expired_link_is_refused_and_changes_nothing(server: Server, inbox: Inbox) -> None:
    link, target = await _sarahs_link(server, inbox)
    server.app.clock.set(server.app.now() + timedelta(days=15))  # type: ignore[attr-defined]
    before = snapshot(server, target.id)  # type: ignore[arg-type]
    status, page = await server.get(link)
    assert status == 410 and "this link has expired" in page
    status, page = await server.post(link, {"version": str(target.version)})
    assert status == 410 and LINK_EXPIRED.split(",")[0] in page
    assert snapshot(server, target.id) == before  # type: ignore[arg-type]


async def test_another_persons_link_cannot_act_for_them(server: Server, inbox: Inbox) -> None:
    _link, target = await _sarahs_link(server, inbox)
    # A genuine, signed link made out to Owen, carrying Sarah's Acknowledge button.
    token = _token(server, OWEN, ActionKind.ACKNOWLEDGE, target)
    link = f"{server.url}/email/act/{token}"
    before = snapshot(server, target.id)  # type: ignore[arg-type]
    status, page = await server.get(link)
    assert status == 403 and "sent to someone else" in page
    status, page = await server.post(link, {"version": str(target.version)})
    assert status == 403
    assert snapshot(server, target.id) == before  # type: ignore[arg-type]
    [refusal] = [e for e in server_events(server) if e.outcome == "refused"]
    assert (refusal.actor_email, refusal.platform, refusal.reason) == (
        OWEN,
        "email",
        "not the member",
    )


async def test_a_director_may_answer_for_their_officer_and_is_told_when_it_is_done(
    server: Server, inbox: Inbox
) -> None:
    target = briefing(server, HOUSING, SARAH)
    link = f"{server.url}/email/act/{_token(server, AISHA, ActionKind.LOG_BRIEFING, target)}"
    status, page = await server.get(link)
    assert status == 200 and "Confirm: I&#x27;ve briefed them" in page
    await log_in_chat(server, HOUSING)
    status, page = await server.get(link)
    assert status == 200 and "nothing to confirm here any more" in page
    assert "sent to someone else" not in page


def _token(server: Server, email: str, kind: ActionKind, target: Briefing) -> str:
    with server.app.session() as session:
        button = PayloadSigner(payload_key(session)).sign(kind, target.id, target.version)  # type: ignore[arg-type]
        return LinkSigner(link_key(session)).make(
            purpose=LinkPurpose.ACT,
            email=email,
            payload=button,
            expires=server.app.now() + timedelta(days=1),
        )


# --- the calendar feed --------------------------------------------------------------------------


async def test_each_person_has_a_private_calendar_feed_a_calendar_client_can_read(
    server: Server, inbox: Inbox
) -> None:
    await log_in_chat(server, HOUSING)
    mail = mail_about(inbox, HOUSING)
    [feed] = re.findall(r"(http://\S+/calendar/\S+\.ics)", mail.text)
    async with server.http.get(feed) as response:
        assert response.status == 200
        assert response.content_type == "text/calendar"
        body = await response.read()
    calendar = icalendar.Calendar.from_ical(body)
    summaries = sorted(str(e["summary"]) for e in calendar.walk("VEVENT"))
    # Her open briefings: the housing review (briefed) and the exempt disposal (still open).
    assert "Member briefing due: Housing Allocations Policy Review" in summaries
    assert "Member briefing due: Exempt item (paragraph 3)" in summaries
    assert EXEMPT_TITLE.encode() not in body
    assert all("Millbrook" not in s for s in summaries)  # nobody else's
    status, _text = await server.get(feed.replace(".ics", "x.ics"))
    assert status == 404


# --- preferences ---------------------------------------------------------------------------------


async def test_one_click_unsubscribe_stops_email_and_is_audited(
    server: Server, inbox: Inbox
) -> None:
    await log_in_chat(server, HOUSING)
    mail = mail_about(inbox, HOUSING)
    preferences = mail.message["List-Unsubscribe"].strip("<>")
    status, page = await server.get(preferences)
    assert status == 200 and "Do not email me" in page
    status, page = await server.post(preferences, {"List-Unsubscribe": "One-Click"})
    assert status == 200 and "no longer receive emails" in page
    [event] = [e for e in server_events(server) if e.action == "channel_choice"]
    assert (event.actor_email, event.details["email_off"]) == (SARAH, True)
    # The exempt item's request now has no way to reach her, and says so.
    count = len(inbox.mail)
    await log_in_chat(server, EXEMPT)
    assert len(inbox.mail) == count
    with server.app.session() as session:
        nudge = session.scalars(
            select(Nudge).where(Nudge.recipient_email == SARAH).order_by(Nudge.id.desc())  # type: ignore[union-attr]
        ).first()
    assert nudge is not None and nudge.status == "unreachable"


# --- the same two clicks redraw the Slack card ---------------------------------------------------


@pytest.fixture
async def slack_server(tmp_path: Any, inbox: Inbox) -> AsyncIterator[tuple[Server, MockSlack]]:
    mock = MockSlack()
    await mock.start()
    app = await open_app(tmp_path)
    with app.session() as session:
        for index, person in enumerate(sorted(app.directory(session).people)):
            if person != SARAH:  # she is not in the Slack workspace
                mock.users[person] = f"U{index:04d}"

    def slack_first(hub: Any, web_app: Any) -> dict[str, Any]:
        settings = SlackSettings(
            enabled=True,
            bot_token=SLACK_TOKEN,
            signing_secret=SIGNING_SECRET,
            api_url=f"{mock.url}/api/",
        )
        slack = SlackAdapter(hub, settings)
        hub.register(slack)
        slack.mount(web_app)
        return {"slack": slack}

    async for running in serve_bot(app, inbox, before_email=slack_first):
        yield running, mock
    await mock.stop()


async def test_acknowledging_from_an_email_redraws_the_officers_slack_card(
    slack_server: tuple[Server, MockSlack], inbox: Inbox
) -> None:
    server, mock = slack_server
    await deliver_tick(server.hub)
    target = briefing(server, HOUSING, SARAH)
    with server.app.session() as session:
        posted = session.scalar(
            select(PostedCard).where(
                PostedCard.briefing_id == target.id, PostedCard.platform == "slack"
            )
        )
    assert posted is not None and posted.recipient_email == IMRAN.email
    await log_in_chat(server, HOUSING, "slack")
    link = mail_about(inbox, HOUSING).links()["Acknowledge"]
    updates_before = len(mock.called("chat.update"))
    status, page = await server.get(link)
    assert status == 200 and len(mock.called("chat.update")) == updates_before
    version = VERSION_FIELD.search(page)
    assert version is not None
    status, page = await server.post(link, {"version": version.group(1)})
    assert status == 200 and "Done" in page
    redrawn = [
        c
        for c in mock.called("chat.update")[updates_before:]
        if (c.params["channel"], c.params["ts"]) == (posted.channel, posted.message_id)
    ]
    assert len(redrawn) == 1
    # Imran's one card about the item: Sarah's row is now green, acknowledged.
    blocks = json.dumps(redrawn[0].params["blocks"], ensure_ascii=False)
    assert "🟢 *Cllr Sarah Whitlock*" in blocks and "Acknowledged" in blocks
    assert briefing(server, HOUSING, SARAH).state == "acknowledged"


async def test_the_preferences_page_keeps_her_choices_and_refuses_an_altered_link(
    server: Server, inbox: Inbox
) -> None:
    await log_in_chat(server, HOUSING)
    preferences = mail_about(inbox, HOUSING).message["List-Unsubscribe"].strip("<>")
    status, page = await server.post(preferences, {"digest_by_email": "1"})
    assert status == 200 and "your choices are saved" in page
    assert 'name="digest_by_email" value="1" checked' in page
    assert 'name="email_off" value="1">' in page  # not ticked
    [event] = [e for e in server_events(server) if e.action == "channel_choice"]
    assert event.details == {"email_off": False, "digest_by_email": True}
    # Saving the same again records nothing new.
    await server.post(preferences, {"digest_by_email": "1"})
    assert len([e for e in server_events(server) if e.action == "channel_choice"]) == 1
    altered = preferences[:-3] + ("x" if preferences[-3] != "x" else "y") + preferences[-2:]
    status, page = await server.post(altered, {"email_off": "1"})
    assert status == 403 and "altered" in page
    refused = [e for e in server_events(server) if e.action == "channel_choice"][-1]
    assert (refused.outcome, refused.reason) == ("refused", "altered")
    status, page = await server.get(preferences)
    assert 'name="email_off" value="1">' in page  # unchanged by the altered link


async def test_an_address_the_mail_server_refuses_is_unreachable_and_logged(
    server: Server, inbox: Inbox
) -> None:
    inbox.refuse.add(SARAH)
    target = await log_in_chat(server, HOUSING)
    assert not inbox.to(SARAH)
    with server.app.session() as session:
        nudge = session.scalar(
            select(Nudge).where(Nudge.briefing_id == target.id, Nudge.kind == "ack_request")
        )
        assert nudge is not None and nudge.status == "unreachable"
        [attempt] = session.scalars(
            select(DeliveryAttempt).where(DeliveryAttempt.nudge_id == nudge.id)
        ).all()
    assert (attempt.platform, attempt.error_code, attempt.detail) == (
        "email",
        "recipient_refused",
        "550",
    )


# --- SMTP: implicit TLS, and a refused login -----------------------------------------------------


def _adapter_for(server: Server, inbox: Inbox, **changes: Any) -> EmailAdapter:
    return EmailAdapter(
        server.hub,
        email_settings(inbox, server.url, **changes),
        tls_context=inbox.client_tls,
    )


def _helen(server: Server) -> Any:
    with server.app.session() as session:
        return server.app.directory(session).person(f"helen.marsh@{DOMAIN}")


# aiosmtpd cannot tell that an implicit-TLS connection is encrypted, and says so.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_implicit_tls_sends_too(server: Server) -> None:
    async for implicit in smtp_server(implicit_tls=True):
        adapter = _adapter_for(server, implicit, security="tls")
        result = await adapter.send(_helen(server), Card(title="Reminder"))
        assert result.outcome == "delivered"
        [mail] = implicit.mail
        assert implicit.logins == ["nosurprises"] and "Reminder" in mail.text


async def test_a_refused_login_is_a_failure_that_never_shows_the_password(
    server: Server, inbox: Inbox
) -> None:
    adapter = _adapter_for(server, inbox, password="wrong-password-123")
    result = await adapter.send(_helen(server), Card(title="Reminder"))
    assert (result.outcome, result.error_code) == ("failed", "smtp_auth")
    assert "wrong-password-123" not in repr(result) and not inbox.mail


async def test_a_confirm_form_drawn_before_a_change_is_refused_and_shows_where_it_stands(
    server: Server, inbox: Inbox
) -> None:
    target = await log_in_chat(server, HOUSING)
    link = mail_about(inbox, HOUSING).links()["Acknowledge"]
    status, page = await server.get(link)
    assert status == 200
    drawn = VERSION_FIELD.search(page)
    assert drawn is not None and int(drawn.group(1)) == target.version
    with server.app.session() as session:  # the briefing changes while the page is open
        session.execute(
            update(Briefing).where(Briefing.id == target.id).values(version=target.version + 1)  # type: ignore[arg-type]
        )
    status, page = await server.post(link, {"version": drawn.group(1)})
    assert status == 200 and "out of date" in page and "Done" not in page
    assert briefing(server, HOUSING, SARAH).state == "briefed"
    redrawn = VERSION_FIELD.search(page)
    assert redrawn is not None and int(redrawn.group(1)) == target.version + 1
    status, page = await server.post(link, {"version": redrawn.group(1)})
    assert (
        status == 200
        and "Done" in page
        and briefing(server, HOUSING, SARAH).state == "acknowledged"
    )


async def test_a_heads_up_is_acknowledged_from_an_email(server: Server, inbox: Inbox) -> None:
    from bot.service import handle_headsup
    from bot.store.models import HeadsUpRecipient

    said = "The allocations scheme goes to the press on Friday"
    given = await handle_headsup(
        server.hub,
        text=f"{HOUSING} press release: {said}",
        actor_email=IMRAN.email,
        platform="teams",
    )
    assert "Heads-up sent" in given.cards[0].title
    await deliver_tick(server.hub)
    [mail] = [m for m in inbox.to(SARAH) if said in m.text]
    link = mail.links()["Acknowledge"]
    status, page = await server.get(link)
    assert status == 200 and "Confirm: Acknowledge" in page and said in page
    version = VERSION_FIELD.search(page)
    assert version is not None
    status, page = await server.post(link, {"version": version.group(1)})
    assert status == 200 and "Done" in page
    with server.app.session() as session:
        row = session.scalar(select(HeadsUpRecipient).where(HeadsUpRecipient.email == SARAH))
        assert row is not None and row.acknowledged_at is not None
    [event] = [e for e in server_events(server) if e.action == "headsup_acknowledged"]
    assert (event.platform, event.actor_email, event.outcome) == ("email", SARAH, "done")


# --- a member's morning digest by email ---------------------------------------------------------


async def test_a_member_who_asked_gets_a_morning_digest_by_email_once(
    server: Server, inbox: Inbox
) -> None:
    await log_in_chat(server, HOUSING)  # Sarah now has a briefing to acknowledge
    preferences = mail_about(inbox, HOUSING).message["List-Unsubscribe"].strip("<>")
    status, _ = await server.post(preferences, {"digest_by_email": "1"})
    assert status == 200
    with server.app.session() as session:
        members = set(session.scalars(select(Briefing.member_email)))
        # Another member, reached in chat, asks too: the digest still comes by email.
        other = sorted(members - {SARAH})[0]
        save_choice(session, other, Choice(digest_by_email=True), now=server.app.now())
        nobody_asked = members - {SARAH, other}
    assert nobody_asked
    await sweep_tick(server.hub)
    await sweep_tick(server.hub)  # a second sweep the same morning queues nothing more
    await deliver_tick(server.hub)

    [digest] = [m for m in inbox.to(SARAH) if "Good morning" in str(m.message["Subject"])]
    assert f"{HOUSING}" in digest.text
    assert "Imran Qureshi has briefed you; please acknowledge it" in digest.text
    # HBC-2027-004 was due on Wed 30 Dec and is late: it says so, in the past tense.
    assert "Imran Qureshi was due to brief you by Wed 30 Dec" in digest.text
    with server.app.session() as session:
        sent = session.scalars(select(Nudge).where(Nudge.kind == "member_digest")).all()
    assert {(n.recipient_email, n.platform, n.status) for n in sent} <= {
        (SARAH, "email", "sent"),
        (other, "email", "sent"),
    }
    assert {n.recipient_email for n in sent} == {SARAH, other}
    assert [m for m in inbox.to(other) if "Good morning" in str(m.message["Subject"])]
