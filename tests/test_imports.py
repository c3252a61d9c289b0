"""Imports: every bad row reported at once, all or nothing, idempotent, changes in history."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from livebot import SAMPLE_COUNCIL
from sqlalchemy import func, select

from bot.app import App
from bot.clock import SettableClock
from bot.config import Settings
from bot.intake.directory_csv import parse_directory
from bot.intake.forward_plan_csv import parse_forward_plan
from bot.intake.problems import ImportRejected
from bot.intake.store import store_decisions, store_directory
from bot.store.models import AuditEvent, Decision, DecisionChange, Person

NOW = datetime(2027, 1, 5, 9, 30, tzinfo=UTC)
PLAN = (SAMPLE_COUNCIL / "forward_plan.csv").read_text(encoding="utf-8")


@pytest.fixture
def app(tmp_path: Path) -> App:
    settings = Settings().with_overrides(database_url=f"sqlite:///{tmp_path / 'db.sqlite'}")
    app = App.open(settings, clock=SettableClock(NOW))
    people, portfolios, _ = parse_directory(
        SAMPLE_COUNCIL / "people.csv", SAMPLE_COUNCIL / "portfolios.csv"
    )
    with app.session() as session:
        store_directory(session, people, portfolios, now=NOW)
    return app


def write(tmp_path: Path, name: str, text: str, *, bom: bool = False) -> Path:
    path = tmp_path / name
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
    return path


def counts(app: App) -> tuple[int, int, int]:
    with app.session() as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(model))
            for model in (Decision, DecisionChange, AuditEvent)
        )


def load(app: App, path: Path, *, complete: bool = True):
    records, warnings = parse_forward_plan(path)
    with app.session() as session:
        return store_decisions(
            session, records, source="csv", now=app.now(), complete=complete
        ), warnings


def test_bom_any_column_order_unknown_columns_and_uk_dates(app: App, tmp_path: Path):
    text = (
        "title,ref,decision_due,portfolio,lead_officer,colour\n"
        "Library Hours,HBC-9,11/02/2027,Leisure,Owen Brady,blue\n"
    )
    result, warnings = load(app, write(tmp_path, "plan.csv", text, bom=True), complete=False)
    assert result.created == ["HBC-9"]
    assert warnings == ["plan.csv: ignoring unknown column(s): colour"]
    with app.session() as session:
        decision = session.scalar(select(Decision).where(Decision.ref == "HBC-9"))
        assert decision.decision_due.isoformat() == "2027-02-11"
        assert decision.portfolio == "Leisure"


def test_every_bad_row_is_reported_with_line_column_and_reason(tmp_path: Path):
    lines = PLAN.splitlines()
    header = lines[0].split(",")
    rows = [line.split(",") for line in lines[1:4]]
    rows[0][header.index("decision_due")] = "31/02/2027"  # line 2: impossible date
    rows[1][header.index("title")] = ""  # line 3: missing title
    rows[2][header.index("restriction")] = "Secret"  # line 4: not a restriction
    text = "\n".join([lines[0], *(",".join(r) for r in rows), lines[1]]) + "\n"  # line 5: dup
    with pytest.raises(ImportRejected) as caught:
        parse_forward_plan(write(tmp_path, "forward_plan.csv", text))
    found = {(p.line, p.column) for p in caught.value.problems}
    assert found == {(2, "decision_due"), (3, "title"), (4, "restriction"), (5, "ref")}
    message = str(caught.value)
    assert "forward_plan.csv, line 2, column decision_due: '31/02/2027' is not a date" in message
    assert "line 4, column restriction: 'Secret' is not one of: Open, Part exempt" in message
    assert "already appears on line 2" in message
    assert "nothing was imported" in message


def test_multi_line_cells_keep_later_line_numbers_right(tmp_path: Path):
    text = (
        "ref,title,decision_due,portfolio,lead_officer,summary\n"
        'A-1,First,2027-02-11,Housing,Imran Qureshi,"one\ntwo\nthree"\n'
        "A-2,Second,not-a-date,Housing,Imran Qureshi,x\n"
    )
    with pytest.raises(ImportRejected) as caught:
        parse_forward_plan(write(tmp_path, "p.csv", text))
    [problem] = caught.value.problems
    assert (problem.line, problem.column) == (5, "decision_due")


def test_missing_required_columns_and_empty_files(tmp_path: Path):
    with pytest.raises(ImportRejected) as caught:
        parse_forward_plan(write(tmp_path, "p.csv", "ref,title\nA,B\n"))
    assert {p.column for p in caught.value.problems} == {"decision_due"}
    with pytest.raises(ImportRejected, match="the file is empty"):
        parse_forward_plan(write(tmp_path, "e.csv", ""))
    with pytest.raises(ImportRejected, match=r"cannot be read .*; check the path"):
        parse_forward_plan(tmp_path)  # a folder, not a file


def test_directory_problems_across_both_files(tmp_path: Path):
    people = (
        "name,email,roles,wards,manager_email\n"
        "Ann Able,ann@x.gov.uk,officer,,boss@x.gov.uk\n"
        "Bob Bad,not-an-email,officer;wizard,,\n"
        "Cal Dup,ann@x.gov.uk,ward_councillor,North,\n"
        "Dee Ward,dee@x.gov.uk,officer,South,\n"
    )
    portfolios = "portfolio,holder_email\nHousing,zed@x.gov.uk\n"
    with pytest.raises(ImportRejected) as caught:
        parse_directory(
            write(tmp_path, "people.csv", people), write(tmp_path, "pf.csv", portfolios)
        )
    found = {(p.file, p.line, p.column) for p in caught.value.problems}
    assert found == {
        ("people.csv", 2, "manager_email"),
        ("people.csv", 3, "email"),
        ("people.csv", 3, "roles"),
        ("people.csv", 4, "email"),
        ("people.csv", 5, "wards"),
        ("pf.csv", 2, "holder_email"),
    }


def test_a_rejected_file_changes_nothing(app: App, tmp_path: Path):
    load(app, SAMPLE_COUNCIL / "forward_plan.csv")
    before = counts(app)
    bad = PLAN.replace("2027-02-11,11 Feb 2027 by Cabinet", "2027-13-11,11 Feb 2027 by Cabinet", 1)
    bad = bad.replace("Housing Allocations Policy Review", "A new title")
    with pytest.raises(ImportRejected):
        load(app, write(tmp_path, "bad.csv", bad))
    assert counts(app) == before
    with app.session() as session:
        titles = set(session.scalars(select(Decision.title)))
    assert "A new title" not in titles


def test_importing_the_same_file_twice_writes_nothing_the_second_time(app: App):
    first, _ = load(app, SAMPLE_COUNCIL / "forward_plan.csv")
    assert len(first.created) == 12
    before = counts(app)
    second, _ = load(app, SAMPLE_COUNCIL / "forward_plan.csv")
    assert not second.wrote_anything and second.unchanged == 12
    assert counts(app) == before
    people, portfolios, _ = parse_directory(
        SAMPLE_COUNCIL / "people.csv", SAMPLE_COUNCIL / "portfolios.csv"
    )
    with app.session() as session:
        assert store_directory(session, people, portfolios, now=NOW).unchanged
    assert counts(app) == before


def test_a_changed_item_records_each_field_change(app: App, tmp_path: Path):
    load(app, SAMPLE_COUNCIL / "forward_plan.csv")
    app.clock.set(datetime(2027, 1, 6, 10, 0, tzinfo=UTC))  # type: ignore[attr-defined]
    changed = PLAN.replace(
        "HBC-2027-003,Housing Allocations Policy Review,To adopt a revised Housing Allocations "
        "Policy,Cabinet,Cabinet,Housing,Cllr Sarah Whitlock,Imran Qureshi,"
        "imran.qureshi@harbourside.example.gov.uk,Communities,2027-02-11",
        "HBC-2027-003,Housing Allocations Policy,To adopt a revised Housing Allocations "
        "Policy,Cabinet,Cabinet,Housing,Cllr Sarah Whitlock,Imran Qureshi,"
        "imran.qureshi@harbourside.example.gov.uk,Communities,2027-01-28",
    )
    result, _ = load(app, write(tmp_path, "changed.csv", changed))
    assert set(result.changed) == {"HBC-2027-003"}
    with app.session() as session:
        history = {
            c.field: (c.old_value, c.new_value, c.changed_at)
            for c in session.scalars(select(DecisionChange))
        }
    assert history["title"][:2] == (
        "Housing Allocations Policy Review",
        "Housing Allocations Policy",
    )
    assert history["decision_due"][:2] == ("2027-02-11", "2027-01-28")
    assert history["decision_due"][2] == datetime(2027, 1, 6, 10, 0, tzinfo=UTC)


def test_items_missing_from_a_complete_import_are_kept_and_flagged(app: App, tmp_path: Path):
    load(app, SAMPLE_COUNCIL / "forward_plan.csv")
    without = "\n".join(line for line in PLAN.splitlines() if not line.startswith("HBC-2027-006"))
    partial, _ = load(app, write(tmp_path, "partial.csv", without + "\n"), complete=False)
    assert not partial.disappeared
    result, _ = load(app, write(tmp_path, "without.csv", without + "\n"))
    assert result.disappeared == ["HBC-2027-006"]
    with app.session() as session:
        decision = session.scalar(select(Decision).where(Decision.ref == "HBC-2027-006"))
        assert decision.missing_since == NOW
    back, _ = load(app, SAMPLE_COUNCIL / "forward_plan.csv")
    assert back.changed["HBC-2027-006"] == [("presence", "missing from source", "listed")]


def test_unmatched_portfolio_or_lead_officer_is_imported_not_rejected(app: App, tmp_path: Path):
    text = (
        "ref,title,decision_due,portfolio,lead_officer_email\n"
        "X-1,Odd item,2027-02-11,Space Exploration,astronaut@elsewhere.org\n"
    )
    result, _ = load(app, write(tmp_path, "odd.csv", text), complete=False)
    assert result.created == ["X-1"]
    with app.session() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == 31


HEADER = "ref,title,decision_due,portfolio,lead_officer,restriction,exempt_paragraphs\n"


def test_a_welsh_council_may_cite_paragraph_14_and_an_english_one_may_not(tmp_path: Path):
    text = HEADER + "W-1,Depot sale,2027-02-11,Finance,Tom Ellery,Part exempt,Paragraph 14\n"
    path = write(tmp_path, "plan.csv", text)
    [record], _ = parse_forward_plan(path, nation="wales")
    assert record.exempt_paragraphs == ("14",)
    with pytest.raises(ImportRejected) as caught:
        parse_forward_plan(path, nation="england")
    [problem] = caught.value.problems
    assert (problem.file, problem.line, problem.column) == ("plan.csv", 2, "exempt_paragraphs")
    assert "paragraph 14 is not one of Schedule 12A paragraphs 1-7" in problem.reason


@pytest.mark.parametrize(
    ("cell", "paragraphs"),
    [("paragraphs 3 and 5", ("3", "5")), ("3, 5", ("3", "5")), ("3 & 5", ("3", "5"))],
)
def test_exempt_paragraphs_in_any_council_wording(tmp_path: Path, cell: str, paragraphs):
    text = HEADER + f'E-1,Depot sale,2027-02-11,Finance,Tom Ellery,Part exempt,"{cell}"\n'
    [record], _ = parse_forward_plan(write(tmp_path, "plan.csv", text))
    assert record.exempt_paragraphs == paragraphs


@pytest.mark.parametrize(
    ("cell", "column", "words"),
    [
        ("x" * 200_000, "title", "is longer than 131072 characters"),
        ("Depot\x00sale", "title", "contains a NUL byte"),
    ],
)
def test_oversized_or_nul_cells_are_refused_with_line_and_column(tmp_path, cell, column, words):
    text = HEADER + "A-1,Fine,2027-02-11,Finance,Tom Ellery,Open,\n"
    text += f'A-2,"{cell}",2027-02-11,Finance,Tom Ellery,Open,\n'
    with pytest.raises(ImportRejected) as caught:
        parse_forward_plan(write(tmp_path, "plan.csv", text))
    [problem] = caught.value.problems
    assert (problem.file, problem.line, problem.column) == ("plan.csv", 3, column)
    assert words in problem.reason


@pytest.mark.parametrize("due", ["0001-02-03", "1989-12-31", "2101-01-01", "01/01/3027"])
def test_dates_outside_1990_to_2100_are_refused(tmp_path: Path, due: str):
    text = HEADER + f"A-1,Fine,{due},Finance,Tom Ellery,Open,\n"
    with pytest.raises(ImportRejected) as caught:
        parse_forward_plan(write(tmp_path, "plan.csv", text))
    [problem] = caught.value.problems
    assert (problem.line, problem.column) == (2, "decision_due")
    assert "outside 1990-2100" in problem.reason


def test_the_command_line_checks_paragraphs_against_the_councils_nation(tmp_path, capsys):
    from bot.cli import main as cli

    plan = write(
        tmp_path,
        "plan.csv",
        HEADER + "S-1,Depot sale,2027-02-11,Finance,Tom Ellery,Part exempt,Paragraph 14\n",
    )
    database = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    for nation, code in (("england-and-wales", 1), ("scotland", 0)):
        config = write(
            tmp_path,
            f"{nation}.toml",
            f'[council]\nnation = "{nation}"\n[database]\nurl = "{database}"\n',
        )
        assert cli(["--config", str(config), "import", "decisions", str(plan), "--partial"]) == code
    err = capsys.readouterr().err
    assert "plan.csv, line 2, column exempt_paragraphs: paragraph 14 is not one of" in err


DAMAGE = [b"\x00", b'"', b",", b"\n", b"\r", b";", b"\xff", b"\xef\xbb\xbf", b"9999-99-99", b"@"]


@pytest.mark.parametrize("which", ["forward_plan.csv", "people.csv"])
def test_no_csv_input_gives_a_traceback(tmp_path: Path, which: str):
    """Seeded random damage to a real file: every outcome is records or ImportRejected."""
    import random

    source = (SAMPLE_COUNCIL / which).read_bytes()
    chance = random.Random(which)
    rejected = 0
    for attempt in range(120):
        data = bytearray(source)
        for _ in range(chance.randint(1, 8)):
            at = chance.randrange(len(data))
            data[at:at] = chance.choice(DAMAGE)
        path = tmp_path / f"{attempt}-{which}"
        path.write_bytes(bytes(data))
        try:
            if which == "people.csv":
                parse_directory(path, SAMPLE_COUNCIL / "portfolios.csv")
            else:
                parse_forward_plan(path)
        except ImportRejected as exc:
            assert exc.problems and all(p.file for p in exc.problems)
            rejected += 1
    assert rejected > 0


def test_directory_imports_record_each_change_in_the_directory_history(app: App, tmp_path: Path):
    from bot.store.models import DirectoryChange

    people = (SAMPLE_COUNCIL / "people.csv").read_text(encoding="utf-8")
    changed = people.replace(
        "emma.doyle@harbourside.example.gov.uk,ward_councillor,Councillor,,Millbrook,",
        "emma.doyle@harbourside.example.gov.uk,ward_councillor,Councillor,,Eastfield,",
    )
    changed = "\n".join(line for line in changed.splitlines() if "hugo.brandt" not in line)
    changed += (
        "\nCllr Nia Jones,nia.jones@harbourside.example.gov.uk,ward_councillor,,,St Anne's,\n"
    )
    assert changed.count("Eastfield,") == 3
    records, portfolios, _ = parse_directory(
        write(tmp_path, "people.csv", changed), SAMPLE_COUNCIL / "portfolios.csv"
    )
    later = datetime(2027, 1, 6, 10, tzinfo=UTC)
    with app.session() as session:
        store_directory(session, records, portfolios, now=later)
    with app.session() as session:
        history = {
            (c.kind, c.email, c.old_value, c.new_value, c.source)
            for c in session.scalars(
                select(DirectoryChange).where(DirectoryChange.changed_at == later)
            )
        }
    assert history == {
        ("added", "nia.jones@harbourside.example.gov.uk", "", "", "csv"),
        ("left", "hugo.brandt@harbourside.example.gov.uk", "", "", "csv"),
        (
            "details changed",
            "emma.doyle@harbourside.example.gov.uk",
            "wards: Millbrook",
            "wards: Eastfield",
            "csv",
        ),
    }


def test_content_hashes_are_the_digest_of_the_sorted_json_stored_rows_were_compared_by():
    import hashlib
    import json

    records, _ = parse_forward_plan(SAMPLE_COUNCIL / "forward_plan.csv")
    for record in records:
        payload = json.dumps(record.comparable(), sort_keys=True, default=str)
        assert record.content_hash() == hashlib.sha256(payload.encode()).hexdigest()[:32]
