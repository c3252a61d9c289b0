"""Reassigning in a large council: too many officers to list, so Slack (external_select) and
Teams (Input.ChoiceSet with a Data.Query) ask the bot who matches as the person types. End to
end over loopback HTTP, with a council of more than a hundred officers: only officers the rules
allow are offered, only to someone who may reassign the briefing, only for a signed payload;
choosing one reassigns the briefing, and a forged choice is refused."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import test_slack
import test_teams
from livebot import email, reimport_directory
from slack_mock import (
    block_suggestion_body,
    post,
    signed,
    view_submission_body,
)
from sqlalchemy import select
from teams_mock import Member, MockConnector, _base, execute, message, search, submit
from test_slack import Harness, message_of, press
from test_teams import DOMAIN, Rig, actions_for, every_action, install

from bot.intake.records import PersonRecord
from bot.service import LISTED_PEOPLE, eligible_officers, form_for
from bot.store.models import Briefing, PostedCard, Role
from bot.ticks import deliver_tick
from bot.views.cards import ActionKind, InputKind

FIRST = ("Alex", "Bea", "Cal", "Dina", "Eli", "Faye", "Gus", "Hana", "Ivo", "Jude", "Kai", "Lola")
LAST = ("Ashby", "Birch", "Coates", "Dale", "Ewart", "Frost", "Gill", "Hale", "Irwin", "Jory")
SIMON = email("Simon Reeve")


def officer(name: str) -> PersonRecord:
    return PersonRecord(
        email=email(name),
        name=name,
        roles=("officer",),
        job_title="Officer",
        directorate="Place",
        manager_email=SIMON,
    )


# 120 more officers, one of them sharing the member's surname and one the briefer's; and a
# councillor (never an officer) who shares it too.
COUNCIL = [officer(f"{f} {s}") for f in FIRST for s in LAST] + [
    officer("Rhys Marsh"),
    officer("Kit Brady"),
    PersonRecord(
        email=email("Ivy Marsh"),
        name="Cllr Ivy Marsh",
        roles=("ward_councillor",),
        wards=("Millbrook",),
    ),
]
OWEN, HELEN, TOM = email("Owen Brady"), email("Helen Marsh"), email("Tom Ellery")
RHYS, KIT, IVY = email("Rhys Marsh"), email("Kit Brady"), email("Ivy Marsh")
REF = "HBC-2027-009"  # Owen briefs Cllr Helen Marsh on it


def eligible(app: Any) -> set[str]:
    """Every officer but Owen, who has the briefing now (the member is no officer)."""
    with app.session() as session:
        people = app.directory(session).people.values()
    return {p.email for p in people if p.has(Role.OFFICER)} - {OWEN}


def forged(payload: str, **changes: Any) -> str:
    """The payload with a field changed and its signature kept, as a forger would."""
    return json.dumps({**json.loads(payload), **changes}, separators=(",", ":"))


# --- the core ---------------------------------------------------------------------------------


async def test_the_core_searches_only_for_someone_who_may_reassign_a_signed_current_button(
    tmp_path: Path,
) -> None:
    h = await test_slack.harness(tmp_path)
    try:
        bot = h.bot
        reimport_directory(bot.app, add=COUNCIL)
        briefing = bot.briefing(REF, HELEN)
        payload = bot.sign(ActionKind.REASSIGN, briefing.id)
        everyone = eligible(bot.app)
        assert len(everyone) > LISTED_PEOPLE

        async def found(actor: str | None, typed: str, pay: str = payload, **paging: int):
            people = await eligible_officers(
                bot.hub, payload=pay, actor_email=actor, text=typed, **({"limit": 500} | paging)
            )
            return [p.email for p in people]

        assert await found(OWEN, "marsh") == [RHYS]
        assert await found(OWEN, "  BRADY ") == [KIT]
        assert await found(OWEN, "hale alex") == [email("Alex Hale")]
        assert set(await found(OWEN, "")) == everyone
        assert await found(SIMON, "marsh") == [RHYS]  # Owen's director may pass it on too
        first, second = await found(OWEN, "", limit=10), await found(OWEN, "", skip=10, limit=10)
        assert len(first) == len(second) == 10 and not set(first) & set(second)
        # Nobody else gets anyone: a colleague outside Owen's line, the member, a stranger.
        for actor in (TOM, HELEN, "someone@elsewhere.example.org", None):
            assert await found(actor, "marsh") == []
        # Nor does a payload naming another briefing, another button's, or an older version.
        assert await found(OWEN, "marsh", forged(payload, b=briefing.id + 1)) == []
        assert await found(OWEN, "marsh", bot.sign(ActionKind.SNOOZE, briefing.id)) == []
        stale = bot.sign(ActionKind.REASSIGN, briefing.id, briefing.version - 1)
        assert await found(OWEN, "marsh", stale) == []
        assert await found(OWEN, "marsh", "not a payload") == []

        # The form: too many to list, so the person field searches, keyed by the payload.
        form = await form_for(bot.hub, kind=ActionKind.REASSIGN, actor_email=OWEN, payload=payload)
        assert form is not None
        [to] = [i for i in form.button.inputs if i.kind == InputKind.PERSON]
        assert to.options == () and to.search == payload
    finally:
        await h.http.close()
        await h._runner.cleanup()  # type: ignore[attr-defined]
        await h.mock.stop()


# --- Slack ------------------------------------------------------------------------------------


@pytest.fixture(params=[True, False], ids=["processed-first", "production"])
async def slack(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    """Bolt as the tests usually run it, and as production does (ack first, work after)."""
    h = await test_slack.harness(tmp_path, process_before_response=request.param)
    reimport_directory(h.bot.app, add=COUNCIL)
    yield h
    await h.http.close()
    await h._runner.cleanup()  # type: ignore[attr-defined]
    await h.mock.stop()


async def suggested(h: Harness, who: str, view: dict[str, Any], typed: str) -> dict[str, str]:
    """What the bot offers `who` typing `typed` into the modal's person menu: {email: name}."""
    body = block_suggestion_body(h.uid(who), view, "to", typed)
    status, text = await h.send(body)
    assert status == 200, text
    return {o["value"]: o["text"]["text"] for o in json.loads(text)["options"]}


async def test_slack_offers_matching_eligible_officers_as_one_types_and_the_choice_reassigns(
    slack: Harness,
) -> None:
    h = slack
    await deliver_tick(h.bot.hub)
    helen = h.bot.briefing(REF, HELEN)
    channel, ts = message_of(h, OWEN, helen.id)
    await press(h, OWEN, channel, ts, ActionKind.REASSIGN, briefing_id=helen.id)
    await h.mock.wait_for(lambda: h.mock.called("views.open"))  # after the ack, in production
    [opened] = h.mock.called("views.open")
    view = opened.params["view"]
    to = next(b["element"] for b in view["blocks"] if b["block_id"] == "to")
    assert to["type"] == "external_select" and "options" not in to

    audits = h.audit_count()
    assert await suggested(h, OWEN, view, "marsh") == {RHYS: "Rhys Marsh"}
    assert await suggested(h, OWEN, view, "Brady") == {KIT: "Kit Brady"}
    many = await suggested(h, OWEN, view, "harbourside")
    assert len(many) == 100 and set(many) <= eligible(h.bot.app)  # Slack's cap
    assert await suggested(h, SIMON, view, "marsh") == {RHYS: "Rhys Marsh"}
    # Someone who may not reassign it, or a forged payload, is offered nobody.
    assert await suggested(h, TOM, view, "marsh") == {}
    metadata = json.loads(view["private_metadata"])
    altered = forged(metadata["payload"], b=helen.id + 1)
    tampered = {**view, "private_metadata": json.dumps({**metadata, "payload": altered})}
    assert await suggested(h, OWEN, tampered, "marsh") == {}
    # An unsigned request is turned away before anything reads it.
    body = block_suggestion_body(h.uid(OWEN), view, "to", "marsh")
    assert (await post(h.http, h.url, body, signed(body, secret="wrong")))[0] == 401
    assert h.audit_count() == audits  # asking who matches changes nothing

    # A choice nobody was offered (the member, a councillor) is refused and changes nothing.
    for chosen in (HELEN, IVY):
        assert (await h.send(view_submission_body(h.uid(OWEN), view, {"to": chosen})))[0] == 200
        assert h.bot.get(helen.id).briefer_email == OWEN
    status, text = await h.send(view_submission_body(h.uid(OWEN), view, {"to": RHYS}))
    assert status == 200, text
    assert h.bot.get(helen.id).briefer_email == RHYS
    assert [e.outcome for e in h.bot.events(action="reassign")][-1] == "done"


# --- Teams ------------------------------------------------------------------------------------

TEAMS_OWEN, TEAMS_TOM = test_teams.OWEN, Member("Tom Ellery", f"tom.ellery@{DOMAIN}", "aad-tom")


@pytest.fixture
async def teams(tmp_path: Path) -> AsyncIterator[Rig]:
    connector = MockConnector()
    connector.start_in_thread()
    for member in (TEAMS_OWEN, TEAMS_TOM, test_teams.HELEN):
        connector.add(member)
    app = test_teams.open_app(tmp_path, test_teams.LOCAL)
    reimport_directory(app, add=COUNCIL)
    async for rig in test_teams.serve(app, connector):
        yield rig
    connector.stop_thread()


async def owens_card(rig: Rig) -> tuple[PostedCard, dict[str, Any]]:
    """Owen's Teams card about Cllr Marsh's briefing, as it was sent."""
    await install(rig, TEAMS_OWEN)
    rig.mock.clear()
    await deliver_tick(rig.hub)
    with rig.app.session() as session:
        posted = session.scalars(
            select(PostedCard)
            .join(Briefing, Briefing.id == PostedCard.briefing_id)
            .where(
                PostedCard.platform == "teams",
                PostedCard.recipient_email == OWEN,
                Briefing.member_email == HELEN,
            )
        ).first()
    assert posted is not None
    [call] = [
        c
        for c in rig.mock.of("send", TEAMS_OWEN.personal_conversation)
        if c.answered_id == posted.message_id
    ]
    return posted, call.cards[0]


def reassign_form(
    card: dict[str, Any], briefing_id: int | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the person field, the form's submit data) of a card's Reassign form (given a
    briefing, the one on its row of an officer's card about a decision)."""
    actions = every_action(card) if briefing_id is None else actions_for(card, briefing_id)
    form = next(a for a in actions if a["title"] == "Reassign")["card"]
    return next(i for i in form["body"] if i["id"].endswith("_to")), form["actions"][0]["data"]


async def searched(rig: Rig, who: Member, dataset: str, typed: str, **paging: int) -> list[str]:
    async with rig.http.post(
        f"{rig.url}/api/messages", json=search(who, dataset, typed, rig.mock.url, **paging)
    ) as response:
        assert response.status == 200
        body = await response.json()
    assert body["type"] == "application/vnd.microsoft.search.searchResponse"
    return [r["value"] for r in body["value"]["results"]]


async def test_teams_typeahead_offers_matching_eligible_officers_and_the_choice_reassigns(
    teams: Rig,
) -> None:
    rig = teams
    posted, card = await owens_card(rig)
    to, data = reassign_form(card, posted.briefing_id)
    assert to["type"] == "Input.ChoiceSet" and to["choices"] == []
    query = to["choices.data"]
    assert query["type"] == "Data.Query"
    dataset = query["dataset"]

    assert await searched(rig, TEAMS_OWEN, dataset, "marsh") == [RHYS]
    assert await searched(rig, TEAMS_OWEN, dataset, "BRADY") == [KIT]
    page = await searched(rig, TEAMS_OWEN, dataset, "harbourside")
    assert len(page) == 15 and set(page) <= eligible(rig.app)  # Teams' own page size
    later = await searched(rig, TEAMS_OWEN, dataset, "harbourside", skip=15, top=15)
    assert len(later) == 15 and not set(page) & set(later)
    # Someone outside Owen's line, or a dataset that is not ours or was altered: nobody.
    assert await searched(rig, TEAMS_TOM, dataset, "marsh") == []
    assert await searched(rig, TEAMS_OWEN, "people", "marsh") == []
    prefix, payload = dataset.split(":", 1)
    altered = forged(payload, b=posted.briefing_id + 1)
    assert await searched(rig, TEAMS_OWEN, f"{prefix}:{altered}", "marsh") == []

    # A forged choice (the member) is refused; the offered one reassigns the briefing.
    for chosen in (HELEN, RHYS):
        press = submit(TEAMS_OWEN, {**data, to["id"]: chosen}, posted.message_id, rig.mock.url)
        assert (await rig.post(press)).status == 201
    assert rig.briefing(posted.briefing_id).briefer_email == RHYS


# --- Teams: every card shown carries the officers, not only a freshly delivered one ----------


@pytest.fixture
async def small(tmp_path: Path) -> AsyncIterator[Rig]:
    """The sample council (a few officers, so the list is on the card)."""
    connector = MockConnector()
    connector.start_in_thread()
    connector.add(TEAMS_OWEN)
    app = test_teams.open_app(tmp_path, test_teams.LOCAL)
    async for rig in test_teams.serve(app, connector):
        yield rig
    connector.stop_thread()


def officers_offered(card: dict[str, Any]) -> list[str]:
    to, _data = reassign_form(card)
    assert to["type"] == "Input.ChoiceSet", to
    return [c["value"] for c in to["choices"]]


async def test_teams_cards_answered_redrawn_or_in_the_tab_list_the_officers_as_sent_ones_do(
    small: Rig,
) -> None:
    rig = small
    posted, sent = await owens_card(rig)
    offered = officers_offered(sent)
    assert offered and OWEN not in offered and HELEN not in offered

    # `home` in the chat answers with his cards: each Reassign lists the same officers.
    ask = message(TEAMS_OWEN, "home", rig.mock.url)
    assert (await rig.post(ask)).status == 201
    replied = [c for r in test_teams.replies_to(rig, ask) for c in r.cards]
    helens = [c for c in replied if "Reassign" in json.dumps(c) and "Helen Marsh" in json.dumps(c)]
    assert helens and all(officers_offered(c) == offered for c in helens)

    # The personal tab draws the same.
    tab = _base("invoke", TEAMS_OWEN, rig.mock.url)
    tab |= {"name": "tab/fetch", "value": {"tabContext": {"tabEntityId": "home"}}}
    async with rig.http.post(f"{rig.url}/api/messages", json=tab) as response:
        cards = [c["card"] for c in (await response.json())["tab"]["value"]["cards"]]
    assert any(officers_offered(c) == offered for c in cards if "Reassign" in json.dumps(c))

    # A press answered in place (Action.Submit) and one answered with the card (Action.Execute).
    _to, data = reassign_form(sent, posted.briefing_id)
    snooze = next(a for a in actions_for(sent, posted.briefing_id) if a["title"] == "Snooze")
    until = next(i["id"] for i in snooze["card"]["body"])
    press = submit(
        TEAMS_OWEN, {**snooze["card"]["actions"][0]["data"], until: "1"}, posted.message_id,
        rig.mock.url,
    )  # fmt: skip
    assert (await rig.post(press)).status == 201
    [update] = rig.mock.of("update", TEAMS_OWEN.personal_conversation)
    assert officers_offered(update.cards[0]) == offered
    pressed = execute(TEAMS_OWEN, data, posted.message_id, rig.mock.url)  # no officer chosen
    async with rig.http.post(f"{rig.url}/api/messages", json=pressed) as response:
        answered = (await response.json())["value"]
    assert officers_offered(answered) == offered
