"""Governance-grade rules (issue 10), each a scenario on the sample council.

Fair and complete escalation (items 1–5), second pairs of eyes on "not needed" and exempt
hand-overs (6–7). The statutory checks (8–14) and the words (15–16) are in
test_statutory.py.
"""

from __future__ import annotations

from datetime import date

from livebot import (
    AISHA,
    ALAN,
    EMMA,
    HELEN,
    IMRAN,
    MARCUS,
    MARGARET,
    OWEN,
    SARAH,
    SIMON,
    Bot,
    buttons_for,
    card_text,
    email,
    local,
    make_bot,
    reimport_decisions,
    reimport_directory,
    sqlite_url,
)
from sqlalchemy import select

from bot.intake.records import PersonRecord
from bot.store.models import Briefing, BriefingState, Decision
from bot.views.cards import ActionKind
from bot.views.commands import answer
from bot.views.status import Rag, build_status

MILLBROOK = "HBC-2027-005"
HOUSING = "HBC-2027-003"  # Housing Allocations Policy Review, Cabinet 11 Feb, key decision
QUAYSIDE = "HBC-2027-002"  # Cabinet 14 Jan, still For Determination afterwards
BUDGET = "HBC-2027-001"  # Medium Term Financial Strategy, Tom Ellery, key decision
FLEET = "HBC-2027-007"  # Waste Collection Vehicle Fleet Replacement: Part exempt (para 3)
TOM = email("Tom Ellery")
GRAHAM = email("Graham Tull")  # Director of Resources, Tom's director
DAVID = email("David Osei")  # monitoring officer
CLAIRE = email("Claire Dunn")  # democratic services
RACHEL = email("Rachel Pym")
GARETH = email("Gareth Lowe")
PAULA = email("Paula Stride")
NIA = email("Nia Evans")


def about(bot: Bot, ref: str, recipient: str | None = None):
    """Every message sent about one decision's briefings (to one person, if given)."""
    with bot.app.session() as session:
        ids = set(session.scalars(select(Briefing.id).join(Decision).where(Decision.ref == ref)))
    return [
        s
        for s in bot.adapter.sent
        if s.card.briefing_id in ids and (recipient is None or s.recipient == recipient)
    ]


def status_rows(bot: Bot, viewer: str, ref: str):
    with bot.app.session() as session:
        report = build_status(
            session=session,
            settings=bot.app.settings,
            calendar=bot.calendar,
            directory=bot.app.directory(session),
            now=bot.now(),
            viewer_email=viewer,
            days=90,
        )
    return [r for r in report.rows if r.ref == ref]


def button(sent, kind: ActionKind):
    [found] = [b for b in sent.card.buttons if b.kind == kind]
    return found


# --- 1. Say who is waiting ----------------------------------------------------------------


async def test_a_directors_escalation_lists_every_member_still_waiting_portfolio_holder_first(
    tmp_path,
):
    bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 4, 8, 0))
    await bot.working_mornings(date(2027, 1, 4), date(2027, 1, 13))
    [director] = about(bot, MILLBROOK, SIMON)
    text = card_text(director.card)
    helen = text.index(
        "Cllr Helen Marsh has not yet been briefed by Owen Brady (Portfolio holder for "
        "Communities and Leisure; Ward councillor for Millbrook); the briefing was due by "
        "Tue 12 Jan."
    )
    emma = text.index(
        "Cllr Emma Doyle has not yet been briefed by Owen Brady (Ward councillor for "
        "Millbrook); the briefing was due by Tue 12 Jan."
    )
    assert helen < emma
    assert "2 members are still waiting to be briefed" in text
    assert "Already told: Owen Brady (Tue 5 Jan, Fri 8 Jan, Tue 12 Jan)." in text
    assert [b.kind for b in director.card.buttons] == [ActionKind.REMIND_BRIEFER, ActionKind.NOTED]
    # When either member is then briefed, Simon's message is redrawn to list who still waits.
    for member in (HELEN, EMMA):
        if bot.briefing(MILLBROOK, member).id != director.card.briefing_id:
            briefed = bot.briefing(MILLBROOK, member)
    bot.set(local(2027, 1, 13, 11, 0))
    reply = await bot.click(OWEN, ActionKind.LOG_BRIEFING, briefed.id, {"how": "call"})
    assert reply.ok
    [(posted, redrawn)] = [(p, c) for p, c in bot.adapter.updated if p.recipient_email == SIMON]
    assert posted.message_id == director.message_id
    assert "1 member is still waiting to be briefed" in card_text(redrawn)
    name = "Cllr Helen Marsh" if briefed.member_email == HELEN else "Cllr Emma Doyle"
    assert f"{name} has not yet been briefed" not in card_text(redrawn)


# --- 2. Never skip a rung; 4. escalations carry a next action -------------------------------


async def test_a_date_brought_forward_climbs_the_ladder_one_rung_a_day_with_actions(tmp_path):
    bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 20, 8, 0))
    await bot.tick_at(bot.morning(date(2027, 1, 21)))  # Imran's first prompts for 11 Feb
    # Imran owes two briefings on it: one card, a row of buttons for each member.
    assert [s.card.title for s in about(bot, HOUSING)] == ["Member briefings are coming up"]

    # Tue 26 Jan: the decision is brought forward from 11 Feb to 4 Feb, so its briefings were
    # due on Thu 21 Jan and every step of the ladder is due at once.
    bot.set(local(2027, 1, 26, 10, 0))
    reimport_decisions(bot.app, {HOUSING: {"decision_due": date(2027, 2, 4)}})
    bot.adapter.clear()
    await bot.tick_at(local(2027, 1, 26, 10, 0))
    sent = about(bot, HOUSING)
    assert {s.recipient for s in sent} == {IMRAN}, "nobody above the briefer hears today"
    assert [s.card.title for s in sent] == ["Overdue: member briefings"]
    for member in (SARAH, ALAN):
        briefing = bot.briefing(HOUSING, member)
        assert ActionKind.LOG_BRIEFING in {b.kind for b in buttons_for(sent[0].card, briefing.id)}
    assert "Briefing due: Thu 21 Jan" in card_text(sent[0].card)

    # The next working day the director, once for the decision, listing both members.
    await bot.tick_at(bot.morning(date(2027, 1, 27)))
    sent = about(bot, HOUSING)[1:]
    assert [(s.recipient, s.card.title) for s in sent] == [
        (AISHA, "For your attention: a briefing in your directorate is overdue")
    ]
    text = card_text(sent[0].card)
    assert text.index("Cllr Sarah Whitlock") < text.index("Cllr Alan Brook")
    assert "Already told: Imran Qureshi (Thu 21 Jan, Tue 26 Jan)." in text

    # The day after, the chief executive, told who has already been told, with actions.
    await bot.tick_at(bot.morning(date(2027, 1, 28)))
    [chief] = about(bot, HOUSING)[2:]
    assert chief.recipient == MARGARET
    text = card_text(chief.card)
    assert (
        "Already told: Imran Qureshi (Thu 21 Jan, Tue 26 Jan); "
        "Aisha Rahman, Director of Communities (Wed 27 Jan)." in text
    )
    assert [b.label for b in chief.card.buttons] == [
        "Remind the briefer now",
        "Ask the director to chase",
        "Noted",
    ]
    steps = [e.reason for e in bot.events(action="escalation_step") if e.decision_ref == HOUSING]
    assert steps.count("director") == 2 and steps.count("chief_executive") == 2  # per briefing

    # Margaret asks Aisha to chase, and reminds Imran; Aisha hears once, Imran twice (one per
    # member); pressing again the same day changes nothing.
    bot.set(local(2027, 1, 28, 10, 0))
    ask = await bot.click(
        MARGARET, ActionKind.ASK_DIRECTOR, 0, payload=button(chief, ActionKind.ASK_DIRECTOR).payload
    )
    assert ask.ok and ask.changed and "Aisha Rahman" in ask.message, ask.message
    again = await bot.click(
        MARGARET, ActionKind.ASK_DIRECTOR, 0, payload=button(chief, ActionKind.ASK_DIRECTOR).payload
    )
    assert again.ok and not again.changed
    remind = await bot.click(
        MARGARET,
        ActionKind.REMIND_BRIEFER,
        0,
        payload=button(chief, ActionKind.REMIND_BRIEFER).payload,
    )
    assert remind.ok and "Imran Qureshi" in remind.message
    noted = await bot.click(
        MARGARET, ActionKind.NOTED, 0, payload=button(chief, ActionKind.NOTED).payload
    )
    assert noted.ok and noted.changed
    bot.adapter.clear()
    await bot.deliver()
    chased = [s for s in bot.adapter.sent if s.card.title == "Please brief the member now"]
    assert sorted(s.recipient for s in chased) == [AISHA, IMRAN, IMRAN]
    [to_aisha] = [s for s in chased if s.recipient == AISHA]
    assert "Margaret Hollis asks you to chase Imran Qureshi about this briefing." in (
        card_text(to_aisha.card)
    )
    assert [e.action for e in bot.events(actor_email=MARGARET, outcome="done")] == [
        "ask_director",
        "remind_briefer",
        "noted",
    ]
    # Nobody without a part in the escalation can press its buttons.
    refused = await bot.click(
        OWEN, ActionKind.REMIND_BRIEFER, 0, payload=button(chief, ActionKind.REMIND_BRIEFER).payload
    )
    assert not refused.ok and refused.message.startswith("Sorry")


async def test_a_briefing_created_after_its_due_date_prompts_its_briefer_with_buttons(
    tmp_path,
):
    # 3. A new Quayside councillor after the decision date: the item is still pending, so the
    # briefing is still owed, late; Rachel is prompted at once and nobody above her that day.
    bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 11, 8, 0))
    await bot.working_mornings(date(2027, 1, 11), date(2027, 1, 15))
    bot.set(local(2027, 1, 18, 10, 0))
    nia = PersonRecord(NIA, "Cllr Nia Evans", ("ward_councillor",), wards=("Quayside",))
    reimport_directory(bot.app, add=[nia])
    bot.adapter.clear()
    await bot.tick_at(local(2027, 1, 18, 10, 0))
    briefing = bot.briefing(QUAYSIDE, NIA)
    assert briefing.briefer_email == RACHEL and briefing.state == BriefingState.OPEN
    [prompt] = bot.adapter.about(briefing.id)
    assert prompt.recipient == RACHEL
    # Rachel's one card about the item lists Nia with the others, with her own buttons.
    assert ActionKind.LOG_BRIEFING in {b.kind for b in buttons_for(prompt.card, briefing.id)}
    assert prompt.card.title == "Overdue: member briefings"
    assert "Cllr Nia Evans" in card_text(prompt.card)
    [row] = [r for r in status_rows(bot, MARGARET, QUAYSIDE) if r.member_email == NIA]
    assert row.rag == Rag.RED
    assert {"briefing_late", "date_passed"} <= {f["code"] for f in row.flags}
    # The director hears the next working day, not before.
    await bot.tick_at(bot.morning(date(2027, 1, 19)))
    assert [s.recipient for s in bot.adapter.about(briefing.id)][1:] == [SIMON]


# --- 5. Withdrawn items are announced ---------------------------------------------------------


async def test_withdrawing_an_acknowledged_item_tells_the_member_and_the_briefer(tmp_path):
    bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 5, 8, 0))
    await bot.tick_at(bot.morning(date(2027, 1, 5)))
    helen = bot.briefing(MILLBROOK, HELEN)
    emma = bot.briefing(MILLBROOK, EMMA)
    bot.set(local(2027, 1, 5, 11, 0))
    assert (await bot.click(OWEN, ActionKind.LOG_BRIEFING, helen.id, {"how": "call"})).ok
    assert (await bot.click(HELEN, ActionKind.ACKNOWLEDGE, helen.id)).ok
    bot.set(local(2027, 1, 6, 10, 0))
    reimport_decisions(bot.app, {MILLBROOK: {"status": "Withdrawn"}})
    bot.adapter.clear()
    await bot.tick_at(local(2027, 1, 6, 10, 0))
    withdrawn = [s for s in bot.adapter.sent if s.card.title == "Withdrawn from the forward plan"]
    assert sorted(s.recipient for s in withdrawn) == sorted([OWEN, HELEN])  # one each
    assert "has been withdrawn from the forward plan" in card_text(withdrawn[0].card)
    assert bot.get(emma.id).state == BriefingState.WITHDRAWN
    assert bot.get(helen.id).state == BriefingState.ACKNOWLEDGED
    await bot.tick_at(local(2027, 1, 6, 14, 0))
    assert len([s for s in bot.adapter.sent if s.card.title.startswith("Withdrawn")]) == 2


# --- 6. "Not needed" on a portfolio holder's or the leader's briefing -------------------------


async def test_not_needed_on_the_leaders_briefing_waits_for_a_second_pair_of_eyes(tmp_path):
    bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 21, 8, 0))
    await bot.tick_at(bot.morning(date(2027, 1, 21)))
    alan = bot.briefing(BUDGET, ALAN)
    bot.set(local(2027, 1, 21, 10, 0))
    reply = await bot.click(TOM, ActionKind.NOT_NEEDED, alan.id, {"reason": "Leader chairs it"})
    assert reply.ok and reply.changed and "awaiting approval" in reply.message
    assert bot.get(alan.id).state == BriefingState.NOT_NEEDED_PENDING
    [row] = [r for r in status_rows(bot, MARGARET, BUDGET) if r.member_email == ALAN]
    assert row.rag == Rag.AMBER
    await bot.deliver()
    requests = [s for s in bot.adapter.about(alan.id) if s.card.title.startswith("Your approval")]
    assert sorted(s.recipient for s in requests) == sorted([GRAHAM, DAVID, CLAIRE])
    assert "“Leader chairs it”" in card_text(requests[0].card)
    # Tom cannot approve his own request.
    own = await bot.click(TOM, ActionKind.APPROVE, alan.id)
    assert not own.ok and own.message.startswith("Sorry")
    [graham] = [s for s in requests if s.recipient == GRAHAM]
    approved = await bot.click(
        GRAHAM, ActionKind.APPROVE, alan.id, payload=button(graham, ActionKind.APPROVE).payload
    )
    assert approved.ok and approved.changed, approved.message
    assert bot.get(alan.id).state == BriefingState.NOT_NEEDED
    # A second approval (a double click, or David a moment later) changes nothing.
    [david] = [s for s in requests if s.recipient == DAVID]
    events = len(bot.events())
    late = await bot.click(
        DAVID, ActionKind.APPROVE, alan.id, payload=button(david, ActionKind.APPROVE).payload
    )
    assert late.ok and not late.changed and "already been decided" in late.message
    assert len(bot.events()) == events
    [row] = [r for r in status_rows(bot, MARGARET, BUDGET) if r.member_email == ALAN]
    assert row.rag == Rag.GREEN
    await bot.deliver()
    told = [s for s in bot.adapter.to(TOM) if s.card.title.startswith("A decision on your")]
    assert "approved as not needed" in card_text(told[-1].card)


async def test_a_declined_not_needed_goes_back_to_the_officer_and_wards_stay_one_step(tmp_path):
    bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 5, 8, 0))
    await bot.tick_at(bot.morning(date(2027, 1, 5)))
    helen = bot.briefing(MILLBROOK, HELEN)
    emma = bot.briefing(MILLBROOK, EMMA)
    bot.set(local(2027, 1, 5, 10, 0))
    ward = await bot.click(OWEN, ActionKind.NOT_NEEDED, emma.id, {"reason": "Not in her ward"})
    assert ward.ok and bot.get(emma.id).state == BriefingState.NOT_NEEDED
    await bot.click(OWEN, ActionKind.NOT_NEEDED, helen.id, {"reason": "She knows"})
    declined = await bot.click(DAVID, ActionKind.DECLINE, helen.id)
    assert declined.ok and declined.changed, declined.message
    after = bot.get(helen.id)
    assert after.state == BriefingState.OPEN and after.next_step_at is not None
    bot.adapter.clear()
    await bot.deliver()
    [back] = [s for s in bot.adapter.to(OWEN) if s.card.briefing_id == helen.id]
    assert "was declined" in card_text(back.card)
    assert ActionKind.LOG_BRIEFING in {b.kind for b in back.card.buttons}


# --- 7. Exempt items stay inside the circle ---------------------------------------------------


async def test_an_exempt_hand_over_outside_the_directorate_needs_the_directors_approval(
    tmp_path,
):
    bot = make_bot(sqlite_url(tmp_path), local(2027, 2, 1, 8, 0))
    await bot.tick_at(bot.morning(date(2027, 2, 1)))
    marcus = bot.briefing(FLEET, MARCUS)
    assert marcus.briefer_email == GARETH
    bot.set(local(2027, 2, 1, 10, 0))
    asked = await bot.click(
        GARETH, ActionKind.REASSIGN, marcus.id, {"to": "Paula Stride", "why": "On leave"}
    )
    assert asked.ok and "Simon Reeve" in asked.message, asked.message
    assert bot.get(marcus.id).briefer_email == GARETH
    await bot.deliver()
    assert [s for s in bot.adapter.to(PAULA) if s.card.briefing_id == marcus.id] == []
    [request] = [s for s in bot.adapter.to(SIMON) if s.card.title.startswith("Your approval")]
    assert "Paula Stride, who works in People" in card_text(request.card)
    approved = await bot.click(
        SIMON, ActionKind.APPROVE, marcus.id, payload=button(request, ActionKind.APPROVE).payload
    )
    assert approved.ok and approved.changed, approved.message
    after = bot.get(marcus.id)
    assert after.briefer_email == PAULA and after.former_briefers == [GARETH]
    await bot.deliver()
    [passed] = [s for s in bot.adapter.to(PAULA) if s.card.briefing_id == marcus.id]
    text = card_text(passed.card)
    assert "Gareth Lowe has passed this briefing to you." in text
    assert "“On leave”" in text
    assert "Waste Collection Vehicle Fleet Replacement" in text
    # Gareth, the report's author and a past briefer, still sees the item's details.
    with bot.app.session() as session:
        [card] = answer(
            app=bot.app,
            session=session,
            text=f"/surprises {FLEET}",
            actor_email=GARETH,
            direct=True,
        )
    assert "Waste Collection Vehicle Fleet Replacement" in card_text(card)
    # Within the directorate no approval is needed.
    lena = email("Lena Hart")
    with bot.app.session() as session:
        other = session.scalar(
            select(Briefing)
            .join(Decision)
            .where(Decision.ref == FLEET, Briefing.member_email != MARCUS)
        )
    if other is not None:
        direct = await bot.click(other.briefer_email, ActionKind.REASSIGN, other.id, {"to": lena})
        assert direct.ok and bot.get(other.id).briefer_email == lena


async def test_the_exempt_circle_keeps_the_lead_officer_after_a_reassignment(tmp_path):
    bot = make_bot(sqlite_url(tmp_path), local(2027, 2, 1, 8, 0))
    await bot.tick_at(bot.morning(date(2027, 2, 1)))
    marcus = bot.briefing(FLEET, MARCUS)
    bot.set(local(2027, 2, 1, 10, 0))
    # Simon, the director, hands it over himself: no approval needed.
    done = await bot.click(SIMON, ActionKind.REASSIGN, marcus.id, {"to": PAULA})
    assert done.ok and bot.get(marcus.id).briefer_email == PAULA
    with bot.app.session() as session:
        [gareth] = answer(
            app=bot.app,
            session=session,
            text=f"/surprises {FLEET}",
            actor_email=GARETH,
            direct=True,
        )
        [owen] = answer(
            app=bot.app,
            session=session,
            text=f"/surprises {FLEET}",
            actor_email=OWEN,
            direct=True,
        )
    assert "Waste Collection Vehicle Fleet Replacement" in card_text(gareth)
    assert "Waste Collection Vehicle Fleet Replacement" not in card_text(owen)
