"""`/surprises` in chat: the same engine as `nosurprises status`, as cards.

`/surprises` (the at-risk list), `/surprises REF` (one item and its timeline),
`/surprises mine` (your own briefings and acknowledgements), `/surprises help`; filters
`days N` and `portfolio NAME`. Role-gated and exempt-masked; outside a direct message exempt
details are never shown, even to people entitled to them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from functools import partial

from sqlalchemy import select
from sqlmodel import Session, col

from bot.app import App
from bot.briefings.states import LIVE
from bot.decisions.calendar import CouncilCalendar
from bot.decisions.rules import Flag
from bot.headsups import record as headsups
from bot.i18n.catalogue import ENGLISH, N_
from bot.intake.source_health import stale_sources
from bot.store.directory import Directory
from bot.store.models import AuditEvent, Briefing, BriefingState, Decision, DecisionChange
from bot.views import phrases
from bot.views.access import can_see, entitled_to_exempt, is_exempt, parties_for
from bot.views.bilingual import (
    changes_words,
    draw_all,
    draw_each,
    exempt_words,
    from_stored,
    language_of,
    speaking_now,
    words,
)
from bot.views.bilingual import day as day_words
from bot.views.cards import RAG_MARK, Card, CardField
from bot.views.phrases import NOT_SET_UP, NOT_SET_UP_TITLE
from bot.views.renderer import STATE_WORDS
from bot.views.shared_rows import one_version, shared_part
from bot.views.status import NotInDirectory, StatusReport, StatusRow, build_status
from bot.views.status_own import own_status_page
from bot.views.status_page import StatusPage, wide_status_page

DEFAULT_ROWS = 15
DEFAULT_DAYS = 28
HELP = (
    N_("`/surprises` — what could still surprise a member in the next 28 days"),
    N_("`/surprises days 14` — a different window"),
    N_("`/surprises portfolio Housing` — one portfolio"),
    N_("`/surprises HBC-2027-003` — one item, with its timeline"),
    N_("`/surprises mine` — your own briefings and acknowledgements"),
    N_("`/surprises help` — this list"),
    N_(
        "`/headsup HBC-2027-003 press release: …` — tell the right people before you say or "
        "publish something (`/headsup help`)"
    ),
)


@dataclass(frozen=True)
class Query:
    kind: str  # status | item | mine | help
    days: int = DEFAULT_DAYS
    portfolio: str = ""
    ref: str = ""
    page: int = 1


def parse_query(text: str) -> Query:
    """Read the words after /surprises. Unknown words are treated as a reference."""
    words = text.strip().removeprefix("/").removeprefix("surprises").strip()
    if not words:
        return Query("status")
    lowered = words.lower()
    if lowered in ("help", "?"):
        return Query("help")
    kind = "status"
    if lowered.split()[0] == "mine":
        # `mine page 2`, `mine days 60`: the same filters over the person's own briefings.
        kind, words, lowered = "mine", words[4:].strip(), lowered[4:].strip()
    days, portfolio, page = DEFAULT_DAYS, "", 1
    match = re.search(r"\b(?:days?|next)\s+(\d{1,3})\b|\b(\d{1,3})\s+days?\b", lowered)
    if match:
        days = int(match.group(1) or match.group(2))
        words = (words[: match.start()] + words[match.end() :]).strip()
    match = re.search(r"\bpage\s+(\d{1,4})\b", words, re.IGNORECASE)
    if match:
        page = int(match.group(1))
        words = (words[: match.start()] + words[match.end() :]).strip()
    match = re.search(r"\bportfolio\s+(.+)$", words, re.IGNORECASE)
    if match:
        portfolio = match.group(1).strip()
        words = words[: match.start()].strip()
    if words and not portfolio and kind == "status":
        return Query("item", ref=words.split()[0].upper())
    return Query(kind, days=max(1, min(days, 365)), portfolio=portfolio, page=page)


def not_set_up_card(language: str = ENGLISH) -> Card:
    """What anyone outside the council's directory sees, on every platform (in the council's
    language: nobody knows theirs)."""
    return draw_each(
        language, lambda: Card(title=words(NOT_SET_UP_TITLE), lines=(words(NOT_SET_UP),))
    )


def _directory(app: App, session: Session) -> Directory:
    """The directory, looked up once per question: answering writes nothing, and each look-up
    is a query (issue 15: narrow answers within 5 ms)."""
    found = session.info.get("directory")
    if not isinstance(found, Directory):
        found = session.info["directory"] = app.directory(session)
    return found


def answer(*, app: App, session: Session, text: str, actor_email: str, direct: bool) -> list[Card]:
    """The cards that answer `/surprises …` for this person, in their language."""
    person = _directory(app, session).person(actor_email)
    if person is None:
        return [not_set_up_card(app.settings.council.language)]
    with one_version(session):
        return draw_all(
            language_of(person, app.settings),
            lambda: _answer(
                app=app, session=session, text=text, actor_email=actor_email, direct=direct
            ),
        )


def _answer(*, app: App, session: Session, text: str, actor_email: str, direct: bool) -> list[Card]:
    query = parse_query(text)
    if query.kind == "help":
        return [Card(title=words(phrases.HELP_TITLE), lines=tuple(words(line) for line in HELP))]
    directory = _directory(app, session)
    if directory.person(actor_email) is None:
        return [not_set_up_card()]
    if query.kind == "item":
        return [
            item_card(
                app=app, session=session, ref=query.ref, actor_email=actor_email, direct=direct
            )
        ]
    try:
        # The question, as both ways of answering it take it.
        asked = partial(
            build_status,
            session=session,
            settings=app.settings,
            calendar=app.calendar,
            directory=directory,
            now=app.now(),
            viewer_email=actor_email,
            days=query.days,
            portfolio=query.portfolio,
        )
        mine = query.kind == "mine"
        # Someone who sees every item, and anyone's own briefings, get the counts and one page,
        # without building every row of the window (issue 15).
        page, per_page = query.page, DEFAULT_ROWS
        paged = None if mine else wide_status_page(**asked.keywords, page=page, per_page=per_page)
        if paged is None:
            paged = own_status_page(**asked.keywords, only_mine=mine, page=page, per_page=per_page)
        report = paged.report if paged is not None else asked(only_mine=mine)
    except NotInDirectory:  # pragma: no cover - checked above
        return []
    except ValueError as exc:
        return [Card(title=words(phrases.SORRY), lines=(str(exc),))]
    card = status_card(app, report, mine=mine, direct=direct, page=query.page, paged=paged)
    card = replace(card, lines=(*card.lines, *recent_headsups(app, session, actor_email, direct)))
    stale = [
        words(phrases.SOURCE_STALE, name=name, since=_moment(app, since))
        for name, since in stale_sources(session)
    ]
    return [replace(card, lines=(*stale, *card.lines)) if stale else card]


def recent_headsups(app: App, session: Session, actor_email: str, direct: bool) -> list[str]:
    """The "Heads-ups in the last 14 days" lines this person may see (shared between their
    questions while nothing they read has changed: no window changes them)."""
    directory, now = _directory(app, session), app.now()

    def build() -> tuple[list[str], datetime]:
        return headsups.recent(
            session,
            directory=directory,
            calendar=app.calendar,
            viewer=actor_email,
            direct=direct,
            now=now,
        )

    lines: list[str] = shared_part(
        ("headsups", direct),
        session=session,
        settings=app.settings,
        calendar=app.calendar,
        directory=directory,
        now=now,
        viewer_email=actor_email,
        build=build,
    )
    return list(lines)  # the shared list stays as built


def _flag_word(flag: dict[str, str]) -> str:
    """A flag's code as words, marked red where the item cannot proceed as it stands."""
    said = words(phrases.FLAG_WORDS.get(flag["code"], flag["code"].replace("_", " ")))
    return f"{RAG_MARK['red']} {said}" if flag.get("severity") == "red" else said


def no_briefing_reason(row: StatusRow) -> str:
    """'no briefing can be set up: no portfolio matches 'Parks'' — never a line of symbols."""
    codes = {f["code"] for f in row.flags}
    if Flag.NO_PORTFOLIO in codes:
        why = words(phrases.NO_PORTFOLIO_MATCH, portfolio=row.portfolio or words(phrases.BLANK))
    elif Flag.NO_LEAD_OFFICER in codes:
        why = words(phrases.NOBODY_TO_BRIEF)
    else:
        why = words(phrases.NOBODY_OWED)
    return words(phrases.NO_BRIEFING, why=why)


def _title(row: StatusRow, direct: bool) -> str:
    return row.title if (direct or not row.exempt) else exempt_words(row.paragraphs)


# A row's line, by the row object: rows are immutable and shared between questions while
# nothing they read has changed (`shared_rows`), so each is drawn once per language and
# setting, not once per question (issue 15). The row is kept alongside so its id is not reused.
_drawn: dict[tuple[int, str, bool], tuple[StatusRow, CouncilCalendar, str]] = {}
MAX_DRAWN = 4096


def _row_line(calendar: CouncilCalendar, row: StatusRow, direct: bool) -> str:
    key = (id(row), speaking_now(), direct)
    found = _drawn.get(key)
    if found is not None and found[0] is row and found[1] is calendar:
        return found[2]
    line = _draw_row(calendar, row, direct)
    if len(_drawn) >= MAX_DRAWN:
        _drawn.clear()
    _drawn[key] = (row, calendar, line)
    return line


def _draw_row(calendar: CouncilCalendar, row: StatusRow, direct: bool) -> str:
    """One at-risk row: colour, reference, title, who briefs whom by when, flags."""
    due = day_words(calendar.local_date(row.due_at)) if row.due_at else "—"
    flags = f" — {', '.join(_flag_word(f) for f in row.flags)}" if row.flags else ""
    if row.briefing_id is None:
        who = no_briefing_reason(row)
    else:
        who = words(
            phrases.STATUS_ROW_WHO,
            member=row.member_name,
            briefer=row.briefer_name,
            due=due,
            state=words(STATE_WORDS.get(row.state, row.state)).lower(),
        )
    return f"{RAG_MARK[row.rag.value]} " + words(
        phrases.STATUS_ROW,
        ref=row.ref,
        title=_title(row, direct),
        who=who,
        decision=day_words(row.decision_due),
        flags=flags,
    )


def status_card(
    app: App,
    report: StatusReport,
    *,
    mine: bool,
    direct: bool,
    page: int = 1,
    rows_per_page: int = DEFAULT_ROWS,
    paged: StatusPage | None = None,
) -> Card:
    """The at-risk list (or the person's own briefings) as a card: counts, then the most
    urgent rows; long lists paginate. With `paged`, the report holds just this page's rows
    (`wide_status_page`, `own_status_page`)."""
    counts = report.counts
    summary = "  ".join(
        f"{RAG_MARK[k]} {words(phrases.RAG_WORDS[k])} {counts[k]}"
        for k in ("red", "amber", "grey", "green")
    )
    rows = report.rows if mine else report.at_risk
    start = (page - 1) * rows_per_page
    shown = rows[start : start + rows_per_page]
    total = len(rows)
    if paged is not None:
        shown, total = paged.rows, paged.at_risk_total
    lines = [summary, ""]
    lines += [_row_line(app.calendar, row, direct) for row in shown]
    if not shown and total:
        last = -(-total // rows_per_page)  # a page asked for past the end of the list
        lines.append(words(phrases.PAST_THE_LAST_PAGE, page=page, last=last))
    elif not shown:
        lines.append(
            words(phrases.NOTHING_AT_RISK) if not mine else words(phrases.NO_BRIEFINGS_HERE)
        )
    remaining = total - start - len(shown)
    if remaining > 0:
        command = next_page_command(report, mine=mine, page=page + 1)
        more = phrases.MORE_MINE_PAGES if mine else phrases.MORE_PAGES
        lines.append(words(more, count=remaining, command=command))
    footer = "" if direct else words(phrases.EXEMPT_ONLY_DIRECT_LONG)
    title = words(phrases.YOUR_BRIEFINGS) if mine else words(phrases.STATUS_TITLE, days=report.days)
    if report.portfolio:
        title += f" ({report.portfolio})"
    return Card(title=title, lines=tuple(lines), footer=footer)


def next_page_command(report: StatusReport, *, mine: bool, page: int) -> str:
    """How to ask for that page of the same question, in the words `parse_query` reads."""
    said = ["/surprises", *(["mine"] if mine else [])]
    if report.days != DEFAULT_DAYS:
        said += ["days", str(report.days)]
    said += ["page", str(page)]
    if report.portfolio:
        said += ["portfolio", report.portfolio]  # last: the rest of the words name it
    return " ".join(said)


def item_card(*, app: App, session: Session, ref: str, actor_email: str, direct: bool) -> Card:
    """One item with its briefings and timeline, if the person may see it."""
    decision = session.scalar(select(Decision).where(col(Decision.ref) == ref))
    directory = _directory(app, session)
    viewer = directory.person(actor_email)
    not_found = Card(title=words(phrases.NOT_FOUND), lines=(words(phrases.NO_SUCH_REF, ref=ref),))
    if decision is None or viewer is None:
        return not_found
    briefings = list(
        session.scalars(select(Briefing).where(col(Briefing.decision_id) == decision.id))
    )
    report = build_status(
        session=session,
        settings=app.settings,
        calendar=app.calendar,
        directory=directory,
        now=app.now(),
        viewer_email=actor_email,
        days=3650,
        ref=ref,
    )
    visible = [r for r in report.rows if r.ref == ref]
    parties = parties_for(decision, briefings, directory)
    if not visible and not can_see(viewer, parties):
        return not_found
    entitled = entitled_to_exempt(viewer, parties) and direct
    exempt = is_exempt(decision.restriction)
    title = decision.title if (not exempt or entitled) else exempt_words(decision.exempt_paragraphs)
    fields = [
        CardField(
            words(phrases.FIELD_DECISION),
            f"{decision.decision_maker or decision.decision_maker_type}, "
            f"{day_words(decision.decision_due)}",
        ),
        CardField(words(phrases.FIELD_PORTFOLIO), decision.portfolio),
        CardField(
            words(phrases.KEY_DECISION),
            words(phrases.YES) if decision.key_decision else words(phrases.NO),
        ),
        CardField(words(phrases.FIELD_STATUS), decision.status),
    ]
    lines = [f"*{ref}* {title}"]
    if decision.summary and (not exempt or entitled):
        lines.append(decision.summary)
    lines.append("")
    lines.append(f"*{words(phrases.BRIEFINGS_HEADING)}*")
    for row in visible:
        if row.briefing_id is None:
            lines.append(
                f"{RAG_MARK[row.rag.value]} {no_briefing_reason(row)[:1].upper()}"
                f"{no_briefing_reason(row)[1:]}."
            )
            continue
        lines.append(
            f"{RAG_MARK[row.rag.value]} {row.member_name} ← {row.briefer_name}: "
            f"{words(STATE_WORDS.get(row.state, row.state))}"
        )
    if not visible:
        lines.append(words(phrases.NONE_YOU_CAN_SEE))
    flags = {f["code"]: f["text"] for r in visible for f in r.flags}
    if flags:
        red = {f["code"] for r in visible for f in r.flags if f.get("severity") == "red"}
        lines += ["", f"*{words(phrases.RISKS_HEADING)}*"] + [
            f"• {RAG_MARK['red'] + ' ' if code in red else ''}"
            f"{from_stored(text, phrases.RISK_TEMPLATES)}"
            for code, text in flags.items()
        ]
    lines += ["", f"*{words(phrases.TIMELINE_HEADING)}*"] + timeline(
        app=app,
        session=session,
        decision=decision,
        show_details=not exempt or entitled,
        visible_ids={r.briefing_id for r in visible},
    )
    return Card(
        title=f"{ref}",
        lines=tuple(lines),
        fields=tuple(fields),
        rag=visible[0].rag.value if visible else "",
        footer="" if direct else words(phrases.EXEMPT_ONLY_DIRECT),
    )


def timeline(
    *,
    app: App,
    session: Session,
    decision: Decision,
    show_details: bool,
    visible_ids: set[int | None],
    limit: int = 25,
) -> list[str]:
    """History and actions on an item as sentences, oldest first, newest `limit` entries."""
    entries: list[tuple[datetime, str]] = []
    for change in session.scalars(
        select(DecisionChange).where(col(DecisionChange.decision_id) == decision.id)
    ):
        entries.append((change.changed_at, _change_sentence(change, show_details)))
    directory = _directory(app, session)
    # Two columns, not whole briefings (their ladders are JSON to decode).
    members: dict[int, str] = {
        briefing_id: member
        for briefing_id, member in session.execute(
            select(col(Briefing.id), col(Briefing.member_email)).where(
                col(Briefing.decision_id) == decision.id
            )
        )
    }

    def name(email: object) -> str:
        if isinstance(email, list):  # several people told at once
            return ", ".join(name(e) for e in email)
        person = directory.person(str(email or ""))
        return person.name if person else str(email or "")

    for event in session.scalars(
        select(AuditEvent)
        .where(col(AuditEvent.decision_ref) == decision.ref)
        .order_by(col(AuditEvent.seq))
    ):
        if event.briefing_id is not None and event.briefing_id not in visible_ids:
            continue
        if event.outcome == "refused" or event.action == "decision_changed":
            continue
        actor = name(event.actor_email) or words(phrases.NO_SURPRISES)
        if event.on_behalf_of:
            actor += words(phrases.FOR_SOMEONE, name=name(event.on_behalf_of))
        member = name(event.details.get("member") or members.get(event.briefing_id or -1, ""))
        entries.append((event.at, _event_sentence(event, actor, member, name, app)))
    entries.sort(key=lambda e: e[0])
    return [f"{_moment(app, at)} {text}" for at, text in entries[-limit:]]


def _moment(app: App, at: datetime) -> str:
    local = app.calendar.local(at)
    return f"{day_words(local.date())} {local:%H:%M}"


def _change_sentence(change: DecisionChange, show_details: bool) -> str:
    label = words(phrases.FIELD_LABELS.get(change.field, change.field.replace("_", " ")))
    if change.field == "decision_due" and change.old_value and change.new_value:
        old, new = date.fromisoformat(change.old_value), date.fromisoformat(change.new_value)
        why = words(phrases.BROUGHT_FORWARD) if new < old else words(phrases.PUT_BACK)
        return words(phrases.DATE_MOVED, old=day_words(old), new=day_words(new), why=why)
    if change.field in ("title", "summary") and not show_details:
        return words(phrases.FIELD_CHANGED, label=label.capitalize())
    return words(
        phrases.FIELD_CHANGED_FROM_TO,
        label=label.capitalize(),
        old=change.old_value or words(phrases.BLANK),
        new=change.new_value or words(phrases.BLANK),
    )


def _event_sentence(
    event: AuditEvent, actor: str, member: str, name: Callable[[object], str], app: App
) -> str:
    details = event.details
    action = "reassign_asked" if details.get("awaiting") else event.action
    template = phrases.TIMELINE.get(action)
    if event.action == "escalation_step":
        step = words(phrases.STEP_WORDS.get(event.reason, event.reason.replace("_", " ")))
        return words(phrases.TIMELINE_STEP, step=step, member=member)
    if event.action == "briefing_updated" and "due_at" in details.get("changes", {}):
        old, new = (
            app.calendar.local_date(datetime.fromisoformat(v)) for v in details["changes"]["due_at"]
        )
        why = words(phrases.BROUGHT_FORWARD) if new < old else words(phrases.PUT_BACK)
        return words(
            phrases.DUE_MOVED, member=member, old=day_words(old), new=day_words(new), why=why
        )
    if template is None:
        said = event.action.replace("_", " ")
        return f"{said[:1].upper()}{said[1:]}" + (f": {event.reason}" if event.reason else "")
    return words(
        template,
        actor=actor,
        member=member,
        reason=_reason_words(event.reason),
        to=name(details.get("to", "")),
        who=str(details.get("agreed_by", "")).lower(),
    )


def _reason_words(reason: str) -> str:
    """A reason the sweep recorded in English, in the reader's language where it knows it."""
    changed, _, described = reason.partition(": ")
    if changed == phrases.REASON_CHANGED.partition(": ")[0] and described:
        return words(phrases.REASON_CHANGED, changes=changes_words(described))
    return from_stored(reason, phrases.TIMELINE_REASONS)


def my_open_briefings(session: Session, email: str, now: datetime) -> list[Briefing]:
    """Briefings waiting on this person (as briefer or member), soonest first."""
    soon = now + timedelta(days=120)
    return list(
        session.scalars(
            select(Briefing)
            .where(
                ((col(Briefing.briefer_email) == email) & col(Briefing.state).in_(list(LIVE)))
                | (
                    (col(Briefing.member_email) == email)
                    & (col(Briefing.state) == BriefingState.BRIEFED)
                ),
                col(Briefing.due_at) <= soon,
            )
            .order_by(col(Briefing.due_at))
        )
    )
