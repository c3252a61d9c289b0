"""The README's demo works on a fresh database and again on the same one: a console button's
number names one action on one briefing, however often it is redrawn and across restarts."""

from __future__ import annotations

import re
from pathlib import Path

from livebot import SARAH, local, make_bot, sqlite_url
from test_console import run_console

from bot.views.cards import ActionKind
from bot.views.numbers import number_for, read_number

README = Path(__file__).resolve().parent.parent / "README.md"
# The demo as the README gives it (checked below), after the ticks `make run` runs on start.
DEMO = [
    "sweep",
    "deliver",
    "as imran",
    'click 901 how=call note="By phone"',
    "as whitlock",
    "click 905",
    "as rachel",
    "home",
    "click 701 how=meeting",
]


def test_numbers_name_one_action_on_one_target():
    assert number_for(ActionKind.LOG_BRIEFING, 9) == 901
    assert number_for(ActionKind.ACKNOWLEDGE, 9) == 905
    for kind in ActionKind:
        assert read_number(number_for(kind, 123)) == (kind, 123)
    assert read_number(900) is None and read_number(5) is None


def test_the_readme_shows_these_commands():
    text = README.read_text(encoding="utf-8")
    for line in DEMO[2:]:
        assert line in text


async def test_the_demo_runs_twice_on_one_database(tmp_path):
    start = local(2027, 1, 26, 9, 30)
    first = await run_console(make_bot(sqlite_url(tmp_path), start), DEMO)
    assert "Thank you. Cllr Sarah Whitlock has been asked to acknowledge the briefing." in first
    assert "Thank you for acknowledging the briefing." in first
    assert "[901] I've briefed them" in first and "[905] Acknowledge" in first
    # Rachel's one card for Quayside: a row for each of the five members, 701 on Tariq's.
    assert "you are asked to brief 5 members" in first
    assert "[701] I've briefed them" in first and "[301] I've briefed them" in first
    assert "Thank you. Cllr Tariq Shah has been asked to acknowledge the briefing." in first

    # A restart: a new process and console on the same database, nothing shown yet.
    again = make_bot(sqlite_url(tmp_path), start)
    assert again.briefing("HBC-2027-003", SARAH).state == "acknowledged"
    second = await run_console(again, DEMO)
    assert "`home` shows what waits on you, with the numbers to `click`." in second
    assert "Which button?" not in second
    assert second.count("This briefing is already acknowledged") == 2
    assert "This briefing is logged and awaiting the member's acknowledgement" in second
    # `home` numbers the waiting cards with the same numbers as before.
    home = await run_console(again, ["as imran", "home"])
    shown = re.findall(r"\[(\d+)\] I've briefed them", home)
    assert shown and all(f"[{n}] I've briefed them" in first for n in shown)
    assert len(again.events(action="acknowledge", outcome="done")) == 1
