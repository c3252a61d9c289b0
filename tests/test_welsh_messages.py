"""A Welsh-speaking member hears everything in Welsh, and a bilingual council speaks Welsh first.

The sample council's Cllr Helen Marsh (language `cy` in people.csv) is briefed by Owen Brady
(no language: the council's English) on HBC-2027-005, decided Tue 26 Jan 2027.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import replace
from datetime import date

import pytest
from livebot import (
    HELEN,
    OWEN,
    Bot,
    RecordingAdapter,
    card_text,
    local,
    make_bot,
    reimport_decisions,
    sample_people,
    sqlite_url,
)
from test_email import connector, inbox, server  # noqa: F401  (fixtures for the email test)
from test_slack import h  # noqa: F401  (the Slack harness fixture)

from bot.config import Settings
from bot.delivery.channels import Choice, save_choice
from bot.i18n import maintain
from bot.intake.store import store_directory
from bot.service import handle_command, home_cards
from bot.store.models import BriefingState
from bot.views.cards import ActionKind, Card

REF = "HBC-2027-005"
PLACEHOLDER = re.compile(r"`[^`]*`|{[^{}]*}|<[^<>]*>|[*•…]")


def english_sentences() -> list[str]:
    """Every run of three or more English words from the catalogue's messages: any of them in a
    Welsh message means a string reached the member without being translated."""
    runs: set[str] = set()
    for key in maintain.marked():
        for text in [key] if isinstance(key, str) else key:
            for part in PLACEHOLDER.split(text):
                part = part.strip(" .,:;()—←-")
                if len(part.split()) >= 3:
                    runs.add(part)
    return sorted(runs, key=len, reverse=True)


ENGLISH = english_sentences()


def untranslated(text: str) -> list[str]:
    return [run for run in ENGLISH if run in text]


def welsh_speaker(bot: Bot, email: str, language: str = "cy") -> None:
    """Re-import the sample directory with one person's `language` set."""
    people, portfolios = sample_people()
    people = [replace(p, language=language) if p.email == email else p for p in people]
    with bot.app.session() as session:
        store_directory(session, people, portfolios, now=bot.app.now(), actor="test")


def council(language: str) -> Settings:
    settings = Settings()
    return dataclasses.replace(settings, council=replace(settings.council, language=language))


@pytest.fixture
def bot(tmp_path) -> Bot:
    bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 4, 8, 0))
    welsh_speaker(bot, HELEN)
    return bot


def assert_welsh(card: Card) -> None:
    text = card_text(card)
    assert card.language == "cy", text
    assert untranslated(text) == [], text


async def test_a_welsh_speaking_member_gets_every_message_in_welsh(bot: Bot):
    await bot.tick_at(bot.morning(date(2027, 1, 5)))
    helen = bot.briefing(REF, HELEN)
    [prompt] = bot.adapter.to(OWEN, briefing_id=helen.id)
    assert prompt.card.title == "Member briefings are coming up"  # Owen's stays English
    assert prompt.card.language == "en"

    # Owen logs the briefing: Helen is asked, in Welsh, to acknowledge it.
    bot.set(local(2027, 1, 5, 11, 0))
    reply = await bot.click(OWEN, ActionKind.LOG_BRIEFING, helen.id, {"how": "call"})
    assert reply.ok, reply.message
    await bot.deliver()
    [ask] = bot.adapter.to(HELEN, briefing_id=helen.id)
    assert ask.card.title == "Cadarnhewch eich briff"
    assert "Mae Owen Brady wedi cofnodi eu bod wedi eich briffio" in card_text(ask.card)
    assert "Maw 5 Ion" in card_text(ask.card)  # the day, in Welsh
    assert [b.label for b in ask.card.buttons] == [
        "Cydnabod",
        "Heb ei friffio eto",
        "Angen rhagor o wybodaeth",
    ]
    assert_welsh(ask.card)

    # Two working days later she is reminded, in Welsh.
    await bot.working_mornings(date(2027, 1, 6), date(2027, 1, 8))
    reminder = bot.adapter.to(HELEN, briefing_id=helen.id)[-1]
    assert [n.kind for n in bot.nudges(recipient_email=HELEN)][-1] == "member_reminder"
    assert_welsh(reminder.card)

    # She asks for more information: her answer is in Welsh; Owen hears in English.
    bot.set(local(2027, 1, 8, 11, 0))
    reply = await bot.click(HELEN, ActionKind.NEED_MORE_INFO, helen.id, {"note": "Costau?"})
    assert reply.message == "Diolch. Gofynnwyd i'r swyddog gysylltu â chi eto."
    assert reply.card is not None
    assert_welsh(reply.card)
    await bot.deliver()
    to_owen = bot.adapter.to(OWEN, briefing_id=helen.id)[-1]
    assert "would like more information" in card_text(to_owen.card)

    # Owen logs it again; she acknowledges; her copy of the card is redrawn in Welsh.
    reply = await bot.click(OWEN, ActionKind.LOG_BRIEFING, helen.id, {"how": "meeting"})
    assert reply.ok, reply.message
    reply = await bot.click(HELEN, ActionKind.ACKNOWLEDGE, helen.id)
    assert reply.message == "Diolch am gydnabod y briff."
    assert reply.card is not None and reply.card.title == "Briff wedi'i gydnabod"
    assert_welsh(reply.card)
    assert bot.get(helen.id).state == BriefingState.ACKNOWLEDGED

    # A second press is thanked, and a stale button refused, in Welsh.
    again = await bot.click(HELEN, ActionKind.ACKNOWLEDGE, helen.id, version=1)
    assert again.message == "Diolch: rydych eisoes wedi cydnabod y briff hwn."
    stale = await bot.click(HELEN, ActionKind.NOT_YET_BRIEFED, helen.id, version=1)
    assert not stale.ok and untranslated(stale.message) == []
    assert stale.message.startswith("Mae'r neges hon wedi dyddio")

    # The decision is brought forward: she is told, in Welsh, that it has changed.
    bot.set(local(2027, 1, 11, 10, 0))
    reimport_decisions(bot.app, {REF: {"decision_due": date(2027, 1, 22)}})
    await bot.tick_at(local(2027, 1, 11, 10, 5))
    changed = bot.adapter.to(HELEN, briefing_id=helen.id)[-1]
    assert changed.card.title == "Wedi newid ers i chi gael eich briffio"
    assert_welsh(changed.card)
    # What changed was stored in English by the sweep; she reads it in Welsh, dates and all.
    assert "symudodd dyddiad y penderfyniad o Maw 26 Ion i Gwen 22 Ion" in card_text(changed.card)

    # The item is withdrawn: she hears that in Welsh too.
    reimport_decisions(bot.app, {REF: {"status": "Withdrawn"}})
    await bot.tick_at(local(2027, 1, 11, 11, 0))
    withdrawn = bot.adapter.to(HELEN, briefing_id=helen.id)[-1]
    assert withdrawn.card.title == "Wedi'i dynnu o'r blaengynllun"
    assert_welsh(withdrawn.card)

    # What she asks for herself is answered in Welsh.
    for text in ("/surprises mine", "/surprises help", f"/surprises {REF}"):
        reply = await handle_command(
            bot.hub, text=text, actor_email=HELEN, platform="test", direct=True
        )
        for card in reply.cards:
            assert_welsh(card)
    for card in await home_cards(bot.hub, actor_email=HELEN):
        assert_welsh(card)


async def test_a_bilingual_council_speaks_welsh_first(tmp_path):
    bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 4, 8, 0), settings=council("cy+en"))
    await bot.tick_at(bot.morning(date(2027, 1, 5)))
    helen = bot.briefing(REF, HELEN)
    [prompt] = bot.adapter.to(OWEN, briefing_id=helen.id)
    card = prompt.card
    assert card.language == "cy+en"
    # Owen's one card about the item, listing both members, Welsh first.
    assert card.title == "Mae angen briffio aelodau cyn bo hir / Member briefings are coming up"
    welsh, english = card.lines.index(""), len(card.lines)
    assert "gofynnir i chi friffio 2 aelod" in card.lines[0]
    assert "you are asked to brief 2 members" in card.lines[welsh + 1]
    assert welsh + 1 < english
    [row] = [section for section in card.sections if section.briefing_id == helen.id]
    assert row.buttons[0].label == "Rwyf wedi'u briffio / I've briefed them"
    field = {f.label: f.value for f in row.fields}
    assert "Briff erbyn / Briefing due" in field
    assert field["Briff erbyn / Briefing due"] == "Maw 12 Ion / Tue 12 Jan"

    # Someone whose own language is English hears English only.
    welsh_speaker(bot, HELEN, "en")
    reply = await bot.click(OWEN, ActionKind.LOG_BRIEFING, helen.id, {"how": "call"})
    assert reply.message.startswith("Diolch.") and "\n\nThank you." in reply.message
    await bot.deliver()
    [ask] = bot.adapter.to(HELEN, briefing_id=helen.id)
    assert ask.card.language == "en" and ask.card.title == "Please confirm your briefing"


async def test_a_welsh_council_speaks_welsh_to_everyone_without_a_language(tmp_path):
    bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 4, 8, 0), settings=council("cy"))
    await bot.tick_at(bot.morning(date(2027, 1, 5)))
    helen = bot.briefing(REF, HELEN)
    [prompt] = bot.adapter.to(OWEN, briefing_id=helen.id)
    assert prompt.card.title == "Mae angen briffio aelodau cyn bo hir"
    assert_welsh(prompt.card)
    reply = await handle_command(
        bot.hub, text="/surprises", actor_email=OWEN, platform="test", direct=True
    )
    assert reply.cards[0].title.startswith("Beth allai synnu aelod o hyd")
    for card in reply.cards:
        assert_welsh(card)


async def test_a_welsh_member_on_slack_gets_welsh_blocks_buttons_and_answers(
    h,  # noqa: F811  (the Slack tests' harness, imported above)
):
    from slack_mock import block_actions_body, command_body
    from test_slack import HELEN as SLACK_HELEN
    from test_slack import button, message_of

    from bot.ticks import deliver_tick

    welsh_speaker(h.bot, SLACK_HELEN)
    await deliver_tick(h.bot.hub)
    helen = h.bot.briefing("HBC-2027-009", SLACK_HELEN)
    reply = await h.bot.click(OWEN, ActionKind.LOG_BRIEFING, helen.id, {"how": "call"})
    assert reply.ok, reply.message
    await deliver_tick(h.bot.hub)
    channel, ts = message_of(h, SLACK_HELEN, helen.id)
    blocks = h.mock.messages[(channel, ts)]["blocks"]
    shown = json.dumps(blocks, ensure_ascii=False)
    assert "Cadarnhewch eich briff" in shown and untranslated(shown) == []
    ack = button(h.mock.messages[(channel, ts)], ActionKind.ACKNOWLEDGE)
    assert ack["text"]["text"] == "Cydnabod"
    body = block_actions_body(
        h.uid(SLACK_HELEN),
        channel,
        ts,
        ack["action_id"],
        ack["value"],
        f"{h.mock.url}/response/1",
    )
    assert (await h.send(body))[0] == 200
    assert h.mock.responses[-1]["text"] == "Diolch am gydnabod y briff."
    redrawn = [c for c in h.mock.called("chat.update") if c.params["ts"] == ts]
    assert "Briff wedi'i gydnabod" in json.dumps(redrawn[-1].params["blocks"], ensure_ascii=False)
    status, _ = await h.send(command_body(h.uid(SLACK_HELEN), "mine", f"{h.mock.url}/response/2"))
    assert status == 200
    answer = json.dumps(h.mock.responses[-1], ensure_ascii=False)
    assert "Eich briffiau" in answer and untranslated(answer) == []


async def test_the_console_shows_a_welsh_member_her_messages_in_welsh(tmp_path):
    import io

    from adapters.console.adapter import ConsoleAdapter

    bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 4, 8, 0))
    welsh_speaker(bot, HELEN)
    out = io.StringIO()
    console = ConsoleAdapter(bot.hub, out=out, read_line=lambda: "")
    bot.hub.adapters.clear()
    bot.hub.register(console)
    await bot.tick_at(bot.morning(date(2027, 1, 5)))
    helen = bot.briefing(REF, HELEN)
    await bot.click(OWEN, ActionKind.LOG_BRIEFING, helen.id, {"how": "call"})
    await bot.deliver()
    await console.execute("as helen marsh")
    await console.execute("home")
    await console.execute("help")
    shown = out.getvalue()
    part = shown[shown.index("── At Cllr Helen Marsh") :]
    assert "Cadarnhewch eich briff" in part and "Cydnabod" in part
    assert "Rydych bellach yn gweithredu fel Cllr Helen Marsh" in shown
    assert "── Hafan Cllr Helen Marsh" in shown
    assert "gweithredu fel y person hwn" in shown  # `help`, in her language
    home = shown[shown.index("── Hafan") :]
    assert untranslated(home) == [] and untranslated(part.split("> as")[0]) == []


async def test_a_welsh_member_with_no_chat_account_answers_a_welsh_email_on_welsh_pages(
    server,  # noqa: F811  (the email tests' fixtures, imported above)
    inbox,  # noqa: F811
    connector,  # noqa: F811
):
    from test_email import HOUSING, SARAH, VERSION_FIELD, briefing, log_in_chat, mail_about

    from bot.links import LinkPurpose, LinkSigner
    from bot.store.secrets import link_key

    people, portfolios = sample_people()
    people = [replace(p, language="cy") if p.email == SARAH else p for p in people]
    with server.app.session() as session:
        store_directory(session, people, portfolios, now=server.app.now(), actor="test")
    await log_in_chat(server, HOUSING)
    mail = mail_about(inbox, HOUSING)
    assert "Mae Imran Qureshi wedi cofnodi eu bod wedi eich briffio" in mail.text
    assert "I ateb, agorwch ddolen isod" in mail.text  # the email's own words, in Welsh
    assert 'lang="cy"' in mail.html
    assert untranslated(mail.text) == [] and untranslated(mail.html) == []
    calendar = next(p for p in mail.message.walk() if p.get_content_type() == "text/calendar")
    assert "Briffio aelod i'w gwblhau" in calendar.get_content()

    link = mail.links()["Cydnabod"]
    status, page = await server.get(link)
    assert status == 200 and "Cadarnhau: Cydnabod" in page and 'lang="cy"' in page
    version = VERSION_FIELD.search(page)
    assert version is not None
    status, page = await server.post(link, {"version": version.group(1)})
    assert status == 200 and "Wedi&#x27;i wneud" in page and untranslated(page) == []
    assert briefing(server, HOUSING, SARAH).state == "acknowledged"

    # A link that has been tampered with names nobody, so it is refused in the council's
    # language (English here).
    status, page = await server.get(link[:-3] + "xyz")
    assert status in (403, 404) and "altered" in page
    with server.app.session() as session:
        token = LinkSigner(link_key(session)).make(purpose=LinkPurpose.PREFERENCES, email=SARAH)
    status, page = await server.get(f"{server.url}/email/preferences/{token}")
    assert status == 200 and "Sut mae No Surprises yn cysylltu â chi" in page


async def test_the_risks_the_rules_store_in_english_are_read_in_welsh(bot: Bot):
    from sqlalchemy import select

    from bot.store.models import Decision
    from bot.views import phrases
    from bot.views.bilingual import from_stored, speaking

    await bot.sweep()
    reimport_decisions(bot.app, {REF: {"decision_due": date(2027, 1, 22)}})
    await bot.sweep()
    with bot.app.session() as session:
        stored = {f["text"] for d in session.scalars(select(Decision)) for f in d.flags}
    # The private-meeting notice is built from parts no template covers: it stays English.
    covered = {text for text in stored if not text.startswith("Exempt item first published")}
    assert len(covered) >= 8
    with speaking("cy"):
        for text in covered:
            welsh = from_stored(text, phrases.RISK_TEMPLATES)
            assert welsh != text and untranslated(welsh) == [], text
    # English readers get each text exactly as stored.
    assert all(from_stored(text, phrases.RISK_TEMPLATES) == text for text in covered)
    with speaking("cy"):
        assert any(
            from_stored(text, phrases.RISK_TEMPLATES)
            == "Dygwyd dyddiad y penderfyniad ymlaen o Maw 26 Ion i Gwen 22 Ion."
            for text in covered
        )


async def test_a_welsh_officer_on_slack_fills_a_welsh_form(
    h,  # noqa: F811  (the Slack tests' harness, imported above)
):
    from slack_mock import block_actions_body
    from test_slack import button, message_of

    from bot.ticks import deliver_tick

    welsh_speaker(h.bot, OWEN)
    await deliver_tick(h.bot.hub)
    helen = h.bot.briefing("HBC-2027-009", HELEN)
    channel, ts = message_of(h, OWEN, helen.id)
    element = button(h.mock.messages[(channel, ts)], ActionKind.LOG_BRIEFING, helen.id)
    assert element["text"]["text"] == "Rwyf wedi'u briffio"
    body = block_actions_body(
        h.uid(OWEN),
        channel,
        ts,
        element["action_id"],
        element["value"],
        f"{h.mock.url}/response/1",
    )
    assert (await h.send(body))[0] == 200
    [opened] = h.mock.called("views.open")
    view = opened.params["view"]
    assert (view["submit"]["text"], view["close"]["text"]) == ("Cadw", "Canslo")
    labels = {b["block_id"]: b["label"]["text"] for b in view["blocks"]}
    assert labels["when"] == "Pryd wnaethoch chi eu briffio?"
    how = next(b for b in view["blocks"] if b["block_id"] == "how")
    assert [o["text"]["text"] for o in how["element"]["options"]] == [
        "Cyfarfod",
        "Galwad",
        "E-bost",
        "Sgwrs",
    ]
    assert [o["value"] for o in how["element"]["options"]] == [
        "meeting",
        "call",
        "email",
        "chat",
    ]  # the values the core reads stay the same in every language


async def test_a_welsh_member_is_given_a_heads_up_in_welsh(bot: Bot):
    from bot.service import handle_headsup

    await bot.tick_at(bot.morning(date(2027, 1, 5)))
    reply = await handle_headsup(
        bot.hub,
        text=f"/headsup {REF} press release: The play area reopens in March",
        actor_email=OWEN,
        platform="test",
    )
    assert reply.cards[0].title == "Heads-up sent"  # Owen's answer stays in English
    await bot.deliver()
    card = [s for s in bot.adapter.to(HELEN) if s.card.briefing_id is None][-1].card
    assert card.title.startswith("Rhybudd ymlaen llaw: datganiad i'r wasg am")
    assert "Rydych yn cael gwybod fel deiliad y portffolio" in card_text(card)
    assert [b.label for b in card.buttons] == ["Cydnabod"]
    assert_welsh(card)
    done = await bot.click(HELEN, card.buttons[0].kind, 0, payload=card.buttons[0].payload)
    assert (
        done.message
        == "Diolch: bydd Owen Brady yn gweld eich bod wedi cydnabod eu rhybudd ymlaen llaw."
    )


async def test_a_welsh_member_who_asked_gets_her_morning_digest_by_email_in_welsh(bot: Bot):
    email = RecordingAdapter("email")
    bot.hub.register(email)
    with bot.app.session() as session:
        save_choice(session, HELEN, Choice(digest_by_email=True), now=bot.app.now())
    await bot.tick_at(local(2027, 1, 18, 9, 0))  # a week before HBC-2027-005 is decided
    [digest] = [s for s in email.to(HELEN) if REF in card_text(s.card) and not s.card.buttons]
    assert digest.card.title.startswith("Bore da")
    assert_welsh(digest.card)
