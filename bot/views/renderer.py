"""The words: every card the bot sends, drawn from database state for one viewer.

Plain, courteous UK English. The bot reminds officers to brief members; it never briefs a
member itself, and it shows exempt details only to people entitled to them.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Settings
from bot.decisions.calendar import CouncilCalendar
from bot.decisions.rules import exempt_label
from bot.delivery.ports import MessageKind
from bot.store.directory import Directory
from bot.store.models import Briefing, BriefingState, Decision
from bot.timeutil import short_date
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
from bot.views.status import rag_for

STEP_TITLES = {
    "first_prompt": "A member briefing is coming up",
    "reminder": "Reminder: a member briefing is due soon",
    "urgent_reminder": "Due today: a member briefing",
    "director": "For your attention: a briefing in your directorate is overdue",
    "chief_executive": "Escalation: a member has still not been briefed",
    MessageKind.MEMBER_REMINDER: "Please confirm your briefing",
    MessageKind.ACK_REQUEST: "Please confirm your briefing",
    MessageKind.REASSIGNED: "A member briefing has been passed to you",
    MessageKind.ACKNOWLEDGED: "Briefing acknowledged",
    MessageKind.DISPUTED: "A member has come back to you about a briefing",
    MessageKind.CHANGED_BRIEFER: "Changed since you briefed the member",
    MessageKind.CHANGED_MEMBER: "Changed since you were briefed",
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

    def allowed_actions(self, briefing: Briefing, viewer: str) -> list[ActionKind]:
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
        briefer = self.directory.person(briefing.briefer_email)
        line = {briefing.briefer_email}
        if briefer:
            line |= {briefer.manager_email, self.directory.director_of(briefer.email)}
        if viewer not in line or state not in (
            BriefingState.OPEN,
            BriefingState.SNOOZED,
            BriefingState.DISPUTED,
        ):
            return []
        return [
            ActionKind.LOG_BRIEFING,
            ActionKind.SNOOZE,
            ActionKind.NOT_NEEDED,
            ActionKind.REASSIGN,
        ]

    def briefing_card(
        self,
        briefing: Briefing,
        decision: Decision,
        *,
        viewer: str,
        kind: str = MessageKind.REDRAW,
        now=None,
    ) -> Card:
        """The card for one briefing as `viewer` should see it now."""
        assert briefing.id is not None
        title = self.title_for(decision, briefing, viewer)
        member = self.name(briefing.member_email)
        briefer = self.name(briefing.briefer_email)
        due_day = self.calendar.local_date(briefing.due_at)
        when = (
            f"{decision.decision_maker or decision.decision_maker_type or 'decision'}, "
            f"{short_date(decision.decision_due)}"
        )
        state = BriefingState(briefing.state)
        lines: list[str] = []
        heading = STEP_TITLES.get(kind) or _heading_for_state(state)
        if kind == MessageKind.CHANGED_MEMBER and state == BriefingState.OPEN:
            lines.append(
                f"*{title}* has changed since you were briefed "
                f"({briefing.changed_since_briefed}). {briefer} has been asked to "
                "update you."
            )
        elif kind == MessageKind.CHANGED_BRIEFER and state == BriefingState.OPEN:
            lines.append(
                f"*{title}* has changed since you briefed {member} "
                f"({briefing.changed_since_briefed}). Please update them, then log "
                f"it. Briefing due by {short_date(due_day)}."
            )
        elif viewer == briefing.member_email:
            lines.append(self._member_line(briefing, state, title, when, briefer))
        else:
            lines.append(
                self._officer_line(
                    briefing, state, title, when, member, briefer, due_day, viewer, kind
                )
            )
        fields = [
            CardField("Ref", decision.ref),
            CardField("Decision", when),
            CardField("Briefing due", short_date(due_day)),
            CardField("Member", member),
            CardField("Briefer", briefer),
            CardField("Why", "; ".join(briefing.reasons)),
            CardField("Status", STATE_WORDS[state]),
        ]
        if state == BriefingState.NOT_NEEDED and briefing.not_needed_reason:
            fields.append(CardField("Reason", briefing.not_needed_reason))
        if state == BriefingState.DISPUTED and briefing.dispute:
            fields.append(CardField("Member's reply", briefing.dispute))
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
        buttons = tuple(
            Button(
                label=BUTTON_LABELS[k][0],
                kind=k,
                style=BUTTON_LABELS[k][1],
                payload=self.signer.sign(k, briefing.id, briefing.version),
                inputs=BUTTON_INPUTS.get(k, ()),
            )
            for k in self.allowed_actions(briefing, viewer)
        )
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

    def _officer_line(
        self,
        b: Briefing,
        state: BriefingState,
        title: str,
        when: str,
        member: str,
        briefer: str,
        due_day,
        viewer: str,
        kind: str,
    ) -> str:
        due = short_date(due_day)
        if state in (BriefingState.OPEN, BriefingState.SNOOZED):
            if viewer == b.briefer_email:
                return (
                    f"{member} has not yet been briefed on *{title}* ({when}). "
                    f"Briefing due by {due}."
                )
            return (
                f"{member} has not yet been briefed by {briefer} on *{title}* ({when}). "
                f"The briefing was due by {due}."
            )
        if state == BriefingState.DISPUTED:
            return (
                f"{member} {b.dispute or 'has come back about the briefing'} on *{title}* "
                f"({when}). Please follow up with them, then log the briefing again."
            )
        if state == BriefingState.BRIEFED:
            return (
                f"You logged the briefing of {member} on *{title}*; awaiting their acknowledgement."
            )
        if state == BriefingState.ACKNOWLEDGED:
            return f"{member} has acknowledged your briefing on *{title}* ({when}). Thank you."
        if state == BriefingState.NOT_NEEDED:
            return f"Briefing {member} on *{title}* was marked as not needed."
        return f"*{title}* has left the forward plan; no briefing is needed."


def _heading_for_state(state: BriefingState) -> str:
    return {
        BriefingState.ACKNOWLEDGED: "Briefing acknowledged",
        BriefingState.BRIEFED: "Briefing logged",
        BriefingState.NOT_NEEDED: "Briefing not needed",
        BriefingState.WITHDRAWN: "Briefing closed",
        BriefingState.DISPUTED: "Back with the officer",
    }.get(state, "Member briefing")
