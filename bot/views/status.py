"""What could still surprise a member: RAG counts and the at-risk list, role-gated and masked.

One engine behind `nosurprises status`, `/surprises` in every chat, digests and App Home.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Any

from sqlalchemy import bindparam, select

from bot.briefings.states import ACTIVE, LIVE, BriefingState
from bot.config import Settings
from bot.decisions.calendar import CouncilCalendar
from bot.decisions.flags import Flag
from bot.store import tables_core
from bot.store.directory import Directory, PersonView
from bot.store.reads import Reads
from bot.timeutil import long_date
from bot.views import phrases
from bot.views.access import (
    ItemParties,
    can_see,
    entitled_to_exempt,
    is_exempt,
    scrutinises,
    sees_everything,
)
from bot.views.status_queries import Scope, connection, unreachable_people, window_rows
from bot.views.wording import changes_words, exempt_words, long_day, speaking_now, words


class Rag(StrEnum):
    RED = "red"
    AMBER = "amber"
    GREY = "grey"
    GREEN = "green"


RAG_ORDER = {Rag.RED: 0, Rag.AMBER: 1, Rag.GREY: 2, Rag.GREEN: 3}
LOOKBACK_DAYS = 30


class NotInDirectory(PermissionError):
    """The person asking is not in the council's directory."""


@dataclass(frozen=True, slots=True)
class StatusRow:
    ref: str
    title: str
    exempt: bool
    rag: Rag
    state: str
    member_email: str
    member_name: str
    briefer_email: str
    briefer_name: str
    due_at: datetime | None
    decision_due: date
    portfolio: str
    flags: tuple[dict[str, str], ...]
    briefing_id: int | None = None
    version: int = 0
    paragraphs: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["rag"] = self.rag.value
        data["due_at"] = self.due_at.isoformat() if self.due_at else None
        data["decision_due"] = self.decision_due.isoformat()
        data["flags"] = list(self.flags)
        return data


@dataclass
class StatusReport:
    viewer: str
    now: datetime
    days: int
    portfolio: str = ""
    counts: dict[str, int] = field(default_factory=lambda: {r.value: 0 for r in Rag})
    rows: list[StatusRow] = field(default_factory=list)

    @property
    def at_risk(self) -> list[StatusRow]:
        return [r for r in self.rows if r.rag in (Rag.RED, Rag.AMBER)]

    def as_dict(self) -> dict[str, Any]:
        return {
            "viewer": self.viewer,
            "now": self.now.isoformat(),
            "days": self.days,
            "portfolio": self.portfolio,
            "counts": self.counts,
            "at_risk": [r.as_dict() for r in self.at_risk],
        }


def rag_for(
    *,
    state: str,
    due_at: datetime,
    decision_due: date,
    now: datetime,
    calendar: CouncilCalendar,
    settings: Settings,
) -> Rag:
    """DESIGN §4: green done; amber awaiting acknowledgement or due soon; red overdue or close."""
    if state in (BriefingState.ACKNOWLEDGED, BriefingState.NOT_NEEDED):
        return Rag.GREEN
    if state in (BriefingState.BRIEFED, BriefingState.NOT_NEEDED_PENDING):
        return Rag.AMBER
    today = calendar.local_date(now)
    if now > due_at:
        return Rag.RED
    if (
        calendar.working_days_between(today, decision_due)
        <= settings.rules.decision_close_working_days
    ):
        return Rag.RED
    due_day = calendar.local_date(due_at)
    if calendar.working_days_between(today, due_day) <= settings.rules.amber_within_working_days:
        return Rag.AMBER
    return Rag.AMBER if state == BriefingState.DISPUTED else Rag.GREY


def rag_at(
    *, now: datetime, calendar: CouncilCalendar, settings: Settings
) -> Callable[[str, datetime, date], Rag]:
    """rag_for at this moment, remembered: thousands of rows share a few dozen dates."""

    @cache
    def rag_of(state: str, due_at: datetime, decision_due: date) -> Rag:
        return rag_for(
            state=state,
            due_at=due_at,
            decision_due=decision_due,
            now=now,
            calendar=calendar,
            settings=settings,
        )

    return rag_of


def sees_only_their_own(viewer: PersonView) -> bool:
    """Whether this person's status lists only the briefings where they are the member or the
    briefer: anyone not in an oversight role, not a director and not a scrutiny chair."""
    return not (sees_everything(viewer) or viewer.has("director") or viewer.has("scrutiny_chair"))


def has_standing_flags(stored: list[dict[str, str]]) -> bool:
    """Whether any stored flag stands whatever the day ("date passed" is worked out afresh)."""
    return any(f.get("code") != Flag.DATE_PASSED for f in stored)


def has_live_flags(stored: list[dict[str, str]], decision_due: date, today: date) -> bool:
    """Whether an item still For Determination has any flag now (what _live_flags gives)."""
    return decision_due < today or has_standing_flags(stored)


def no_briefing_rag(close_working_days: int, settings: Settings) -> Rag:
    """An item no briefing covers is red once its decision is close, amber before."""
    return (
        Rag.RED if close_working_days <= settings.rules.decision_close_working_days else Rag.AMBER
    )


def _live_flags(
    stored: list[dict[str, str]], decision_due: date, status: str, today: date
) -> list[dict[str, str]]:
    flags = [f for f in stored if f.get("code") != Flag.DATE_PASSED]
    if decision_due < today and status == "For Determination":
        flags.append(
            {
                "code": Flag.DATE_PASSED.value,
                "text": words(phrases.FLAG_DATE_PASSED, day=long_day(decision_due)),
            }
        )
    return flags


def _handed_over() -> Any:
    briefings = tables_core.briefing
    return select(briefings.c.decision_id, briefings.c.former_briefers).where(
        briefings.c.decision_id.in_(bindparam("ids", expanding=True)),
        briefings.c.handed_over_by != "",
    )


# Built once, with parameters: building a statement costs more than a narrow question's
# running it.
_HANDED_OVER = _handed_over()


def build_status(
    *,
    session: Reads,
    settings: Settings,
    calendar: CouncilCalendar,
    directory: Directory,
    now: datetime,
    viewer_email: str | None = None,
    days: int = 28,
    portfolio: str = "",
    only_mine: bool = False,
    ref: str = "",
    refs: frozenset[str] | None = None,
    briefing_ids: frozenset[int] | None = None,
) -> StatusReport:
    """The status a person may see. viewer_email None is the command line's full view.

    `only_mine` keeps the viewer's own briefings; `ref` keeps one item, `refs` some items,
    `briefing_ids` some briefings (a page of someone's own: no rows for items none covers).
    Any of these, or a viewer who sees only their own items anyway, is answered from the
    indexes (`status_queries`)."""
    viewer: PersonView | None = None
    if viewer_email is not None:
        viewer = directory.person(viewer_email)
        if viewer is None:
            raise NotInDirectory(viewer_email)
    today = calendar.local_date(now)
    report = StatusReport(
        viewer=viewer.email if viewer else "(command line)", now=now, days=days, portfolio=portfolio
    )
    wanted_portfolio = directory.portfolio(portfolio) if portfolio else None
    if portfolio and wanted_portfolio is None:
        raise ValueError(f"no portfolio called {portfolio!r}")

    # Someone who is not in an oversight role, a director or a scrutiny chair sees only rows
    # where they are the member or the briefer, as does anyone asking for their own: fetch
    # only those.
    own_only = viewer is not None and (only_mine or sees_only_their_own(viewer))
    scope = Scope(
        first=today - timedelta(days=LOOKBACK_DAYS),
        last=today + timedelta(days=days),
        person=viewer.email if viewer is not None and own_only else "",
        ref=ref,
        refs=refs,
        briefings=briefing_ids,
    )
    decisions, briefings = window_rows(session, scope)
    if not decisions:
        return report
    # Past briefers keep sight of an exempt item. Few briefings are ever handed over, so they
    # are read apart: decoding a JSON list on every row costs a third of a status.
    former: dict[int, set[str]] = defaultdict(set)
    for decision_id, emails in connection(session).execute(
        _HANDED_OVER, {"ids": [d.id for d in decisions]}
    ):
        former[decision_id].update(emails)
    unreachable = unreachable_people(
        session,
        {e for rows in briefings.values() for b in rows for e in (b.member_email, b.briefer_email)}
        if scope.narrow
        else None,
    )
    # Thousands of rows share a few dozen dates and people: work each out once per status.
    working_days = cache(calendar.working_days_between)

    rag_of = rag_at(now=now, calendar=calendar, settings=settings)

    @cache
    def name(email: str) -> str:
        person = directory.person(email)
        return person.name if person else (email or "—")

    @cache
    def late_flag(member: str, language: str) -> dict[str, str]:
        # The row shows when it was due; the flag says only that it is late.
        return {
            "code": Flag.BRIEFING_LATE.value,
            "text": words(phrases.FLAG_LATE, member=name(member)),
        }

    for d in decisions:
        item_portfolio = directory.portfolio(d.portfolio) or directory.portfolio_of_holder(
            d.portfolio_holder
        )
        if wanted_portfolio is not None and item_portfolio != wanted_portfolio:
            continue
        rows = [b for b in briefings.get(d.id, []) if b.state != BriefingState.WITHDRAWN]
        if d.status == "Withdrawn" and not rows:
            continue
        briefers = frozenset(b.briefer_email for b in rows)
        parties = ItemParties(
            directorate=d.directorate,
            holder_email=item_portfolio.holder_email if item_portfolio else "",
            portfolio_director_email=item_portfolio.director_email if item_portfolio else "",
            briefer_emails=briefers,
            briefer_director_emails=frozenset(directory.director_of(e) for e in briefers) - {""},
            member_emails=frozenset(b.member_email for b in rows),
            lead_officer_email=d.lead_officer_email.lower(),
            former_briefer_emails=frozenset(former.get(d.id, ())),
            notice_type=d.notice_type,
        )
        if viewer is not None and not can_see(viewer, parties):
            continue
        exempt = is_exempt(d.restriction)
        entitled = viewer is None or entitled_to_exempt(viewer, parties)
        title = d.title if (not exempt or entitled) else exempt_words(d.exempt_paragraphs)
        flags = _live_flags(d.flags, d.decision_due, d.status, today)
        if exempt and not entitled:
            # Flags can quote titles or details; the masked view keeps only the codes' gist.
            flags = [f for f in flags if f["code"] != Flag.EXEMPT] + [
                {"code": Flag.EXEMPT.value, "text": exempt_words(d.exempt_paragraphs)}
            ]
        portfolio_name = item_portfolio.name if item_portfolio else d.portfolio
        paragraphs = tuple(d.exempt_paragraphs)
        whole = viewer is None or (
            sees_everything(viewer) or viewer.has("director") or scrutinises(viewer, parties)
        )
        if not rows:
            # No briefing can be set up: shown to those who see the item whole, but it is
            # nobody's own briefing, so never in `mine`.
            if only_mine or not whole:
                continue
            if not flags or d.status != "For Determination":
                continue
            rag = no_briefing_rag(working_days(today, d.decision_due), settings)
            report.rows.append(
                StatusRow(
                    d.ref,
                    title,
                    exempt,
                    rag,
                    "no briefing",
                    "",
                    "—",
                    "",
                    "—",
                    None,
                    d.decision_due,
                    portfolio_name,
                    tuple(flags),
                    paragraphs=paragraphs,
                )
            )
            continue
        item_flags = tuple(flags)
        for b in rows:
            if (
                only_mine
                and viewer is not None
                and viewer.email not in (b.member_email, b.briefer_email)
            ):
                continue
            if (
                not whole
                and viewer is not None
                and viewer.email
                not in (
                    b.member_email,
                    b.briefer_email,
                )
            ):
                continue
            extra_flags: list[dict[str, str]] = []
            if b.state == BriefingState.DISPUTED:
                extra_flags.append(
                    {
                        "code": Flag.DISPUTED.value,
                        "text": words(phrases.FLAG_DISPUTED, member=name(b.member_email)),
                    }
                )
            if b.state in LIVE and now > b.due_at:
                extra_flags.append(late_flag(b.member_email, speaking_now()))
            if b.changed_since_briefed and b.state in ACTIVE:
                extra_flags.append(
                    {
                        "code": Flag.CHANGED.value,
                        "text": words(
                            phrases.FLAG_CHANGED, changes=changes_words(b.changed_since_briefed)
                        ),
                    }
                )
            for email in {b.member_email, b.briefer_email} & unreachable:
                extra_flags.append(
                    {
                        "code": Flag.UNREACHABLE.value,
                        "text": words(phrases.FLAG_UNREACHABLE, name=name(email)),
                    }
                )
            report.rows.append(
                StatusRow(
                    d.ref,
                    title,
                    exempt,
                    rag_of(b.state, b.due_at, d.decision_due),
                    b.state,
                    b.member_email,
                    name(b.member_email),
                    b.briefer_email,
                    name(b.briefer_email),
                    b.due_at,
                    d.decision_due,
                    portfolio_name,
                    item_flags + tuple(extra_flags) if extra_flags else item_flags,
                    b.id,
                    b.version,
                    paragraphs,
                )
            )
    for status_row in report.rows:
        report.counts[status_row.rag.value] += 1
    far = datetime.max.replace(tzinfo=now.tzinfo)
    # The briefing id last makes the order total: one page of it can be built on its own.
    report.rows.sort(
        key=lambda r: (RAG_ORDER[r.rag], r.due_at or far, r.decision_due, r.ref, r.briefing_id or 0)
    )
    return report


def format_status_text(report: StatusReport, calendar: CouncilCalendar, council: str) -> str:
    """The status as a plain-text table for the command line."""
    local = calendar.local(report.now)
    until = calendar.local_date(report.now) + timedelta(days=report.days)
    lines = [
        f"{council}: what could still surprise a member",
        f"As at {local:%a} {local.day} {local:%b %Y %H:%M}, decisions up to {long_date(until)}"
        f" ({report.days} days), seen by {report.viewer}"
        + (f", portfolio {report.portfolio}" if report.portfolio else ""),
        "",
        "  ".join(
            f"{rag.title()} {report.counts[rag]}" for rag in ("red", "amber", "grey", "green")
        ),
        "",
    ]
    at_risk = report.at_risk
    if not at_risk:
        lines.append("Nothing is at risk in this window.")
        return "\n".join(lines)
    lines.append("At risk, most urgent first:")
    header = ("RAG", "Ref", "Title", "Member", "Briefer", "Due", "Decision", "Flags")
    table = [header]
    for row in at_risk:
        due = calendar.local_date(row.due_at) if row.due_at else None
        table.append(
            (
                row.rag.value.upper(),
                row.ref,
                _clip(row.title, 44),
                _clip(row.member_name, 24),
                _clip(row.briefer_name, 20),
                long_date(due) if due else "—",
                long_date(row.decision_due),
                ", ".join(f["code"] for f in row.flags) or "—",
            )
        )
    widths = [max(len(str(r[i])) for r in table) for i in range(len(header))]
    for r in table:
        lines.append("  ".join(str(v).ljust(widths[i]) for i, v in enumerate(r)).rstrip())
    return "\n".join(lines)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
