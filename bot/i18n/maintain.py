"""Keeping the catalogues in step with the code: what is marked, what is missing, what is stale.

`python -m bot.i18n.maintain` rewrites both `.po` files from the marked strings (English is
its own translation; Welsh keeps every translation it has, and new strings arrive empty and
marked for review). `problems()` is what the tests check.
"""

from __future__ import annotations

import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from bot.i18n.catalogue import DOMAIN, po_path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SOURCE_DIRS = ("bot", "adapters")
KEYWORDS = {"N_": None, "NP_": (1, 2)}
# Every Welsh string carries this until a Welsh speaker has checked it and removed the line.
REVIEW_NOTE = "review: drafted without a Welsh speaker; to be checked before go-live"
WELSH_HEADER = """Welsh messages for No Surprises.
NOT YET REVIEWED: these translations were drafted without a Welsh speaker. Before go-live a
Welsh speaker must check every entry and remove its "review:" comment.
Cyfieithiad drafft: rhaid i siaradwr Cymraeg ei wirio cyn ei ddefnyddio."""
ENGLISH_HEADER = "English messages for No Surprises (the msgids are the English)."
CATALOGUE_DATE = datetime(2026, 12, 1, tzinfo=UTC)
PLACEHOLDER = re.compile(r"{(\w+)[^}]*}")


def marked() -> dict[str | tuple[str, str], list[tuple[str, int]]]:
    """Every string marked with N_ or NP_ in the code, with where it is marked."""
    found: dict[str | tuple[str, str], list[tuple[str, int]]] = {}
    for folder in SOURCE_DIRS:
        for filename, lineno, message, _comments, _context in extract_from_dir(
            PROJECT_ROOT / folder,
            method_map=[("**.py", "python")],
            keywords=KEYWORDS,
        ):
            key = tuple(message) if isinstance(message, tuple) else message
            found.setdefault(key, []).append((f"{folder}/{filename}", lineno))  # type: ignore[arg-type]
    return found


def load(language: str) -> Catalog:
    """A language's catalogue as it stands on disk."""
    with po_path(language).open("rb") as handle:
        return read_po(handle, locale=language, domain=DOMAIN)


def _msgid(message: Message) -> str | tuple[str, str]:
    return tuple(message.id) if isinstance(message.id, (list, tuple)) else message.id  # type: ignore[return-value]


def _placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def problems(language: str) -> list[str]:
    """What is wrong with a catalogue: missing, stale or empty strings, placeholders changed."""
    wanted = marked()
    catalog = load(language)
    have = {_msgid(m): m for m in catalog if m.id}
    found: list[str] = []
    for key in wanted:
        if key not in have:
            found.append(f"{language}: missing {key!r} (marked in {wanted[key][0][0]})")
    for key, message in have.items():
        if key not in wanted:
            found.append(f"{language}: stale {key!r} (no longer marked in the code)")
            continue
        texts = (
            list(message.string) if isinstance(message.string, (list, tuple)) else [message.string]
        )
        if not all(texts):
            found.append(f"{language}: {key!r} has no translation")
            continue
        ids = [key] if isinstance(key, str) else list(key)
        expected = set().union(*(_placeholders(i) for i in ids))
        for text in texts:
            if _placeholders(text or "") - expected - {"count"}:
                found.append(f"{language}: {key!r} uses a placeholder the code does not give")
    return found


def update() -> list[str]:
    """Rewrite both catalogues from the code. Returns the Welsh strings still untranslated."""
    wanted = marked()
    old_welsh = {_msgid(m): m for m in load_or_empty("cy") if m.id}
    for language in ("en", "cy"):
        catalog = Catalog(
            locale=language,
            domain=DOMAIN,
            project="No Surprises",
            version="1",
            fuzzy=False,
            # Fixed, so rewriting a catalogue changes only the lines whose strings changed.
            creation_date=CATALOGUE_DATE,
            revision_date=CATALOGUE_DATE,
            header_comment="\n".join(
                f"# {line}"
                for line in (WELSH_HEADER if language == "cy" else ENGLISH_HEADER).split("\n")
            ),
        )
        for key, locations in wanted.items():
            if language == "en":
                string: Any = key
                comments: list[str] = []
            else:
                previous = old_welsh.get(key)
                string = (
                    previous.string
                    if previous
                    else ("",) * catalog.num_plurals
                    if isinstance(key, tuple)
                    else ""
                )
                comments = list(previous.user_comments) if previous else [REVIEW_NOTE]
            catalog.add(key, string, locations=locations, user_comments=comments)
        path = po_path(language)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            write_po(handle, catalog, width=100, include_lineno=False, sort_output=False)
    return [
        str(key)
        for key, m in ((_msgid(m), m) for m in load("cy") if m.id)
        if not all(m.string if isinstance(m.string, (list, tuple)) else [m.string])
    ]


def load_or_empty(language: str) -> Catalog:
    """The catalogue on disk, or an empty one before the first run."""
    return load(language) if po_path(language).exists() else Catalog(locale=language, domain=DOMAIN)


if __name__ == "__main__":
    missing = update()
    for key in missing:
        print(f"cy: untranslated {key}", file=sys.stderr)
    sys.exit(1 if missing else 0)
