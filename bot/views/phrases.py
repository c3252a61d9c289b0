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
