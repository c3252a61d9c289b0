"""The demo run twice, on Slack and Teams: after a restart on the same database (a new process,
the same workspace), nothing already sent is sent again, a message posted before the restart
still acts (log it, then the member acknowledges), a second press changes nothing, and the
dashboard shows what is still waiting. The console's own run-twice test is test_demo_twice.py."""

from __future__ import annotations

import json
from typing import Any

import test_slack
import test_teams
from livebot import email
from slack_mock import home_opened_body, post, signed, view_submission_body
from sqlalchemy import select
from teams_mock import message, submit
from test_slack import Harness, message_of, press
from test_teams import LOCAL, Rig, actions_for, install, mock, replies_to, serve  # noqa: F401 - mock: fixture

from bot.store.models import Briefing, Decision, PostedCard
from bot.ticks import deliver_tick
from bot.views.cards import ActionKind

REF = "HBC-2027-009"  # Owen Brady briefs Cllr Helen Marsh on it
OWEN, HELEN = email("Owen Brady"), email("Helen Marsh")


async def stop(h: Harness) -> None:
    await h.http.close()
    await h._runner.cleanup()  # type: ignore[attr-defined]


async def test_slack_after_a_restart_nothing_is_posted_twice_and_old_messages_still_act(tmp_path):
    first = await test_slack.harness(tmp_path)
    await deliver_tick(first.bot.hub)
    helen = first.bot.briefing(REF, HELEN)
    channel, ts = message_of(first, OWEN, helen.id)
    posted = len(first.mock.called("chat.postMessage"))
    await stop(first)

    h = await test_slack.harness(tmp_path, mock=first.mock)  # the restart: sweep on start
    try:
        await deliver_tick(h.bot.hub)
        assert len(h.mock.called("chat.postMessage")) == posted  # nothing posted twice

        # Owen's message from before the restart: log the briefing from it.
        await press(h, OWEN, channel, ts, ActionKind.LOG_BRIEFING, briefing_id=helen.id)
        [opened] = h.mock.called("views.open")
        form = view_submission_body(h.uid(OWEN), opened.params["view"], {"how": "call"})
        assert (await h.send(form))[0] == 200
        assert h.bot.get(helen.id).state == "briefed"
        assert any(c.params["ts"] == ts for c in h.mock.called("chat.update"))

        # Helen acknowledges; a second press of the same button changes nothing.
        await deliver_tick(h.bot.hub)  # her request (the running server's loop would send it)
        helen_channel, helen_ts = message_of(h, HELEN, helen.id)
        await press(h, HELEN, helen_channel, helen_ts, ActionKind.ACKNOWLEDGE, times=2)
        assert h.bot.get(helen.id).state == "acknowledged"
        assert len(h.bot.events(action="acknowledge", outcome="done")) == 1

        # App Home shows what still waits on Owen, with its buttons.
        home = home_opened_body(h.uid(OWEN), "Ev-restart")
        status, _ = await post(h.http, h.url, home, signed(home, content_type="application/json"))
        assert status == 200
        [published] = h.mock.called("views.publish")
        shown = json.dumps(published.params["view"]["blocks"])
        assert "Your briefings" in shown and "ns:log_briefing" in shown
    finally:
        await stop(h)
        await h.mock.stop()


def card_sent(rig: Rig, member: test_teams.Member, posted: PostedCard) -> dict[str, Any]:
    [call] = [
        c
        for c in rig.mock.of("send", member.personal_conversation)
        if c.answered_id == posted.message_id
    ]
    return call.cards[0]


def posted_card(rig: Rig, who: str, briefing_id: int) -> PostedCard:
    with rig.app.session() as session:
        found = session.scalars(
            select(PostedCard).where(
                PostedCard.platform == "teams",
                PostedCard.recipient_email == who,
                PostedCard.briefing_id == briefing_id,
            )
        ).first()
    assert found is not None
    return found


def action(card: dict[str, Any], title: str, briefing_id: int) -> dict[str, Any]:
    return next(a for a in actions_for(card, briefing_id) if a["title"] == title)


async def test_teams_after_a_restart_nothing_is_sent_twice_and_old_cards_still_act(tmp_path, mock):  # noqa: F811
    owen_member, helen_member = test_teams.OWEN, test_teams.HELEN
    async for rig in serve(test_teams.open_app(tmp_path, LOCAL), mock):
        await install(rig, owen_member)
        await install(rig, helen_member)
        await deliver_tick(rig.hub)
        with rig.app.session() as session:
            briefing = session.scalars(
                select(Briefing)
                .join(Decision, Decision.id == Briefing.decision_id)  # type: ignore[arg-type]
                .where(Decision.ref == REF, Briefing.member_email == HELEN)
            ).one()
        owens = posted_card(rig, OWEN, briefing.id)
        sent = len(mock.of("send"))

    # The restart: the same database (seeded and swept again on start), the same Teams.
    async for rig in serve(test_teams.open_app(tmp_path, LOCAL), mock):
        await deliver_tick(rig.hub)
        assert len(mock.of("send")) == sent  # nothing sent twice

        card = card_sent(rig, owen_member, owens)
        form = action(card, "I've briefed them", briefing.id)["card"]
        how = next(i["id"] for i in form["body"] if i["id"].endswith("_how"))
        logged = submit(
            owen_member, {**form["actions"][0]["data"], how: "call"}, owens.message_id, mock.url
        )
        assert (await rig.post(logged)).status == 201
        assert rig.briefing(briefing.id).state == "briefed"
        assert any(u.activity_id == owens.message_id for u in mock.of("update"))

        await deliver_tick(rig.hub)  # Helen's request (the running server's loop would send it)
        helens = posted_card(rig, HELEN, briefing.id)
        ack = action(card_sent(rig, helen_member, helens), "Acknowledge", briefing.id)["data"]
        for _ in range(2):
            pressed = submit(helen_member, ack, helens.message_id, mock.url)
            assert (await rig.post(pressed)).status == 201
        assert rig.briefing(briefing.id).state == "acknowledged"
        [said] = replies_to(rig, pressed)
        assert "already" in said.text

        # `home` in the chat shows what still waits on Owen.
        ask = message(owen_member, "home", mock.url)
        assert (await rig.post(ask)).status == 201
        shown = " ".join(r.text for r in replies_to(rig, ask))
        assert "Your briefings" in shown and "I've briefed them" in shown
