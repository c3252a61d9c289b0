"""The words of email, the pages its links open, and calendar entries: one home, so a later
pass can move them into the message catalogue with everything else."""

from bot.i18n.catalogue import N_

# --- calendar entries (RFC 5545) -----------------------------------------------------------------

CALENDAR_NAME = N_("No Surprises: member briefings")
EVENT_BRIEFING_DUE = N_("Member briefing due: {title}")
EVENT_BRIEFING_DUE_TEXT = N_(
    "{member} is to be briefed by {briefer} on {title} ({ref}) by {due}. "
    "Decision: {when}. Status: {status}."
)
EVENT_DECISION = N_("Decision: {title}")
EVENT_DECISION_WORD = N_("decision")
EVENT_DECISION_TEXT = N_("{ref}: {when}. The member briefing is due by {due}.")
ICS_FILENAME = "briefing-{ref}.ics"

# --- emails ---------------------------------------------------------------------------------------

SUBJECT = "{heading}: {title}"
SUBJECT_PLAIN = "{heading}"
TEXT_BUTTON = "{label}: {url}"
BUTTONS_INTRO = N_(
    "To answer, open a link below; each asks you to confirm before anything changes."
)
CALENDAR_ATTACHED = N_(
    "The briefing deadline and the decision date are attached as a calendar hold."
)
FEED_LINE = N_("Your briefings as a calendar you can subscribe to: {url}")
PREFERENCES_LINE = N_("Choose how No Surprises contacts you: {url}")
SIGN_OFF = N_("No Surprises, for {council}")

# --- the pages links open -------------------------------------------------------------------------

PAGE_TITLE = N_("No Surprises")
CONFIRM_INTRO = N_("You are about to: {label}. Nothing changes until you confirm.")
CONFIRM_BUTTON = N_("Confirm: {label}")
DONE_HEADING = N_("Done")
NOT_DONE_HEADING = N_("Nothing was changed")
WHEN_HINT = N_("Leave blank for now.")

LINK_MALFORMED = N_(
    "Sorry, this link is incomplete, so nothing was changed. Please open the link again from "
    "the email, all on one line."
)
LINK_ALTERED = N_(
    "Sorry, this link has been altered and cannot be used, so nothing was changed. Please use "
    "the link exactly as it arrived in your email."
)
LINK_EXPIRED = N_(
    "Sorry, this link has expired, so nothing was changed. Please use the latest email from "
    "No Surprises."
)
LINK_WRONG_PURPOSE = N_("Sorry, this link is not for this page, so nothing was changed.")
LINK_NOT_YOURS = N_(
    "Sorry, this link was sent to someone else, so it cannot act for you and nothing was changed."
)
LINK_NOT_IN_DIRECTORY = N_(
    "Sorry, the person this link was sent to is no longer in the council's directory, so "
    "nothing was changed. Democratic services can help."
)
LINK_NOTHING_TO_DO = N_("There is nothing to confirm here any more: {state}.")
METHOD_NOT_ALLOWED = N_("Please open this page from the link in your email.")

# --- preferences ----------------------------------------------------------------------------------

PREFERENCES_HEADING = N_("How No Surprises contacts you")
PREFERENCES_INTRO = N_(
    "Messages come to you in chat (Slack or Teams) where you have it, and by email where you "
    "do not. Choose here if you would like something different."
)
PREFERENCE_EMAIL_OFF = N_("Do not email me (chat only)")
PREFERENCE_DIGEST_BY_EMAIL = N_("Send my morning digest by email")
PREFERENCES_SAVE = N_("Save my choices")
PREFERENCES_SAVED = N_("Thank you: your choices are saved.")
PREFERENCES_UNSUBSCRIBED = N_("You will no longer receive emails from No Surprises.")
CALENDAR_FEED_HEADING = N_("Your briefings calendar")
CALENDAR_FEED_INTRO = N_(
    "Subscribe to this address in Outlook or Google Calendar (Add calendar → From internet). "
    "It is private to you: please do not share it."
)

# --- the `email-links` command: an operator's tool, in English, outside the catalogue ---------

COMMAND_FEED = "{name}'s private calendar feed: {url}"
COMMAND_PREFERENCES = "{name}'s email preferences: {url}"
COMMAND_NOBODY = "error: nobody in the directory matches {who!r}"
COMMAND_NEEDS_PUBLIC_URL = (
    "error: set [email] public_url (or NOSURPRISES_PUBLIC_URL) to the bot's https:// address first"
)
