"""Welsh: the message catalogue, Welsh dates, the language column and setting, bilingual
messages (Welsh first), and a check that person-facing prose goes through the catalogue."""

from __future__ import annotations

import csv
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from catalogue_scan import ROOT, unmarked_prose

from bot.cli import SAMPLE_COUNCIL
from bot.config import ConfigError, Settings, load_settings
from bot.i18n import maintain
from bot.i18n.catalogue import N_, NP_, languages, translator
from bot.intake.directory_csv import parse_directory
from bot.intake.problems import ImportRejected
from bot.views.bilingual import draw, language_of, say
from bot.views.cards import ActionKind, Button, Card, CardField, Input
from bot.views.phrases import OFFICER_DIGEST_TITLE

# --- the catalogues -------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "cy"])
def test_catalogue_has_every_marked_string_and_no_stale_one(language):
    assert maintain.problems(language) == []


def _edited_welsh(tmp_path: Path, monkeypatch, *edits: tuple[str, str], extra: str = "") -> None:
    """Point the catalogue at a copy of the Welsh one with some text replaced."""
    text = maintain.po_path("cy").read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text
        text = text.replace(old, new)
    po = tmp_path / "cy" / "LC_MESSAGES" / "nosurprises.po"
    po.parent.mkdir(parents=True)
    po.write_text(text + extra, encoding="utf-8")
    monkeypatch.setattr(
        maintain, "po_path", lambda language: tmp_path / language / "LC_MESSAGES" / "nosurprises.po"
    )


def test_a_missing_stale_or_untranslated_welsh_string_is_reported(tmp_path, monkeypatch):
    _edited_welsh(
        tmp_path,
        monkeypatch,
        ('msgid "Done"\nmsgstr "Wedi\'i wneud"', ""),
        ('msgstr "Cadarnhau: {label}"', 'msgstr ""'),
        extra='\nmsgid "A string nobody marks"\nmsgstr "Llinyn nad oes neb yn ei farcio"\n',
    )
    found = maintain.problems("cy")
    assert "cy: missing 'Done' (marked in bot/views/email_phrases.py)" in found
    assert any("stale 'A string nobody marks'" in p for p in found)
    assert "cy: 'Confirm: {label}' has no translation" in found
    assert len(found) == 3


def test_a_welsh_placeholder_the_code_does_not_give_is_reported(tmp_path, monkeypatch):
    _edited_welsh(
        tmp_path, monkeypatch, ('msgstr "Cadarnhau: {label}"', 'msgstr "Cadarnhau: {labl}"')
    )
    assert maintain.problems("cy") == [
        "cy: 'Confirm: {label}' uses a placeholder the code does not give"
    ]


def test_the_welsh_catalogue_is_marked_for_review_by_a_welsh_speaker():
    text = maintain.po_path("cy").read_text(encoding="utf-8")
    assert "NOT YET REVIEWED" in text.split("msgid")[0]
    messages = [m for m in maintain.load("cy") if m.id]
    assert messages and all(maintain.REVIEW_NOTE in m.user_comments for m in messages)
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "must be reviewed by a Welsh speaker before go-live" in readme


def test_strings_are_translated_when_drawn_not_when_marked():
    marked = N_("Confirm: {label}")
    assert marked == "Confirm: {label}"
    assert translator("cy")(marked, label="Cydnabod") == "Cadarnhau: Cydnabod"
    assert translator("en")(marked, label="Acknowledge") == "Confirm: Acknowledge"


def test_counts_take_the_welsh_plural_forms():
    assert (
        translator("en")
        .plural(OFFICER_DIGEST_TITLE, 1)
        .endswith("1 member briefing waiting on you")
    )
    assert (
        translator("en")
        .plural(OFFICER_DIGEST_TITLE, 2)
        .endswith("2 member briefings waiting on you")
    )
    welsh = {n: translator("cy").plural(OFFICER_DIGEST_TITLE, n) for n in (1, 2, 4)}
    assert welsh[1] == "Bore da: 1 briff aelod yn aros amdanoch"
    assert welsh[2] == "Bore da: 2 friff aelod yn aros amdanoch"  # dau friff: soft mutation
    assert welsh[4] == "Bore da: 4 o friffiau aelodau yn aros amdanoch"
    assert isinstance(OFFICER_DIGEST_TITLE, type(NP_("a", "b")))


# --- dates ---------------------------------------------------------------------------------------


def test_dates_are_welsh_in_welsh_and_the_house_format_in_english():
    tuesday = date(2027, 2, 2)
    assert translator("en").short_date(tuesday) == "Tue 2 Feb"
    assert translator("cy").short_date(tuesday) == "Maw 2 Chwef"
    assert translator("cy").short_date(date(2027, 7, 9)) == "Gwen 9 Gorff"
    assert translator("en").long_date(date(2027, 9, 1)) == "Wed 1 Sep 2027"
    assert translator("cy").long_date(date(2027, 9, 1)) == "Mer 1 Medi 2027"


def test_words_stored_in_english_are_read_back_in_the_readers_language():
    from bot.views import phrases
    from bot.views.bilingual import changes_words, from_stored, reasons_words, speaking
    from bot.views.commands import _flag_word, _reason_words

    stored = "the decision date moved from Tue 26 Jan to Fri 22 Jan; the title changed"
    assert changes_words(stored) == stored  # English stays exactly as stored
    with speaking("cy"):
        assert changes_words(stored) == (
            "symudodd dyddiad y penderfyniad o Maw 26 Ion i Gwen 22 Ion; newidiodd y teitl"
        )
        assert reasons_words(["Portfolio holder for Housing", "Something else"]) == (
            "Deiliad portffolio Housing; Something else"
        )
        chased = "Owen Brady has asked for this briefing to happen now."
        assert from_stored(chased, (phrases.CHASED_BY,)) == (
            "Mae Owen Brady wedi gofyn i'r briff hwn ddigwydd nawr."
        )
        assert from_stored("made by no template", (phrases.CHASED_BY,)) == "made by no template"
        assert _flag_word({"code": "short_notice", "severity": "red"}) == "🔴 rhybudd byr"
        assert _reason_words(f"changed since the member was briefed: {stored}") == (
            "wedi newid ers i'r aelod gael ei friffio: symudodd dyddiad y penderfyniad o Maw 26 "
            "Ion i Gwen 22 Ion; newidiodd y teitl"
        )
        assert _reason_words("the decision was withdrawn from the forward plan") == (
            "tynnwyd y penderfyniad o'r blaengynllun"
        )


# --- the language column and the council's setting ----------------------------------------------


def _people_with(tmp_path: Path, languages_by_email: dict[str, str]) -> Path:
    with (SAMPLE_COUNCIL / "people.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    fields = [*rows[0].keys(), "language"]
    path = tmp_path / "people.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "language": languages_by_email.get(row["email"], "")})
    return path


def test_people_csv_language_column_is_read(tmp_path):
    first = "margaret.hollis@harbourside.example.gov.uk"
    second = "david.osei@harbourside.example.gov.uk"
    people, _, _ = parse_directory(
        _people_with(tmp_path, {first: "cy", second: "EN"}), SAMPLE_COUNCIL / "portfolios.csv"
    )
    by_email = {p.email: p.language for p in people}
    assert by_email[first] == "cy"
    assert by_email[second] == "en"
    assert {v for e, v in by_email.items() if e not in (first, second)} == {""}


def test_a_bad_language_is_refused_naming_file_line_and_column(tmp_path):
    path = _people_with(tmp_path, {"david.osei@harbourside.example.gov.uk": "welsh"})
    with pytest.raises(ImportRejected) as caught:
        parse_directory(path, SAMPLE_COUNCIL / "portfolios.csv")
    [problem] = caught.value.problems
    assert (problem.file, problem.line, problem.column) == ("people.csv", 3, "language")
    assert "welsh" in problem.reason and "cy" in problem.reason


@pytest.mark.parametrize(
    "value, expected", [("en", ("en",)), ("cy", ("cy",)), ("cy+en", ("cy", "en"))]
)
def test_the_council_language_setting(tmp_path, value, expected):
    config = tmp_path / "config.toml"
    config.write_text(f'[council]\nlanguage = "{value}"\n', encoding="utf-8")
    settings = load_settings(str(config), environ={})
    assert languages(settings.council.language) == expected


def test_a_bad_council_language_is_a_config_error(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[council]\nlanguage = "fr"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"council\.language.*'fr'"):
        load_settings(str(config), environ={})


def test_a_persons_own_language_wins_over_the_councils_default():
    from bot.store.directory import PersonView

    settings = Settings()
    bilingual = replace(settings, council=replace(settings.council, language="cy+en"))
    welsh = PersonView("a@x.gov.uk", "A", frozenset(), language="cy")
    english = PersonView("b@x.gov.uk", "B", frozenset(), language="en")
    unset = PersonView("c@x.gov.uk", "C", frozenset())
    assert language_of(welsh, settings) == "cy"
    assert language_of(english, bilingual) == "en"
    assert language_of(unset, bilingual) == "cy+en"
    assert language_of(None, settings) == "en"


# --- bilingual: Welsh first ---------------------------------------------------------------------

CONFIRM = N_("Confirm: {label}")
DONE = N_("Done")


def _sample_card(tr) -> Card:
    return Card(
        title=tr(DONE),
        lines=(tr(CONFIRM, label="X"),),
        fields=(CardField(tr(DONE), "HBC-1"),),
        buttons=(
            Button(
                label=tr(DONE),
                kind=ActionKind.SNOOZE,
                payload="p",
                inputs=(Input("until", tr(DONE), placeholder=tr(CONFIRM, label="Y")),),
            ),
        ),
        footer=tr(DONE),
    )


def test_a_bilingual_card_puts_welsh_first():
    card = draw("cy+en", _sample_card)
    assert card.title == "Wedi'i wneud / Done"
    assert card.lines == ("Cadarnhau: X", "", "Confirm: X")
    assert card.fields == (CardField("Wedi'i wneud / Done", "HBC-1"),)
    assert card.buttons[0].label == "Wedi'i wneud / Done"
    assert card.buttons[0].inputs[0].placeholder == "Cadarnhau: Y / Confirm: Y"
    assert card.footer == "Wedi'i wneud / Done"
    assert card.language == "cy+en"
    assert draw("cy", _sample_card).title == "Wedi'i wneud"
    assert draw("en", _sample_card).title == "Done"


def test_a_bilingual_answer_puts_welsh_first():
    assert say("cy+en", lambda tr: tr(DONE)) == "Wedi'i wneud\n\nDone"


# --- nothing person-facing bypasses the catalogue -----------------------------------------------

# The modules that draw what people see: cards, digests, answers, pages, calendars, errors.
PERSON_FACING = (
    "bot/views/phrases.py",
    "bot/views/email_phrases.py",
    "bot/views/digests.py",
    "bot/views/ics.py",
    "bot/views/bilingual.py",
    "bot/views/wording.py",
    "bot/service.py",
    "adapters/email/adapter.py",
    "adapters/email/compose.py",
    "adapters/email/pages.py",
    "adapters/console/adapter.py",
    "adapters/slack/app.py",
    "adapters/slack/blocks.py",
    "adapters/teams/adapter.py",
    "adapters/teams/cards.py",
    "bot/views/platform_phrases.py",
    "bot/briefings/actions.py",
    "bot/briefings/notices.py",
    "bot/views/renderer.py",
    "bot/views/commands.py",
    "bot/views/status.py",
    "bot/headsups/views.py",
    "bot/headsups/record.py",
)
# Literals in those modules that read like prose but are not (matched by their start): each
# says why.
NOT_PROSE = {
    ("adapters/email/adapter.py", "private, max-age=900"): "an HTTP header",
    ("adapters/email/pages.py", "body{font-family:"): "the pages' style sheet",
    ("adapters/teams/adapter.py", "surprises help"): "a command the adapter runs",
    ("bot/briefings/actions.py", "a value to correct"): "an exception's text; people get .said",
    ("bot/briefings/actions.py", "reassigned to {}"): "the audit log's reason",
    ("bot/briefings/notices.py", "not chair"): "the audit log's reason",
    ("bot/briefings/actions.py", "not the briefer or their line"): "the audit log's reason",
    ("bot/briefings/actions.py", "not the member"): "the audit log's reason",
    ("bot/briefings/actions.py", "not an approver"): "the audit log's reason",
    ("bot/briefings/actions.py", "not told of the escalation"): "the audit log's reason",
    ("bot/briefings/actions.py", "asked for it themself"): "the audit log's reason",
    ("bot/briefings/actions.py", "approval asked to reassign to"): "the audit log's reason",
    ("bot/briefings/notices.py", "not dem services"): "the audit log's reason",
    ("bot/views/status.py", "{}: what could still surprise a member"): "`nosurprises status` (CLI)",
    ("bot/views/status.py", "As at {} {} {}, decisions up to"): "`nosurprises status` (CLI)",
    ("bot/views/status.py", "At risk, most urgent first:"): "`nosurprises status` (CLI)",
    ("bot/views/status.py", "Nothing is at risk in this window."): "`nosurprises status` (CLI)",
    ("bot/views/status.py", "For Determination"): "a forward plan status it compares with",
    ("bot/views/status.py", "(command line)"): "who the CLI acts as, in the audit log",
    ("bot/views/status.py", "no briefing"): "a state code in status JSON",
    ("adapters/slack/app.py", "the body cannot be read"): "logged; the platform gets a 400",
    ("adapters/teams/adapter.py", "the body is not an activity"): "logged; Teams gets a 400",
    ("bot/views/email_phrases.py", "{name}'s private calendar feed: {url}"): "operator's CLI",
    ("bot/views/email_phrases.py", "{name}'s email preferences: {url}"): "operator's CLI",
    ("bot/views/email_phrases.py", "error: nobody in the directory matches {who!r}"): "CLI",
    (
        "bot/views/email_phrases.py",
        "error: set [email] public_url (or NOSURPRISES_PUBLIC_URL) to the bot's https:// "
        "address first",
    ): "operator's CLI",
    (
        "bot/views/phrases.py",
        "could not be assessed: {reason}. Its briefings are unchanged until it is fixed.",
    ): "stored on the item; operators read it in /healthz",
    (
        "bot/views/phrases.py",
        "a date on it is outside the range the calendar can work with",
    ): "ditto",
    (
        "bot/views/phrases.py",
        "an unexpected problem ({kind}) stopped the rules working it out",
    ): "ditto",
    ("bot/views/ics.py", "-//No Surprises//Member briefings//EN"): "the calendar's PRODID",
    ("bot/views/digests.py", "ce_digest:{}:{}-W{}"): "a dedupe key",
}


def test_no_person_facing_prose_bypasses_the_catalogue():
    found = [
        f"{p.path}:{p.line}: {p.text!r}"
        for module in PERSON_FACING
        for p in unmarked_prose(ROOT / module)
        if not any(p.path == path and p.text.startswith(start) for path, start in NOT_PROSE)
    ]
    assert found == []


def test_the_scan_finds_unmarked_prose(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        '"""A docstring is not a message."""\n'
        "from bot.i18n.catalogue import N_\n"
        'MARKED = N_("Please confirm your briefing")\n'
        'KEY = "officer_digest:{}"\n'
        "def f(who):\n"
        '    log.info("sent a card to %s", who)\n'
        '    return f"Thank you, {who}, for acknowledging"\n',
        encoding="utf-8",
    )
    import catalogue_scan

    texts = [p.text for p in catalogue_scan.unmarked_prose(module, root=tmp_path)]
    assert texts == ["Thank you, {}, for acknowledging"]
