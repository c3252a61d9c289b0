"""Heads-ups: the pure rules (reading `/headsup …`, choosing who is told), and the whole
story through the console: given, delivered, acknowledged, audited, in `/surprises`, masked
for exempt items. Slack and Teams are in test_headsups_chat.py."""

from __future__ import annotations

import pytest
from livebot import (
    EMMA,
    EXEMPT_REF,
    EXEMPT_TITLE,
    HELEN,
    IMRAN,
    MARGARET,
    OWEN,
    SARAH,
    SIMON,
    TOM,
    email,
    local,
    make_bot,
    sqlite_url,
)
from sqlalchemy import select
from test_console import blocks, button, run_console

from bot.config import CouncilSettings, Settings
from bot.headsups.rules import (
    About,
    BadHeadsUp,
    Channel,
    Reason,
    for_decision,
    for_portfolio,
    for_ward,
    parse,
)
from bot.store.models import HeadsUp, HeadsUpRecipient
from bot.views.commands import answer

REF = "HBC-2027-005"  # Millbrook Park Play Area: Helen's portfolio, Millbrook ward, Owen leads
TITLE = "Millbrook Park Play Area Refurbishment"
SAID = "We will announce the new play area on Friday"


@pytest.mark.parametrize(
    ("text", "about", "subject", "channel", "message"),
    [
        (
            f"/headsup {REF.lower()} press release: {SAID}",
            About.DECISION,
            REF,
            Channel.PRESS_RELEASE,
            SAID,
        ),
        (
            "headsup ward Castle Hill ward newsletter: Road works",
            About.WARD,
            "Castle Hill",
            Channel.NEWSLETTER,
            "Road works",
        ),
        (
            "portfolio Housing social media:  a  post ",
            About.PORTFOLIO,
            "Housing",
            Channel.SOCIAL_MEDIA,
            "a post",
        ),
        (f"{REF} question at council: Why?", About.DECISION, REF, Channel.COUNCIL_QUESTION, "Why?"),
        (f"{REF}: no channel named", About.DECISION, REF, Channel.OTHER, "no channel named"),
    ],
)
def test_parse_reads_what_and_about_what(text, about, subject, channel, message):
    request = parse(text)
    assert (request.about, request.subject, request.channel, request.message) == (
        about,
        subject,
        channel,
        message,
    )


@pytest.mark.parametrize(
    "text", ["", f"{REF} press release", "ward newsletter: x", "two words: x", f"{REF}:  "]
)
def test_parse_refuses_what_it_cannot_read(text):
    with pytest.raises(BadHeadsUp):
        parse(text)


def test_recipients_follow_the_rules(tmp_path):
    bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 26, 9, 30))
    decision = bot.decision(REF)
    with bot.app.session() as session:
        directory = bot.app.directory(session)
    chosen = for_decision(decision, directory, sender=EMMA, communications=[TOM, "x@nowhere.org"])
    assert [(r.email, r.reason) for r in chosen] == [
        (HELEN, Reason.PORTFOLIO_HOLDER),
        (OWEN, Reason.LEAD_OFFICER),
        (SIMON, Reason.DIRECTOR),
        (TOM, Reason.COMMUNICATIONS),  # the stranger to the directory is left out
    ]
    assert [r.email for r in for_decision(decision, directory, sender=OWEN, communications=[])] == [
        HELEN,
        EMMA,
        SIMON,
    ]
    assert [r.email for r in for_ward("millbrook", directory, sender=OWEN, communications=[])] == [
        EMMA,
        HELEN,
    ]
    housing = for_portfolio("Housing", directory, sender=IMRAN, communications=[])
    assert [(r.email, r.reason) for r in housing] == [
        (SARAH, Reason.PORTFOLIO_HOLDER),
        (email("Aisha Rahman"), Reason.DIRECTOR),
    ]


def comms_settings() -> Settings:
    return Settings(council=CouncilSettings(communications=(TOM,)))


async def test_a_heads_up_through_the_console(tmp_path):
    bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 26, 9, 30), settings=comms_settings())
    out = await run_console(
        bot,
        [
            "as Emma Doyle",
            f"/headsup {REF} ward newsletter: {SAID}",
            "as Helen Marsh",
            lambda out: f"click {button(out, 'To Cllr Helen Marsh', SAID, 'Acknowledge')}",
            lambda out: f"click {button(out, 'To Cllr Helen Marsh', SAID, 'Acknowledge')}",
            "as Owen Brady",
            lambda out: f"click {button(out, 'To Cllr Helen Marsh', SAID, 'Acknowledge')}",
            "/surprises",
            "as Alan Brook",
            "/surprises",
        ],
    )
    [(_, sent)] = [(h, b) for h, b in blocks(out) if "Reply to Cllr Emma Doyle" in h]
    assert "Heads-up sent" in sent and "4 told of a ward newsletter" in sent
    assert "Cllr Helen Marsh (the portfolio holder)" in sent
    assert "Tom Ellery (the communications team)" in sent
    for who in ("To Cllr Helen Marsh", "To Owen Brady", "To Simon Reeve", "To Tom Ellery"):
        [(_, card)] = [(h, b) for h, b in blocks(out) if who in h and SAID in b]
        assert f"Heads-up: a ward newsletter about {REF} {TITLE}" in card
        assert "From Cllr Emma Doyle, Tue 26 Jan." in card
    assert "Thank you: Cllr Emma Doyle will see that you have acknowledged" in out
    assert "You had already acknowledged this heads-up." in out
    assert "Sorry, this heads-up was sent to someone else, so nothing was changed." in out
    assert "You acknowledged this on Tue 26 Jan." in out
    # Owen was told; Alan (the leader) sees every heads-up; both see the count.
    assert out.count("Heads-ups in the last 14 days") == 2
    assert out.count(f"Cllr Emma Doyle: a ward newsletter about {REF} {TITLE} — 1 of 4") == 2

    with bot.app.session() as session:
        [headsup] = session.scalars(select(HeadsUp)).all()
        rows = {r.email: r for r in session.scalars(select(HeadsUpRecipient))}
    assert (headsup.sender_email, headsup.channel, headsup.platform) == (
        EMMA,
        "newsletter",
        "console",
    )
    assert rows[HELEN].acknowledged_at is not None and rows[OWEN].acknowledged_at is None
    [given] = bot.events(action="headsup")
    assert (given.actor_email, given.decision_ref) == (EMMA, REF)
    acks = bot.events(action="headsup_acknowledged")
    assert [(e.actor_email, e.outcome) for e in acks] == [(HELEN, "done"), (OWEN, "refused")]


async def test_mistakes_change_nothing(tmp_path):
    bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 26, 9, 30))
    out = await run_console(
        bot,
        [
            "as Emma Doyle",
            "/headsup",
            "/surprises help",
            "/headsup ward Atlantis newsletter: hello",
            "/headsup portfolio Space press release: hello",
            "/headsup HBC-1999-999 press release: hello",
            f"/headsup {EXEMPT_REF} press release: hello",  # exempt: Emma is not entitled
            "/headsup what is this",
            f"/headsup {REF} press release: {'x' * 1501}",
            "as Helen Marsh",
            "/headsup ward Millbrook: only me and Emma",
        ],
    )
    assert "`/headsup HBC-2027-003 press release: what you will say` — about a decision" in out
    assert "tell the right people before you say or publish something (`/headsup help`)" in out
    assert "No ward called Atlantis in the council's directory, so nothing was sent." in out
    assert "No portfolio called Space in the council's directory, so nothing was sent." in out
    assert "No item HBC-1999-999 that you can see, so nothing was sent." in out
    assert f"No item {EXEMPT_REF} that you can see, so nothing was sent." in out
    assert "Sorry, I could not read that heads-up, so nothing was sent." in out
    assert "That heads-up is 1,501 characters long, so nothing was sent" in out
    [refused] = bot.events(action="headsup", outcome="refused")
    assert (refused.actor_email, refused.decision_ref) == (EMMA, EXEMPT_REF)
    assert "Heads-up sent" in out  # Helen's: Emma is the ward's other councillor
    with bot.app.session() as session:
        assert len(session.scalars(select(HeadsUp)).all()) == 1
    assert EXEMPT_TITLE not in out


async def test_an_exempt_item_is_masked_for_those_not_entitled(tmp_path):
    bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 26, 9, 30), settings=comms_settings())
    out = await run_console(
        bot,
        [
            "as Imran Qureshi",
            f"/headsup {EXEMPT_REF} press release: The contract goes to Acme Housing Ltd",
            "as Tom Ellery",
            "/surprises",
            "as Margaret Hollis",
            "/surprises",
        ],
    )
    tom = [b for h, b in blocks(out) if "To Tom Ellery" in h and "Heads-up" in b]
    assert tom and all(EXEMPT_TITLE not in b and "Acme" not in b for b in tom)
    assert "Exempt item (paragraph 3)" in tom[0]
    assert "shown only to people entitled to see this exempt item" in tom[0]
    entitled = [b for h, b in blocks(out) if "To Cllr Sarah Whitlock" in h and "Heads-up" in b]
    assert entitled and "Acme Housing Ltd" in entitled[0] and EXEMPT_TITLE in entitled[0]
    tom_status = next(b for h, b in blocks(out) if "Reply to Tom Ellery" in h)
    assert "Exempt item (paragraph 3)" in tom_status and EXEMPT_TITLE not in tom_status
    margaret = next(b for h, b in blocks(out) if "Reply to Margaret Hollis" in h)
    assert EXEMPT_TITLE in margaret  # entitled, and in a direct message
    # Outside a direct message even the chief executive sees only the label.
    with bot.app.session() as session:
        [card] = answer(app=bot.app, session=session, text="", actor_email=MARGARET, direct=False)
    headsup_lines = [line for line in card.lines if "press release" in line]
    assert headsup_lines and all(EXEMPT_TITLE not in line for line in headsup_lines)
