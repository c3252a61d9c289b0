"""`/surprises` answers are shared only while nothing they depend on has changed."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from livebot import email, make_bot, sqlite_url

from bot.delivery.hub import SharedAnswers
from bot.service import handle_action, handle_command
from bot.views.cards import ActionKind

START = datetime(2027, 1, 26, 9, 30, tzinfo=ZoneInfo("Europe/London"))
MARGARET, OWEN = email("Margaret Hollis"), email("Owen Brady")


async def ask(bot, who: str = MARGARET) -> str:
    reply = await handle_command(bot.hub, text="", actor_email=who, platform="test", direct=True)
    return "\n".join(line for card in reply.cards for line in card.lines)


async def test_a_change_or_a_new_minute_gives_a_fresh_answer(tmp_path: Path):
    bot = make_bot(sqlite_url(tmp_path), START)
    await bot.sweep()
    first = await ask(bot)
    assert await ask(bot) == first  # nothing changed: the same answer
    gwen = bot.briefing("HBC-2027-009", email("Gwen Price"))
    reply = await handle_action(
        bot.hub,
        payload=bot.sign(ActionKind.NOT_NEEDED, gwen.id),
        actor_email=OWEN,
        platform="test",
        inputs={"reason": "Briefed at the ward surgery"},
    )
    assert reply.ok
    after = await ask(bot)
    assert after != first and "Green 1" in after
    bot.set(bot.now() + timedelta(days=3))  # due dates pass: the colours move with the clock
    assert await ask(bot) != after
    assert await ask(bot, OWEN) != await ask(bot)  # each person's own view


async def test_identical_questions_in_flight_are_worked_out_once():
    answers = SharedAnswers()
    runs = 0
    gate, started = asyncio.Event(), asyncio.Event()

    async def compute() -> str:
        nonlocal runs
        runs += 1
        started.set()
        await gate.wait()
        return "answer"

    waiting = [asyncio.create_task(answers.get("key", compute)) for _ in range(10)]
    await started.wait()
    gate.set()
    assert await asyncio.gather(*waiting) == ["answer"] * 10
    assert runs == 1


async def test_wide_answers_run_on_their_own_threads(tmp_path: Path, monkeypatch):
    """A status window is worked out on the heavy-answer threads; a narrow question is not."""
    import threading

    from bot import service

    bot = make_bot(sqlite_url(tmp_path), START)
    threads: dict[str, str] = {}
    real_answer = service.answer

    def recording_answer(**kwargs):
        threads[kwargs["text"]] = threading.current_thread().name
        return real_answer(**kwargs)

    monkeypatch.setattr(service, "answer", recording_answer)
    for text in ("days 60", "mine", "HBC-2027-003", "help"):
        await handle_command(bot.hub, text=text, actor_email=MARGARET, platform="test", direct=True)
    assert threads["days 60"].startswith("nosurprises-answers")
    assert not any(threads[t].startswith("nosurprises-answers") for t in ("mine", "HBC-2027-003"))
