"""Agenda items against the forward plan: procedural items set aside; the rest matched by the
issue they link to, else by normalised title on the plan's date before its decision maker."""

from __future__ import annotations

from datetime import date

import pytest

from bot.decisions.facts import DecisionFacts
from bot.intake.moderngov import DEFAULT_PROCEDURAL
from bot.intake.moderngov_agenda import (
    is_procedural,
    match_plan_item,
    title_key,
    unplanned_decision,
)
from bot.intake.moderngov_xml import AgendaItem, agenda_items

COUNCIL = "Harbourside Borough Council"
PLAN = [
    DecisionFacts(
        ref="HBC-1",
        title="Parks and Open Spaces Strategy",
        decision_due=date(2027, 2, 11),
        decision_maker="Cabinet",
        decision_due_text="11 Feb 2027 by Cabinet",
        source_url="https://x.example/mgIssueHistoryHome.aspx?IId=41",
    ),
    DecisionFacts(
        ref="HBC-2",
        title="Quayside Regeneration: Acquisition",
        decision_due=date(2027, 2, 1),
        decision_maker="Cabinet",
        decision_due_text="Not before 1st Feb 2027 by Cabinet",
        source_url="https://x.example/mgIssueHistoryHome.aspx?IId=42",
    ),
    DecisionFacts(
        ref="HBC-3",
        title="School Transport Contract",
        decision_due=date(2027, 3, 1),
        decision_maker="",
        decision_due_text="March 2027",
        source_url="https://x.example/mgIssueHistoryHome.aspx?IId=43",
    ),
]


def agenda(title: str, day: date, committee: str = "Cabinet", issue: str = "") -> AgendaItem:
    return AgendaItem("7", "70", title, committee, day, False, issue_id=issue)


def test_titles_compare_without_case_punctuation_ampersands_or_the_council_name():
    assert title_key("HARBOURSIDE BOROUGH COUNCIL Parks & Open Spaces Strategy", COUNCIL) == (
        "parks and open spaces strategy"
    )
    assert title_key("Harbourside: Parks and Open-Spaces Strategy", COUNCIL) == (
        "parks and open spaces strategy"
    )
    assert (
        title_key("7. Quayside Regeneration - Acquisition") == "quayside regeneration acquisition"
    )


def test_the_issue_link_wins_even_when_the_agenda_words_the_title_differently():
    item = agenda("Report on green spaces", date(2027, 2, 11), issue="41")
    assert match_plan_item(item, PLAN, council_name=COUNCIL) is PLAN[0]


@pytest.mark.parametrize(
    ("item", "ref"),
    [
        (
            agenda("Harbourside Borough Council - Parks & Open Spaces Strategy", date(2027, 2, 11)),
            "HBC-1",
        ),
        (agenda("Parks and Open Spaces Strategy", date(2027, 3, 11)), None),  # another date
        (agenda("Parks and Open Spaces Strategy", date(2027, 2, 11), "Audit Committee"), None),
        (agenda("Quayside Regeneration - Acquisition", date(2027, 2, 4)), "HBC-2"),  # not before
        (agenda("Quayside Regeneration - Acquisition", date(2027, 1, 28)), None),
        (agenda("School Transport Contract", date(2027, 3, 25)), "HBC-3"),  # that month
        (agenda("School Transport Contract", date(2027, 4, 1)), None),
        (agenda("Parks Strategy", date(2027, 2, 11), issue="99"), None),
    ],
)
def test_titles_match_only_on_the_plans_date_before_its_decision_maker(item, ref):
    found = match_plan_item(item, PLAN, council_name=COUNCIL)
    assert (found.ref if found else None) == ref


@pytest.mark.parametrize(
    "title",
    [
        "Minutes of the meeting held on 10 December 2026",
        "1. Apologies for Absence",
        "Declarations of Interest",
        "Chair's Announcements",
        "Leader's announcements",
        "Mayor\u2019s Announcements",
        "Questions from members of the public",
        "Petitions",
        "Deputations",
        "Urgent Business",
        "Exclusion of the Press and Public",
        "Appointments to Outside Bodies",
        "Forward Plan",
        "Cabinet Forward Plan of Key Decisions",
    ],
)
def test_procedural_items_are_set_aside(title: str):
    assert is_procedural(title, DEFAULT_PROCEDURAL)


@pytest.mark.parametrize(
    "title",
    ["Questionnaire Results: Library Users", "Appointment of Leisure Operator", "Housing Minutes"],
)
def test_decisions_that_merely_resemble_procedure_are_kept(title: str):
    assert not is_procedural(title, DEFAULT_PROCEDURAL)


def test_a_council_adds_its_own_procedural_wording():
    assert not is_procedural("Reports of Scrutiny Panels", DEFAULT_PROCEDURAL)
    assert is_procedural("Reports of Scrutiny Panels", (*DEFAULT_PROCEDURAL, "reports of scrutiny"))


MEETING = """<?xml version="1.0" encoding="utf-8"?><meeting><meetingid>88</meetingid>
<meetingdate>14/01/2027</meetingdate><agendaitems><agendaitem>
<agendaitemid>3</agendaitemid>
<agendaitemtitle>Quayside Ferry Terminal &amp;amp; Slipway</agendaitemtitle>
<agendatext>&lt;p&gt;Report of the Director of Place.
Ward(s): Quayside; Riverside.&lt;/p&gt;</agendatext>
<authorusername>Rachel Pym</authorusername>
<commentlabel1>Presented By</commentlabel1><commenttext1>Cllr Daniel Okafor</commenttext1>
<isrestricted>True</isrestricted></agendaitem></agendaitems></meeting>"""


def test_an_unplanned_item_knows_its_member_officer_and_wards():
    [item] = agenda_items(MEETING, "GetMeeting?lMeetingId=88", "Cabinet")
    assert (item.presented_by, item.author, item.wards) == (
        "Cllr Daniel Okafor",
        "Rachel Pym",
        ("Quayside", "Riverside"),
    )
    record = unplanned_decision(
        item,
        base_url="https://x.example/",
        find_portfolio={"Cllr Daniel Okafor": "Regeneration and Planning"}.get,  # type: ignore[arg-type]
        find_person={"Rachel Pym": "rachel.pym@x.example"}.get,  # type: ignore[arg-type]
    )
    assert record == DecisionFacts(
        ref="AGENDA-88-3",
        title="Quayside Ferry Terminal & Slipway",
        decision_due=date(2027, 1, 14),
        decision_maker="Cabinet",
        portfolio="Regeneration and Planning",
        portfolio_holder="Cllr Daniel Okafor",
        lead_officer="Rachel Pym",
        lead_officer_email="rachel.pym@x.example",
        decision_due_text="14 Jan 2027 by Cabinet",
        meeting_date=date(2027, 1, 14),
        wards=("Quayside", "Riverside"),
        restriction="Part exempt",
        source_url="https://x.example/ieListDocuments.aspx?MId=88",
    )
