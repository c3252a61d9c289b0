"""Exempt paragraphs as councils write them, and which paragraphs each nation's law has."""

from __future__ import annotations

import pytest

from bot.decisions.exempt import allowed_text, disallowed, exempt_nation, parse_paragraphs


@pytest.mark.parametrize(
    ("text", "paragraphs"),
    [
        ("Paragraph 14", (14,)),
        ("paragraphs 3 and 5", (3, 5)),
        ("3, 5", (3, 5)),
        ("3 & 5", (3, 5)),
        ("3;5", (3, 5)),
        ("Information relating to financial affairs (paragraph 3)", (3,)),
        (
            "By virtue of paragraph(s) 3 of Part 1 of Schedule 12A of the Local Government "
            "Act 1972",
            (3,),
        ),
        ("paragraph(s) 3, 12, 14 of Part 1 of Schedule 7A", (3, 12, 14)),
        ("Paragraph 3, paragraph 3", (3,)),
        ("N/A", ()),
        ("", ()),
    ],
)
def test_paragraphs_are_read_however_they_are_written(text: str, paragraphs: tuple[int, ...]):
    assert parse_paragraphs(text) == paragraphs


def test_each_nation_has_its_own_paragraphs():
    assert disallowed((14,), "wales") == ()
    assert disallowed((14,), "england") == (14,)
    assert disallowed((3,), "wales") == (3,)
    assert disallowed((3, 12, 14), "scotland") == ()
    assert disallowed((16,), "scotland") == (16,)
    assert disallowed((7,), "northern-ireland") == ()
    assert allowed_text("england") == "Schedule 12A paragraphs 1-7"
    assert allowed_text("wales") == "Schedule 12A (as varied for Wales) paragraphs 12-18"


def test_the_old_combined_setting_means_england():
    assert exempt_nation("england-and-wales") == "england"
    assert exempt_nation("Wales") == "wales"
    assert exempt_nation("scotland") == "scotland"
