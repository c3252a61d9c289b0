"""The words a forward plan uses for an item's restriction, notice and status (stored as text)."""

from enum import StrEnum

# The ref of an item found only on a meeting's agenda (bot/intake/moderngov_agenda.py): it is
# not on the forward plan, which the rules need to know.
AGENDA_PREFIX = "AGENDA-"


class Restriction(StrEnum):
    OPEN = "Open"
    PART_EXEMPT = "Part exempt"
    FULLY_EXEMPT = "Fully exempt"


class NoticeType(StrEnum):
    FORWARD_PLAN = "Forward Plan"
    GENERAL_EXCEPTION = "General Exception"
    SPECIAL_URGENCY = "Special Urgency"


class DecisionStatus(StrEnum):
    FOR_DETERMINATION = "For Determination"
    DECISION_MADE = "Decision Made"
    WITHDRAWN = "Withdrawn"
