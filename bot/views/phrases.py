"""Words shared by every platform, so each is said one way."""

NOT_SET_UP_TITLE = "You are not set up yet"
NOT_SET_UP = (
    "Sorry, No Surprises does not know who you are yet: you are not in the council's "
    "directory, so it cannot show you anything or act for you. Democratic services can add you."
)
UNREADABLE_BUTTON = (
    "Sorry, that button could not be read, so nothing was changed. Please use the latest "
    "message from No Surprises."
)

# Actions and their answers (bot/briefings/actions.py).
NOT_NEEDED_DONE = "Marked as not needed. The reason is shown in status."
NOT_NEEDED_AWAITING = (
    "Thank you. A portfolio holder's or the leader's briefing needs a second pair of eyes, "
    "so the request has gone to {approvers} to approve. Until then it shows as not needed, "
    "awaiting approval."
)
HANDOVER_AWAITING = (
    "This is an exempt item and {target} works outside its directorate, so the hand-over has "
    "gone to {approvers} for approval. Until then the briefing stays with you."
)
APPROVED_NOT_NEEDED = "Approved: the briefing is marked as not needed. The officer has been told."
APPROVED_HANDOVER = "Approved: the briefing has been passed to {target}, who has been told."
DECLINED = "Declined. The officer has been told, and the briefing is back with them."
NOT_YOUR_OWN_APPROVAL = "Sorry, someone other than the person who asked must approve this."
ONLY_APPROVERS = "Sorry, only the briefer's director or the monitoring officer can decide this."
ONLY_ESCALATION_READERS = "Sorry, only the director or the chief executive can do that."
NOTHING_AWAITING_APPROVAL = "There is nothing awaiting approval on this briefing now."
ALREADY_DECIDED = "Thank you: this request has already been decided."
CHASED_BY = "{name} has asked for this briefing to happen now."
ASKED_TO_CHASE = "{name} asks you to chase {briefer} about this briefing."
REMINDED = "Thank you. A reminder has gone to {names} now."
ALREADY_REMINDED = "The briefer has already been reminded today."
ASKED_DIRECTOR = "Thank you. The request to chase it has gone to {names}."
ALREADY_ASKED_DIRECTOR = "The director has already been asked today."
NOTED = "Noted. Thank you."

# Cards (bot/views/renderer.py). Dates read "Tue 4 Feb"; the tense follows the clock.
DUE_BY = "is due by {day}"
WAS_DUE = "was due by {day}"
NOT_YET_BRIEFED_YOU = "{member} has not yet been briefed on *{title}* ({when}). The briefing {due}."
NOT_YET_BRIEFED_BY = (
    "{member} has not yet been briefed by {briefer} on *{title}* ({when}). The briefing {due}."
)
MEMBER_CAME_BACK = (
    "{member} {words} on *{title}* ({when}). Please follow up with them, then log the "
    "briefing again."
)
AWAITING_APPROVAL = (
    "Briefing {member} on *{title}* is marked as not needed, awaiting approval. It counts "
    "amber until then."
)
ESCALATION_INTRO = "*{title}* ({when}): {count} still waiting to be briefed."
WAITING_LINE = "• {member} has not yet been briefed by {briefer} ({why}); the briefing {due}."
NOBODY_WAITING = "*{title}* ({when}): every member has now been briefed. Thank you."
ALREADY_TOLD = "Already told: {people}."
TOLD_PERSON = "{name} ({days})"
NOBODY_TOLD_YET = "Nobody else has been told yet."
WITHDRAWN_MEMBER = (
    "*{title}* ({when}) has been withdrawn from the forward plan. Nothing more is needed on it."
)
WITHDRAWN_BRIEFER = (
    "*{title}* ({when}) has been withdrawn from the forward plan, so its briefings are closed."
)
PASSED_TO_YOU = "{by} has passed this briefing to you."
A_COLLEAGUE = "A colleague"
THEIR_REASON = "Their reason:"
THEY_SAID = "{member} wrote:"
APPROVE_NOT_NEEDED = (
    "{asker} asks to mark the briefing of {member} ({why}) on *{title}* ({when}) as not "
    "needed. A portfolio holder's or the leader's briefing needs a second pair of eyes. "
    "Their reason:"
)
APPROVE_HANDOVER = (
    "{asker} asks to pass the briefing of {member} on *{title}* ({when}) to {target}, who "
    "works in {directorate}. It is an exempt item, so the hand-over needs a director's approval."
)
DECIDED_NOT_NEEDED = "The briefing of {member} on *{title}* is approved as not needed."
DECIDED_HANDOVER = (
    "The briefing of {member} on *{title}* now rests with {briefer}. You can still see the item."
)
DECLINED_REQUEST = (
    "Your request about the briefing of {member} on *{title}* was declined, so it stays with "
    "you. The briefing {due}."
)
# Reg 11 agreement: who may agree that a special urgency decision cannot wait.
URGENCY_AGREED_BY = (
    "Chair of the overview and scrutiny committee",
    "Chair of the council",
    "Vice-chair of the council",
)
HANDOVER_ALREADY_ASKED = "Thank you: the hand-over is already waiting for the director's approval."

# Statutory notices about a decision (bot/briefings/notices.py).
NO_SUCH_ITEM = "Sorry, that item is no longer on the forward plan."
ONLY_SCRUTINY_CHAIR = (
    "Sorry, only the chair of the overview and scrutiny committee can acknowledge this."
)
ONLY_DEMOCRATIC_SERVICES = (
    "Sorry, only democratic services or the monitoring officer can record this."
)
ACKNOWLEDGED_NOTICE = "Thank you: your acknowledgement is recorded in the item's timeline."
ALREADY_ACKNOWLEDGED_NOTICE = "Thank you: this notice has already been acknowledged."
RECORDED_URGENCY = "Thank you: the agreement is recorded, and the item is no longer flagged red."
ALREADY_RECORDED_URGENCY = "Thank you: that agreement has already been recorded."
WHO_AGREED = "Who agreed? Please choose one of: {options}."
SCRUTINY_NOTICE_TITLE = "General exception: for your information as scrutiny chair"
SCRUTINY_NOTICE_LINE = (
    "*{title}* ({when}) is to be decided under the general exception rule{cite}: it was not on "
    "the forward plan in time. As chair of the overview and scrutiny committee you are told of "
    "it in writing. Please acknowledge that you have seen it."
)
SCRUTINY_NOTICE_DONE = "*{title}* ({when}): you acknowledged this notice on {day}. Thank you."
URGENCY_RECORD_TITLE = "Special urgency: please record the agreement"
URGENCY_RECORD_LINE = (
    "*{title}* ({when}) is to be decided under special urgency{cite}. It needs the agreement of "
    "the scrutiny chair (or, failing them, the chair or vice-chair of the council) that it is "
    "urgent and cannot reasonably be deferred. Until that agreement is recorded the item shows "
    "red."
)
URGENCY_RECORD_DONE = "*{title}* ({when}): agreed by the {who}, recorded on {day}. Thank you."

# The item's timeline, one sentence a line (bot/views/commands.py).
FOR_SOMEONE = " for {name}"
BLANK = "(blank)"
BROUGHT_FORWARD = "the decision was brought forward"
PUT_BACK = "the decision was put back"
DATE_MOVED = "Decision date moved from {old} to {new} because {why}."
DUE_MOVED = "Due date for {member} moved from {old} to {new} because {why}."
FIELD_CHANGED = "{label} changed."
FIELD_CHANGED_FROM_TO = "{label} changed from {old} to {new}."
FIELD_LABELS = {
    "decision_due": "decision date",
    "exempt_paragraphs": "exempt paragraphs",
    "key_decision": "key decision",
    "notice_type": "notice type",
    "first_published": "first-published date",
}
STEP_WORDS = {
    "first_prompt": "First prompt",
    "reminder": "Reminder",
    "urgent_reminder": "Urgent reminder",
    "director": "The director was told",
    "chief_executive": "The chief executive was told",
}
TIMELINE_STEP = "{step} about the briefing of {member}."
TIMELINE = {
    "decision_added": "Added to the forward plan.",
    "decision_disappeared": "No longer listed by its source.",
    "briefing_created": "Briefing of {member} set up.",
    "briefing_updated": "Briefing of {member} updated: {reason}.",
    "briefing_closed": "Briefing of {member} closed: {reason}.",
    "briefing_reopened": "Briefing of {member} re-opened: {reason}.",
    "briefer_prompted": "The briefer was prompted about {member} before anyone above them.",
    "member_reminder": "{member} was reminded to acknowledge the briefing.",
    "snooze_ended": "The snooze on the briefing of {member} ended.",
    "log_briefing": "{actor} logged the briefing of {member}.",
    "snooze": "{actor} snoozed the briefing of {member}.",
    "not_needed": "{actor} marked the briefing of {member} as not needed.",
    "reassign": "{actor} passed the briefing of {member} to {to}.",
    "reassign_asked": "{actor} asked to pass the briefing of {member} to {to}, awaiting the "
    "director's approval.",
    "acknowledge": "{member} acknowledged the briefing.",
    "not_yet_briefed": "{member} said they have not yet been briefed.",
    "need_more_info": "{member} asked for more information.",
    "approve": "{actor} approved the request about the briefing of {member}.",
    "decline": "{actor} declined the request about the briefing of {member}.",
    "remind_briefer": "{actor} asked for the briefer to be reminded.",
    "ask_director": "{actor} asked the director to chase the briefing.",
    "noted": "{actor} noted the escalation.",
    "scrutiny_chair_told": "{to}, the scrutiny chair, was sent the general exception notice.",
    "scrutiny_acknowledge": "{actor}, the scrutiny chair, acknowledged the general exception "
    "notice.",
    "urgency_record_asked": "Democratic services were asked to record the special urgency "
    "agreement.",
    "record_urgency": "{actor} recorded that the {who} agreed the special urgency.",
}

# Status lines (bot/views/commands.py).
SOURCE_STALE = "⚠️ Source {name} stale since {since}: showing the last good data."
NO_BRIEFING = "no briefing can be set up: {why}"
NO_PORTFOLIO_MATCH = "no portfolio matches '{portfolio}'"
NOBODY_TO_BRIEF = "nobody in the directory can brief for it"
NOBODY_OWED = "no member is owed one under the council's rules"

# A forward plan item the sweep could not work out (one bad item never stops the rest).
NOT_ASSESSED = "could not be assessed: {reason}. Its briefings are unchanged until it is fixed."
NOT_ASSESSED_DATE = "a date on it is outside the range the calendar can work with"
NOT_ASSESSED_OTHER = "an unexpected problem ({kind}) stopped the rules working it out"

# The weekly digest carries the audit chain's head, so a copy exists outside the database.
AUDIT_HEAD_DIGEST = (
    "Audit log: {count:,} events, chain head {head}. Keep this message: "
    "`nosurprises audit verify --expect {head}` checks the log against it."
)
AUDIT_HEAD_MISSING_DIGEST = (
    "Audit log: its head record is missing. Please ask democratic services to run "
    "`nosurprises audit verify`."
)
