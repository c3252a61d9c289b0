"""The words: every card the bot sends, drawn from database state for one viewer.

Plain, courteous UK English. The bot reminds officers to brief members; it never briefs a
member itself, and it shows exempt details only to people entitled to them.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cache
from operator import itemgetter
from typing import Any

from bot.briefings import approvals
from bot.briefings.approvals import approvers, may_ask_director
from bot.briefings.states import LIVE
from bot.briefings.waiting import EscalationContext
from bot.config import Settings
from bot.decisions.calendar import CouncilCalendar
from bot.decisions.statutory import rule_set
from bot.delivery.ports import MessageKind
from bot.i18n.catalogue import N_
from bot.store.directory import Directory
from bot.store.models import Briefing, BriefingState, Decision
from bot.views import phrases
from bot.views.access import ItemParties, entitled_to_exempt, is_exempt, parties_for
from bot.views.bilingual import (
    changes_words,
    counted,
    draw_each,
    exempt_words,
    from_stored,
    language_of,
    option_label,
    reasons_words,
    words,
)
from bot.views.bilingual import (
    day as day_words,
)
from bot.views.bilingual import (
    speaking_now as _speaking_now,
)
from bot.views.cards import (
    BRIEFING_METHODS,
    ActionKind,
    Button,
    Card,
    CardField,
    CardSection,
    Input,
    InputKind,
    PayloadSigner,
)
from bot.views.phrases import URGENCY_AGREED_BY
from bot.views.status import rag_for

STEP_TITLES = {
    "first_prompt": N_("A member briefing is coming up"),
    "reminder": N_("Reminder: a member briefing is due soon"),
    "urgent_reminder": N_("Due today: a member briefing"),
    # The urgent step's title once the due day has gone (e.g. a briefing created late).
    "overdue": N_("Overdue: a member briefing"),
    "director": N_("For your attention: a briefing in your directorate is overdue"),
    "chief_executive": N_("Escalation: a member has still not been briefed"),
    MessageKind.PROMPT: N_("A member briefing needs you now"),
    MessageKind.MEMBER_REMINDER: N_("Please confirm your briefing"),
    MessageKind.ACK_REQUEST: N_("Please confirm your briefing"),
    MessageKind.REASSIGNED: N_("A member briefing has been passed to you"),
    MessageKind.ACKNOWLEDGED: N_("Briefing acknowledged"),
    MessageKind.DISPUTED: N_("A member has come back to you about a briefing"),
    MessageKind.CHANGED_BRIEFER: N_("Changed since you briefed the member"),
    MessageKind.CHANGED_MEMBER: N_("Changed since you were briefed"),
    MessageKind.WITHDRAWN: N_("Withdrawn from the forward plan"),
    MessageKind.APPROVAL_REQUEST: N_("Your approval is needed on a member briefing"),
    MessageKind.APPROVAL_DECIDED: N_("A decision on your request about a member briefing"),
    MessageKind.CHASE: N_("Please brief the member now"),
    MessageKind.REDRAW: "",
}
# The same steps' titles on an officer's one card listing several members.
DECISION_STEP_TITLES = {
    "first_prompt": N_("Member briefings are coming up"),
    "reminder": N_("Reminder: member briefings are due soon"),
    "urgent_reminder": N_("Due today: member briefings"),
    "overdue": N_("Overdue: member briefings"),
    MessageKind.PROMPT: N_("Member briefings need you now"),
}
# Which mark a card listing several briefings carries: the most pressing of theirs.
RAG_PRECEDENCE = ("red", "amber", "grey", "green")
BUTTON_LABELS = {
    ActionKind.LOG_BRIEFING: (N_("I've briefed them"), "primary"),
    ActionKind.SNOOZE: (N_("Snooze"), "default"),
    ActionKind.NOT_NEEDED: (N_("Not needed"), "default"),
    ActionKind.REASSIGN: (N_("Reassign"), "default"),
    ActionKind.ACKNOWLEDGE: (N_("Acknowledge"), "primary"),
    ActionKind.NOT_YET_BRIEFED: (N_("Not yet briefed"), "danger"),
    ActionKind.NEED_MORE_INFO: (N_("Need more information"), "default"),
    ActionKind.REMIND_BRIEFER: (N_("Remind the briefer now"), "primary"),
    ActionKind.ASK_DIRECTOR: (N_("Ask the director to chase"), "default"),
    ActionKind.NOTED: (N_("Noted"), "default"),
    ActionKind.APPROVE: (N_("Approve"), "primary"),
    ActionKind.DECLINE: (N_("Decline"), "danger"),
    ActionKind.SCRUTINY_ACKNOWLEDGE: (N_("Acknowledge"), "primary"),
    ActionKind.RECORD_URGENCY: (N_("Record the agreement"), "primary"),
}
BUTTON_INPUTS = {
    ActionKind.LOG_BRIEFING: (
        Input(
            "when",
            N_("When did you brief them?"),
            placeholder=N_("Set to now; change it if you briefed them earlier."),
            kind=InputKind.DATETIME,
        ),
        Input("how", N_("How?"), required=True, options=BRIEFING_METHODS, kind=InputKind.CHOICE),
        Input("note", N_("Note (optional)"), multiline=True),
    ),
    ActionKind.SNOOZE: (
        Input(
            "until",
            N_("Remind me in"),
            required=True,
            options=("1", "2", "3", "5"),
            placeholder=N_("working days, or a date and time"),
            kind=InputKind.DAYS,
        ),
    ),
    ActionKind.NOT_NEEDED: (
        Input("reason", N_("Why is no briefing needed?"), required=True, multiline=True),
    ),
    ActionKind.REASSIGN: (
        Input(
            "to",
            N_("Pass to which officer?"),
            required=True,
            placeholder=N_("their email or full name"),
            kind=InputKind.PERSON,
        ),
        Input("why", N_("Why? (optional; they will see it)"), multiline=True),
    ),
    ActionKind.RECORD_URGENCY: (
        Input(
            "who",
            N_("Who agreed?"),
            required=True,
            options=URGENCY_AGREED_BY,
            kind=InputKind.CHOICE,
        ),
    ),
    ActionKind.NEED_MORE_INFO: (Input("note", N_("What would help?"), multiline=True),),
    ActionKind.NOT_YET_BRIEFED: (Input("note", N_("Anything to add? (optional)"), multiline=True),),
}
# Keyed by state value: a BriefingState or the plain text stored on a row both look up.
STATE_WORDS: dict[str, str] = {
    BriefingState.OPEN: N_("Not yet briefed"),
    BriefingState.SNOOZED: N_("Not yet briefed (snoozed)"),
    BriefingState.BRIEFED: N_("Briefed; awaiting the member's acknowledgement"),
    BriefingState.ACKNOWLEDGED: N_("Acknowledged"),
    BriefingState.DISPUTED: N_("Back with the officer"),
    BriefingState.NOT_NEEDED: N_("Not needed"),
    BriefingState.NOT_NEEDED_PENDING: N_("Not needed, awaiting approval"),
    BriefingState.WITHDRAWN: N_("Closed: the decision left the forward plan"),
}


# Every field a member's row on an officer's card shows or depends on (beside its reasons): a
# row is drawn again when any of them differs.
ROW_BRIEFING_FIELDS = (
    "id",
    "version",
    "state",
    "due_at",
    "member_email",
    "briefer_email",
    "not_needed_reason",
    "dispute",
    "approval_kind",
    "approval_requested_by",
)
ROW_DECISION_FIELDS = (
    "id",
    "decision_due",
    "portfolio",  # whose director may approve a hand-over
    "portfolio_holder",
)
_GETTERS: dict[tuple[str, ...], Callable[[Any], tuple[Any, ...]]] = {
    names: itemgetter(*names) for names in (ROW_BRIEFING_FIELDS, ROW_DECISION_FIELDS)
}


def _shown(names: tuple[str, ...], row: Any) -> tuple[Any, ...]:
    """These fields' values, read from the row's loaded values in one step (reading them as
    ORM attributes, one by one for every member row of every card, was a tenth of drawing a
    batch); a field not loaded (expired) is read as an attribute, which loads it."""
    try:
        return _GETTERS[names](vars(row))
    except (KeyError, TypeError):
        return tuple(getattr(row, name) for name in names)


@dataclass(frozen=True)
class Renderer:
    settings: Settings
    calendar: CouncilCalendar
    directory: Directory
    signer: PayloadSigner
    # Member rows already drawn by this renderer (one batch of deliveries, one request): an
    # officer's card about a decision is drawn once per briefing on it that sends a reminder.
    _rows: dict[Hashable, CardSection] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def language(self, viewer: str) -> str:
        """The language setting a card for this viewer is drawn in."""
        return language_of(self.directory.person(viewer), self.settings)

    def briefing_card(
        self, briefing: Briefing, decision: Decision, *, viewer: str, **options: Any
    ) -> Card:
        """The card for one briefing as `viewer` should see it now, in their language."""
        return draw_each(
            self.language(viewer),
            lambda: self._briefing_card(briefing, decision, viewer=viewer, **options),
        )

    def briefer_card(
        self,
        briefing: Briefing,
        decision: Decision,
        *,
        viewer: str,
        together: Sequence[Briefing],
        kind: str = MessageKind.REDRAW,
        now: datetime | None = None,
    ) -> Card:
        """What an officer sees about a briefing: one card for the whole decision, a section
        per member, when `together` (the decision's briefings) has several they must give."""
        mine = [b for b in together if b.briefer_email == viewer]
        if len(mine) < 2:
            return self.briefing_card(briefing, decision, viewer=viewer, kind=kind, now=now)
        carrier = next((b for b in mine if b.id == briefing.id), mine[0])
        return draw_each(
            self.language(viewer),
            lambda: self._decision_card(mine, decision, viewer, carrier, kind=kind, now=now),
        )

    def escalation_card(
        self, briefing: Briefing, decision: Decision, *, viewer: str, **options: Any
    ) -> Card:
        """One message per decision and step, in the reader's language."""
        return draw_each(
            self.language(viewer),
            lambda: self._escalation_card(briefing, decision, viewer=viewer, **options),
        )

    def notice_card(self, decision: Decision, *, viewer: str, kind: str) -> Card:
        """A statutory notice about a decision, in the reader's language."""
        return draw_each(
            self.language(viewer), lambda: self._notice_card(decision, viewer=viewer, kind=kind)
        )

    def name(self, email: str) -> str:
        return self.directory.name_of(email)

    def parties(self, decision: Decision, briefings: list[Briefing]) -> ItemParties:
        return parties_for(decision, briefings, self.directory)

    def title_for(self, decision: Decision, briefing: Briefing, viewer: str) -> str:
        if not is_exempt(decision.restriction):
            return decision.title
        if entitled_to_exempt(self.directory.person(viewer), self.parties(decision, [briefing])):
            return decision.title
        return exempt_words(decision.exempt_paragraphs)

    def allowed_actions(
        self, briefing: Briefing, viewer: str, decision: Decision | None = None
    ) -> list[ActionKind]:
        """The buttons this viewer may press now (the core re-checks on every click)."""
        state = BriefingState(briefing.state)
        if viewer == briefing.member_email:
            if state == BriefingState.BRIEFED:
                return [
                    ActionKind.ACKNOWLEDGE,
                    ActionKind.NOT_YET_BRIEFED,
                    ActionKind.NEED_MORE_INFO,
                ]
            return []
        actions: list[ActionKind] = []
        if (
            briefing.approval_kind
            and decision is not None
            and viewer in approvers(briefing, decision, self.directory)
        ):
            actions += [ActionKind.APPROVE, ActionKind.DECLINE]
        briefer = self.directory.person(briefing.briefer_email)
        line = {briefing.briefer_email}
        if briefer:
            line |= {briefer.manager_email, self.directory.director_of(briefer.email)}
        if viewer not in line:
            return actions
        if state in LIVE:
            actions += [
                ActionKind.LOG_BRIEFING,
                ActionKind.SNOOZE,
                ActionKind.NOT_NEEDED,
                ActionKind.REASSIGN,
            ]
        elif state == BriefingState.NOT_NEEDED_PENDING:
            actions.append(ActionKind.LOG_BRIEFING)
        return actions

    def buttons(self, briefing: Briefing, kinds: list[ActionKind]) -> tuple[Button, ...]:
        """Signed buttons for one briefing."""
        assert briefing.id is not None
        return tuple(button(k, self.signer.sign(k, briefing.id, briefing.version)) for k in kinds)

    def due_phrase(self, due_at: datetime, now: datetime | None) -> str:
        """'is due by Thu 28 Jan' before the time, 'was due by Thu 28 Jan' after it."""
        day = day_words(self.calendar.local_date(due_at))
        return words(
            phrases.WAS_DUE if now is not None and now > due_at else phrases.DUE_BY, day=day
        )

    def _escalation_card(
        self,
        briefing: Briefing,
        decision: Decision,
        *,
        viewer: str,
        kind: str,
        context: EscalationContext,
        now: datetime | None = None,
    ) -> Card:
        """One message per decision and step: every member still waiting, who has been told,
        and what the reader can do next."""
        assert briefing.id is not None
        title = self.title_for(decision, briefing, viewer)
        when = _when(decision)
        waiting = context.waiting
        lines: list[str] = []
        if waiting:
            lines.append(
                words(
                    phrases.ESCALATION_INTRO, title=title, when=when, count=_members(len(waiting))
                )
            )
            for w in waiting:
                lines.append(
                    words(
                        phrases.WAITING_LINE,
                        member=self.name(w.member_email),
                        briefer=self.name(w.briefer_email),
                        why=reasons_words(w.reasons),
                        due=self.due_phrase(w.due_at, now),
                    )
                )
        else:
            lines.append(words(phrases.NOBODY_WAITING, title=title, when=when))
        steps = {str(step["name"]) for step in briefing.ladder} | {
            MessageKind.PROMPT.value,
            MessageKind.CHASE.value,
        }
        told: dict[str, list[str]] = {}
        for t in context.told:
            if t.kind in steps and t.email != viewer:
                day = day_words(self.calendar.local_date(t.at))
                days = told.setdefault(t.email, [])
                if day not in days:
                    days.append(day)
        if told:
            people = "; ".join(
                words(phrases.TOLD_PERSON, name=self.described(email), days=", ".join(days))
                for email, days in told.items()
            )
            lines.append(words(phrases.ALREADY_TOLD, people=people))
        else:
            lines.append(words(phrases.NOBODY_TOLD_YET))
        kinds: list[ActionKind] = []
        if waiting:
            kinds.append(ActionKind.REMIND_BRIEFER)
            person = self.directory.person(viewer)
            if person is not None and may_ask_director(person):
                kinds.append(ActionKind.ASK_DIRECTOR)
            kinds.append(ActionKind.NOTED)
        # The buttons act through the briefing the message was queued for, while it waits.
        carrier = next(
            (w for w in waiting if w.id == briefing.id), waiting[0] if waiting else briefing
        )
        rag = ""
        if now is not None:
            rag = "red" if waiting else "green"
        footer = ""
        if is_exempt(decision.restriction):
            footer = words(phrases.DO_NOT_FORWARD, label=exempt_words(decision.exempt_paragraphs))
        return Card(
            title=words(STEP_TITLES.get(kind) or STEP_TITLES["director"]),
            lines=tuple(lines),
            fields=(
                CardField(words(phrases.FIELD_REF), decision.ref),
                CardField(words(phrases.FIELD_DECISION), when),
            ),
            rag=rag,
            buttons=self.buttons(carrier, kinds),
            footer=footer,
            briefing_id=carrier.id,
        )

    def _notice_card(self, decision: Decision, *, viewer: str, kind: str) -> Card:
        """A statutory notice about a decision: the scrutiny chair's, or democratic services'."""
        assert decision.id is not None
        statute = rule_set(self.settings.council.nation)
        when = _when(decision)
        title = decision.title
        fields = (
            CardField(words(phrases.FIELD_REF), decision.ref),
            CardField(words(phrases.FIELD_DECISION), when),
            CardField(
                words(phrases.FIELD_LEAD_OFFICER),
                decision.lead_officer or decision.lead_officer_email,
            ),
        )
        buttons: tuple[Button, ...] = ()
        if kind == MessageKind.SCRUTINY_NOTICE:
            cite = f" ({statute.general_exception})" if statute.general_exception else ""
            heading = words(phrases.SCRUTINY_NOTICE_TITLE)
            if decision.scrutiny_acknowledged_at is not None:
                day = day_words(self.calendar.local_date(decision.scrutiny_acknowledged_at))
                line = words(phrases.SCRUTINY_NOTICE_DONE, title=title, when=when, day=day)
            else:
                line = words(phrases.SCRUTINY_NOTICE_LINE, title=title, when=when, cite=cite)
                buttons = self.decision_buttons(decision, [ActionKind.SCRUTINY_ACKNOWLEDGE])
        else:
            cite = f" ({statute.special_urgency})" if statute.special_urgency else ""
            heading = words(phrases.URGENCY_RECORD_TITLE)
            if decision.urgency_recorded_at is not None:
                day = day_words(self.calendar.local_date(decision.urgency_recorded_at))
                line = words(
                    phrases.URGENCY_RECORD_DONE,
                    title=title,
                    when=when,
                    who=decision.urgency_agreed_by.lower(),
                    day=day,
                )
            else:
                line = words(phrases.URGENCY_RECORD_LINE, title=title, when=when, cite=cite)
                buttons = self.decision_buttons(decision, [ActionKind.RECORD_URGENCY])
        lines = [line]
        if decision.summary:
            lines.append(decision.summary)
        footer = ""
        if is_exempt(decision.restriction):
            footer = words(phrases.DO_NOT_FORWARD, label=exempt_words(decision.exempt_paragraphs))
        return Card(
            title=heading, lines=tuple(lines), fields=fields, buttons=buttons, footer=footer
        )

    def decision_buttons(self, decision: Decision, kinds: list[ActionKind]) -> tuple[Button, ...]:
        """Signed buttons about a decision (its id where a briefing's would be; version 0)."""
        assert decision.id is not None
        return tuple(button(k, self.signer.sign(k, decision.id, 0)) for k in kinds)

    def described(self, email: str) -> str:
        """'Aisha Rahman, Director of Communities' for directors; otherwise the name."""
        person = self.directory.person(email)
        if person is None:
            return email
        if person.job_title and (person.has("director") or person.has("chief_executive")):
            return f"{person.name}, {person.job_title}"
        return person.name

    def _briefing_card(
        self,
        briefing: Briefing,
        decision: Decision,
        *,
        viewer: str,
        kind: str = MessageKind.REDRAW,
        now: datetime | None = None,
        note: str = "",
    ) -> Card:
        """The card for one briefing as `viewer` should see it now."""
        assert briefing.id is not None
        title = self.title_for(decision, briefing, viewer)
        member = self.name(briefing.member_email)
        briefer = self.name(briefing.briefer_email)
        due_day = self.calendar.local_date(briefing.due_at)
        when = _when(decision)
        state = BriefingState(briefing.state)
        lines: list[str] = []
        if note:
            lines.append(from_stored(note, (phrases.CHASED_BY, phrases.ASKED_TO_CHASE)))
        heading = STEP_TITLES.get(kind) or _heading_for_state(state)
        overdue = now is not None and self.calendar.local_date(now) > due_day
        if kind == "urgent_reminder" and overdue:
            heading = STEP_TITLES["overdue"]
        heading = words(heading)
        special = self._special_lines(briefing, state, title, when, viewer, kind, now)
        if special:
            lines += special
        elif kind == MessageKind.CHANGED_MEMBER and state == BriefingState.OPEN:
            lines.append(
                words(
                    phrases.CHANGED_MEMBER_LINE,
                    title=title,
                    changes=changes_words(briefing.changed_since_briefed),
                    briefer=briefer,
                )
            )
        elif kind == MessageKind.CHANGED_BRIEFER and state == BriefingState.OPEN:
            lines.append(
                words(
                    phrases.CHANGED_BRIEFER_LINE,
                    title=title,
                    member=member,
                    changes=changes_words(briefing.changed_since_briefed),
                    due=self.due_phrase(briefing.due_at, now),
                )
            )
        elif viewer == briefing.member_email:
            lines.append(self._member_line(briefing, state, title, when, briefer))
        else:
            lines.append(
                self._officer_line(briefing, state, title, when, member, briefer, viewer, now)
            )
            said = briefing.dispute.partition("\n")[2] if state == BriefingState.DISPUTED else ""
            if said:
                lines += [words(phrases.THEY_SAID, member=member), f"“{said}”"]
        fields = [
            CardField(words(phrases.FIELD_REF), decision.ref),
            CardField(words(phrases.FIELD_DECISION), when),
            CardField(words(phrases.FIELD_BRIEFING_DUE), day_words(due_day)),
            CardField(words(phrases.FIELD_MEMBER), member),
            CardField(words(phrases.FIELD_BRIEFER), briefer),
            CardField(words(phrases.FIELD_WHY), reasons_words(briefing.reasons)),
            CardField(words(phrases.FIELD_STATUS), words(STATE_WORDS[state])),
        ]
        if (
            state in (BriefingState.NOT_NEEDED, BriefingState.NOT_NEEDED_PENDING)
            and briefing.not_needed_reason
        ):
            fields.append(CardField(words(phrases.FIELD_REASON), briefing.not_needed_reason))
        if state == BriefingState.DISPUTED and briefing.dispute:
            answer, _, said = briefing.dispute.partition("\n")
            fields.append(
                CardField(
                    words(phrases.FIELD_MEMBERS_REPLY), f"“{said}”" if said else words(answer)
                )
            )
        rag = self._rag(briefing, decision, now)
        buttons = self.buttons(briefing, self.allowed_actions(briefing, viewer, decision))
        footer = ""
        if is_exempt(decision.restriction):
            footer = words(phrases.DO_NOT_FORWARD, label=exempt_words(decision.exempt_paragraphs))
        return Card(
            title=heading,
            lines=tuple(lines),
            fields=tuple(fields),
            rag=rag,
            buttons=buttons,
            footer=footer,
            briefing_id=briefing.id,
        )

    def _decision_card(
        self,
        mine: list[Briefing],
        decision: Decision,
        viewer: str,
        carrier: Briefing,
        *,
        kind: str,
        now: datetime | None,
    ) -> Card:
        """One card for an officer's briefings on one decision: its details once, then each
        member with their briefing's state, due day and buttons."""
        title = self.title_for(decision, carrier, viewer)
        when = _when(decision)
        heading = DECISION_STEP_TITLES.get(kind, phrases.DECISION_CARD_HEADING)
        if kind == "urgent_reminder" and now is not None:
            due_day = self.calendar.local_date(carrier.due_at)
            if self.calendar.local_date(now) > due_day:
                heading = DECISION_STEP_TITLES["overdue"]
        sections = tuple(self._member_row(b, decision, viewer, now) for b in mine)
        marks = {s.rag for s in sections}
        return Card(
            title=words(heading),
            lines=(counted(phrases.DECISION_CARD_INTRO, len(mine), title=title, when=when),),
            fields=(
                CardField(words(phrases.FIELD_REF), decision.ref),
                CardField(words(phrases.FIELD_DECISION), when),
            ),
            rag=next((rag for rag in RAG_PRECEDENCE if rag in marks), ""),
            footer=(
                words(phrases.DO_NOT_FORWARD, label=exempt_words(decision.exempt_paragraphs))
                if is_exempt(decision.restriction)
                else ""
            ),
            briefing_id=carrier.id,
            sections=sections,
        )

    def _member_row(
        self, briefing: Briefing, decision: Decision, viewer: str, now: datetime | None
    ) -> CardSection:
        """A member's row as drawn before for the same viewer, language and moment, while
        nothing it shows has changed; drawn now otherwise."""
        key = (
            viewer,
            _speaking_now(),
            now,
            _shown(ROW_BRIEFING_FIELDS, briefing),
            tuple(briefing.reasons),
            _shown(ROW_DECISION_FIELDS, decision),
        )
        row = self._rows.get(key)
        if row is None:
            row = self._rows[key] = self._member_section(briefing, decision, viewer, now)
        return row

    def _member_section(
        self, briefing: Briefing, decision: Decision, viewer: str, now: datetime | None
    ) -> CardSection:
        """One member's part of an officer's card: who, why, by when, where it stands."""
        state = BriefingState(briefing.state)
        member = self.name(briefing.member_email)
        fields = [
            CardField(words(phrases.FIELD_WHY), reasons_words(briefing.reasons)),
            CardField(
                words(phrases.FIELD_BRIEFING_DUE),
                day_words(self.calendar.local_date(briefing.due_at)),
            ),
            CardField(words(phrases.FIELD_STATUS), words(STATE_WORDS[state])),
        ]
        if state in (BriefingState.NOT_NEEDED, BriefingState.NOT_NEEDED_PENDING):
            fields.append(CardField(words(phrases.FIELD_REASON), briefing.not_needed_reason))
        lines: tuple[str, ...] = ()
        said = briefing.dispute.partition("\n")[2] if state == BriefingState.DISPUTED else ""
        if said:
            lines = (words(phrases.THEY_SAID, member=member), f"“{said}”")
        return CardSection(
            title=member,
            lines=lines,
            fields=tuple(fields),
            rag=self._rag(briefing, decision, now),
            buttons=self.buttons(briefing, self.allowed_actions(briefing, viewer, decision)),
            briefing_id=briefing.id,
        )

    def _rag(self, briefing: Briefing, decision: Decision, now: datetime | None) -> str:
        if now is None:
            return ""
        return rag_for(
            state=briefing.state,
            due_at=briefing.due_at,
            decision_due=decision.decision_due,
            now=now,
            calendar=self.calendar,
            settings=self.settings,
        ).value

    def _member_line(
        self, b: Briefing, state: BriefingState, title: str, when: str, briefer: str
    ) -> str:
        if state == BriefingState.BRIEFED:
            on = (
                day_words(self.calendar.local_date(b.briefed_at))
                if b.briefed_at
                else words(phrases.RECENTLY)
            )
            how = (
                f" ({option_label(_speaking_now(), 'how', b.briefed_how).lower()})"
                if b.briefed_how
                else ""
            )
            return words(
                phrases.MEMBER_BRIEFED, briefer=briefer, title=title, when=when, day=on, how=how
            )
        if state == BriefingState.ACKNOWLEDGED:
            return words(phrases.MEMBER_ACKNOWLEDGED, title=title, when=when)
        if state == BriefingState.DISPUTED:
            return words(phrases.MEMBER_FOLLOW_UP, briefer=briefer, title=title, when=when)
        return words(
            phrases.MEMBER_STATE, title=title, when=when, state=words(STATE_WORDS[state]).lower()
        )

    def _special_lines(
        self,
        b: Briefing,
        state: BriefingState,
        title: str,
        when: str,
        viewer: str,
        kind: str,
        now: datetime | None,
    ) -> list[str]:
        """The words of messages that are about something other than the briefing itself."""
        member = self.name(b.member_email)
        if kind == MessageKind.WITHDRAWN:
            text = (
                phrases.WITHDRAWN_MEMBER if viewer == b.member_email else phrases.WITHDRAWN_BRIEFER
            )
            return [words(text, title=title, when=when)]
        if kind == MessageKind.REASSIGNED and viewer == b.briefer_email and state in LIVE:
            by = self.name(b.handed_over_by) if b.handed_over_by else words(phrases.A_COLLEAGUE)
            lines = [words(phrases.PASSED_TO_YOU, by=by)]
            if b.handover_reason:
                lines += [words(phrases.THEIR_REASON), f"“{b.handover_reason}”"]
            return [*lines, self._officer_line(b, state, title, when, member, "", viewer, now)]
        if kind == MessageKind.APPROVAL_REQUEST and b.approval_kind:
            asked = self.name(b.approval_requested_by)
            if b.approval_kind == approvals.NOT_NEEDED:
                lines = [
                    words(
                        phrases.APPROVE_NOT_NEEDED,
                        asker=asked,
                        member=member,
                        why=reasons_words(b.reasons),
                        title=title,
                        when=when,
                    ),
                    f"“{b.not_needed_reason}”",
                ]
            else:
                target = self.directory.person(b.approval_to)
                lines = [
                    words(
                        phrases.APPROVE_HANDOVER,
                        asker=asked,
                        member=member,
                        title=title,
                        when=when,
                        target=target.name if target else b.approval_to,
                        directorate=(target.directorate if target else "")
                        or words(phrases.ANOTHER_DIRECTORATE),
                    )
                ]
                if b.approval_reason:
                    lines += [words(phrases.THEIR_REASON), f"“{b.approval_reason}”"]
            return lines
        if kind == MessageKind.APPROVAL_DECIDED:
            if state == BriefingState.NOT_NEEDED:
                return [words(phrases.DECIDED_NOT_NEEDED, member=member, title=title)]
            if viewer in b.former_briefers:
                return [
                    words(
                        phrases.DECIDED_HANDOVER,
                        member=member,
                        title=title,
                        briefer=self.name(b.briefer_email),
                    )
                ]
            if state in LIVE and not b.approval_kind:
                return [
                    words(
                        phrases.DECLINED_REQUEST,
                        member=member,
                        title=title,
                        due=self.due_phrase(b.due_at, now),
                    )
                ]
        return []

    def _officer_line(
        self,
        b: Briefing,
        state: BriefingState,
        title: str,
        when: str,
        member: str,
        briefer: str,
        viewer: str,
        now: datetime | None,
    ) -> str:
        due = self.due_phrase(b.due_at, now)
        if state in (BriefingState.OPEN, BriefingState.SNOOZED):
            if viewer == b.briefer_email:
                return words(
                    phrases.NOT_YET_BRIEFED_YOU, member=member, title=title, when=when, due=due
                )
            return words(
                phrases.NOT_YET_BRIEFED_BY,
                member=member,
                briefer=briefer,
                title=title,
                when=when,
                due=due,
            )
        if state == BriefingState.DISPUTED:
            answer = (b.dispute or phrases.CAME_BACK).partition("\n")[0]
            return words(
                phrases.MEMBER_CAME_BACK, member=member, words=words(answer), title=title, when=when
            )
        if state == BriefingState.BRIEFED:
            return words(phrases.OFFICER_LOGGED, member=member, title=title)
        if state == BriefingState.ACKNOWLEDGED:
            return words(phrases.OFFICER_ACKNOWLEDGED, member=member, title=title, when=when)
        if state == BriefingState.NOT_NEEDED:
            return words(phrases.OFFICER_NOT_NEEDED, member=member, title=title)
        if state == BriefingState.NOT_NEEDED_PENDING:
            return words(phrases.AWAITING_APPROVAL, member=member, title=title)
        return words(phrases.OFFICER_LEFT_PLAN, title=title)


def _when(decision: Decision) -> str:
    """'Cabinet, Thu 11 Feb'."""
    maker = decision.decision_maker or decision.decision_maker_type or words(phrases.DECISION_WORD)
    return f"{maker}, {day_words(decision.decision_due)}"


def _members(count: int) -> str:
    return counted(phrases.MEMBERS_WAITING, count)


def _heading_for_state(state: BriefingState) -> str:
    return phrases.HEADING_FOR_STATE.get(state.value, phrases.MEMBER_BRIEFING)


def button(kind: ActionKind, payload: str = "") -> Button:
    """A button with its inputs, worded in the language being spoken now."""
    face = _unsigned_button(kind, _speaking_now())
    return Button(
        label=face.label, kind=kind, payload=payload, style=face.style, inputs=face.inputs
    )


@cache
def _unsigned_button(kind: ActionKind, language: str) -> Button:
    """A button's words in one language, worded once: every card carries several."""
    label, style = BUTTON_LABELS[kind]
    return Button(label=words(label), kind=kind, payload="", style=style, inputs=_inputs(kind))


def _inputs(kind: ActionKind) -> tuple[Input, ...]:
    """A button's inputs, labelled in the language being spoken now."""
    return _inputs_in(kind, _speaking_now())


@cache  # the same few tuples for every card drawn: worded once per kind and language
def _inputs_in(kind: ActionKind, language: str) -> tuple[Input, ...]:
    return tuple(
        replace(i, label=words(i.label), placeholder=words(i.placeholder) if i.placeholder else "")
        for i in BUTTON_INPUTS.get(kind, ())
    )
