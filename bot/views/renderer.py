"""The words: every card the bot sends, drawn from database state for one viewer.

Plain, courteous UK English. The bot reminds officers to brief members; it never briefs a
member itself, and it shows exempt details only to people entitled to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.briefings import approvals
from bot.briefings.approvals import approvers, may_ask_director
from bot.briefings.states import LIVE
from bot.briefings.waiting import EscalationContext
from bot.config import Settings
from bot.decisions.calendar import CouncilCalendar
from bot.decisions.rules import exempt_label
from bot.decisions.statutory import rule_set
from bot.delivery.ports import MessageKind
from bot.store.directory import Directory
from bot.store.models import Briefing, BriefingState, Decision
from bot.timeutil import short_date
from bot.views import phrases
from bot.views.access import ItemParties, entitled_to_exempt, is_exempt, parties_for
from bot.views.cards import (
    BRIEFING_METHODS,
    ActionKind,
    Button,
    Card,
    CardField,
    Input,
    PayloadSigner,
)
from bot.views.phrases import URGENCY_AGREED_BY
from bot.views.status import rag_for

STEP_TITLES = {
    "first_prompt": "A member briefing is coming up",
    "reminder": "Reminder: a member briefing is due soon",
    "urgent_reminder": "Due today: a member briefing",
    # The urgent step's title once the due day has gone (e.g. a briefing created late).
    "overdue": "Overdue: a member briefing",
    "director": "For your attention: a briefing in your directorate is overdue",
    "chief_executive": "Escalation: a member has still not been briefed",
    MessageKind.PROMPT: "A member briefing needs you now",
    MessageKind.MEMBER_REMINDER: "Please confirm your briefing",
    MessageKind.ACK_REQUEST: "Please confirm your briefing",
    MessageKind.REASSIGNED: "A member briefing has been passed to you",
    MessageKind.ACKNOWLEDGED: "Briefing acknowledged",
    MessageKind.DISPUTED: "A member has come back to you about a briefing",
    MessageKind.CHANGED_BRIEFER: "Changed since you briefed the member",
    MessageKind.CHANGED_MEMBER: "Changed since you were briefed",
    MessageKind.WITHDRAWN: "Withdrawn from the forward plan",
    MessageKind.APPROVAL_REQUEST: "Your approval is needed on a member briefing",
    MessageKind.APPROVAL_DECIDED: "A decision on your request about a member briefing",
    MessageKind.CHASE: "Please brief the member now",
    MessageKind.REDRAW: "",
}
BUTTON_LABELS = {
    ActionKind.LOG_BRIEFING: ("I've briefed them", "primary"),
    ActionKind.SNOOZE: ("Snooze", "default"),
    ActionKind.NOT_NEEDED: ("Not needed", "default"),
    ActionKind.REASSIGN: ("Reassign", "default"),
    ActionKind.ACKNOWLEDGE: ("Acknowledge", "primary"),
    ActionKind.NOT_YET_BRIEFED: ("Not yet briefed", "danger"),
    ActionKind.NEED_MORE_INFO: ("Need more information", "default"),
    ActionKind.REMIND_BRIEFER: ("Remind the briefer now", "primary"),
    ActionKind.ASK_DIRECTOR: ("Ask the director to chase", "default"),
    ActionKind.NOTED: ("Noted", "default"),
    ActionKind.APPROVE: ("Approve", "primary"),
    ActionKind.DECLINE: ("Decline", "danger"),
    ActionKind.SCRUTINY_ACKNOWLEDGE: ("Acknowledge", "primary"),
    ActionKind.RECORD_URGENCY: ("Record the agreement", "primary"),
}
BUTTON_INPUTS = {
    ActionKind.LOG_BRIEFING: (
        Input(
            "when", "When did you brief them?", placeholder="e.g. 2027-01-12 10:00; blank for now"
        ),
        Input("how", "How?", required=True, options=BRIEFING_METHODS),
        Input("note", "Note (optional)", multiline=True),
    ),
    ActionKind.SNOOZE: (
        Input(
            "until",
            "Remind me in",
            required=True,
            options=("1", "2", "3", "5"),
            placeholder="working days, or a date and time",
        ),
    ),
    ActionKind.NOT_NEEDED: (
        Input("reason", "Why is no briefing needed?", required=True, multiline=True),
    ),
    ActionKind.REASSIGN: (
        Input(
            "to", "Pass to which officer?", required=True, placeholder="their email or full name"
        ),
        Input("why", "Why? (optional; they will see it)", multiline=True),
    ),
    ActionKind.RECORD_URGENCY: (
        Input("who", "Who agreed?", required=True, options=URGENCY_AGREED_BY),
    ),
    ActionKind.NEED_MORE_INFO: (Input("note", "What would help?", multiline=True),),
    ActionKind.NOT_YET_BRIEFED: (Input("note", "Anything to add? (optional)", multiline=True),),
}
# Keyed by state value: a BriefingState or the plain text stored on a row both look up.
STATE_WORDS: dict[str, str] = {
    BriefingState.OPEN: "Not yet briefed",
    BriefingState.SNOOZED: "Not yet briefed (snoozed)",
    BriefingState.BRIEFED: "Briefed; awaiting the member's acknowledgement",
    BriefingState.ACKNOWLEDGED: "Acknowledged",
    BriefingState.DISPUTED: "Back with the officer",
    BriefingState.NOT_NEEDED: "Not needed",
    BriefingState.NOT_NEEDED_PENDING: "Not needed, awaiting approval",
    BriefingState.WITHDRAWN: "Closed: the decision left the forward plan",
}


@dataclass(frozen=True)
class Renderer:
    settings: Settings
    calendar: CouncilCalendar
    directory: Directory
    signer: PayloadSigner

    def name(self, email: str) -> str:
        person = self.directory.person(email)
        return person.name if person else email

    def parties(self, decision: Decision, briefings: list[Briefing]) -> ItemParties:
        return parties_for(decision, briefings, self.directory)

    def title_for(self, decision: Decision, briefing: Briefing, viewer: str) -> str:
        if not is_exempt(decision.restriction):
            return decision.title
        if entitled_to_exempt(self.directory.person(viewer), self.parties(decision, [briefing])):
            return decision.title
        return exempt_label(decision.exempt_paragraphs)

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
        return tuple(
            Button(
                label=BUTTON_LABELS[k][0],
                kind=k,
                style=BUTTON_LABELS[k][1],
                payload=self.signer.sign(k, briefing.id, briefing.version),
                inputs=BUTTON_INPUTS.get(k, ()),
            )
            for k in kinds
        )

    def due_phrase(self, due_at: datetime, now: datetime | None) -> str:
        """'is due by Thu 28 Jan' before the time, 'was due by Thu 28 Jan' after it."""
        day = short_date(self.calendar.local_date(due_at))
        return (phrases.WAS_DUE if now is not None and now > due_at else phrases.DUE_BY).format(
            day=day
        )

    def escalation_card(
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
                phrases.ESCALATION_INTRO.format(
                    title=title, when=when, count=_members(len(waiting))
                )
            )
            for w in waiting:
                lines.append(
                    phrases.WAITING_LINE.format(
                        member=self.name(w.member_email),
                        briefer=self.name(w.briefer_email),
                        why="; ".join(w.reasons),
                        due=self.due_phrase(w.due_at, now),
                    )
                )
        else:
            lines.append(phrases.NOBODY_WAITING.format(title=title, when=when))
        steps = {str(step["name"]) for step in briefing.ladder} | {
            MessageKind.PROMPT.value,
            MessageKind.CHASE.value,
        }
        told: dict[str, list[str]] = {}
        for t in context.told:
            if t.kind in steps and t.email != viewer:
                day = short_date(self.calendar.local_date(t.at))
                days = told.setdefault(t.email, [])
                if day not in days:
                    days.append(day)
        if told:
            people = "; ".join(
                phrases.TOLD_PERSON.format(name=self.described(email), days=", ".join(days))
                for email, days in told.items()
            )
            lines.append(phrases.ALREADY_TOLD.format(people=people))
        else:
            lines.append(phrases.NOBODY_TOLD_YET)
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
            footer = f"{exempt_label(decision.exempt_paragraphs)}: please do not forward."
        return Card(
            title=STEP_TITLES.get(kind) or STEP_TITLES["director"],
            lines=tuple(lines),
            fields=(CardField("Ref", decision.ref), CardField("Decision", when)),
            rag=rag,
            buttons=self.buttons(carrier, kinds),
            footer=footer,
            briefing_id=carrier.id,
        )

    def notice_card(self, decision: Decision, *, viewer: str, kind: str) -> Card:
        """A statutory notice about a decision: the scrutiny chair's, or democratic services'."""
        assert decision.id is not None
        statute = rule_set(self.settings.council.nation)
        when = _when(decision)
        title = decision.title
        fields = (
            CardField("Ref", decision.ref),
            CardField("Decision", when),
            CardField("Lead officer", decision.lead_officer or decision.lead_officer_email),
        )
        buttons: tuple[Button, ...] = ()
        if kind == MessageKind.SCRUTINY_NOTICE:
            cite = f" ({statute.general_exception})" if statute.general_exception else ""
            heading = phrases.SCRUTINY_NOTICE_TITLE
            if decision.scrutiny_acknowledged_at is not None:
                day = short_date(self.calendar.local_date(decision.scrutiny_acknowledged_at))
                line = phrases.SCRUTINY_NOTICE_DONE.format(title=title, when=when, day=day)
            else:
                line = phrases.SCRUTINY_NOTICE_LINE.format(title=title, when=when, cite=cite)
                buttons = self.decision_buttons(decision, [ActionKind.SCRUTINY_ACKNOWLEDGE])
        else:
            cite = f" ({statute.special_urgency})" if statute.special_urgency else ""
            heading = phrases.URGENCY_RECORD_TITLE
            if decision.urgency_recorded_at is not None:
                day = short_date(self.calendar.local_date(decision.urgency_recorded_at))
                line = phrases.URGENCY_RECORD_DONE.format(
                    title=title, when=when, who=decision.urgency_agreed_by.lower(), day=day
                )
            else:
                line = phrases.URGENCY_RECORD_LINE.format(title=title, when=when, cite=cite)
                buttons = self.decision_buttons(decision, [ActionKind.RECORD_URGENCY])
        lines = [line]
        if decision.summary:
            lines.append(decision.summary)
        footer = ""
        if is_exempt(decision.restriction):
            footer = f"{exempt_label(decision.exempt_paragraphs)}: please do not forward."
        return Card(
            title=heading, lines=tuple(lines), fields=fields, buttons=buttons, footer=footer
        )

    def decision_buttons(self, decision: Decision, kinds: list[ActionKind]) -> tuple[Button, ...]:
        """Signed buttons about a decision (its id where a briefing's would be; version 0)."""
        assert decision.id is not None
        return tuple(
            Button(
                label=BUTTON_LABELS[k][0],
                kind=k,
                style=BUTTON_LABELS[k][1],
                payload=self.signer.sign(k, decision.id, 0),
                inputs=BUTTON_INPUTS.get(k, ()),
            )
            for k in kinds
        )

    def described(self, email: str) -> str:
        """'Aisha Rahman, Director of Communities' for directors; otherwise the name."""
        person = self.directory.person(email)
        if person is None:
            return email
        if person.job_title and (person.has("director") or person.has("chief_executive")):
            return f"{person.name}, {person.job_title}"
        return person.name

    def briefing_card(
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
            lines.append(note)
        heading = STEP_TITLES.get(kind) or _heading_for_state(state)
        overdue = now is not None and self.calendar.local_date(now) > due_day
        if kind == "urgent_reminder" and overdue:
            heading = STEP_TITLES["overdue"]
        special = self._special_lines(briefing, state, title, when, viewer, kind, now)
        if special:
            lines += special
        elif kind == MessageKind.CHANGED_MEMBER and state == BriefingState.OPEN:
            lines.append(
                f"*{title}* has changed since you were briefed "
                f"({briefing.changed_since_briefed}). {briefer} has been asked to "
                "update you."
            )
        elif kind == MessageKind.CHANGED_BRIEFER and state == BriefingState.OPEN:
            lines.append(
                f"*{title}* has changed since you briefed {member} "
                f"({briefing.changed_since_briefed}). Please update them, then log "
                f"it. The briefing {self.due_phrase(briefing.due_at, now)}."
            )
        elif viewer == briefing.member_email:
            lines.append(self._member_line(briefing, state, title, when, briefer))
        else:
            lines.append(
                self._officer_line(briefing, state, title, when, member, briefer, viewer, now)
            )
            said = briefing.dispute.partition("\n")[2] if state == BriefingState.DISPUTED else ""
            if said:
                lines += [phrases.THEY_SAID.format(member=member), f"“{said}”"]
        fields = [
            CardField("Ref", decision.ref),
            CardField("Decision", when),
            CardField("Briefing due", short_date(due_day)),
            CardField("Member", member),
            CardField("Briefer", briefer),
            CardField("Why", "; ".join(briefing.reasons)),
            CardField("Status", STATE_WORDS[state]),
        ]
        if (
            state in (BriefingState.NOT_NEEDED, BriefingState.NOT_NEEDED_PENDING)
            and briefing.not_needed_reason
        ):
            fields.append(CardField("Reason", briefing.not_needed_reason))
        if state == BriefingState.DISPUTED and briefing.dispute:
            words, _, said = briefing.dispute.partition("\n")
            fields.append(CardField("Member's reply", f"“{said}”" if said else words))
        rag = ""
        if now is not None:
            rag = rag_for(
                state=briefing.state,
                due_at=briefing.due_at,
                decision_due=decision.decision_due,
                now=now,
                calendar=self.calendar,
                settings=self.settings,
            ).value
        buttons = self.buttons(briefing, self.allowed_actions(briefing, viewer, decision))
        footer = ""
        if is_exempt(decision.restriction):
            footer = f"{exempt_label(decision.exempt_paragraphs)}: please do not forward."
        return Card(
            title=heading,
            lines=tuple(lines),
            fields=tuple(fields),
            rag=rag,
            buttons=buttons,
            footer=footer,
            briefing_id=briefing.id,
        )

    def _member_line(
        self, b: Briefing, state: BriefingState, title: str, when: str, briefer: str
    ) -> str:
        if state == BriefingState.BRIEFED:
            day = short_date(self.calendar.local_date(b.briefed_at)) if b.briefed_at else "recently"
            how = f" ({b.briefed_how})" if b.briefed_how else ""
            return (
                f"{briefer} has logged that they briefed you on *{title}* ({when}) on "
                f"{day}{how}. Please acknowledge, or let them know if you still need "
                "something."
            )
        if state == BriefingState.ACKNOWLEDGED:
            return f"Thank you: you acknowledged your briefing on *{title}* ({when})."
        if state == BriefingState.DISPUTED:
            return f"{briefer} has been asked to follow up with you on *{title}* ({when})."
        return f"*{title}* ({when}): {STATE_WORDS[state].lower()}."

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
            return [text.format(title=title, when=when)]
        if kind == MessageKind.REASSIGNED and viewer == b.briefer_email and state in LIVE:
            by = self.name(b.handed_over_by) if b.handed_over_by else phrases.A_COLLEAGUE
            lines = [phrases.PASSED_TO_YOU.format(by=by)]
            if b.handover_reason:
                lines += [phrases.THEIR_REASON, f"“{b.handover_reason}”"]
            return [*lines, self._officer_line(b, state, title, when, member, "", viewer, now)]
        if kind == MessageKind.APPROVAL_REQUEST and b.approval_kind:
            asked = self.name(b.approval_requested_by)
            if b.approval_kind == approvals.NOT_NEEDED:
                lines = [
                    phrases.APPROVE_NOT_NEEDED.format(
                        asker=asked, member=member, why="; ".join(b.reasons), title=title, when=when
                    ),
                    f"“{b.not_needed_reason}”",
                ]
            else:
                target = self.directory.person(b.approval_to)
                lines = [
                    phrases.APPROVE_HANDOVER.format(
                        asker=asked,
                        member=member,
                        title=title,
                        when=when,
                        target=target.name if target else b.approval_to,
                        directorate=(target.directorate if target else "") or "another directorate",
                    )
                ]
                if b.approval_reason:
                    lines += [phrases.THEIR_REASON, f"“{b.approval_reason}”"]
            return lines
        if kind == MessageKind.APPROVAL_DECIDED:
            if state == BriefingState.NOT_NEEDED:
                return [phrases.DECIDED_NOT_NEEDED.format(member=member, title=title)]
            if viewer in b.former_briefers:
                return [
                    phrases.DECIDED_HANDOVER.format(
                        member=member, title=title, briefer=self.name(b.briefer_email)
                    )
                ]
            if state in LIVE and not b.approval_kind:
                return [
                    phrases.DECLINED_REQUEST.format(
                        member=member, title=title, due=self.due_phrase(b.due_at, now)
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
                return phrases.NOT_YET_BRIEFED_YOU.format(
                    member=member, title=title, when=when, due=due
                )
            return phrases.NOT_YET_BRIEFED_BY.format(
                member=member, briefer=briefer, title=title, when=when, due=due
            )
        if state == BriefingState.DISPUTED:
            words = (b.dispute or "has come back about the briefing").partition("\n")[0]
            return phrases.MEMBER_CAME_BACK.format(
                member=member, words=words, title=title, when=when
            )
        if state == BriefingState.BRIEFED:
            return (
                f"You logged the briefing of {member} on *{title}*; awaiting their acknowledgement."
            )
        if state == BriefingState.ACKNOWLEDGED:
            return f"{member} has acknowledged your briefing on *{title}* ({when}). Thank you."
        if state == BriefingState.NOT_NEEDED:
            return f"Briefing {member} on *{title}* was marked as not needed."
        if state == BriefingState.NOT_NEEDED_PENDING:
            return phrases.AWAITING_APPROVAL.format(member=member, title=title)
        return f"*{title}* has left the forward plan; no briefing is needed."


def _when(decision: Decision) -> str:
    """'Cabinet, Thu 11 Feb'."""
    maker = decision.decision_maker or decision.decision_maker_type or "decision"
    return f"{maker}, {short_date(decision.decision_due)}"


def _members(count: int) -> str:
    return "1 member is" if count == 1 else f"{count} members are"


def _heading_for_state(state: BriefingState) -> str:
    return {
        BriefingState.ACKNOWLEDGED: "Briefing acknowledged",
        BriefingState.BRIEFED: "Briefing logged",
        BriefingState.NOT_NEEDED: "Briefing not needed",
        BriefingState.NOT_NEEDED_PENDING: "Not needed, awaiting approval",
        BriefingState.WITHDRAWN: "Briefing closed",
        BriefingState.DISPUTED: "Back with the officer",
    }.get(state, "Member briefing")
