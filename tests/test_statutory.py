"""The statutory rules, checked rather than asserted (issue 10, items 8–16).

England: SI 2012/2089 regs 9, 10, 11 and 5; data quality; what scrutiny chairs see; rule sets
by nation that cite their own instruments, or say the council's standing orders apply.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from livebot import (
    SAMPLE_COUNCIL,
    Bot,
    card_text,
    email,
    example_settings,
    local,
    make_bot,
    reimport_decisions,
    sqlite_url,
)

from bot.config import EXAMPLE_CONFIG, ConfigError, RulesSettings, load_settings
from bot.decisions.calendar import CouncilCalendar, Nation
from bot.decisions.facts import DecisionFacts
from bot.decisions.flags import Flag
from bot.decisions.rules import assess
from bot.intake.forward_plan_csv import parse_forward_plan
from bot.store.directory import Directory, load_directory
from bot.views.cards import ActionKind
from bot.views.commands import answer

NOW = datetime(2027, 1, 5, 9, 30, tzinfo=UTC)
ROSA = email("Rosa Lind")  # scrutiny chair
CLAIRE = email("Claire Dunn")  # democratic services
OWEN = email("Owen Brady")
MARGARET = email("Margaret Hollis")
EXEMPT_GE = "HBC-2027-004"  # Fully exempt, General Exception, first published 20 Dec
ROOF = "HBC-2027-009"  # Special Urgency, Cabinet 11 Feb


@pytest.fixture(scope="module")
def directory(tmp_path_factory) -> Directory:
    bot = make_bot(sqlite_url(tmp_path_factory.mktemp("statutory")), NOW)
    with bot.app.session() as session:
        return load_directory(session)


@pytest.fixture(scope="module")
def plan() -> dict[str, DecisionFacts]:
    records, _ = parse_forward_plan(SAMPLE_COUNCIL / "forward_plan.csv")
    return {r.ref: r for r in records}


def flags(facts: DecisionFacts, directory: Directory, *, nation: str = "england", now=NOW):
    result = assess(
        facts,
        directory=directory,
        calendar=CouncilCalendar(),
        rules=RulesSettings(),
        now=now,
        nation=nation,
    )
    return {f.code: f for f in result.flags}


# --- 8. reg 10 general exception ---------------------------------------------------------------


def test_a_general_exception_two_clear_days_before_the_decision_is_flagged_red(plan, directory):
    facts = dataclasses.replace(
        plan[EXEMPT_GE], first_published=date(2027, 1, 11), decision_due=date(2027, 1, 14)
    )
    flag = flags(facts, directory)[Flag.SHORT_NOTICE]
    assert flag.severity == "red"
    assert "(reg 10, SI 2012/2089)" in flag.text
    assert "only 2 clear days before the decision" in flag.text
    in_time = dataclasses.replace(facts, first_published=date(2027, 1, 8))  # 5 clear days
    assert flags(in_time, directory)[Flag.SHORT_NOTICE].severity == ""
    chair = flags(facts, directory)[Flag.SCRUTINY_CHAIR]
    assert "has not yet acknowledged" in chair.text


async def test_the_scrutiny_chair_is_sent_the_notice_and_acknowledges_it(tmp_path):
    bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 5, 8, 0))
    await bot.tick_at(bot.morning(date(2027, 1, 5)))
    [notice] = [s for s in bot.adapter.to(ROSA) if s.card.title.startswith("General exception")]
    text = card_text(notice.card)
    assert "Emergency Temporary Accommodation Contract" in text
    assert "(reg 10, SI 2012/2089)" in text
    [ack] = notice.card.buttons
    assert ack.kind == ActionKind.SCRUTINY_ACKNOWLEDGE
    # Only the chair can acknowledge.
    refused = await bot.click(OWEN, ack.kind, 0, payload=ack.payload)
    assert not refused.ok and refused.message.startswith("Sorry")
    bot.set(local(2027, 1, 5, 11, 0))
    reply = await bot.click(ROSA, ack.kind, 0, payload=ack.payload)
    assert reply.ok and reply.changed, reply.message
    assert reply.card is not None and not reply.card.buttons
    again = await bot.click(ROSA, ack.kind, 0, payload=ack.payload)
    assert again.ok and not again.changed
    await bot.tick_at(local(2027, 1, 5, 11, 5))
    # The timeline says she was told and that she acknowledged; the flag says so too.
    with bot.app.session() as session:
        [card] = answer(
            app=bot.app, session=session, text=EXEMPT_GE, actor_email=MARGARET, direct=True
        )
    text = card_text(card)
    assert "Cllr Rosa Lind, the scrutiny chair, was sent the general exception notice." in text
    assert "Cllr Rosa Lind, the scrutiny chair, acknowledged the general exception notice." in text
    assert "Cllr Rosa Lind, the scrutiny chair, has acknowledged the notice." in text
    # Told once only.
    await bot.tick_at(bot.morning(date(2027, 1, 6)))
    assert len([s for s in bot.adapter.to(ROSA) if s.card.title.startswith("General")]) == 1


# --- 9. reg 11 special urgency ----------------------------------------------------------------


async def test_special_urgency_is_red_until_democratic_services_record_the_agreement(tmp_path):
    bot = make_bot(sqlite_url(tmp_path), local(2027, 2, 8, 8, 0))
    await bot.tick_at(bot.morning(date(2027, 2, 8)))
    stored = {f["code"]: f for f in bot.decision(ROOF).flags}
    assert stored["urgency_agreement"]["severity"] == "red"
    assert "has not been recorded" in stored["urgency_agreement"]["text"]
    [ask] = [s for s in bot.adapter.to(CLAIRE) if s.card.title.startswith("Special urgency")]
    [record] = ask.card.buttons
    assert record.kind == ActionKind.RECORD_URGENCY
    assert [i.name for i in record.inputs] == ["who"]
    bot.set(local(2027, 2, 8, 10, 0))
    wrong = await bot.click(CLAIRE, record.kind, 0, {"who": "the mayor"}, payload=record.payload)
    assert not wrong.ok and "Who agreed?" in wrong.message
    refused = await bot.click(
        OWEN, record.kind, 0, {"who": "Chair of the council"}, payload=record.payload
    )
    assert not refused.ok
    done = await bot.click(
        CLAIRE,
        record.kind,
        0,
        {"who": "Chair of the overview and scrutiny committee"},
        payload=record.payload,
    )
    assert done.ok and done.changed, done.message
    await bot.tick_at(local(2027, 2, 8, 10, 5))
    stored = {f["code"]: f for f in bot.decision(ROOF).flags}
    assert "severity" not in stored["urgency_agreement"]
    assert (
        "Agreed by the chair of the overview and scrutiny committee"
        in (stored["urgency_agreement"]["text"])
    )


# --- 10. reg 5 private meetings; 11. data quality ---------------------------------------------


def test_an_exempt_item_with_under_28_clear_days_notice_is_flagged(plan, directory):
    text = flags(plan[EXEMPT_GE], directory)[Flag.PRIVATE_MEETING].text
    assert "24 clear days before the decision" in text and "(reg 5, SI 2012/2089)" in text
    assert Flag.PRIVATE_MEETING not in flags(plan["HBC-2027-007"], directory)  # 1 Dec for 23 Feb


def test_data_quality_flags_in_plain_words(plan, directory):
    facts = dataclasses.replace(
        plan["HBC-2027-003"], first_published=None, decision_due=date(2027, 2, 13)
    )
    found = flags(facts, directory)
    assert "no first-published date" in found[Flag.NO_FIRST_PUBLISHED].text
    assert "falls on a Saturday" in found[Flag.NON_WORKING_DECISION_DAY].text
    holiday = dataclasses.replace(facts, decision_due=date(2027, 3, 29))
    assert "Easter Monday" in flags(holiday, directory)[Flag.NON_WORKING_DECISION_DAY].text
    # The roof repairs' notice is dated Mon 8 Feb 2027: after "today".
    assert "after today" in flags(plan[ROOF], directory)[Flag.NOTICE_AFTER_TODAY].text
    later = datetime(2027, 2, 9, 9, 30, tzinfo=UTC)
    assert Flag.NOTICE_AFTER_TODAY not in flags(plan[ROOF], directory, now=later)


# --- 12. scrutiny chairs see what the rules say they must --------------------------------------


async def test_the_scrutiny_chair_sees_general_exception_and_special_urgency_items(tmp_path):
    bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 5, 8, 0))
    await bot.tick_at(bot.morning(date(2027, 1, 5)))
    with bot.app.session() as session:
        [status] = answer(
            app=bot.app, session=session, text="/surprises days 60", actor_email=ROSA, direct=True
        )
        [item] = answer(app=bot.app, session=session, text=ROOF, actor_email=ROSA, direct=True)
        [other] = answer(
            app=bot.app, session=session, text="HBC-2027-003", actor_email=ROSA, direct=True
        )
    text = card_text(status)
    assert EXEMPT_GE in text and "Emergency Temporary Accommodation Contract" in text
    assert "Eastfield Leisure Centre Emergency Roof Repairs" in card_text(item)
    assert other.title == "Not found"  # an ordinary item is not hers to see


# --- 13. rules by nation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "nation", "holidays"),
    [
        ("england", "england", Nation.ENGLAND_AND_WALES),
        ("england-and-wales", "england", Nation.ENGLAND_AND_WALES),
        ("wales", "wales", Nation.ENGLAND_AND_WALES),
        ("scotland", "scotland", Nation.SCOTLAND),
        ("northern-ireland", "northern-ireland", Nation.NORTHERN_IRELAND),
    ],
)
def test_nation_accepts_each_nation(tmp_path: Path, setting, nation, holidays):
    config = tmp_path / "config.toml"
    config.write_text(f'[council]\nnation = "{setting}"\n', encoding="utf-8")
    settings = load_settings(str(config), environ={})
    assert settings.council.nation == nation
    assert CouncilCalendar.from_settings(settings.council).nation == holidays


def test_an_unknown_nation_is_refused_naming_the_setting(tmp_path: Path):
    config = tmp_path / "config.toml"
    config.write_text('[council]\nnation = "atlantis"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"council\.nation: expected england, wales, scotland"):
        load_settings(str(config), environ={})


@pytest.mark.parametrize("nation", ["wales", "scotland"])
def test_a_welsh_or_scottish_council_is_never_told_english_law(plan, directory, nation):
    late_key = dataclasses.replace(plan["HBC-2027-010"], first_published=date(2027, 2, 20))
    for facts in (plan[EXEMPT_GE], plan[ROOF], late_key):
        for flag in flags(facts, directory, nation=nation).values():
            assert "2012/2089" not in flag.text and "reg " not in flag.text, flag.text
    ge = flags(plan[EXEMPT_GE], directory, nation=nation)
    assert "the council's own standing orders apply" in ge[Flag.SHORT_NOTICE].text
    assert "the council's own standing orders apply" in ge[Flag.PRIVATE_MEETING].text
    schedule = "Schedule 7A" if nation == "scotland" else "as varied for Wales"
    assert schedule in ge[Flag.EXEMPT].text
    su = flags(plan[ROOF], directory, nation=nation)
    assert su[Flag.URGENCY_AGREEMENT].severity == ""  # no statutory rule the product knows
    key = flags(late_key, directory, nation=nation)[Flag.SHORT_NOTICE]
    assert "the council's own standing orders apply" in key.text


def test_northern_ireland_cites_its_own_private_meeting_rule(plan, directory):
    text = flags(plan[EXEMPT_GE], directory, nation="northern-ireland")[Flag.PRIVATE_MEETING].text
    assert "(reg 20, SR 2015/44)" in text and "2012/2089" not in text


# --- 16. the example config labels the working-days reading as local choice -----------------


def test_the_example_config_says_five_clear_days_and_labels_working_days_local():
    text = EXAMPLE_CONFIG.read_text(encoding="utf-8")
    assert "5 clear *working* days" not in text and "5 clear working days" not in text
    assert "five clear days" in text
    assert "the council's local choice" in text
    assert example_settings().council.nation == "england"


async def test_a_date_change_reads_as_a_sentence_in_the_timeline(tmp_path):
    # 15. "Due date moved from Thu 28 Jan to Thu 21 Jan because the decision was brought forward"
    bot: Bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 20, 8, 0))
    await bot.tick_at(bot.morning(date(2027, 1, 20)))
    bot.set(local(2027, 1, 20, 10, 0))
    reimport_decisions(bot.app, {"HBC-2027-003": {"decision_due": date(2027, 2, 4)}})
    await bot.tick_at(local(2027, 1, 20, 10, 0))
    with bot.app.session() as session:
        [card] = answer(
            app=bot.app, session=session, text="HBC-2027-003", actor_email=MARGARET, direct=True
        )
    text = card_text(card)
    assert (
        "Decision date moved from Thu 11 Feb to Thu 4 Feb because the decision was brought "
        "forward." in text
    )
    assert (
        "Due date for Cllr Sarah Whitlock moved from Thu 28 Jan to Thu 21 Jan because the "
        "decision was brought forward." in text
    )
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text), "dates in prose are never ISO"


# --- the new buttons work through a neutral card on the console ----------------------------------


async def test_the_new_buttons_work_on_the_console(tmp_path):
    from test_console import button, run_console

    bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 4, 8, 0))
    out = await run_console(
        bot,
        [
            "now 2027-01-04 09:30",
            "as Rosa Lind",
            lambda out: (
                f"click {button(out, 'To Cllr Rosa Lind', 'Emergency Temp', 'Acknowledge')}"
            ),
            "now 2027-01-13 09:05",
            "tick 1d",
            "as Simon Reeve",
            lambda out: f"click {button(out, 'To Simon Reeve', 'Millbrook', 'Noted')}",
        ],
    )
    assert "Thank you: your acknowledgement is recorded in the item's timeline." in out
    assert "Noted. Thank you." in out
    assert [e.actor_email for e in bot.events(action="scrutiny_acknowledge")] == [ROSA]
    assert [e.platform for e in bot.events(action="noted")] == ["console"]


async def test_an_item_with_no_briefing_says_why_in_words_not_symbols(tmp_path):
    # 15. "No briefing can be set up: no portfolio matches 'Parks'", never "🔴 — ← —".
    bot: Bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 20, 8, 0))
    bot.set(local(2027, 1, 20, 9, 30))
    reimport_decisions(
        bot.app,
        {"HBC-2027-003": {"portfolio": "Parks", "portfolio_holder": "", "key_decision": False}},
    )
    await bot.tick_at(local(2027, 1, 20, 9, 30))
    with bot.app.session() as session:
        [listing] = answer(
            app=bot.app, session=session, text="/surprises", actor_email=MARGARET, direct=True
        )
        [item] = answer(
            app=bot.app, session=session, text="HBC-2027-003", actor_email=MARGARET, direct=True
        )
    assert "no briefing can be set up: no portfolio matches 'Parks'" in card_text(listing)
    assert "No briefing can be set up: no portfolio matches 'Parks'." in card_text(item)
    assert "—" not in card_text(item).split("*Briefings*")[1].split("*Risks*")[0]


async def test_a_stale_source_is_dated_as_people_write_dates(tmp_path):
    from bot.store.models import SourceState

    bot: Bot = make_bot(sqlite_url(tmp_path), local(2027, 1, 5, 10, 0))
    with bot.app.session() as session:
        session.add(SourceState(name="harbourside", stale_since=local(2027, 1, 5, 9, 30)))
    with bot.app.session() as session:
        [card] = answer(
            app=bot.app, session=session, text="/surprises", actor_email=MARGARET, direct=True
        )
    assert card.lines[0] == (
        "⚠️ Source harbourside stale since Tue 5 Jan 09:30: showing the last good data."
    )
