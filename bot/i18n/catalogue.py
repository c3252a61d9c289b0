"""The message catalogue: every person-facing string, in English and Welsh.

Modules mark their words at module level with `N_("...")` (or `NP_(singular, plural)` where a
count appears); nothing is translated then. A `Translator` for the recipient's language turns
a marked string into words when a card or answer is drawn for that person, so one process
speaks English to one member and Welsh to the next. The catalogues are gettext `.po` files in
`bot/i18n/locale/{en,cy}/LC_MESSAGES/nosurprises.po`, read by `plain_po.py` (or Babel).
"""

from __future__ import annotations

import gettext
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from bot.i18n.plain_po import compile_plain_po

DOMAIN = "nosurprises"
LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("en", "cy")
# A council's default: one language, or bilingual with the first language shown first.
COUNCIL_LANGUAGES = ("en", "cy", "cy+en")
ENGLISH = "en"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
ENGLISH_DATE = re.compile(rf"\b({'|'.join(WEEKDAYS)}) (\d{{1,2}}) ({'|'.join(MONTHS)})\b")


def N_(message: str) -> str:
    """Mark a string for the catalogue; it is translated when drawn for a person."""
    return message


@dataclass(frozen=True)
class Plural:
    """A message whose words depend on a count: English singular and plural msgids."""

    singular: str
    plural: str


def NP_(singular: str, plural: str) -> Plural:
    """Mark a message with plural forms for the catalogue."""
    return Plural(singular, plural)


def po_path(language: str) -> Path:
    """Where a language's catalogue lives."""
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def _translations(language: str) -> gettext.NullTranslations:
    if language == ENGLISH:
        # The msgids are the English: maintain.py writes each English entry as its own msgid,
        # with English plurals (n != 1), which is what gettext's null catalogue answers. So
        # English reads no file, a few milliseconds of every command (issue 15);
        # tests/test_english_catalogue.py compares it with the file, entry by entry.
        return gettext.NullTranslations()
    # Compiled in memory from the .po file, so the repository holds no binary .mo files; in
    # the plain form maintain.py writes without Babel, which is slow to import and to read with
    # on every start of a command (issue 15).
    path = po_path(language)
    compiled = compile_plain_po(path) or compile_with_babel(path, language)
    return gettext.GNUTranslations(io.BytesIO(compiled))


def compile_with_babel(path: Path, language: str) -> bytes:
    """A catalogue compiled to `.mo` bytes by Babel, whatever the .po file holds."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    return buffer.getvalue()


class Translator:
    """Words, counts and dates in one language, for one recipient."""

    def __init__(self, language: str) -> None:
        if language not in LANGUAGES:
            raise ValueError(f"no catalogue for language {language!r}")
        self.language = language
        self._gnu = _translations(language)

    def __call__(self, message: str, /, **values: Any) -> str:
        """The message in this language, with `values` put into its {placeholders} (a date
        value reads 'Tue 4 Feb' or 'Maw 4 Chwef')."""
        text = self._gnu.gettext(message)
        return text.format(**self._dated(values)) if values else text

    def plural(self, message: Plural, count: int, /, **values: Any) -> str:
        """The form of a counted message for `count` (available to it as {count})."""
        text = self._gnu.ngettext(message.singular, message.plural, count)
        return text.format(count=count, **self._dated(values))

    def _dated(self, values: dict[str, Any]) -> dict[str, Any]:
        return {
            key: self.short_date(value)
            if isinstance(value, date) and not isinstance(value, datetime)
            else value
            for key, value in values.items()
        }

    def short_date(self, day: date) -> str:
        """'Tue 4 Feb' in English, 'Maw 4 Chwef' in Welsh: the form used in messages."""
        if self.language == ENGLISH:
            return f"{day:%a} {day.day} {day:%b}"
        from babel.dates import format_date  # Welsh only: Babel is slow to import

        return format_date(day, "EEE d MMM", locale=self.language)

    def english_dates(self, text: str) -> str:
        """Text holding house-format English dates ('Tue 26 Jan') with them in this language:
        for words stored in English before anyone knew who would read them."""
        if self.language == ENGLISH:
            return text
        from babel import Locale

        names = Locale.parse(self.language)
        days = names.days["format"]["abbreviated"]
        months = names.months["format"]["abbreviated"]
        return ENGLISH_DATE.sub(
            lambda m: f"{days[WEEKDAYS.index(m[1])]} {m[2]} {months[MONTHS.index(m[3]) + 1]}",
            text,
        )

    def long_date(self, day: date) -> str:
        """'Tue 4 Feb 2027' / 'Maw 4 Chwef 2027'."""
        if self.language == ENGLISH:
            return f"{day:%a} {day.day} {day:%b %Y}"
        from babel.dates import format_date

        return format_date(day, "EEE d MMM y", locale=self.language)


@cache
def translator(language: str) -> Translator:
    """The shared translator for a language."""
    return Translator(language)


@cache  # asked for every phrase of every card drawn (issue 15); a bad setting is not cached
def languages(setting: str) -> tuple[str, ...]:
    """'cy+en' → ('cy', 'en'): the languages a message is drawn in, first shown first."""
    parts = tuple(part.strip() for part in setting.split("+") if part.strip())
    if not parts or any(part not in LANGUAGES for part in parts) or len(set(parts)) != len(parts):
        raise ValueError(f"expected one of {', '.join(COUNCIL_LANGUAGES)}, got {setting!r}")
    return parts


def language_for(person_language: str, council_default: str) -> str:
    """A person's own language if the directory gives one, else the council's default."""
    return person_language or council_default
