"""forward_plan.csv → DecisionFacts (FORMATS.md), reporting every bad row at once."""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from pathlib import Path

from bot.decisions.exempt import allowed_text, disallowed, parse_paragraphs
from bot.decisions.facts import DecisionFacts
from bot.intake.csvfile import (
    Sheet,
    is_email,
    parse_date,
    parse_yes_no,
    read_sheet,
    split_list,
)
from bot.intake.problems import ImportRejected, Problem
from bot.store.models import DecisionStatus, NoticeType, Restriction

REQUIRED = ("ref", "title", "decision_due")
OPTIONAL = (
    "portfolio",
    "portfolio_holder",
    "lead_officer",
    "lead_officer_email",
    "summary",
    "decision_maker_type",
    "decision_maker",
    "directorate",
    "decision_due_text",
    "meeting_date",
    "key_decision",
    "key_reason",
    "wards_affected",
    "restriction",
    "exempt_paragraphs",
    "first_published",
    "notice_type",
    "consultation",
    "documents",
    "status",
    "call_in_applies",
    "source_url",
)
ALL_WARDS = {"all wards", "all", "(all wards)", "all wards (borough-wide)"}


@cache
def _spellings(enum: type[StrEnum]) -> dict[str, str]:
    return {member.value.lower(): member.value for member in enum}


def _choice(text: str, enum: type[StrEnum], default: str) -> str:
    if not text:
        return default
    found = _spellings(enum).get(text.strip().lower())
    if found is not None:
        return found
    allowed = ", ".join(m.value for m in enum)
    raise ValueError(f"{text!r} is not one of: {allowed}")


def parse_forward_plan(
    path: Path | str, *, nation: str = "england"
) -> tuple[list[DecisionFacts], list[str]]:
    """Parse the whole file or raise ImportRejected listing every problem.

    `nation` (a key of bot.decisions.exempt.ALLOWED_PARAGRAPHS) decides which exempt
    paragraphs are lawful."""
    sheet = read_sheet(path, required=REQUIRED, known=OPTIONAL, stream=True)
    return records_from_sheet(sheet, nation=nation), sheet.warnings


def records_from_sheet(sheet: Sheet, *, nation: str = "england") -> list[DecisionFacts]:
    """DecisionFacts from a read sheet, or ImportRejected listing every bad cell."""
    problems: list[Problem] = []
    records: list[DecisionFacts] = []
    seen: dict[str, int] = {}
    for line, row in sheet.rows:
        row_problems: list[Problem] = []

        def bad(column: str, reason: str, line: int = line, sink: list = row_problems) -> None:
            sink.append(Problem(sheet.name, line, column, reason))

        for column in REQUIRED:
            if not row.get(column):
                bad(column, "is required")
        ref = row.get("ref", "")
        if ref in seen:
            bad("ref", f"{ref!r} already appears on line {seen[ref]}")
        elif ref:
            seen[ref] = line
        if not row.get("portfolio") and not row.get("portfolio_holder"):
            bad("portfolio", "is required (or give portfolio_holder)")
        if not row.get("lead_officer_email") and not row.get("lead_officer"):
            bad("lead_officer_email", "is required (or give lead_officer)")
        email = row.get("lead_officer_email", "").lower()
        if email and not is_email(email):
            bad("lead_officer_email", f"{email!r} is not an email address")

        def date_of(column: str, row: dict[str, str] = row) -> object:
            if not row.get(column):
                return None
            try:
                return parse_date(row[column])
            except ValueError as exc:
                bad(column, str(exc))
                return None

        due = date_of("decision_due")
        meeting = date_of("meeting_date")
        published = date_of("first_published")
        key = False
        if row.get("key_decision"):
            try:
                key, _ = parse_yes_no(row["key_decision"])
            except ValueError as exc:
                bad("key_decision", str(exc))
        call_in = row.get("call_in_applies", "")
        if call_in:
            try:
                parse_yes_no(call_in)
            except ValueError as exc:
                bad("call_in_applies", str(exc))
        values = {}
        for column, enum, default in (
            ("restriction", Restriction, Restriction.OPEN.value),
            ("notice_type", NoticeType, NoticeType.FORWARD_PLAN.value),
            ("status", DecisionStatus, DecisionStatus.FOR_DETERMINATION.value),
        ):
            try:
                values[column] = _choice(row.get(column, ""), enum, default)
            except ValueError as exc:
                bad(column, str(exc))
        paragraph_cell = row.get("exempt_paragraphs", "")
        numbers = parse_paragraphs(paragraph_cell)
        if paragraph_cell and not numbers:
            bad("exempt_paragraphs", f"{paragraph_cell!r} names no paragraph number")
        wrong = disallowed(numbers, nation)
        if wrong:
            listed = ", ".join(str(n) for n in wrong)
            bad(
                "exempt_paragraphs",
                f"paragraph {listed} is not one of {allowed_text(nation)} for this council",
            )
        paragraphs = [str(n) for n in numbers]
        if values.get("restriction", "Open") != "Open" and not paragraphs:
            bad("exempt_paragraphs", f"an exempt item needs its {allowed_text(nation)} number")
        wards_text = row.get("wards_affected", "")
        all_wards = wards_text.strip().lower() in ALL_WARDS
        if row_problems:
            problems.extend(row_problems)
            continue
        records.append(
            DecisionFacts(
                ref=ref,
                title=row["title"],
                decision_due=due,  # type: ignore[arg-type]
                summary=row.get("summary", ""),
                decision_maker_type=row.get("decision_maker_type", ""),
                decision_maker=row.get("decision_maker", ""),
                portfolio=row.get("portfolio", ""),
                portfolio_holder=row.get("portfolio_holder", ""),
                lead_officer=row.get("lead_officer", ""),
                lead_officer_email=email,
                directorate=row.get("directorate", ""),
                decision_due_text=row.get("decision_due_text", ""),
                meeting_date=meeting,  # type: ignore[arg-type]
                key_decision=key,
                key_reason=row.get("key_reason", ""),
                all_wards=all_wards,
                wards=() if all_wards else tuple(split_list(wards_text)),
                restriction=values["restriction"],
                exempt_paragraphs=tuple(paragraphs),
                first_published=published,  # type: ignore[arg-type]
                notice_type=values["notice_type"],
                status=values["status"],
                call_in_applies=call_in,
                consultation=row.get("consultation", ""),
                documents=row.get("documents", ""),
                source_url=row.get("source_url", ""),
            )
        )
    if problems:
        raise ImportRejected(problems)
    return records
