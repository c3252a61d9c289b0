"""The template corpus: councils' ModernGov pages differ in headings, label wording, order and
markup (span, th/td, dt/dd, bold, divs, &nbsp;, stray whitespace). Every field of every item is
asserted, by comparing the whole DecisionFacts."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.decisions.facts import DecisionFacts
from bot.intake.moderngov_fetch import SourceError
from bot.intake.moderngov_pages import PlanLink, issue_record, plan_links, status_of

TEMPLATES = Path(__file__).parent / "moderngov_templates"
SITE = "https://democracy.example.gov.uk/"
# The directory as the importer sees it: a name or email → the person's email.
DIRECTORY = {
    "jon-james martin": "jj.martin@northvale.example.gov.uk",
    "priya shah": "priya.shah@southfield.example.gov.uk",
    "paul greaves": "paul.greaves@eastmoor.example.gov.uk",
}


def find_person(text: str) -> str:
    return DIRECTORY.get(" ".join(text.lower().split()), "")


def page(name: str) -> str:
    return (TEMPLATES / name).read_text(encoding="utf-8")


def url(issue: int) -> str:
    return f"{SITE}mgIssueHistoryHome.aspx?IId={issue}&PlanId=77"


EXPECTED: dict[str, DecisionFacts] = {
    # Title under a generic h1 in the subtitle; a "Contact" section heading further down; two
    # lead officers, of whom only the second is in the directory; "Recommendations Approved".
    "item_classic.html": DecisionFacts(
        ref="MG-501",
        title="Local Plan Review: Regulation 19 Consultation",
        decision_due=date(2026, 10, 6),
        summary="To approve the draft Local Plan for consultation under Regulation 19.",
        decision_maker="Cabinet",
        portfolio="Portfolio Holder for Planning",
        portfolio_holder="Portfolio Holder for Planning",
        lead_officer="Jon-James Martin, Howard Anthony",
        lead_officer_email="jj.martin@northvale.example.gov.uk",
        decision_due_text="6 Oct 2026 by Cabinet",
        key_decision=True,
        key_reason="Significant effect on 1 or more wards",
        wards=("Abbey", "Castle"),
        first_published=date(2026, 9, 17),
        status="Decision Made",
        source_url=url(501),
    ),
    # A table of th/td with &nbsp; and line breaks; "Decision" for the date; "Contact officer",
    # "Portfolio holder", "Ward(s)"; "Abandoned"; exempt paragraphs "3 and 5".
    "item_table.html": DecisionFacts(
        ref="EC/2027/014",
        title="Waste Depot Relocation",
        decision_due=date(2027, 3, 12),
        summary="Relocation of the waste depot to the Moor Lane site.",
        decision_maker="Executive",
        portfolio="Cllr Ruth Mensah",
        portfolio_holder="Cllr Ruth Mensah",
        lead_officer="Paul Greaves",
        lead_officer_email="paul.greaves@eastmoor.example.gov.uk",
        decision_due_text="12 Mar 2027",
        key_decision=True,
        wards=("Moor Lane", "Eastgate"),
        restriction="Part exempt",
        exempt_paragraphs=("3", "5"),
        status="Withdrawn",
        source_url=url(502),
    ),
    # dt/dd; the title only in the page title (site suffix removed), the h1 generic and the h2s
    # section headings; "Date of decision", "Report author", "Cabinet member"; deferred.
    "item_dl.html": DecisionFacts(
        ref="MG-503",
        title="Community Safety Strategy 2027-2030",
        decision_due=date(2027, 3, 23),
        summary="The council's new community safety strategy for the next three years.",
        portfolio="Cabinet Member for Communities",
        portfolio_holder="Cabinet Member for Communities",
        lead_officer="Sian Powell",
        decision_due_text="Not before 9th Feb 2027",
        all_wards=True,
        first_published=date(2027, 1, 5),
        status="For Determination",
        source_url=url(503),
    ),
    # Bold labels in another order, &nbsp; after a label, an email in brackets, urgency, and a
    # Welsh exempt paragraph (14).
    "item_bold.html": DecisionFacts(
        ref="MG-504",
        title="Sale of Former Library, Stryd Fawr",
        decision_due=date(2027, 11, 2),
        summary="To agree the sale of the former library building on Stryd Fawr to the "
        "preferred bidder.",
        decision_maker="Portfolio Holder for Finance",
        portfolio="Portfolio Holder for Finance",
        portfolio_holder="Portfolio Holder for Finance",
        lead_officer="Gwen Roberts",
        lead_officer_email="gwen.roberts@ynysmon.example.gov.uk",
        decision_due_text="Not before 2nd Nov 2027 by Portfolio Holder for Finance",
        key_decision=True,
        wards=("Llangefni",),
        restriction="Fully exempt",
        exempt_paragraphs=("14",),
        notice_type="General Exception",
        status="Withdrawn",
        source_url=url(504),
    ),
    # Label and value in separate divs; the subtitle double-encoded; "Is Key decision?"; two
    # officers joined by "and", the second in the directory; a month-only date.
    "item_divs.html": DecisionFacts(
        ref="MG-505",
        title="Adult Social Care & Health Charging Policy",
        decision_due=date(2027, 3, 1),
        summary="To adopt a revised policy for charging for non-residential care and support.",
        decision_maker="Cabinet",
        portfolio="Councillor Amira Haddad",
        portfolio_holder="Councillor Amira Haddad",
        lead_officer="Priya Shah, Dr Leon Fox",
        lead_officer_email="priya.shah@southfield.example.gov.uk",
        decision_due_text="March 2027",
        key_decision=True,
        all_wards=True,
        first_published=date(2026, 12, 1),
        status="Decision Made",
        source_url=url(505),
    ),
}
NATION = {"item_bold.html": "wales"}


@pytest.mark.parametrize("template", sorted(EXPECTED))
def test_every_item_template_gives_every_field(template: str):
    issue = int(EXPECTED[template].source_url.split("IId=")[1].split("&")[0])
    record = issue_record(
        page(template),
        url(issue),
        nation=NATION.get(template, "england"),
        find_person=find_person,
    )
    assert record == EXPECTED[template]


def test_an_english_council_may_not_cite_paragraph_14():
    with pytest.raises(SourceError) as caught:
        issue_record(page("item_bold.html"), url(504), nation="england")
    assert caught.value.page == url(504)
    assert "paragraph 14, which is not one of Schedule 12A paragraphs 1-7" in caught.value.reason


@pytest.mark.parametrize(
    ("template", "words"),
    [
        ("refused_no_due.html", "has no 'Decision due' label (nor 'Decision', 'Date of decision')"),
        ("refused_no_title.html", "has no title for the item"),
    ],
)
def test_pages_without_an_item_are_refused_naming_page_and_label(template: str, words: str):
    with pytest.raises(SourceError) as caught:
        issue_record(page(template), url(600))
    assert caught.value.page == url(600)
    assert words in str(caught.value)
    assert str(caught.value).startswith(url(600) + ": ")


PLAN_LISTS = {
    # Bullet list with ModernGov's hidden "ref: NNNN" spans and a link that is not an item.
    "plan_list_classic.html": [
        PlanLink(
            f"{SITE}mgIssueHistoryHome.aspx?IId=501&PlanId=77&RPID=0",
            "501",
            "Local Plan Review: Regulation 19 Consultation",
        ),
        PlanLink(
            f"{SITE}mgIssueHistoryHome.aspx?IId=502&PlanId=77&RPID=0",
            "502",
            "Town Centre Parking Charges",
        ),
    ],
    # A table with absolute and relative ieIssueDetails links, a "View" duplicate, &nbsp; and
    # a double-encoded ampersand.
    "plan_list_table.html": [
        PlanLink(
            "https://democracy.eastmoor.example.gov.uk/ieIssueDetails.aspx?IId=7014&Opt=3",
            "7014",
            "Waste Depot Relocation",
        ),
        PlanLink(
            f"{SITE}ieIssueDetails.aspx?IId=7015&Opt=3", "7015", "Parks & Open Spaces Strategy"
        ),
    ],
    # Cards whose first link has no text, titles broken over lines and bold inside a link.
    "plan_list_cards.html": [
        PlanLink(
            "https://democracy.example.gov.uk/mgIssueHistoryHome.aspx?IId=88&PlanId=0&RPID=0",
            "88",
            "Community Safety Strategy 2027-2030",
        ),
        PlanLink(
            "https://democracy.example.gov.uk/mgIssueHistoryHome.aspx?IId=89",
            "89",
            "School Admissions Arrangements 2028/29",
        ),
    ],
}


@pytest.mark.parametrize("template", sorted(PLAN_LISTS))
def test_every_plan_list_template_gives_every_item(template: str):
    assert plan_links(page(template), SITE) == PLAN_LISTS[template]


@pytest.mark.parametrize(
    ("wording", "status"),
    [
        ("For Determination", "For Determination"),
        ("Decision Made", "Decision Made"),
        ("Recommendations Approved", "Decision Made"),
        ("Recommendations Approved (subject to call-in)", "Decision Made"),
        ("Abandoned", "Withdrawn"),
        ("Withdrawn", "Withdrawn"),
        ("Deferred", "For Determination"),
        ("Decision to be taken", "For Determination"),
        ("Decision Proposed", "For Determination"),
        ("", "For Determination"),
    ],
)
def test_council_statuses_map_to_the_products(wording: str, status: str):
    assert status_of(wording) == status
