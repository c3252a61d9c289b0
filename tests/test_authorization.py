"""Who may press which button: the whole matrix, idempotent double clicks, stale and tampered
payloads. Every refusal is polite, changes nothing, leaks no exempt title and is audited.

The item is HBC-2027-004, Emergency Temporary Accommodation Contract: Fully exempt (paragraph
3), decided by Cabinet on Thu 14 Jan 2027. Imran Qureshi (Head of Housing) must brief Cllr Sarah
Whitlock (Cabinet Member for Housing) by Wed 30 Dec 2026. For these tests Imran gets a line
manager, Nina Patel, who reports to Aisha Rahman, Director of Communities.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from livebot import (
    AISHA,
    EMMA,
    EXEMPT_REF,
    EXEMPT_TITLE,
    IMRAN,
    MARGARET,
    OWEN,
    SARAH,
    STRANGER,
    TOM,
    Bot,
    card_text,
    from_template,
    give_line_manager,
    local,
)

from bot.store.models import BriefingState
from bot.store.secrets import payload_key
from bot.views.cards import BRIEFER_ACTIONS, MEMBER_ACTIONS, ActionKind, PayloadSigner

NINA = "nina.patel@harbourside.example.gov.uk"
ROLES = {
    "briefer": IMRAN,
    "briefer's manager": NINA,
    "briefer's director": AISHA,
    "the member": SARAH,
    "another member": EMMA,
    "another officer": OWEN,
    "chief executive": MARGARET,
    "not in the directory": STRANGER,
}
# Who may do what: the briefer's line for the officer's buttons, the member for theirs.
MAY_ACT = {
    **{kind: {"briefer", "briefer's manager", "briefer's director"} for kind in BRIEFER_ACTIONS},
    **{kind: {"the member"} for kind in MEMBER_ACTIONS},
}
ON_BEHALF = {"briefer's manager", "briefer's director"}
# People who may not read the exempt title at all.
NOT_ENTITLED = {"another member", "another officer", "not in the directory"}
INPUTS = {
    ActionKind.LOG_BRIEFING: {"how": "call"},
    ActionKind.SNOOZE: {"until": "1"},
    ActionKind.NOT_NEEDED: {"reason": "Covered at the Cabinet pre-meeting"},
    ActionKind.REASSIGN: {"to": "Tom Ellery"},
    ActionKind.ACKNOWLEDGE: {},
    ActionKind.NOT_YET_BRIEFED: {"note": "Nobody has called me"},
    ActionKind.NEED_MORE_INFO: {"note": "What does it cost?"},
}
RESULT = {
    ActionKind.LOG_BRIEFING: BriefingState.BRIEFED,
    ActionKind.SNOOZE: BriefingState.SNOOZED,
    # Sarah is the portfolio holder: "not needed" waits for a second pair of eyes (issue 10).
    ActionKind.NOT_NEEDED: BriefingState.NOT_NEEDED_PENDING,
    ActionKind.REASSIGN: BriefingState.OPEN,
    ActionKind.ACKNOWLEDGE: BriefingState.ACKNOWLEDGED,
    ActionKind.NOT_YET_BRIEFED: BriefingState.DISPUTED,
    ActionKind.NEED_MORE_INFO: BriefingState.DISPUTED,
}


async def exempt_item(tmp_path, *, logged: bool) -> tuple[Bot, int]:
    """Mon 21 Dec 2026 10:00: Sarah's briefing on HBC-2027-004 is open (or, with `logged`,
    briefed and awaiting her acknowledgement)."""

    async def build(bot: Bot) -> int:
        give_line_manager(bot.app, IMRAN, AISHA, "Communities")
        await bot.tick_at(local(2026, 12, 21, 9, 30))
        briefing = bot.briefing(EXEMPT_REF, SARAH)
        assert briefing.state == BriefingState.OPEN
        bot.set(local(2026, 12, 21, 10, 0))
        if logged:
            reply = await bot.click(IMRAN, ActionKind.LOG_BRIEFING, briefing.id, {"how": "meeting"})
            assert reply.ok, reply.message
            await bot.deliver()
            assert bot.get(briefing.id).state == BriefingState.BRIEFED
        return briefing.id

    key = f"authorization-{'briefed' if logged else 'open'}"
    return await from_template(tmp_path, key, local(2026, 12, 21, 9, 30), build)


# The briefing's own buttons; approvals and escalation actions are in test_governance.py.
MATRIX = [
    pytest.param(kind, role, id=f"{kind.value}-by-{role.replace(' ', '_')}")
    for kind in sorted(BRIEFER_ACTIONS | MEMBER_ACTIONS)
    for role in ROLES
]


@pytest.mark.parametrize(("kind", "role"), MATRIX)
async def test_every_action_by_every_role(tmp_path, kind: ActionKind, role: str):
    bot, briefing_id = await exempt_item(tmp_path, logged=kind in MEMBER_ACTIONS)
    actor = ROLES[role]
    before = bot.snapshot(briefing_id)
    seq_before = len(bot.events())
    nudges_before = len(bot.nudges())

    reply = await bot.click(actor, kind, briefing_id, INPUTS[kind])
    new_events = bot.events()[seq_before:]

    if role in MAY_ACT[kind]:
        assert reply.ok and reply.changed, reply.message
        after = bot.get(briefing_id)
        assert after.state == RESULT[kind]
        assert after.version == before["version"] + 1
        [event] = new_events
        assert (event.action, event.outcome, event.actor_email) == (kind.value, "done", actor)
        assert event.on_behalf_of == (IMRAN if role in ON_BEHALF else "")
        assert event.briefing_id == briefing_id and event.decision_ref == EXEMPT_REF
        if kind == ActionKind.REASSIGN and role == "briefer's director":
            assert after.briefer_email == TOM
        elif kind == ActionKind.REASSIGN:
            # Tom works in Resources, outside this exempt item's directorate: the director
            # approves the hand-over first, and until then the briefing stays with Imran.
            assert (after.briefer_email, after.approval_to) == (IMRAN, TOM)
    else:
        assert not reply.ok and not reply.changed
        assert reply.message.startswith("Sorry"), reply.message
        assert EXEMPT_TITLE not in reply.message
        assert bot.snapshot(briefing_id) == before
        assert len(bot.nudges()) == nudges_before
        [event] = new_events
        assert (event.action, event.outcome, event.actor_email) == (kind.value, "refused", actor)
        assert event.briefing_id == briefing_id
        assert event.on_behalf_of == ""
        assert event.reason
        if role == "not in the directory":
            assert "not in the council's directory" in reply.message
            assert reply.card is None
    if role in NOT_ENTITLED and reply.card is not None:
        assert EXEMPT_TITLE not in card_text(reply.card)
        assert "Exempt item (paragraph 3)" in card_text(reply.card)


@pytest.mark.parametrize("logged", [False, True], ids=["open", "briefed"])
async def test_the_buttons_each_person_sees_are_the_ones_the_core_allows(tmp_path, logged):
    bot, briefing_id = await exempt_item(tmp_path, logged=logged)
    briefing = bot.get(briefing_id)
    with bot.app.session() as session:
        renderer = bot.hub.renderer(session)
        shown = {role: set(renderer.allowed_actions(briefing, e)) for role, e in ROLES.items()}
    state_allows = MEMBER_ACTIONS if logged else BRIEFER_ACTIONS
    for role, kinds in shown.items():
        expected = {k for k in state_allows if role in MAY_ACT[k]}
        assert kinds == expected, role


async def test_the_actors_email_is_matched_whatever_its_case(tmp_path):
    bot, briefing_id = await exempt_item(tmp_path, logged=False)
    reply = await bot.click(AISHA.upper(), ActionKind.SNOOZE, briefing_id, {"until": "1"})
    assert reply.ok and reply.changed, reply.message
    [event] = bot.events(action="snooze")
    assert (event.actor_email, event.on_behalf_of) == (AISHA, IMRAN)


# --- double clicks, stale cards, tampered payloads -------------------------------------------

ALREADY = {
    ActionKind.LOG_BRIEFING: (IMRAN, "already logged"),
    ActionKind.SNOOZE: (IMRAN, "already snoozed"),
    ActionKind.NOT_NEEDED: (AISHA, "already marked as not needed"),
    ActionKind.ACKNOWLEDGE: (SARAH, "already acknowledged"),
    ActionKind.NOT_YET_BRIEFED: (SARAH, "already been told"),
    ActionKind.NEED_MORE_INFO: (SARAH, "already been told"),
}


@pytest.mark.parametrize("kind", list(ALREADY), ids=lambda k: k.value)
async def test_a_double_click_changes_nothing_the_second_time(tmp_path, kind):
    bot, briefing_id = await exempt_item(tmp_path, logged=kind in MEMBER_ACTIONS)
    actor, words = ALREADY[kind]
    payload = bot.sign(kind, briefing_id)
    first = await bot.click(actor, kind, briefing_id, INPUTS[kind], payload=payload)
    assert first.ok and first.changed, first.message
    after_first = bot.snapshot(briefing_id)
    events = len(bot.events())
    nudges = len(bot.nudges())

    second = await bot.click(actor, kind, briefing_id, INPUTS[kind], payload=payload)
    assert second.ok and not second.changed
    assert words in second.message
    assert bot.snapshot(briefing_id) == after_first
    assert len(bot.events()) == events
    assert len(bot.nudges()) == nudges
    assert len(bot.events(action=kind.value, outcome="done")) == 1


@pytest.mark.parametrize("actor", [IMRAN, AISHA], ids=["briefer", "director"])
async def test_a_double_reassign_changes_nothing_the_second_time(tmp_path, actor):
    # After the first press the presser is no longer in the briefing's line (Tom Ellery reports
    # to Graham Tull), yet a double click must still read as "already", not as a refusal.
    bot, briefing_id = await exempt_item(tmp_path, logged=False)
    payload = bot.sign(ActionKind.REASSIGN, briefing_id)
    first = await bot.click(actor, ActionKind.REASSIGN, briefing_id, {"to": TOM}, payload=payload)
    assert first.ok and first.changed
    after_first = bot.snapshot(briefing_id)
    events = len(bot.events())
    second = await bot.click(actor, ActionKind.REASSIGN, briefing_id, {"to": TOM}, payload=payload)
    assert second.ok and not second.changed
    if actor == AISHA:
        assert second.message == "Thank you: this briefing has already been passed to Tom Ellery."
    else:
        # Imran passing an exempt item outside Communities waits for Aisha's approval.
        assert "already waiting for the director's approval" in second.message
    assert bot.snapshot(briefing_id) == after_first
    assert len(bot.events()) == events
    assert len(bot.nudges(kind="reassigned")) == (1 if actor == AISHA else 0)
    # Someone else replaying that payload is still refused.
    other = await bot.click(OWEN, ActionKind.REASSIGN, briefing_id, {"to": TOM}, payload=payload)
    assert not other.ok and other.message.startswith("Sorry")


@pytest.mark.parametrize(
    ("kind", "actor", "logged"),
    [
        (ActionKind.ACKNOWLEDGE, SARAH, True),
        (ActionKind.LOG_BRIEFING, IMRAN, False),
        (ActionKind.NOT_NEEDED, AISHA, False),
    ],
    ids=lambda v: v.value if isinstance(v, ActionKind) else None,
)
async def test_a_double_click_racing_itself_acts_once(tmp_path, kind, actor, logged):
    import asyncio

    bot, briefing_id = await exempt_item(tmp_path, logged=logged)
    payload = bot.sign(kind, briefing_id)
    version = bot.get(briefing_id).version
    replies = await asyncio.gather(
        *(bot.click(actor, kind, briefing_id, INPUTS[kind], payload=payload) for _ in range(4)),
        return_exceptions=True,
    )
    assert not [r for r in replies if isinstance(r, BaseException)], replies
    assert sorted(r.changed for r in replies) == [False, False, False, True]
    assert all(r.ok for r in replies)
    assert len(bot.events(action=kind.value, outcome="done")) == 1
    assert bot.get(briefing_id).version == version + 1


async def test_a_stale_card_is_refused_politely_and_shows_where_things_stand(tmp_path):
    bot, briefing_id = await exempt_item(tmp_path, logged=False)
    old_version = bot.get(briefing_id).version
    stale = bot.sign(ActionKind.NOT_NEEDED, briefing_id, old_version)
    assert (await bot.click(IMRAN, ActionKind.SNOOZE, briefing_id, {"until": "1"})).ok
    before = bot.snapshot(briefing_id)
    assert before["version"] == old_version + 1

    reply = await bot.click(
        AISHA, ActionKind.NOT_NEEDED, briefing_id, INPUTS[ActionKind.NOT_NEEDED], payload=stale
    )
    assert not reply.ok and not reply.changed
    assert reply.message.startswith("This message is out of date")
    assert bot.snapshot(briefing_id) == before
    [event] = bot.events(outcome="refused")
    assert (event.action, event.actor_email, event.reason) == ("not_needed", AISHA, "stale card")
    # The refused person gets the card as it stands now, with fresh buttons.
    assert reply.card is not None and "Not yet briefed (snoozed)" in card_text(reply.card)
    fresh = {b.kind: b.payload for b in reply.card.buttons}
    again = await bot.click(
        AISHA,
        ActionKind.NOT_NEEDED,
        briefing_id,
        INPUTS[ActionKind.NOT_NEEDED],
        payload=fresh[ActionKind.NOT_NEEDED],
    )
    assert again.ok and again.changed, again.message


async def test_a_members_stale_card_is_refused_after_the_officer_moved_on(tmp_path):
    bot, briefing_id = await exempt_item(tmp_path, logged=True)
    payload = bot.sign(ActionKind.ACKNOWLEDGE, briefing_id)  # the card Sarah was sent
    reply = await bot.click(IMRAN, ActionKind.NOT_NEEDED, briefing_id, {"reason": "Withdrawn"})
    assert reply.ok
    before = bot.snapshot(briefing_id)
    reply = await bot.click(SARAH, ActionKind.ACKNOWLEDGE, briefing_id, payload=payload)
    assert not reply.ok and not reply.changed
    assert "out of date" in reply.message
    assert bot.snapshot(briefing_id) == before


def _tampered(bot: Bot, briefing_id: int, other_id: int) -> dict[str, str]:
    good = json.loads(bot.sign(ActionKind.NOT_NEEDED, briefing_id))
    other_key = PayloadSigner(b"not the council's key").sign(
        ActionKind.NOT_NEEDED, briefing_id, good["v"]
    )

    def edit(**changes) -> str:
        return json.dumps({**good, **changes}, separators=(",", ":"))

    return {
        "edited briefing id": edit(b=other_id),
        "edited version": edit(v=good["v"] + 1),
        "edited action": edit(a="acknowledge"),
        "bad signature": edit(s="0" * 20),
        "no signature": json.dumps({k: v for k, v in good.items() if k != "s"}),
        "extra field": edit(x=1),
        "id as text": edit(b=str(briefing_id)),
        "signed with another key": other_key,
        "garbage": "{not json at all",
        "empty": "",
        "json null": "null",
        "json list": "[1, 2, 3]",
        "unknown action": edit(a="delete_everything"),
    }


TAMPERED = [
    "edited briefing id",
    "edited version",
    "edited action",
    "bad signature",
    "no signature",
    "extra field",
    "id as text",
    "signed with another key",
    "garbage",
    "empty",
    "json null",
    "json list",
    "unknown action",
]


@pytest.mark.parametrize("how", TAMPERED)
async def test_a_tampered_payload_is_refused_changes_nothing_and_is_audited(tmp_path, how):
    bot, briefing_id = await exempt_item(tmp_path, logged=False)
    other = bot.briefing(EXEMPT_REF, "alan.brook@harbourside.example.gov.uk")
    payload = _tampered(bot, briefing_id, other.id)[how]
    before = {b: bot.snapshot(b) for b in (briefing_id, other.id)}
    events = len(bot.events())
    nudges = len(bot.nudges())

    reply = await bot.click(
        IMRAN,
        ActionKind.NOT_NEEDED,
        briefing_id,
        {"reason": "tampered"},
        payload=payload,
    )
    assert not reply.ok and not reply.changed and reply.card is None
    assert reply.message == (
        "Sorry, that button could not be read, so nothing was changed. Please use the latest "
        "message from No Surprises."
    )
    assert {b: bot.snapshot(b) for b in before} == before
    assert len(bot.nudges()) == nudges
    new = bot.events()[events:]
    assert [(e.action, e.outcome, e.actor_email) for e in new] == [("button", "refused", IMRAN)]
    assert "payload" in new[0].reason


async def test_a_signed_payload_for_a_briefing_that_does_not_exist_is_refused(tmp_path):
    bot, _ = await exempt_item(tmp_path, logged=False)
    with bot.app.session() as session:
        payload = PayloadSigner(payload_key(session)).sign(ActionKind.ACKNOWLEDGE, 99999, 1)
    reply = await bot.click(SARAH, ActionKind.ACKNOWLEDGE, 99999, payload=payload)
    assert not reply.ok and reply.message == "That briefing no longer exists."
    [event] = bot.events(outcome="refused")
    assert (event.action, event.briefing_id, event.reason) == ("acknowledge", 99999, "unknown")


async def test_refusals_do_not_leak_the_exempt_title_to_anyone(tmp_path):
    bot, briefing_id = await exempt_item(tmp_path, logged=True)
    for role, actor in ROLES.items():
        for kind in MAY_ACT:
            if role in MAY_ACT[kind]:
                continue
            reply = await bot.click(actor, kind, briefing_id, INPUTS[kind])
            assert not reply.ok
            assert EXEMPT_TITLE not in reply.message, (role, kind)
    # And the audit trail of refusals names the item by reference only.
    for event in bot.events(outcome="refused"):
        assert EXEMPT_TITLE not in json.dumps(event.details) + event.reason
    assert bot.get(briefing_id).state == BriefingState.BRIEFED
    assert date(2026, 12, 21) == bot.calendar.local_date(bot.now())
