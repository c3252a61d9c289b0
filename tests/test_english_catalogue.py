"""English words need no catalogue file: the English `.po` is the msgids themselves.

`bot.i18n.catalogue` answers English with gettext's null catalogue (issue 15: start-up). That is
right only while every English entry is its own msgid, with English plurals; this compares the
two entry by entry, so an English entry made to differ fails here.
"""

from __future__ import annotations

import gettext
import io

import pytest
from babel.messages.pofile import read_po

from bot.i18n.catalogue import DOMAIN, ENGLISH, Plural, Translator, _translations, po_path
from bot.i18n.plain_po import compile_plain_po


def test_english_answers_every_entry_as_the_english_file_does() -> None:
    path = po_path(ENGLISH)
    compiled = compile_plain_po(path)
    assert compiled is not None
    from_file = gettext.GNUTranslations(io.BytesIO(compiled))
    english = _translations(ENGLISH)  # what every English Translator reads
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=ENGLISH, domain=DOMAIN)
    entries = [message for message in catalog if message.id]
    assert len(entries) > 100
    for message in entries:
        if isinstance(message.id, tuple | list):
            singular, plural = message.id
            for count in (0, 1, 2, 5, 21):
                assert english.ngettext(singular, plural, count) == from_file.ngettext(
                    singular, plural, count
                ), (singular, count)
        else:
            assert english.gettext(message.id) == from_file.gettext(message.id), message.id
    # A message missing from the file reads as itself either way.
    assert english.gettext("Not in any catalogue") == from_file.gettext("Not in any catalogue")
    assert Translator(ENGLISH).plural(Plural("{count} day", "{count} days"), 2) == "2 days"


def test_english_reads_no_file(monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.i18n.catalogue as catalogue

    def refuse(*_args: object) -> bytes:
        raise AssertionError("the English catalogue file was read")

    monkeypatch.setattr(catalogue, "compile_plain_po", refuse)
    monkeypatch.setattr(catalogue, "compile_with_babel", refuse)
    catalogue._translations.cache_clear()
    try:
        assert Translator(ENGLISH)("Done") == "Done"
    finally:
        catalogue._translations.cache_clear()
