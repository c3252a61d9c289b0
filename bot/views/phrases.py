"""Words shared by every platform, so each is said one way."""

from bot.i18n.catalogue import N_, NP_

NOT_SET_UP_TITLE = N_("You are not set up yet")
NOT_SET_UP = N_(
    "Sorry, No Surprises does not know who you are yet: you are not in the council's "
    "directory, so it cannot show you anything or act for you. Democratic services can add you."
)
UNREADABLE_BUTTON = N_(
    "Sorry, that button could not be read, so nothing was changed. Please use the latest "
    "message from No Surprises."
)

# Actions and their answers (bot/briefings/actions.py).
NOT_NEEDED_DONE = N_("Marked as not needed. The reason is shown in status.")
NOT_NEEDED_AWAITING = N_(
    "Thank you. A portfolio holder's or the leader's briefing needs a second pair of eyes, "
    "so the request has gone to {approvers} to approve. Until then it shows as not needed, "
    "awaiting approval."
)
HANDOVER_AWAITING = N_(
    "This is an exempt item and {target} works outside its directorate, so the hand-over has "
    "gone to {approvers} for approval. Until then the briefing stays with you."
)
APPROVED_NOT_NEEDED = N_(
    "Approved: the briefing is marked as not needed. The officer has been told."
)
APPROVED_HANDOVER = N_("Approved: the briefing has been passed to {target}, who has been told.")
DECLINED = N_("Declined. The officer has been told, and the briefing is back with them.")
NOT_YOUR_OWN_APPROVAL = N_("Sorry, someone other than the person who asked must approve this.")
ONLY_APPROVERS = N_("Sorry, only the briefer's director or the monitoring officer can decide this.")
ONLY_ESCALATION_READERS = N_("Sorry, only the director or the chief executive can do that.")
NOTHING_AWAITING_APPROVAL = N_("There is nothing awaiting approval on this briefing now.")
ALREADY_DECIDED = N_("Thank you: this request has already been decided.")
CHASED_BY = N_("{name} has asked for this briefing to happen now.")
ASKED_TO_CHASE = N_("{name} asks you to chase {briefer} about this briefing.")
REMINDED = N_("Thank you. A reminder has gone to {names} now.")
ALREADY_REMINDED = N_("The briefer has already been reminded today.")
ASKED_DIRECTOR = N_("Thank you. The request to chase it has gone to {names}.")
ALREADY_ASKED_DIRECTOR = N_("The director has already been asked today.")
NOTED = N_("Noted. Thank you.")

# Cards (bot/views/renderer.py). Dates read "Tue 4 Feb"; the tense follows the clock.
DUE_BY = N_("is due by {day}")
WAS_DUE = N_("was due by {day}")
NOT_YET_BRIEFED_YOU = N_(
    "{member} has not yet been briefed on *{title}* ({when}). The briefing {due}."
)
NOT_YET_BRIEFED_BY = N_(
    "{member} has not yet been briefed by {briefer} on *{title}* ({when}). The briefing {due}."
)
MEMBER_CAME_BACK = N_(
    "{member} {words} on *{title}* ({when}). Please follow up with them, then log the "
    "briefing again."
)
AWAITING_APPROVAL = N_(
    "Briefing {member} on *{title}* is marked as not needed, awaiting approval. It counts "
    "amber until then."
)
ESCALATION_INTRO = N_("*{title}* ({when}): {count} still waiting to be briefed.")
WAITING_LINE = N_("• {member} has not yet been briefed by {briefer} ({why}); the briefing {due}.")
NOBODY_WAITING = N_("*{title}* ({when}): every member has now been briefed. Thank you.")
ALREADY_TOLD = N_("Already told: {people}.")
TOLD_PERSON = N_("{name} ({days})")
NOBODY_TOLD_YET = N_("Nobody else has been told yet.")
WITHDRAWN_MEMBER = N_(
    "*{title}* ({when}) has been withdrawn from the forward plan. Nothing more is needed on it."
)
WITHDRAWN_BRIEFER = N_(
    "*{title}* ({when}) has been withdrawn from the forward plan, so its briefings are closed."
)
PASSED_TO_YOU = N_("{by} has passed this briefing to you.")
A_COLLEAGUE = N_("A colleague")
THEIR_REASON = N_("Their reason:")
THEY_SAID = N_("{member} wrote:")
APPROVE_NOT_NEEDED = N_(
    "{asker} asks to mark the briefing of {member} ({why}) on *{title}* ({when}) as not "
    "needed. A portfolio holder's or the leader's briefing needs a second pair of eyes. "
    "Their reason:"
)
APPROVE_HANDOVER = N_(
    "{asker} asks to pass the briefing of {member} on *{title}* ({when}) to {target}, who "
    "works in {directorate}. It is an exempt item, so the hand-over needs a director's approval."
)
DECIDED_NOT_NEEDED = N_("The briefing of {member} on *{title}* is approved as not needed.")
DECIDED_HANDOVER = N_(
    "The briefing of {member} on *{title}* now rests with {briefer}. You can still see the item."
)
DECLINED_REQUEST = N_(
    "Your request about the briefing of {member} on *{title}* was declined, so it stays with "
    "you. The briefing {due}."
)
# Reg 11 agreement: who may agree that a special urgency decision cannot wait.
URGENCY_AGREED_BY = (
    N_("Chair of the overview and scrutiny committee"),
    N_("Chair of the council"),
    N_("Vice-chair of the council"),
)
HANDOVER_ALREADY_ASKED = N_(
    "Thank you: the hand-over is already waiting for the director's approval."
)

# Statutory notices about a decision (bot/briefings/notices.py).
NO_SUCH_ITEM = N_("Sorry, that item is no longer on the forward plan.")
ONLY_SCRUTINY_CHAIR = N_(
    "Sorry, only the chair of the overview and scrutiny committee can acknowledge this."
)
ONLY_DEMOCRATIC_SERVICES = N_(
    "Sorry, only democratic services or the monitoring officer can record this."
)
ACKNOWLEDGED_NOTICE = N_("Thank you: your acknowledgement is recorded in the item's timeline.")
ALREADY_ACKNOWLEDGED_NOTICE = N_("Thank you: this notice has already been acknowledged.")
RECORDED_URGENCY = N_(
    "Thank you: the agreement is recorded, and the item is no longer flagged red."
)
ALREADY_RECORDED_URGENCY = N_("Thank you: that agreement has already been recorded.")
WHO_AGREED = N_("Who agreed? Please choose one of: {options}.")
SCRUTINY_NOTICE_TITLE = N_("General exception: for your information as scrutiny chair")
SCRUTINY_NOTICE_LINE = N_(
    "*{title}* ({when}) is to be decided under the general exception rule{cite}: it was not on "
    "the forward plan in time. As chair of the overview and scrutiny committee you are told of "
    "it in writing. Please acknowledge that you have seen it."
)
SCRUTINY_NOTICE_DONE = N_("*{title}* ({when}): you acknowledged this notice on {day}. Thank you.")
URGENCY_RECORD_TITLE = N_("Special urgency: please record the agreement")
URGENCY_RECORD_LINE = N_(
    "*{title}* ({when}) is to be decided under special urgency{cite}. It needs the agreement of "
    "the scrutiny chair (or, failing them, the chair or vice-chair of the council) that it is "
    "urgent and cannot reasonably be deferred. Until that agreement is recorded the item shows "
    "red."
)
URGENCY_RECORD_DONE = N_("*{title}* ({when}): agreed by the {who}, recorded on {day}. Thank you.")

# The item's timeline, one sentence a line (bot/views/commands.py).
FOR_SOMEONE = N_(" for {name}")
BLANK = N_("(blank)")
BROUGHT_FORWARD = N_("the decision was brought forward")
PUT_BACK = N_("the decision was put back")
DATE_MOVED = N_("Decision date moved from {old} to {new} because {why}.")
DUE_MOVED = N_("Due date for {member} moved from {old} to {new} because {why}.")
FIELD_CHANGED = N_("{label} changed.")
FIELD_CHANGED_FROM_TO = N_("{label} changed from {old} to {new}.")
FIELD_LABELS = {
    "decision_due": N_("decision date"),
    "exempt_paragraphs": N_("exempt paragraphs"),
    "key_decision": N_("key decision"),
    "notice_type": N_("notice type"),
    "first_published": N_("first-published date"),
}
STEP_WORDS = {
    "first_prompt": N_("First prompt"),
    "reminder": N_("Reminder"),
    "urgent_reminder": N_("Urgent reminder"),
    "director": N_("The director was told"),
    "chief_executive": N_("The chief executive was told"),
}
TIMELINE_STEP = N_("{step} about the briefing of {member}.")
TIMELINE = {
    "decision_added": N_("Added to the forward plan."),
    "decision_disappeared": N_("No longer listed by its source."),
    "briefing_created": N_("Briefing of {member} set up."),
    "briefing_updated": N_("Briefing of {member} updated: {reason}."),
    "briefing_closed": N_("Briefing of {member} closed: {reason}."),
    "briefing_reopened": N_("Briefing of {member} re-opened: {reason}."),
    "briefer_prompted": N_("The briefer was prompted about {member} before anyone above them."),
    "member_reminder": N_("{member} was reminded to acknowledge the briefing."),
    "snooze_ended": N_("The snooze on the briefing of {member} ended."),
    "log_briefing": N_("{actor} logged the briefing of {member}."),
    "snooze": N_("{actor} snoozed the briefing of {member}."),
    "not_needed": N_("{actor} marked the briefing of {member} as not needed."),
    "reassign": N_("{actor} passed the briefing of {member} to {to}."),
    "reassign_asked": N_(
        "{actor} asked to pass the briefing of {member} to {to}, awaiting the director's approval."
    ),
    "acknowledge": N_("{member} acknowledged the briefing."),
    "not_yet_briefed": N_("{member} said they have not yet been briefed."),
    "need_more_info": N_("{member} asked for more information."),
    "approve": N_("{actor} approved the request about the briefing of {member}."),
    "decline": N_("{actor} declined the request about the briefing of {member}."),
    "remind_briefer": N_("{actor} asked for the briefer to be reminded."),
    "ask_director": N_("{actor} asked the director to chase the briefing."),
    "noted": N_("{actor} noted the escalation."),
    "scrutiny_chair_told": N_("{to}, the scrutiny chair, was sent the general exception notice."),
    "scrutiny_acknowledge": N_(
        "{actor}, the scrutiny chair, acknowledged the general exception notice."
    ),
    "urgency_record_asked": N_(
        "Democratic services were asked to record the special urgency agreement."
    ),
    "record_urgency": N_("{actor} recorded that the {who} agreed the special urgency."),
}

# Status lines (bot/views/commands.py).
NO_BRIEFING = N_("no briefing can be set up: {why}")
NO_PORTFOLIO_MATCH = N_("no portfolio matches '{portfolio}'")
NOBODY_TO_BRIEF = N_("nobody in the directory can brief for it")
NOBODY_OWED = N_("no member is owed one under the council's rules")

# A forward plan item the sweep could not work out (one bad item never stops the rest). Stored
# on the item and read by operators in /healthz, so in English, outside the catalogue.
NOT_ASSESSED = "could not be assessed: {reason}. Its briefings are unchanged until it is fixed."
NOT_ASSESSED_DATE = "a date on it is outside the range the calendar can work with"
NOT_ASSESSED_OTHER = "an unexpected problem ({kind}) stopped the rules working it out"

# The weekly digest carries the audit chain's head, so a copy exists outside the database.
AUDIT_HEAD_DIGEST = N_(
    "Audit log: {count:,} events, chain head {head}. Keep this message: "
    "`nosurprises audit verify --expect {head}` checks the log against it."
)
AUDIT_HEAD_MISSING_DIGEST = N_(
    "Audit log: its head record is missing. Please ask democratic services to run "
    "`nosurprises audit verify`."
)

# --- digests --------------------------------------------------------------------------------------

RAG_WORDS = {"red": N_("Red"), "amber": N_("Amber"), "grey": N_("Grey"), "green": N_("Green")}
CHIEF_EXECUTIVE_DIGEST_TITLE = N_("This week: what could still surprise a member")
DIGEST_MORE_STATUS = N_("…and {count} more: ask `/surprises`.")
OFFICER_DIGEST_TITLE = NP_(
    "Good morning: {count} member briefing waiting on you",
    "Good morning: {count} member briefings waiting on you",
)
OFFICER_DIGEST_ROW = N_("*{ref}* {title}: brief {member} by {due}")
OFFICER_DIGEST_ROW_OVERDUE = N_("*{ref}* {title}: brief {member} by {due} (overdue)")
DIGEST_MORE_MINE = N_("…and {count} more: ask `/surprises mine`.")
MEMBER_DIGEST_TITLE = NP_(
    "Good morning: {count} briefing for you",
    "Good morning: {count} briefings for you",
)
MEMBER_DIGEST_AWAITING = N_("*{ref}* {title}: {briefer} has briefed you; please acknowledge it")
MEMBER_DIGEST_SOON = N_("*{ref}* {title}: {briefer} is due to brief you by {due}")
MEMBER_DIGEST_LATE = N_("*{ref}* {title}: {briefer} was due to brief you by {due}")
MEMBER_DIGEST_MORE = N_("…and {count} more.")

# --- what a person is told after pressing a button ------------------------------------------------

GONE = N_("That briefing no longer exists.")
ALREADY_PASSED_ON = N_("Thank you: this briefing has already been passed to {name}.")
ONLY_MEMBER = N_("Sorry, only {who} can answer for this briefing.")
THE_MEMBER = N_("the member")
ONLY_BRIEFER = N_("Sorry, only {who}, or their manager or director, can update this briefing.")
THE_LEAD_OFFICER = N_("the lead officer")
OUT_OF_DATE = N_(
    "This message is out of date: the briefing has changed since it was sent. Here is where "
    "it stands now."
)
NO_LONGER_POSSIBLE = N_("This briefing is {state}, so that is no longer possible.")
ALREADY = {
    "log_briefing": N_("Thank you: this briefing is already logged."),
    "not_needed": N_("This briefing is already marked as not needed."),
    "acknowledge": N_("Thank you: you have already acknowledged this briefing."),
    "not_yet_briefed": N_("The officer has already been told."),
    "need_more_info": N_("The officer has already been told."),
    "snooze": N_("This briefing is already snoozed; you will be reminded in time."),
}
NOTHING_CHANGED = N_("Nothing has changed.")
# "This briefing is …, so that is no longer possible."
STATE_AS_REFUSAL = {
    "acknowledged": N_("already acknowledged"),
    "withdrawn": N_("closed because the decision left the forward plan"),
    "not_needed": N_("marked as not needed"),
    "briefed": N_("logged and awaiting the member's acknowledgement"),
    "open": N_("still waiting for the briefing"),
    "disputed": N_("back with the officer"),
    "snoozed": N_("snoozed"),
}
CHOOSE_METHOD = N_("How was the briefing given? Choose one of: {methods}.")
WHEN_WAS_IT = N_(
    "When was the briefing? '{text}' is not a date and time: please write one such as "
    "2027-01-12 10:00."
)
NOT_YET_HAPPENED = N_("A briefing can only be logged once it has happened.")
ASKED_TO_ACKNOWLEDGE = N_("Thank you. {name} has been asked to acknowledge the briefing.")
THE_MEMBER_CAPITAL = N_("The member")
SNOOZE_UNTIL_WHEN = N_(
    "Snooze until when? '{text}' is neither a number of working days nor a date and time such "
    "as 2027-01-12 10:00."
)
IN_THE_FUTURE = N_("Please choose a time in the future.")
ALREADY_DUE = N_("This briefing is already due, so it cannot be snoozed.")
SNOOZED_UNTIL = N_("Snoozed until {day} {time}.")
SNOOZED_UNTIL_CAPPED = N_(
    "Snoozed until {day} {time} (the briefing's due time; a snooze cannot go past it)."
)
GIVE_A_REASON = N_("Please give a reason why this briefing is not needed.")
NAME_AN_OFFICER = N_("Please name an officer in the directory (email or full name).")
NOT_THE_MEMBER = N_("The member cannot be asked to brief themself.")
ALREADY_BRIEFER = N_("{name} is already the briefer.")
REASSIGNED_TO = N_("Reassigned to {name}, who has been told.")
THANKS_FOR_ACKNOWLEDGING = N_("Thank you for acknowledging the briefing.")
OFFICER_WILL_FOLLOW_UP = N_("Thank you. The officer has been asked to follow up with you.")
# Stored on the briefing as the member's answer (in English, the catalogue's key) and drawn in
# each reader's language.
DISPUTE_NOT_BRIEFED = N_("says they have not yet been briefed")
DISPUTE_MORE_INFO = N_("would like more information")

# --- cards' own words --------------------------------------------------------------------------

EXEMPT_ITEM = N_("Exempt item")
EXEMPT_ITEM_PARAGRAPHS = NP_(
    "Exempt item (paragraph {paragraphs})", "Exempt item (paragraphs {paragraphs})"
)
DO_NOT_FORWARD = N_("{label}: please do not forward.")
DECISION_WORD = N_("decision")
RECENTLY = N_("recently")
ANOTHER_DIRECTORATE = N_("another directorate")
CAME_BACK = N_("has come back about the briefing")
MEMBERS_WAITING = NP_("{count} member is", "{count} members are")
FIELD_REF = N_("Ref")
FIELD_DECISION = N_("Decision")
FIELD_BRIEFING_DUE = N_("Briefing due")
FIELD_MEMBER = N_("Member")
FIELD_BRIEFER = N_("Briefer")
FIELD_WHY = N_("Why")
FIELD_STATUS = N_("Status")
FIELD_REASON = N_("Reason")
FIELD_MEMBERS_REPLY = N_("Member's reply")
FIELD_LEAD_OFFICER = N_("Lead officer")
CHANGED_MEMBER_LINE = N_(
    "*{title}* has changed since you were briefed ({changes}). {briefer} has been asked to "
    "update you."
)
CHANGED_BRIEFER_LINE = N_(
    "*{title}* has changed since you briefed {member} ({changes}). Please update them, then "
    "log it. The briefing {due}."
)
MEMBER_BRIEFED = N_(
    "{briefer} has logged that they briefed you on *{title}* ({when}) on {day}{how}. Please "
    "acknowledge, or let them know if you still need something."
)
MEMBER_ACKNOWLEDGED = N_("Thank you: you acknowledged your briefing on *{title}* ({when}).")
MEMBER_FOLLOW_UP = N_("{briefer} has been asked to follow up with you on *{title}* ({when}).")
MEMBER_STATE = N_("*{title}* ({when}): {state}.")
OFFICER_LOGGED = N_(
    "You logged the briefing of {member} on *{title}*; awaiting their acknowledgement."
)
OFFICER_ACKNOWLEDGED = N_(
    "{member} has acknowledged your briefing on *{title}* ({when}). Thank you."
)
OFFICER_NOT_NEEDED = N_("Briefing {member} on *{title}* was marked as not needed.")
OFFICER_LEFT_PLAN = N_("*{title}* has left the forward plan; no briefing is needed.")
# An officer's one card about a decision on which they owe several members a briefing.
DECISION_CARD_INTRO = NP_(
    "*{title}* ({when}): you are asked to brief {count} member. Each has their own buttons.",
    "*{title}* ({when}): you are asked to brief {count} members. Each has their own buttons.",
)
DECISION_CARD_HEADING = N_("Your member briefings on this decision")
HEADING_FOR_STATE = {
    "acknowledged": N_("Briefing acknowledged"),
    "briefed": N_("Briefing logged"),
    "not_needed": N_("Briefing not needed"),
    "not_needed_pending": N_("Not needed, awaiting approval"),
    "withdrawn": N_("Briefing closed"),
    "disputed": N_("Back with the officer"),
}
MEMBER_BRIEFING = N_("Member briefing")

# --- /surprises -----------------------------------------------------------------------------------

HELP_TITLE = N_("No Surprises: what you can ask")
SORRY = N_("Sorry")
SOURCE_STALE = N_("⚠️ Source {name} stale since {since}: showing the last good data.")
STATUS_ROW_WHO = N_("{member} ← {briefer}, due {due}, {state}")
STATUS_ROW = N_("*{ref}* {title}: {who}; decision {decision}{flags}")
NOTHING_AT_RISK = N_("Nothing is at risk in this window.")
NO_BRIEFINGS_HERE = N_("You have no briefings in this window.")
MORE_PAGES = N_("…and {count} more: `{command}`, or narrow it with `days N` or `portfolio NAME`.")
MORE_MINE_PAGES = N_("…and {count} more: `{command}`.")
PAST_THE_LAST_PAGE = N_("There is nothing on page {page}: the last page is {last}.")
EXEMPT_ONLY_DIRECT_LONG = N_("Exempt details are shown only in a direct message with No Surprises.")
EXEMPT_ONLY_DIRECT = N_("Exempt details are shown only in a direct message.")
YOUR_BRIEFINGS = N_("Your briefings")
STATUS_TITLE = N_("What could still surprise a member in the next {days} days")
NOT_FOUND = N_("Not found")
NO_SUCH_REF = N_("No item {ref} that you can see. Try `/surprises` for the list.")
FIELD_PORTFOLIO = N_("Portfolio")
KEY_DECISION = N_("Key decision")
YES = N_("Yes")
NO = N_("No")
BRIEFINGS_HEADING = N_("Briefings")
NONE_YOU_CAN_SEE = N_("None that you can see.")
RISKS_HEADING = N_("Risks")
TIMELINE_HEADING = N_("Timeline")
NO_SURPRISES = N_("No Surprises")

# Why a member is owed a briefing: the rules store these in English (bot/decisions/rules.py);
# each reader sees them in their language.
REASON_PORTFOLIO_HOLDER = N_("Portfolio holder for {portfolio}")
REASON_LEADER = N_("Leader of the Council (key decision)")
REASON_WARD = N_("Ward councillor for {ward}")

# Risks worked out as the status is drawn (bot/views/status.py).
FLAG_DATE_PASSED = N_(
    "The decision date {day} has passed but the item is still For Determination: members "
    "still owed a briefing are owed it, late."
)
FLAG_LATE = N_("The briefing of {member} is late.")
FLAG_DISPUTED = N_("{member} says they have not been briefed or needs more information.")
FLAG_CHANGED = N_("Changed since the member was briefed: {changes}")
FLAG_UNREACHABLE = N_("{name} cannot be reached in chat.")
THE_DIRECTOR = N_("the director")
LIST_AND = N_("{first} and {last}")

# What changed on a re-opened briefing, as the sweep stores it (bot/briefings/reconcile.py:
# describe_changes), drawn in each reader's language.
CHANGE_MOVED = N_("the {label} moved from {old} to {new}")
CHANGE_FROM_TO = N_("the {label} changed from {old} to {new}")
CHANGE_ONLY = N_("the {label} changed")
CHANGE_LABELS = {
    "decision date": N_("decision date"),
    "title": N_("title"),
    "summary": N_("summary"),
    "restriction": N_("restriction"),
    "exempt paragraphs": N_("exempt paragraphs"),
    "key decision": N_("key decision"),
}
NONE_GIVEN = N_("(none)")
# A flag's code, as words in the at-risk list.
FLAG_WORDS = {
    "short_notice": N_("short notice"),
    "exempt": N_("exempt"),
    "date_brought_forward": N_("date brought forward"),
    "date_passed": N_("date passed"),
    "briefing_late": N_("briefing late"),
    "no_portfolio_match": N_("no portfolio match"),
    "no_lead_officer_match": N_("no lead officer match"),
    "unknown_ward": N_("unknown ward"),
    "withdrawn": N_("withdrawn"),
    "missing_from_source": N_("missing from source"),
    "not_on_forward_plan": N_("not on forward plan"),
    "scrutiny_chair": N_("scrutiny chair"),
    "urgency_agreement": N_("urgency agreement"),
    "private_meeting": N_("private meeting"),
    "no_first_published": N_("no first published"),
    "notice_after_today": N_("notice after today"),
    "non_working_decision_day": N_("non working decision day"),
    "member_disputed": N_("member disputed"),
    "unreachable_in_chat": N_("unreachable in chat"),
    "changed_since_briefed": N_("changed since briefed"),
    "not_assessed": N_("not assessed"),
}

# The risks the rules engine stores on an item (bot/decisions/rules.py), in the same English
# words, so each reader sees them in their language (anything else is shown as stored).
RISK_TEMPLATES = (
    N_(
        "Portfolio '{named}' matches no portfolio in the directory, so no portfolio holder can be "
        "asked."
    ),
    N_("Lead officer {named} is not in the directory."),
    N_(
        "Lead officer {named} is not in the directory; the portfolio's director ({director}) is "
        "asked instead."
    ),
    N_("No councillor for ward '{ward}' is in the directory."),
    N_("Withdrawn from the forward plan; open briefings are closed."),
    N_(
        "On the agenda for {day} but not on the forward plan: the member may first hear of it "
        "when the agenda is published."
    ),
    N_("No longer listed by its source since {day}; check whether it was withdrawn or renamed."),
    N_("Decision date brought forward from {old} to {new}."),
    FLAG_DATE_PASSED,
    # The statutory checks (bot/decisions/statutory.py).
    N_(
        "{restriction} under {schedule} ({paragraphs}): details go only to people entitled to see "
        "them."
    ),
    N_(
        "General exception notice ({cite}): the decision may be taken only {days} clear days after "
        "the notice, and the scrutiny chair must be told in writing."
    ),
    N_(
        "General exception notice ({cite}): the decision may be taken only {days} clear days after "
        "the notice, and the scrutiny chair must be told in writing. This notice was published "
        "{day}, only {clear} clear days before the decision."
    ),
    N_("{name}, the scrutiny chair, has acknowledged the notice."),
    N_("The scrutiny chair has been sent the notice and has not yet acknowledged it."),
    N_(
        "Special urgency ({cite}): the decision needs the agreement of the scrutiny chair (or, "
        "failing them, the chair or vice-chair of the council) that it is urgent and cannot "
        "reasonably be deferred."
    ),
    N_("Agreed by the {who}, as recorded by democratic services."),
    N_("That agreement has not been recorded: democratic services can record it."),
    N_("A key decision with no first-published date, so its notice cannot be checked."),
    N_("The notice is dated {day}, after today: please check the first-published date."),
    N_("The decision date {day} falls on {why}: please check it."),
)

# Why the sweep closed, re-opened or updated a briefing, as it records it in the audit log
# (bot/briefings/reconcile.py, actions.py); read back in the reader's language in a timeline.
TIMELINE_REASONS = (
    N_("the decision was withdrawn from the forward plan"),
    N_("no longer required by the rules (portfolio, wards or directory changed)"),
    N_("the decision is back on the forward plan"),
)
REASON_CHANGED = N_("changed since the member was briefed: {changes}")
