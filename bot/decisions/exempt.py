"""Exempt information: paragraph numbers as councils write them, checked against the nation's law.

England: Schedule 12A to the Local Government Act 1972, Part 1, paragraphs 1–7.
Wales: the same Schedule as varied for Wales, paragraphs 12–18 (Local Authorities (Access to
Information) (Variation) (Wales) Order 2007). Scotland: Schedule 7A to the Local Government
(Scotland) Act 1973, Part I, paragraphs 1–15 (legislation.gov.uk/ukpga/1973/65/schedule/7A;
Edinburgh cites "paragraph(s) 3, 12, 14 of Part 1 of Schedule 7A"). Northern Ireland: Schedule 6
to the Local Government Act (Northern Ireland) 2014, assumed paragraphs 1–7 like England (not in
the project's reference material; widen here if a council shows otherwise).
See /work/shared/reference/domain.md §2.4, §2.6 and §9.
"""

from __future__ import annotations

import re

ALLOWED_PARAGRAPHS: dict[str, range] = {
    "england": range(1, 8),
    "wales": range(12, 19),
    "scotland": range(1, 16),
    "northern-ireland": range(1, 8),
}
SCHEDULE: dict[str, str] = {
    "england": "Schedule 12A",
    "wales": "Schedule 12A (as varied for Wales)",
    "scotland": "Schedule 7A",
    "northern-ireland": "Schedule 6",
}
# The council setting once named the bank-holiday division; exemptions differ within it.
_SETTING_TO_NATION = {"england-and-wales": "england"}
# One or two digits: years ("Act 1972") and dates are not paragraph numbers.
_NUMBER = re.compile(r"(?<![\d/.])\b\d{1,2}\b(?![\d/.])")
# Numbers that are not paragraph numbers: the schedule's own ("12A", "7A") and "Part 1".
_NOT_A_PARAGRAPH = re.compile(r"(?i)\bschedule\s+\d+[a-z]?\b|\bpart\s+(\d+|[iv]+)\b|\b\d+[a-z]\b")


def exempt_nation(setting: str) -> str:
    """The nation key for exemptions from the council's `nation` setting."""
    key = setting.strip().lower()
    return _SETTING_TO_NATION.get(key, key)


def parse_paragraphs(text: str) -> tuple[int, ...]:
    """Paragraph numbers from "Paragraph 14", "paragraphs 3 and 5", "3, 5", "3 & 5", "3; 5"."""
    cleaned = _NOT_A_PARAGRAPH.sub(" ", text)
    found: list[int] = []
    for number in _NUMBER.findall(cleaned):
        value = int(number)
        if value not in found:
            found.append(value)
    return tuple(found)


def disallowed(paragraphs: tuple[int, ...], nation: str) -> tuple[int, ...]:
    """The paragraphs that the nation's schedule does not have."""
    allowed = ALLOWED_PARAGRAPHS.get(nation, ALLOWED_PARAGRAPHS["england"])
    return tuple(p for p in paragraphs if p not in allowed)


def allowed_text(nation: str) -> str:
    """'Schedule 12A paragraphs 1-7', for error messages."""
    allowed = ALLOWED_PARAGRAPHS.get(nation, ALLOWED_PARAGRAPHS["england"])
    schedule = SCHEDULE.get(nation, SCHEDULE["england"])
    return f"{schedule} paragraphs {allowed.start}-{allowed.stop - 1}"
