"""people.csv and portfolios.csv → directory records, checked against each other."""

from __future__ import annotations

from pathlib import Path

from bot.delivery.plugins import installed_adapters
from bot.i18n.catalogue import LANGUAGES
from bot.intake.csvfile import is_email, read_sheet, split_list
from bot.intake.problems import ImportRejected, Problem
from bot.intake.records import PersonRecord, PortfolioRecord
from bot.store.models import Role

PEOPLE_REQUIRED = ("name", "email", "roles")
PEOPLE_OPTIONAL = ("job_title", "directorate", "wards", "manager_email", "channels", "language")
PORTFOLIO_REQUIRED = ("portfolio", "holder_email")
PORTFOLIO_OPTIONAL = ("director_email", "aliases")
ROLES = {r.value for r in Role}


def parse_directory(
    people_path: Path | str, portfolios_path: Path | str
) -> tuple[list[PersonRecord], list[PortfolioRecord], list[str]]:
    """Parse both files or raise ImportRejected listing every problem in either."""
    problems: list[Problem] = []
    warnings: list[str] = []
    try:
        people_sheet = read_sheet(people_path, required=PEOPLE_REQUIRED, known=PEOPLE_OPTIONAL)
    except ImportRejected as exc:
        problems += exc.problems
        people_sheet = None
    try:
        portfolio_sheet = read_sheet(
            portfolios_path, required=PORTFOLIO_REQUIRED, known=PORTFOLIO_OPTIONAL
        )
    except ImportRejected as exc:
        problems += exc.problems
        portfolio_sheet = None
    if problems:
        raise ImportRejected(problems)
    assert people_sheet is not None and portfolio_sheet is not None

    people: list[PersonRecord] = []
    known = installed_adapters()  # the platforms a `channels` cell may name
    lines: dict[str, int] = {}
    pending_managers: list[tuple[int, str]] = []
    for line, row in people_sheet.rows:
        bad = _reporter(problems, people_sheet.name, line)
        for column in PEOPLE_REQUIRED:
            if not row.get(column):
                bad(column, "is required")
        email = row.get("email", "").lower()
        if email and not is_email(email):
            bad("email", f"{email!r} is not an email address")
        elif email in lines:
            bad("email", f"{email} already appears on line {lines[email]}")
        roles = split_list(row.get("roles", ""))
        unknown = [r for r in roles if r not in ROLES]
        if unknown:
            bad(
                "roles",
                f"unknown role(s) {', '.join(unknown)}; use any of {', '.join(sorted(ROLES))}",
            )
        wards = split_list(row.get("wards", ""))
        if wards and "ward_councillor" not in roles:
            bad("wards", "wards are given but the person is not a ward_councillor")
        manager = row.get("manager_email", "").lower()
        if manager:
            if not is_email(manager):
                bad("manager_email", f"{manager!r} is not an email address")
            else:
                pending_managers.append((line, manager))
        channels = [c.lower() for c in split_list(row.get("channels", ""))]
        unknown_channels = [c for c in channels if c not in known]
        if unknown_channels:
            bad(
                "channels",
                f"unknown channel(s) {', '.join(unknown_channels)}; "
                f"use any of {', '.join(sorted(known))}, separated by ;",
            )
        elif len(set(channels)) != len(channels):
            bad("channels", "a channel is listed twice")
        language = row.get("language", "").lower()
        if language and language not in LANGUAGES:
            bad("language", f"unknown language {language!r}; use {' or '.join(LANGUAGES)}")
        if email and email not in lines:
            lines[email] = line
        people.append(
            PersonRecord(
                email=email,
                name=row.get("name", ""),
                roles=tuple(roles),
                job_title=row.get("job_title", ""),
                directorate=row.get("directorate", ""),
                wards=tuple(wards),
                manager_email=manager,
                channels=tuple(channels),
                language=language,
            )
        )
    for line, manager in pending_managers:
        if manager not in lines:
            problems.append(
                Problem(people_sheet.name, line, "manager_email", f"{manager} is not in the file")
            )

    portfolios: list[PortfolioRecord] = []
    names: dict[str, int] = {}
    for line, row in portfolio_sheet.rows:
        bad = _reporter(problems, portfolio_sheet.name, line)
        for column in PORTFOLIO_REQUIRED:
            if not row.get(column):
                bad(column, "is required")
        name = row.get("portfolio", "")
        key = name.lower()
        if key in names:
            bad("portfolio", f"{name!r} already appears on line {names[key]}")
        names.setdefault(key, line)
        for column in ("holder_email", "director_email"):
            value = row.get(column, "").lower()
            if value and value not in lines:
                bad(column, f"{value} is not in {people_sheet.name}")
        portfolios.append(
            PortfolioRecord(
                name=name,
                holder_email=row.get("holder_email", "").lower(),
                director_email=row.get("director_email", "").lower(),
                aliases=tuple(split_list(row.get("aliases", ""))),
            )
        )
    if problems:
        raise ImportRejected(problems)
    warnings += people_sheet.warnings + portfolio_sheet.warnings
    return people, portfolios, warnings


def _reporter(problems: list[Problem], file: str, line: int):
    def bad(column: str, reason: str) -> None:
        problems.append(Problem(file, line, column, reason))

    return bad
