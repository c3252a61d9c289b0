"""Drawing an officer's one card per decision cheaply (issue 15): a renderer draws each member's
row once however many of the officer's reminders about the decision it draws, the cards are the
ones each would be drawn alone, and drawing a claimed batch costs a fixed number of statements."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from livebot import Bot, email, local, make_bot, sqlite_url
from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from bot.briefings.together import briefed_by, on_decisions
from bot.delivery.deliverer import Deliverer
from bot.store.models import Briefing, Decision
from bot.views.bilingual import day, reasons_words, speaking, words
from bot.views.cards import ActionKind
from bot.views.phrases import FIELD_WHY
from bot.views.renderer import Renderer, button

QUAYSIDE = "HBC-2027-002"
RACHEL = email("Rachel Pym")


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """Every SQL statement the engine runs inside the block."""
    seen: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


async def quayside(tmp_path: Any) -> Bot:
    """The sample council swept on the morning Rachel's five Quayside prompts fall due."""
    bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 26, 9, 30))
    await bot.sweep()
    return bot


def rows_drawn(monkeypatch: Any) -> list[int]:
    """The briefing ids of the member rows renderers draw afresh from now on."""
    drawn: list[int] = []
    original = Renderer._member_section

    def counting(self: Renderer, briefing: Briefing, *args: Any) -> Any:
        drawn.append(briefing.id or 0)
        return original(self, briefing, *args)

    monkeypatch.setattr(Renderer, "_member_section", counting)
    return drawn


async def test_one_renderer_draws_each_row_once_and_each_card_as_drawn_alone(tmp_path, monkeypatch):
    bot = await quayside(tmp_path)
    drawn = rows_drawn(monkeypatch)
    now = bot.now()
    with bot.app.session() as session:
        decision = session.scalar(select(Decision).where(Decision.ref == QUAYSIDE))
        assert decision is not None and decision.id is not None
        together = on_decisions(session, {decision.id})[decision.id]
        mine = briefed_by(together, RACHEL)
        assert len(mine) == 5
        batch = bot.hub.renderer(session)
        kinds = ("first_prompt", "reminder", "urgent_reminder", "reminder", "first_prompt")
        with statements(bot.app.engine) as ran:
            in_batch = [
                batch.briefer_card(
                    b, decision, viewer=RACHEL, together=together, kind=kind, now=now
                )
                for b, kind in zip(mine, kinds, strict=True)
            ]
        assert ran == [], "drawing from loaded rows runs no SQL"
        assert sorted(drawn) == sorted(b.id for b in mine), "each member's row drawn once"
        alone = [
            bot.hub.renderer(session).briefer_card(
                b, decision, viewer=RACHEL, together=together, kind=kind, now=now
            )
            for b, kind in zip(mine, kinds, strict=True)
        ]
    assert in_batch == alone
    assert [c.briefing_id for c in in_batch] == [b.id for b in mine]
    assert len(drawn) == 5 + 5 * 5


async def test_a_row_is_drawn_again_once_its_briefing_has_changed(tmp_path):
    bot = await quayside(tmp_path)
    now = bot.now()
    with bot.app.session() as session:
        decision = session.scalar(select(Decision).where(Decision.ref == QUAYSIDE))
        assert decision is not None and decision.id is not None
        together = on_decisions(session, {decision.id})[decision.id]
        renderer = bot.hub.renderer(session)
        first = renderer.briefer_card(
            together[0], decision, viewer=RACHEL, together=together, kind="reminder", now=now
        )
        # The same briefing a version on, as after a click: its buttons must carry the new one.
        columns = [c.name for c in Briefing.__table__.columns]
        moved = Briefing(**{**{c: getattr(together[0], c) for c in columns}, "version": 7})
        later = [moved, *together[1:]]
        again = renderer.briefer_card(
            moved, decision, viewer=RACHEL, together=later, kind="reminder", now=now
        )
        fresh = bot.hub.renderer(session).briefer_card(
            moved, decision, viewer=RACHEL, together=later, kind="reminder", now=now
        )
    assert again == fresh != first
    assert all('"v":7' in b.payload for b in again.sections[0].buttons)
    assert again.sections[1:] == first.sections[1:]


async def test_a_row_changed_in_place_or_not_loaded_is_keyed_by_what_it_shows(
    tmp_path, monkeypatch
):
    # A row's key reads the loaded values straight from the object: a field changed on the
    # same object still draws the row again, and an expired one is loaded, not missed.
    bot = await quayside(tmp_path)
    drawn = rows_drawn(monkeypatch)
    now = bot.now()
    with bot.app.session() as session:
        decision = session.scalar(select(Decision).where(Decision.ref == QUAYSIDE))
        assert decision is not None and decision.id is not None
        together = on_decisions(session, {decision.id})[decision.id]
        mine = briefed_by(together, RACHEL)
        renderer = bot.hub.renderer(session)

        def card() -> Any:
            return renderer.briefer_card(
                mine[0], decision, viewer=RACHEL, together=together, kind="reminder", now=now
            )

        first = card()
        assert len(drawn) == 5
        mine[1].dispute = "Not yet\nPlease call me first"
        mine[1].state = "disputed"
        changed = card()
        assert drawn[5:] == [mine[1].id], "only the changed row drawn again"
        assert changed.sections[1] != first.sections[1]
        assert (
            changed.sections[1]
            == bot.hub.renderer(session)
            .briefer_card(
                mine[0], decision, viewer=RACHEL, together=together, kind="reminder", now=now
            )
            .sections[1]
        )
        session.flush()
        session.expire(mine[2], ["due_at", "state"])
        session.expire(decision, ["portfolio_holder"])
        assert "due_at" not in vars(mine[2])
        seen = len(drawn)
        assert card() == changed
        assert drawn[seen:] == [], "the expired fields were loaded and matched"


async def test_drawing_a_claimed_batch_costs_the_same_statements_however_many_it_holds(
    tmp_path, monkeypatch
):
    bot = await quayside(tmp_path)
    counts: list[tuple[int, int]] = []
    original = Deliverer._draw

    def counted(self: Deliverer, session: Any, nudges: list[Any]) -> Any:
        with statements(bot.app.engine) as ran:
            jobs = original(self, session, nudges)
        counts.append((len(nudges), len(ran)))
        return jobs

    monkeypatch.setattr(Deliverer, "_draw", counted)
    deliverer = Deliverer(bot.hub)
    for limit in (1, 1, 100):  # the first batch also reads the directory and signing key
        deliverer._claim_and_draw(limit, set())
    [_, (one, few), (many, more)] = counts
    assert one == 1 and many >= 10
    # The directory's fingerprint; the batch's briefings with every other briefing on their
    # decisions (one statement); their decisions; the recipients' channel choices.
    assert few == more == 4


def test_a_buttons_words_are_worded_once_per_language_and_stay_in_it():
    with speaking("cy"):
        welsh = button(ActionKind.LOG_BRIEFING, "p1")
        again = button(ActionKind.LOG_BRIEFING, "p2")
    with speaking("en"):
        english = button(ActionKind.LOG_BRIEFING, "p1")
    assert english.label == "I've briefed them" and welsh.label != english.label
    assert [i.label for i in english.inputs][:2] == ["When did you brief them?", "How?"]
    assert welsh.inputs is again.inputs, "worded once, not per button"
    assert (welsh.payload, again.payload) == ("p1", "p2")


def test_words_said_once_are_said_again_in_the_language_spoken_then():
    # Labels, dates and reasons are worded once per language and reused: never across them.
    reasons = ("Ward councillor for Quayside", "Something the rules no longer say")
    said = {}
    for language in ("en", "cy", "en", "cy+en"):
        with speaking(language):
            said[language] = (words(FIELD_WHY), day(date(2027, 2, 4)), reasons_words(reasons))
    assert said["en"] == ("Why", "Thu 4 Feb", "; ".join(reasons))
    assert said["cy"] == (
        "Pam",
        "Iau 4 Chwef",
        "Cynghorydd ward Quayside; Something the rules no longer say",
    )
    assert said["cy+en"][0] == "Pam\n\nWhy" and said["cy+en"][1] == "Iau 4 Chwef / Thu 4 Feb"
