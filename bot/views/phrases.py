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
NOTHING_AWAITING_APPROVAL = "There is nothing awaiting approval on this briefing now."
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
