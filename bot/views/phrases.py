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
MARKED_NOT_NEEDED = N_("Marked as not needed. The reason is shown in status.")
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
