"""Status: RAG counts and the at-risk list, as each role may see it, with exempt masking."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from livebot import Bot, email, make_bot, reimport_decisions, sqlite_url

from bot.briefings.escalate import run_sweep_tick
from bot.cli import main as cli
from bot.views.status import NotInDirectory, Rag, build_status

NOW = datetime(2027, 1, 12, 9, 30, tzinfo=UTC)
SECRET = "Emergency Temporary Accommodation Contract"  # HBC-2027-004, Fully exempt para 3


@pytest.fixture(scope="module")
def bot(tmp_path_factory) -> Bot:
    bot = make_bot(sqlite_url(tmp_path_factory.mktemp("status")), NOW)
    # A non-key exempt item, so there is someone (the leader) who sees it but is not entitled.
    reimport_decisions(
        bot.app, {"HBC-2027-006": {"restriction": "Part exempt", "exempt_paragraphs": ("5",)}}
    )
    with bot.app.session() as session:
        run_sweep_tick(app=bot.app, session=session)
    return bot


def status(bot: Bot, viewer: str | None, **options):
    with bot.app.session() as session:
        return build_status(
            session=session,
            settings=bot.app.settings,
            calendar=bot.app.calendar,
            directory=bot.app.directory(session),
            now=bot.now(),
            viewer_email=viewer,
            **options,
        )


def refs(report) -> set[str]:
    return {row.ref for row in report.rows}


def test_counts_by_rag_and_the_list_by_urgency(bot: Bot):
    report = status(bot, None)
    assert sum(report.counts.values()) == len(report.rows)
    assert report.counts["red"] == 7  # 002 (five members) and 004 (two): overdue, decision close
    assert report.counts["amber"] == 2  # 005 due today
    order = [(row.rag, row.due_at) for row in report.at_risk]
    assert [r for r, _ in order] == sorted((r for r, _ in order), key=list(Rag).index)
    assert report.at_risk[0].rag == Rag.RED
    assert {r.ref for r in report.at_risk} == {"HBC-2027-002", "HBC-2027-004", "HBC-2027-005"}


@pytest.mark.parametrize(
    "who",
    ["Margaret Hollis", "Alan Brook", "David Osei", "Claire Dunn"],
)
def test_oversight_roles_see_everything(bot: Bot, who: str):
    assert refs(status(bot, email(who))) == refs(status(bot, None))


def test_a_director_sees_their_directorate(bot: Bot):
    place = refs(status(bot, email("Simon Reeve"), days=90))
    assert place == {"HBC-2027-002", "HBC-2027-005", "HBC-2027-006", "HBC-2027-007", "HBC-2027-009"}
    assert "HBC-2027-003" not in place  # Communities


def test_an_officer_sees_only_what_they_brief(bot: Bot):
    report = status(bot, email("Owen Brady"), days=90)
    assert refs(report) == {"HBC-2027-005", "HBC-2027-009"}
    assert {row.briefer_email for row in report.rows} == {email("Owen Brady")}


def test_a_ward_councillor_sees_only_their_own_briefings(bot: Bot):
    report = status(bot, email("Tariq Shah"), days=90)
    assert [(row.ref, row.member_email) for row in report.rows] == [
        ("HBC-2027-002", email("Tariq Shah"))
    ]


def test_unknown_people_are_refused(bot: Bot):
    with pytest.raises(NotInDirectory):
        status(bot, "stranger@example.org")


@pytest.mark.parametrize(
    "who",
    [
        "Margaret Hollis",
        "David Osei",
        "Claire Dunn",
        "Sarah Whitlock",
        "Imran Qureshi",
        "Aisha Rahman",
    ],
)
def test_entitled_people_see_the_exempt_title(bot: Bot, who: str):
    rows = [row for row in status(bot, email(who)).rows if row.ref == "HBC-2027-004"]
    assert rows and all(row.title == SECRET for row in rows)


def test_others_see_exempt_item_paragraph_and_nothing_leaks(bot: Bot):
    # The leader sees every item but is owed no briefing on 006 (not a key decision).
    report = status(bot, email("Alan Brook"), days=90)
    [row] = {row.ref: row for row in report.rows if row.ref == "HBC-2027-006"}.values()
    assert row.title == "Exempt item (paragraph 5)"
    assert "Parking Zone" not in json.dumps(report.as_dict())
    # The leader is owed a briefing on key decision 004, so is entitled to see it.
    assert any(r.title == SECRET for r in report.rows if r.ref == "HBC-2027-004")


def test_portfolio_filter(bot: Bot):
    report = status(bot, None, days=90, portfolio="Housing")
    assert refs(report) == {"HBC-2027-003", "HBC-2027-004"}
    with pytest.raises(ValueError, match="no portfolio called"):
        status(bot, None, portfolio="Nonsense")


def test_cli_status_as_someone_in_json(bot: Bot, monkeypatch: pytest.MonkeyPatch, capsys):
    monkeypatch.setenv("NOSURPRISES_DATABASE_URL", str(bot.app.engine.url))
    monkeypatch.setenv("NOSURPRISES_NOW", "2027-01-12T09:30")
    assert cli(["status", "--as", email("Owen Brady"), "--days", "90", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["viewer"] == email("Owen Brady")
    assert {row["ref"] for row in data["at_risk"]} == {"HBC-2027-005"}
    assert cli(["status", "--as", "nobody@example.org"]) == 1
    assert "not in the council's directory" in capsys.readouterr().err
    assert cli(["status"]) == 0
    out = capsys.readouterr().out
    assert "Red 7" in out and "HBC-2027-002" in out
