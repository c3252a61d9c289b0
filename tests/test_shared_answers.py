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


def count_version_reads(bot) -> list[int]:
    """How many times the data's version is read (`shared_rows.VERSION`), kept up to date."""
    from sqlalchemy import event

    reads = [0]

    def seen(conn, cursor, statement, parameters, context, executemany) -> None:
        if "changecounter.name" in statement and "audithead.seq" in statement:
            reads[0] += 1

    event.listen(bot.app.engine, "before_cursor_execute", seen)
    return reads


def count_answers(monkeypatch) -> list[int]:
    from bot import service

    made = [0]
    real_answer = service.answer

    def counting(**kwargs):
        made[0] += 1
        return real_answer(**kwargs)

    monkeypatch.setattr(service, "answer", counting)
    return made


async def test_a_new_wide_question_reads_the_version_once_with_its_answer(tmp_path, monkeypatch):
    """Asked for the first time, the version is read in the answer's own session and step; asked
    again, it is read to find the kept answer, which is not worked out again."""
    from bot.views.commands import answer

    bot = make_bot(sqlite_url(tmp_path), START)
    await bot.sweep()
    reads, made = count_version_reads(bot), count_answers(monkeypatch)
    reply = await handle_command(
        bot.hub, text="days 45", actor_email=MARGARET, platform="test", direct=True
    )
    assert (reads[0], made[0]) == (1, 1)
    with bot.app.session() as session:
        fresh = answer(
            app=bot.app, session=session, text="days 45", actor_email=MARGARET, direct=True
        )
    assert reply.cards == fresh
    reads[0] = 0
    again = await handle_command(
        bot.hub, text="days 45", actor_email=MARGARET, platform="test", direct=True
    )
    assert again is reply and (reads[0], made[0]) == (1, 1)


async def test_the_same_new_question_asked_at_once_is_worked_out_once(tmp_path, monkeypatch):
    bot = make_bot(sqlite_url(tmp_path), START)
    await bot.sweep()
    made = count_answers(monkeypatch)
    replies = await asyncio.gather(
        *(
            handle_command(
                bot.hub, text="days 70", actor_email=MARGARET, platform="test", direct=True
            )
            for _ in range(6)
        )
    )
    assert made[0] == 1 and all(r is replies[0] for r in replies)


async def test_a_first_answer_that_fails_leaves_the_others_to_work_it_out():
    answers = SharedAnswers()
    question = ("someone", "days 9")
    gate, started = asyncio.Event(), asyncio.Event()

    async def failing() -> tuple[int, str]:
        started.set()
        await gate.wait()
        raise RuntimeError("the database went away")

    assert not answers.seen(question)
    first = asyncio.create_task(answers.first(question, failing))
    await started.wait()  # the first is on its way
    assert answers.seen(question)
    waiting = asyncio.create_task(answers.settled(question))
    gate.set()
    await waiting  # settled, though the first failed
    try:
        await first
    except RuntimeError:
        pass
    else:  # pragma: no cover - the failure must reach its asker
        raise AssertionError("the first answer's failure was swallowed")
    assert not answers.seen(question)

    async def working() -> tuple[int, str]:
        return 3, "answer"

    assert await answers.first(question, working) == "answer"
    assert answers.seen(question)
    assert await answers.get((*question, 3), failing) == "answer"  # kept under its version
