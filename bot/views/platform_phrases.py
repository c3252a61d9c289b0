"""The words adapters add around a card: the console's prompts, chat modals' buttons, Teams'
welcome and errors. Marked for the catalogue; each adapter draws them in the card's or the
person's language."""

from bot.i18n.catalogue import N_, NP_
from bot.views.phrases import RAG_WORDS

# --- the console ----------------------------------------------------------------------------------

CONSOLE_TO = N_("── To {name} <{email}> ")
CONSOLE_UPDATED = N_("── Updated for {name} ({message}) ")
CONSOLE_YOUR_COPY = N_("── Your copy, {name} ")
CONSOLE_REPLY = N_("── Reply to {name} ")
CONSOLE_HOME = N_("── Home for {name} ")
CONSOLE_GREETING = N_(
    "No Surprises console. {clock} You are {who}. Type `help` for commands; `home` shows what "
    "waits on you, with the numbers to `click`."
)
CONSOLE_NOBODY_YET = N_("nobody yet")
CONSOLE_CLOCK = N_("It is {day} {time}.")
CONSOLE_WHO = N_("You are {who}. {clock}")
CONSOLE_NOT_UNDERSTOOD = N_("Sorry, I did not understand that. Type `help` for the commands.")
CONSOLE_NOBODY_MATCHES = N_("Nobody in the directory matches '{who}'.")
CONSOLE_NOW_YOU_ARE = N_("You are now {name} <{email}> ({roles}).")
CONSOLE_CHOOSE_FIRST = N_("Choose who you are first: `as <email or name>`.")
CONSOLE_WHICH_BUTTON = N_("Which button? `click <number>` using a number shown in [brackets].")
CONSOLE_REAL_CLOCK = N_("The clock is the real one here; start with --now to move time.")
CONSOLE_HOW_FAR = N_("How far? For example `tick 30m`, `tick 4h` or `tick 2d`.")
CONSOLE_FAILED = N_("Sorry, that did not work: {error}")
# The commands stay as they are typed; what each does is said in the person's language.
CONSOLE_HELP = N_(
    "    as <email or name>        act as this person\n"
    '    click <n> [key=value …]   press button n (inputs such as how=call note="by phone")\n'
    "    /surprises …              ask, as the current person\n"
    "    /headsup REF press release: …   tell the right people before you say or publish "
    "something\n"
    "    home                      what is waiting on the current person\n"
    "    now <date-time>           set the clock (council local time), then run the ticks\n"
    "    tick <duration>           move the clock on (30m, 4h, 2d) and run the ticks on the way\n"
    "    sweep | deliver           run one tick now\n"
    "    who                       who you are acting as\n"
    "    help                      this list"
)

# --- chat platforms -------------------------------------------------------------------------------

SHORTENED = N_("…shortened to fit Slack.")
MORE_WAITING = N_("…more waiting: ask `/surprises mine`.")
MODAL_SAVE = N_("Save")
MODAL_CANCEL = N_("Cancel")
WORKING_DAYS = NP_("{count} working day", "{count} working days")
# How a briefing was given, as a choice in a form (the value sent back stays the English word).
METHOD_WORDS = {
    "meeting": N_("Meeting"),
    "call": N_("Call"),
    "email": N_("Email"),
    "chat": N_("Chat"),
}
NEEDED = N_("{label} is needed.")
RAG_WORDS_TEAMS = {**RAG_WORDS, "grey": N_("Not yet due")}
FORM_SEND = N_("Send")

# --- Teams ----------------------------------------------------------------------------------------

TEAMS_NOT_IDENTIFIED = N_(
    "Sorry, I could not tell who you are from your Teams account (no email address or user "
    "principal name came with it), so I have not acted on that. Your IT team can check the "
    "account."
)
TEAMS_NOT_UNDERSTOOD = N_(
    "Sorry, I did not understand that. Type **surprises** for what could still surprise a "
    "member, **surprises mine** for your own briefings, or **help**."
)
TEAMS_WELCOME = N_(
    "Hello{name}. I am No Surprises: I will message you here when a member needs briefing on "
    "a council decision, and when a member acknowledges your briefing. Type **help** to see "
    "what you can ask."
)
TEAMS_FAILED = N_(
    "Sorry, something went wrong on our side. Please try again in a minute; if you had pressed "
    "a button, type **surprises mine** to see where things stand."
)
TEAMS_ALREADY_DONE = N_("Already done.")
TEAMS_UNREADABLE_BUTTON = N_("Sorry, that button could not be read.")

# --- calendar holds linked from chat cards ------------------------------------------------------

ADD_TO_CALENDAR = N_("Add to calendar")
HOLD_REFUSED = N_(
    "Sorry, this calendar link cannot be used. Please use the Add to calendar button on the "
    "latest message about the briefing."
)
