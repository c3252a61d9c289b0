"""The rules engine on the sample council: who must brief whom, by when, and why."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pytest
from livebot import SAMPLE_COUNCIL, email, make_bot, sqlite_url

from bot.config import BriefingRule, RulesSettings
from bot.decisions.calendar import CouncilCalendar
from bot.decisions.rules import DecisionFacts, Flag, assess
from bot.intake.forward_plan_csv import parse_forward_plan
from bot.store.directory import Directory, load_directory

NOW = datetime(2027, 1, 5, 9, 30, tzinfo=UTC)
RULES = RulesSettings()
CALENDAR = CouncilCalendar()


@pytest.fixture(scope="module")
def directory(tmp_path_factory) -> Directory:
    bot = make_bot(sqlite_url(tmp_path_factory.mktemp("rules")), NOW)
    with bot.app.session() as session:
        return load_directory(session)


@pytest.fixture(scope="module")
def plan() -> dict[str, DecisionFacts]:
    records, _ = parse_forward_plan(SAMPLE_COUNCIL / "forward_plan.csv")
    return {
        r.ref: DecisionFacts(
            ref=r.ref,
            title=r.title,
            decision_due=r.decision_due,
            portfolio=r.portfolio,
            portfolio_holder=r.portfolio_holder,
            lead_officer=r.lead_officer,
            lead_officer_email=r.lead_officer_email,
            key_decision=r.key_decision,
            all_wards=r.all_wards,
            wards=r.wards,
            restriction=r.restriction,
            exempt_paragraphs=r.exempt_paragraphs,
            first_published=r.first_published,
            notice_type=r.notice_type,
            status=r.status,
        )
        for r in records
    }


def run(facts: DecisionFacts, directory: Directory, *, now=NOW, rules=RULES):
    return assess(facts, directory=directory, calendar=CALENDAR, rules=rules, now=now)


def members(assessment) -> dict[str, tuple[str, ...]]:
    return {r.member_email: r.reasons for r in assessment.requirements}


def test_portfolio_holder_and_leader_for_a_key_decision_on_all_wards(plan, directory):
    result = run(plan["HBC-2027-003"], directory)
    assert members(result) == {
        email("Sarah Whitlock"): ("Portfolio holder for Housing",),
        email("Alan Brook"): ("Leader of the Council (key decision)",),
    }
    assert {r.briefer_email for r in result.requirements} == {email("Imran Qureshi")}
    # Thu 11 Feb 2027 less 10 working days is Thu 28 Jan, due at close of business (17:00 GMT).
    [due] = {r.due_at for r in result.requirements}
    assert due == datetime(2027, 1, 28, 17, 0, tzinfo=UTC)
    assert result.creates_briefings and not result.flags


def test_ward_councillors_for_named_wards_with_one_briefing_per_member(plan, directory):
    result = run(plan["HBC-2027-002"], directory)
    owed = members(result)
    assert set(owed) == {
        email(n) for n in ("Daniel Okafor", "Tariq Shah", "Ben Carrow", "Rosa Lind", "Alan Brook")
    }
    # Cllr Okafor holds the portfolio and represents Quayside: one briefing, both reasons.
    assert owed[email("Daniel Okafor")] == (
        "Portfolio holder for Regeneration and Planning",
        "Ward councillor for Quayside",
    )
    assert owed[email("Ben Carrow")] == ("Ward councillor for Riverside",)


def test_all_wards_items_do_not_brief_every_ward_councillor(plan, directory):
    result = run(plan["HBC-2027-001"], directory)
    assert set(members(result)) == {email("Priya Natarajan"), email("Alan Brook")}


def test_a_non_key_decision_does_not_brief_the_leader(plan, directory):
    result = run(plan["HBC-2027-005"], directory)
    assert set(members(result)) == {email("Helen Marsh"), email("Emma Doyle")}
    assert members(result)[email("Helen Marsh")] == (
        "Portfolio holder for Communities and Leisure",
        "Ward councillor for Millbrook",
    )


def test_a_lead_officer_is_never_asked_to_brief_themself(plan, directory):
    # Make the leader's own briefing the lead officer's: the leader is dropped, not asked.
    facts = dataclasses.replace(plan["HBC-2027-003"], lead_officer_email=email("Alan Brook"))
    assert email("Alan Brook") not in members(run(facts, directory))


def test_due_days_come_from_the_config(plan, directory):
    rules = dataclasses.replace(RULES, portfolio_holder=BriefingRule(True, 15))
    result = run(plan["HBC-2027-003"], directory, rules=rules)
    due = {r.member_email: r.due_date for r in result.requirements}
    assert due[email("Sarah Whitlock")] == date(2027, 1, 21)
    assert due[email("Alan Brook")] == date(2027, 1, 28)


def flags(result) -> dict[Flag, str]:
    return {f.code: f.text for f in result.flags}


def test_general_exception_and_special_urgency_are_short_notice(plan, directory):
    ge = flags(run(plan["HBC-2027-004"], directory))
    assert "General exception" in ge[Flag.SHORT_NOTICE] and "reg 10" in ge[Flag.SHORT_NOTICE]
    su = flags(run(plan["HBC-2027-009"], directory))
    assert "Special urgency" in su[Flag.SHORT_NOTICE]


def test_a_key_decision_published_under_28_clear_days_ahead_is_short_notice(plan, directory):
    facts = dataclasses.replace(plan["HBC-2027-001"], first_published=date(2027, 1, 20))
    text = flags(run(facts, directory))[Flag.SHORT_NOTICE]
    assert "21 clear days" in text and "28 are required" in text
    ok = dataclasses.replace(plan["HBC-2027-001"], first_published=date(2027, 1, 13))
    assert Flag.SHORT_NOTICE not in flags(run(ok, directory))  # exactly 28 clear days


def test_exempt_items_are_flagged_with_their_paragraph(plan, directory):
    text = flags(run(plan["HBC-2027-004"], directory))[Flag.EXEMPT]
    assert text.startswith(
        "Fully exempt under Schedule 12A to the Local Government Act 1972 (paragraph 3)"
    )
    assert Flag.EXEMPT not in flags(run(plan["HBC-2027-003"], directory))


def test_date_brought_forward_comes_from_the_history(plan, directory):
    facts = dataclasses.replace(
        plan["HBC-2027-003"],
        decision_due=date(2027, 1, 28),
        date_changes=((date(2027, 2, 11), date(2027, 1, 28)),),
    )
    text = flags(run(facts, directory))[Flag.DATE_BROUGHT_FORWARD]
    assert text == "Decision date brought forward from Thu 11 Feb to Thu 28 Jan."
    later = dataclasses.replace(facts, date_changes=((date(2027, 1, 28), date(2027, 2, 11)),))
    assert Flag.DATE_BROUGHT_FORWARD not in flags(run(later, directory))


def test_a_passed_decision_date_still_for_determination(plan, directory):
    result = run(plan["HBC-2027-002"], directory, now=datetime(2027, 1, 15, 10, tzinfo=UTC))
    assert "has passed but the item is still For Determination" in flags(result)[Flag.DATE_PASSED]
    # Still pending, so still live: a member owed a briefing is still owed it (late).
    assert result.creates_briefings
    assert result.why_no_new_briefings == ""


def test_no_portfolio_match_and_no_lead_officer_fall_back_to_the_director(plan, directory):
    facts = dataclasses.replace(plan["HBC-2027-003"], portfolio="Parks", portfolio_holder="")
    result = run(facts, directory)
    assert "Portfolio 'Parks' matches no portfolio" in flags(result)[Flag.NO_PORTFOLIO]
    assert email("Sarah Whitlock") not in members(result)

    facts = dataclasses.replace(
        plan["HBC-2027-003"], lead_officer_email="nobody@example.org", lead_officer="Nobody"
    )
    result = run(facts, directory)
    text = flags(result)[Flag.NO_LEAD_OFFICER]
    assert "nobody@example.org is not in the directory" in text
    assert "Aisha Rahman" in text  # the Housing portfolio's director briefs instead
    assert {r.briefer_email for r in result.requirements} == {email("Aisha Rahman")}


def test_portfolio_matched_by_holder_name_when_no_portfolio_is_given(plan, directory):
    facts = dataclasses.replace(plan["HBC-2027-003"], portfolio="")
    assert email("Sarah Whitlock") in members(run(facts, directory))


def test_an_unknown_ward_is_flagged(plan, directory):
    facts = dataclasses.replace(plan["HBC-2027-005"], wards=("Atlantis",))
    assert "Atlantis" in flags(run(facts, directory))[Flag.UNKNOWN_WARD]


def test_withdrawn_and_missing_items_create_nothing_new(plan, directory):
    withdrawn = run(plan["HBC-2027-012"], directory)
    assert Flag.WITHDRAWN in flags(withdrawn) and not withdrawn.creates_briefings
    missing = dataclasses.replace(plan["HBC-2027-003"], missing_since=NOW)
    result = run(missing, directory)
    assert "No longer listed by its source" in flags(result)[Flag.MISSING_FROM_SOURCE]
    assert not result.creates_briefings


def test_the_horizon_decides_whether_briefings_are_created(plan, directory):
    far = run(plan["HBC-2027-011"], directory, now=datetime(2026, 11, 22, 10, tzinfo=UTC))
    assert not far.creates_briefings and "more than 90 days away" in far.why_no_new_briefings
    assert far.requirements  # the requirement is still known, just not yet acted on
    near = run(plan["HBC-2027-011"], directory, now=datetime(2027, 1, 4, 10, tzinfo=UTC))
    assert near.creates_briefings


def test_the_engine_is_pure(plan, directory):
    first = run(plan["HBC-2027-002"], directory)
    second = run(plan["HBC-2027-002"], directory)
    assert first == second
    later = run(plan["HBC-2027-002"], directory, now=datetime(2027, 1, 20, tzinfo=UTC))
    assert Flag.DATE_PASSED in flags(later) and Flag.DATE_PASSED not in flags(first)
