"""The words of email, the pages its links open, and calendar entries: one home, so a later
pass can move them into the message catalogue with everything else."""

# --- calendar entries (RFC 5545) -----------------------------------------------------------------

CALENDAR_NAME = "No Surprises: member briefings"
EVENT_BRIEFING_DUE = "Member briefing due: {title}"
EVENT_BRIEFING_DUE_TEXT = (
    "{member} is to be briefed by {briefer} on {title} ({ref}) by {due}. "
    "Decision: {when}. Status: {status}."
)
EVENT_DECISION = "Decision: {title}"
EVENT_DECISION_TEXT = "{ref}: {when}. The member briefing is due by {due}."
ICS_FILENAME = "briefing-{ref}.ics"

# --- emails ---------------------------------------------------------------------------------------

SUBJECT = "{heading}: {title}"
SUBJECT_PLAIN = "{heading}"
TEXT_BUTTON = "{label}: {url}"
BUTTONS_INTRO = "To answer, open a link below; each asks you to confirm before anything changes."
CALENDAR_ATTACHED = "The briefing deadline and the decision date are attached as a calendar hold."
FEED_LINE = "Your briefings as a calendar you can subscribe to: {url}"
PREFERENCES_LINE = "Choose how No Surprises contacts you: {url}"
SIGN_OFF = "No Surprises, for {council}"

# --- the pages links open -------------------------------------------------------------------------

PAGE_TITLE = "No Surprises"
CONFIRM_INTRO = "You are about to: {label}. Nothing changes until you confirm."
CONFIRM_BUTTON = "Confirm: {label}"
DONE_HEADING = "Done"
NOT_DONE_HEADING = "Nothing was changed"
WHEN_HINT = "Leave blank for now."

LINK_MALFORMED = (
    "Sorry, this link is incomplete, so nothing was changed. Please open the link again from "
    "the email, all on one line."
)
LINK_ALTERED = (
    "Sorry, this link has been altered and cannot be used, so nothing was changed. Please use "
    "the link exactly as it arrived in your email."
)
LINK_EXPIRED = (
    "Sorry, this link has expired, so nothing was changed. Please use the latest email from "
    "No Surprises."
)
LINK_WRONG_PURPOSE = "Sorry, this link is not for this page, so nothing was changed."
LINK_NOT_YOURS = (
    "Sorry, this link was sent to someone else, so it cannot act for you and nothing was changed."
)
LINK_NOT_IN_DIRECTORY = (
    "Sorry, the person this link was sent to is no longer in the council's directory, so "
    "nothing was changed. Democratic services can help."
)
LINK_NOTHING_TO_DO = "There is nothing to confirm here any more: {state}."
METHOD_NOT_ALLOWED = "Please open this page from the link in your email."

# --- preferences ----------------------------------------------------------------------------------

PREFERENCES_HEADING = "How No Surprises contacts you"
PREFERENCES_INTRO = (
    "Messages come to you in chat (Slack or Teams) where you have it, and by email where you "
    "do not. Choose here if you would like something different."
)
PREFERENCE_EMAIL_OFF = "Do not email me (chat only)"
PREFERENCE_DIGEST_BY_EMAIL = "Send my morning digest by email"
PREFERENCES_SAVE = "Save my choices"
PREFERENCES_SAVED = "Thank you: your choices are saved."
PREFERENCES_UNSUBSCRIBED = "You will no longer receive emails from No Surprises."
CALENDAR_FEED_HEADING = "Your briefings calendar"
CALENDAR_FEED_INTRO = (
    "Subscribe to this address in Outlook or Google Calendar (Add calendar → From internet). "
    "It is private to you: please do not share it."
)

# --- the `email-links` command --------------------------------------------------------------------

COMMAND_FEED = "{name}'s private calendar feed: {url}"
COMMAND_PREFERENCES = "{name}'s email preferences: {url}"
COMMAND_NOBODY = "error: nobody in the directory matches {who!r}"
COMMAND_NEEDS_PUBLIC_URL = (
    "error: set [email] public_url (or NOSURPRISES_PUBLIC_URL) to the bot's https:// address first"
)
