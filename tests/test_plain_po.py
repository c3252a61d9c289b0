"""The catalogues compile without Babel exactly as with it (issue 15: start-up)."""

from __future__ import annotations

import gettext
import io
from pathlib import Path

import pytest

from bot.i18n.catalogue import LANGUAGES, compile_with_babel, po_path
from bot.i18n.plain_po import compile_plain_po

HEADER = (
    'msgid ""\n'
    'msgstr ""\n'
    '"Language: cy\\n"\n'
    '"Plural-Forms: nplurals=5; plural=(n==1 ? 1 : n==2 ? 2 : n==3 ? 3 : n==6 ? 4 : 0);\\n"\n'
    '"MIME-Version: 1.0\\n"\n'
    '"Content-Type: text/plain; charset=utf-8\\n"\n'
    '"Content-Transfer-Encoding: 8bit\\n"\n\n'
)
PLAIN = HEADER + (
    "#: bot/views/x.py\n"
    "#, python-brace-format\n"
    'msgid "Say \\"{name}\\"\\tthen\\\\stop"\n'
    'msgstr "Dywed \\"{name}\\"\\tyna\\\\stopia"\n\n'
    "#: bot/views/x.py\n"
    'msgid ""\n'
    '"A long message that the writer "\n'
    '"wrapped over lines\\n"\n'
    'msgstr ""\n'
    '"Neges hir "\n'
    '"ar linellau\\n"\n\n'
    'msgid "{count} member"\n'
    'msgid_plural "{count} members"\n'
    'msgstr[0] "{count} aelod (0)"\n'
    'msgstr[1] "{count} aelod"\n'
    'msgstr[2] "{count} aelod (2)"\n'
    'msgstr[3] "{count} aelod (3)"\n'
    'msgstr[4] "{count} aelod (6)"\n'
)


def _translations(compiled: bytes) -> gettext.GNUTranslations:
    return gettext.GNUTranslations(io.BytesIO(compiled))


def _same(plain: gettext.GNUTranslations, babel: gettext.GNUTranslations) -> None:
    # Every message and plural form, and the plural rule, as Babel compiles them. The header
    # entry ("") is Babel's own rewrite of the file's header, so it is left out.
    ours = {k: v for k, v in plain._catalog.items() if k != ""}  # type: ignore[attr-defined]
    theirs = {k: v for k, v in babel._catalog.items() if k != ""}  # type: ignore[attr-defined]
    assert ours == theirs
    assert [plain.plural(n) for n in range(200)] == [babel.plural(n) for n in range(200)]  # type: ignore[attr-defined]
    assert plain.charset() == babel.charset()


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_shipped_catalogue_compiles_without_babel_as_with_it(language: str) -> None:
    path = po_path(language)
    compiled = compile_plain_po(path)
    assert compiled is not None, f"{path} is not in the plain form maintain.py writes"
    _same(_translations(compiled), _translations(compile_with_babel(path, language)))


def test_escapes_wrapped_lines_and_plural_forms_compile_as_babel_does(tmp_path: Path) -> None:
    path = tmp_path / "plain.po"
    path.write_text(PLAIN, encoding="utf-8")
    compiled = compile_plain_po(path)
    assert compiled is not None
    plain = _translations(compiled)
    _same(plain, _translations(compile_with_babel(path, "cy")))
    assert plain.gettext('Say "{name}"\tthen\\stop') == 'Dywed "{name}"\tyna\\stopia'
    assert plain.ngettext("{count} member", "{count} members", 6) == "{count} aelod (6)"


@pytest.mark.parametrize(
    "entry",
    [
        '#, fuzzy\nmsgid "Hello"\nmsgstr "Helo"\n',  # Babel leaves fuzzy ones out
        '#~ msgid "Old"\n#~ msgstr "Hen"\n',  # obsolete
        'msgctxt "button"\nmsgid "Open"\nmsgstr "Agor"\n',  # a context
        'msgid "Hello"\nmsgstr ""\n',  # untranslated: Babel leaves it out
        'msgid "a"\nmsgid_plural "as"\nmsgstr[0] "x"\nmsgstr[1] ""\n',  # Babel fills it in
        'msgid "a"\nmsgid_plural "as"\nmsgstr[0] "x"\nmsgstr[2] "y"\n',  # a form missing
        'msgid "Tab\\x"\nmsgstr "Tab"\n',  # an escape this reader does not know
        'msgid "Hello"\nmsgstr "Helo"\n\nmsgid "Hello"\nmsgstr "Shw mae"\n',  # twice
    ],
)
def test_anything_but_the_plain_form_is_left_to_babel(tmp_path: Path, entry: str) -> None:
    path = tmp_path / "other.po"
    path.write_text(HEADER + entry, encoding="utf-8")
    assert compile_plain_po(path) is None
    path.write_text(HEADER + 'msgid "Hello"\nmsgstr "Helo"\n', encoding="utf-8")
    assert compile_plain_po(path) is not None  # the same file without that entry is plain


def test_a_header_without_plural_forms_or_utf8_is_left_to_babel(tmp_path: Path) -> None:
    path = tmp_path / "header.po"
    path.write_text(HEADER.replace("Plural-Forms", "X-Plural"), encoding="utf-8")
    assert compile_plain_po(path) is None
    path.write_text(HEADER.replace("utf-8", "latin-1"), encoding="utf-8")
    assert compile_plain_po(path) is None
