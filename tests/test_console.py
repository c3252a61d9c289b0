"""The console adapter driving the whole story, and `/surprises` for every kind of viewer,
with exempt details masked from everyone not entitled and from anything outside a DM."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import Callable
from datetime import date

import pytest
from livebot import (
    ALAN,
    EMMA,
    EXEMPT_REF,
    EXEMPT_TITLE,
    HELEN,
    IMRAN,
    MARGARET,
    OWEN,
    SIMON,
    STRANGER,
    Bot,
    card_text,
    from_template,
    local,
    make_bot,
    reimport_directory,
    sqlite_url,
)

from adapters.console import ConsoleAdapter
from bot.clock import RealClock
from bot.delivery.hub import Hub
from bot.intake.records import PersonRecord
from bot.service import handle_command
from bot.views.cards import ActionKind

REF = "HBC-2027-005"
TITLE = "Millbrook Park Play Area Refurbishment"
EXEMPT_SUMMARY = "To award a 12-month temporary accommodation contract"
BRIEFED = "I've briefed them"

Line = str | Callable[[str], str]


def blocks(out: str) -> list[tuple[str, str]]:
    """The console's messages as (heading, body) pairs, in order."""
    found: list[tuple[str, str]] = []
    for chunk in re.split(r"^(?=── )", out, flags=re.MULTILINE)[1:]:
        heading, _, body = chunk.partition("\n")
        found.append((heading, body))
    return found


def button(out: str, heading: str, text: str, label: str) -> int:
    """The number of the newest button `label` on a message to `heading` mentioning `text`,
    the first such button after `text` (a member's row on an officer's card of several)."""
    for head, body in reversed(blocks(out)):
        if heading in head and text in body:
            match = re.compile(r"\[(\d+)\] " + re.escape(label)).search(body, body.index(text))
            if match:
                return int(match.group(1))
    raise AssertionError(f"no {label!r} button on a message to {heading} about {text}")


class Script:
    """A console's standard input: lines, some worked out from what has been printed."""

    def __init__(self, out: io.StringIO, lines: list[Line]) -> None:
        self.out = out
        self.lines = list(lines)

    def __call__(self) -> str:
        if not self.lines:
            return ""  # end of input
        line = self.lines.pop(0)
        text = line(self.out.getvalue()) if callable(line) else line
        return text + "\n"


async def run_console(bot: Bot, lines: list[Line]) -> str:
    out = io.StringIO()
    hub = Hub(bot.app)
    console = ConsoleAdapter(hub, out=out, read_line=Script(out, lines))
    hub.register(console)
    await console.greet()
    stop = asyncio.Event()
    await asyncio.wait_for(console.run(stop), timeout=60)
    assert stop.is_set()
    return out.getvalue()


def count(out: str, heading: str, *texts: str) -> int:
    return sum(1 for h, b in blocks(out) if heading in h and all(t in b for t in texts))


async def test_the_whole_story_through_the_console(tmp_path):
    bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 4, 7, 0))
    out = await run_console(
        bot,
        [
            "now 2027-01-05 09:30",
            "tick 3d",  # Wed, Thu, Fri mornings: the reminder comes on Fri 8 Jan
            "as Owen Brady",
            lambda out: (
                f"click {button(out, 'To Owen Brady', 'Cllr Helen Marsh', BRIEFED)}"
                ' how=meeting when=2027-01-08T09:15 "note=On site at Millbrook Park"'
            ),
            "as Helen Marsh",
            lambda out: f"click {button(out, 'To Cllr Helen Marsh', TITLE, 'Acknowledge')}",
            f"/surprises {REF}",
            "now 2027-01-12 09:05",
            "tick 1d",
            "tick 1d",
            "tick 5d",
        ],
    )
    assert out.startswith("No Surprises console. It is Mon 4 Jan 2027 07:00.")
    heading_owen = "To Owen Brady <owen.brady@harbourside.example.gov.uk>"
    # First prompt and reminder: one card each listing both members, each with their buttons.
    for step in ("Member briefings are coming up", "Reminder: member briefings are due soon"):
        assert count(out, heading_owen, step) == 1
        assert count(out, heading_owen, step, "Cllr Helen Marsh", "Cllr Emma Doyle") == 1
    # Due today: Emma's still waits; the same card shows Helen's acknowledged.
    assert count(out, heading_owen, "Due today") == 1
    assert count(out, heading_owen, "Due today", "Status: Acknowledged") == 1
    assert "Thank you. Cllr Helen Marsh has been asked to acknowledge the briefing." in out
    assert count(out, "To Cllr Helen Marsh", "Owen Brady has logged that they briefed you") == 1
    assert "Thank you for acknowledging the briefing." in out
    assert count(out, "Updated for Owen Brady", "Cllr Helen Marsh", "Status: Acknowledged") >= 1
    assert count(out, heading_owen, "Cllr Helen Marsh has acknowledged your briefing") == 1
    # Helen's /surprises shows her acknowledged briefing, green.
    assert "🟢 Cllr Helen Marsh ← Owen Brady: Acknowledged" in out
    # Emma's briefing, ignored, climbs the ladder one working morning at a time, once each.
    assert count(out, "To Simon Reeve", "Cllr Emma Doyle has not yet been briefed by Owen") == 1
    # The chief executive waits: "Not before 26 Jan" is not yet scheduled (issue 10, item 3).
    assert count(out, "To Margaret Hollis", "Cllr Emma Doyle has not yet been briefed by Owen") == 0
    due_today = out.index("Due today: member briefings\n")
    to_director = out.index("For your attention: a briefing in your directorate", due_today)
    assert to_director < out.index("It is Thu 14 Jan 2027 09:01.")
    helen = bot.briefing(REF, HELEN)
    emma = bot.briefing(REF, EMMA)
    assert helen.state == "acknowledged" and helen.briefed_how == "meeting"
    assert helen.briefing_note == "On site at Millbrook Park"
    steps = [e.reason for e in bot.events(action="escalation_step", briefing_id=emma.id)]
    assert steps == ["first_prompt", "reminder", "urgent_reminder", "director"]
    assert [e.platform for e in bot.events(action="acknowledge")] == ["console"]


async def test_a_briefing_already_past_its_due_day_is_headed_overdue_not_due_today(tmp_path):
    # Quayside's briefings fell due in December; first seen on Tue 26 Jan they are overdue.
    bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 26, 9, 30))
    out = await run_console(bot, ["tick 1m"])
    rachel = "To Rachel Pym"
    assert (
        count(out, rachel, "Overdue: member briefings", "Quayside", "Briefing due: Wed 30 Dec") >= 1
    )
    assert count(out, rachel, "Due today", "Quayside") == 0


async def test_console_commands_help_who_mistakes_and_the_real_clock(tmp_path):
    bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 5, 10, 0))
    out = await run_console(
        bot,
        [
            "help",
            "who",
            "as Nobody Atall",
            "click 7",
            "tick sideways",
            "frobnicate",
            "as owen.brady@harbourside.example.gov.uk",
            "who",
        ],
    )
    assert "click <n> [key=value …]" in out
    assert "You are Margaret Hollis <margaret.hollis@harbourside.example.gov.uk>." in out
    assert "Nobody in the directory matches 'Nobody Atall'." in out
    assert "Which button? `click <number>` using a number shown in [brackets]." in out
    assert "How far? For example `tick 30m`, `tick 4h` or `tick 2d`." in out
    assert "Sorry, I did not understand that. Type `help` for the commands." in out
    assert "You are Owen Brady <owen.brady@harbourside.example.gov.uk>. It is Tue 5 Jan" in out

    bot.app.clock = RealClock()
    out = await run_console(bot, ["now 2027-01-06 10:00", "tick 1d"])
    assert out.count("The clock is the real one here; start with --now to move time.") == 2


async def test_a_refused_click_in_the_console_says_why_and_changes_nothing(tmp_path):
    bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 4, 7, 0))
    out = await run_console(
        bot,
        [
            "now 2027-01-05 09:30",
            "as Emma Doyle",
            lambda out: (
                f"click {button(out, 'To Owen Brady', 'Cllr Helen Marsh', 'Not needed')}"
                " reason=mine"
            ),
        ],
    )
    assert "Sorry, only Owen Brady, or their manager or director, can update this briefing." in out
    assert bot.briefing(REF, HELEN).state == "open"
    [refused] = bot.events(outcome="refused")
    assert (refused.actor_email, refused.platform) == (EMMA, "console")


# --- /surprises -------------------------------------------------------------------------------

RAVI = "ravi.sandhu@harbourside.example.gov.uk"


async def _build_council(bot: Bot) -> None:
    reimport_directory(
        bot.app,
        add=[
            PersonRecord(
                email=RAVI,
                name="Ravi Sandhu",
                roles=("director", "officer"),
                job_title="Director of Housing Strategy",
                directorate="Communities",
                manager_email=MARGARET,
            )
        ],
    )
    await bot.working_mornings(date(2027, 1, 4), date(2027, 1, 5))
    helen = bot.briefing(REF, HELEN)
    bot.set(local(2027, 1, 5, 11, 0))
    assert (await bot.click(OWEN, ActionKind.LOG_BRIEFING, helen.id, {"how": "call"})).ok
    bot.set(local(2027, 1, 5, 12, 0))
    assert (await bot.click(HELEN, ActionKind.ACKNOWLEDGE, helen.id)).ok
    emma = bot.briefing(REF, EMMA)
    assert (await bot.click(SIMON, ActionKind.SNOOZE, emma.id, {"until": "1"})).ok
    await bot.working_mornings(date(2027, 1, 6), date(2027, 1, 11))
    bot.set(local(2027, 1, 11, 10, 0))


@pytest.fixture
async def council(tmp_path) -> Bot:
    """Mon 11 Jan 2027 10:00, a week into the sample council's January. Helen has been
    briefed (and acknowledged); Simon snoozed one of Owen's for him. Ravi Sandhu, a second
    director in Communities, may see the directorate's items but not exempt details."""
    bot, _ = await from_template(
        tmp_path, "console-council", local(2027, 1, 4, 8, 0), _build_council
    )
    return bot


async def ask(bot: Bot, who: str, text: str, *, direct: bool = True):
    reply = await handle_command(
        bot.hub, text=text, actor_email=who, platform="test", direct=direct
    )
    return reply.cards


def everything(cards) -> str:
    return "\n".join(card_text(c) for c in cards)


async def test_surprises_help_and_a_stranger(council: Bot):
    [card] = await ask(council, OWEN, "/surprises help")
    assert card.title == "No Surprises: what you can ask"
    assert any("/surprises mine" in line for line in card.lines)
    [card] = await ask(council, STRANGER, "/surprises")
    assert card.title == "You are not set up yet"
    [card] = await ask(council, STRANGER, f"/surprises {REF}")
    assert card.title == "You are not set up yet"


async def test_surprises_mine(council: Bot):
    [card] = await ask(council, OWEN, "/surprises mine")
    assert card.title == "Your briefings"
    text = card_text(card)
    assert f"*{REF}* {TITLE}: Cllr Emma Doyle ← Owen Brady" in text
    assert f"*{REF}* {TITLE}: Cllr Helen Marsh ← Owen Brady" in text
    assert "acknowledged" in text
    # Only Owen's own: nothing of Imran's housing items.
    assert "HBC-2027-003" not in text and EXEMPT_REF not in text
    [card] = await ask(council, HELEN, "mine")
    text = card_text(card)
    assert "Cllr Helen Marsh ← Owen Brady" in text and "Cllr Emma Doyle" not in text


async def test_surprises_ref_shows_the_item_and_its_timeline(council: Bot):
    [card] = await ask(council, MARGARET, f"/surprises {REF}")
    assert card.title == REF
    text = card_text(card)
    assert f"*{REF}* {TITLE}" in text
    assert "To approve design and procurement route for play area works" in text
    assert "🟢 Cllr Helen Marsh ← Owen Brady: Acknowledged" in text
    assert "Cllr Emma Doyle ← Owen Brady" in text
    assert {f.label: f.value for f in card.fields}["Portfolio"] == "Communities and Leisure"
    timeline = card.lines[card.lines.index("*Timeline*") + 1 :]
    # Sentences, with dates as people write them (issue 10, item 15).
    assert timeline[0] == "Mon 4 Jan 08:00 Added to the forward plan."
    assert "Tue 5 Jan 11:00 Owen Brady logged the briefing of Cllr Helen Marsh." in timeline
    assert "Tue 5 Jan 12:00 Cllr Helen Marsh acknowledged the briefing." in timeline
    assert (
        "Tue 5 Jan 12:00 Simon Reeve for Owen Brady snoozed the briefing of Cllr Emma Doyle."
        in timeline
    )
    assert "Tue 5 Jan 09:01 First prompt about the briefing of Cllr Helen Marsh." in timeline
    # Lower case works too, and an unknown reference is "not found".
    [again] = await ask(council, MARGARET, f"surprises {REF.lower()}")
    assert again.title == REF
    [card] = await ask(council, MARGARET, "/surprises HBC-1999-999")
    assert card.title == "Not found"


async def test_a_member_sees_only_their_own_part_of_an_item(council: Bot):
    [card] = await ask(council, EMMA, f"/surprises {REF}")
    text = card_text(card)
    assert "Cllr Emma Doyle ← Owen Brady" in text
    assert "Cllr Helen Marsh ← Owen Brady" not in text
    assert "acknowledge by Cllr Helen Marsh" not in text
    # An officer with no part in an item cannot look it up.
    [card] = await ask(council, OWEN, f"/surprises {EXEMPT_REF}")
    assert card.title == "Not found"
    assert EXEMPT_TITLE not in card_text(card)


async def test_surprises_days_and_portfolio_filters(council: Bot):
    [week] = await ask(council, MARGARET, "/surprises days 7")
    assert week.title == "What could still surprise a member in the next 7 days"
    text = card_text(week)
    assert "HBC-2027-002" in text and EXEMPT_REF in text
    assert REF not in text  # decided on 26 Jan, beyond the week
    [month] = await ask(council, MARGARET, "/surprises next 30")
    assert month.title == "What could still surprise a member in the next 30 days"
    assert REF in card_text(month)
    [housing] = await ask(council, MARGARET, "/surprises portfolio Housing days 60")
    assert housing.title == "What could still surprise a member in the next 60 days (Housing)"
    # At risk in Housing: only the exempt contract (overdue); the allocations review is not
    # yet due, and Regeneration's overdue HBC-2027-002 belongs to another portfolio.
    refs = set(re.findall(r"HBC-2027-\d{3}", card_text(housing)))
    assert refs == {EXEMPT_REF}
    assert housing.lines[0] == "🔴 Red 2  🟠 Amber 0  ⚪ Grey 2  🟢 Green 0"
    [nonsense] = await ask(council, MARGARET, "/surprises portfolio Knitting")
    assert nonsense.title == "Sorry" and "Knitting" in card_text(nonsense)


@pytest.mark.parametrize(
    "text", ["/surprises", "/surprises days 60", f"/surprises {EXEMPT_REF}", "/surprises mine"]
)
async def test_the_exempt_title_never_reaches_anyone_not_entitled(council: Bot, text):
    # Ravi may see Communities items, so he sees HBC-2027-004 exists, but not what it is.
    cards = await ask(council, RAVI, text)
    shown = everything(cards)
    assert EXEMPT_TITLE not in shown and EXEMPT_SUMMARY not in shown
    if text != "/surprises mine":
        assert f"*{EXEMPT_REF}* Exempt item (paragraph 3)" in shown


@pytest.mark.parametrize(
    "who", [MARGARET, IMRAN, ALAN, "sarah.whitlock@harbourside.example.gov.uk"]
)
@pytest.mark.parametrize("text", ["/surprises", f"/surprises {EXEMPT_REF}", "/surprises mine"])
async def test_outside_a_direct_message_nobody_sees_the_exempt_title(council: Bot, who, text):
    cards = await ask(council, who, text, direct=False)
    shown = everything(cards)
    assert EXEMPT_TITLE not in shown and EXEMPT_SUMMARY not in shown
    assert any("direct message" in c.footer for c in cards)


@pytest.mark.parametrize("who", [MARGARET, IMRAN, ALAN])
async def test_in_a_direct_message_the_entitled_see_the_exempt_title(council: Bot, who):
    [card] = await ask(council, who, f"/surprises {EXEMPT_REF}")
    assert f"*{EXEMPT_REF}* {EXEMPT_TITLE}" in card_text(card)
    [card] = await ask(council, who, "/surprises days 7")
    assert EXEMPT_TITLE in card_text(card)
