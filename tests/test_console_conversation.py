"""Issue 14 in the console, end to end through the console adapter on a pinned clock: inputs as
key=value (a time, a method, an officer by name), the messages an action causes shown at once
without a tick, and `home` as the dashboard Slack's App Home and the Teams tab show."""

from __future__ import annotations

from livebot import EMMA, HELEN, OWEN, email, local, make_bot, sqlite_url
from sqlalchemy import select
from test_console import blocks, button, run_console

from bot.delivery.ports import MessageKind
from bot.store.models import Nudge, NudgeStatus
from bot.views.numbers import read_number

START = local(2027, 1, 26, 9, 30)  # Tue, working hours
REF, TITLE = "HBC-2027-005", "Millbrook Park Play Area Refurbishment"
RACHEL = email("Rachel Pym")
ABOUT_HELEN = "Cllr Helen Marsh"  # her row on Owen's card about the item
BRIEFED = "I've briefed them"


def briefing_of(number: int) -> int:
    found = read_number(number)
    assert found is not None
    return found[1]


async def test_console_inputs_are_key_value_and_a_reassign_takes_only_an_allowed_officer(
    tmp_path,
):
    bot = make_bot(sqlite_url(tmp_path), START)
    shown: list[int] = []

    def reassign(to: str) -> object:
        def line(out: str) -> str:
            shown.append(button(out, "To Owen Brady", ABOUT_HELEN, "Reassign"))
            return f'click {shown[-1]} "to={to}" "why=She leads on the play areas now"'

        return line

    out = await run_console(
        bot,
        ["sweep", "deliver", "as Owen Brady", reassign("Cllr Helen Marsh"), reassign("Rachel Pym")],
    )
    # Each button says which values it takes, as key=value.
    assert "I've briefed them (when, how, note=…)" in out
    assert "Reassign (to, why=…)" in out
    briefing = briefing_of(shown[0])
    assert shown[0] == shown[1]  # the same button, still the same number
    # The member is no officer: refused, nothing changed; then a named officer takes it.
    assert "Please name an officer in the directory (email or full name)." in out
    assert "Reassigned to Rachel Pym, who has been told." in out
    assert bot.get(briefing).briefer_email == RACHEL
    assert [e.outcome for e in bot.events(action="reassign", briefing_id=briefing)] == ["done"]
    # Rachel hears at once (no tick): the hand-over reaches her in the same turn.
    [(_, told)] = [(h, b) for h, b in blocks(out) if "To Rachel Pym" in h and "Owen Brady" in b]
    assert "She leads on the play areas now" in told


async def test_console_the_members_request_is_shown_at_once_under_a_pinned_clock(tmp_path):
    bot = make_bot(sqlite_url(tmp_path), START)
    out = await run_console(
        bot,
        [
            "sweep",
            "deliver",
            "as Owen Brady",
            lambda out: f"click {button(out, 'To Owen Brady', ABOUT_HELEN, BRIEFED)} how=call",
        ],
    )
    clicked = out.rindex("> click")
    after = [h for h, _ in blocks(out[clicked:])]
    # Straight after the click, before any other command: Owen's copy, then Helen's request.
    assert any("To Cllr Helen Marsh" in h for h in after)
    assert bot.now() == START  # the clock never moved
    with bot.app.session() as session:
        requests = session.scalars(
            select(Nudge).where(
                Nudge.recipient_email == HELEN, Nudge.kind == MessageKind.ACK_REQUEST
            )
        ).all()
    assert requests and {n.status for n in requests} == {NudgeStatus.SENT}


async def test_console_home_is_the_dashboard_with_headsups_and_its_buttons_act(tmp_path):
    bot = make_bot(sqlite_url(tmp_path), START)
    said = "We will announce the new play area on Friday"
    home_of_owen: list[str] = []

    def acknowledge_from_home(out: str) -> str:
        home = out[out.rindex("> home") :]
        home_of_owen.append(home)
        return f"click {button(home, 'Home for Owen Brady', said, 'Acknowledge')}"

    out = await run_console(
        bot,
        [
            "sweep",
            "deliver",
            "as Emma Doyle",
            f"/headsup {REF} ward newsletter: {said}",
            "as Owen Brady",
            "home",
            acknowledge_from_home,
        ],
    )
    [home] = home_of_owen
    headings = [h for h, _ in blocks(home)]
    assert headings and all("Home for Owen Brady" in h for h in headings)
    # The cards waiting on him (his briefings, with buttons), the heads-up to acknowledge,
    # then `/surprises mine` with the heads-ups of the last 14 days.
    bodies = [b for _, b in blocks(home)]
    assert any(ABOUT_HELEN in b and "I've briefed them" in b for b in bodies)
    assert any(said in b and "Acknowledge" in b for b in bodies)
    assert any("Your briefings" in b for b in bodies)
    assert any("Heads-ups in the last 14 days" in b for b in bodies)
    assert "will see that you have acknowledged" in out[out.rindex("> click") :]
    acks = bot.events(action="headsup_acknowledged")
    assert [(e.actor_email, e.outcome, e.platform) for e in acks] == [(OWEN, "done", "console")]
    assert EMMA in {e.actor_email for e in bot.events(action="headsup")}
