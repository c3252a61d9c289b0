"""What an activity must carry before a turn starts.

Every activity the Bot Framework sends names its conversation, its sender and the service URL to
answer on; one without them cannot be authenticated or answered, so it gets 400 and one log line
instead of failing inside the turn.
"""

from __future__ import annotations

from typing import Any

from botbuilder.schema import ActivityTypes

KNOWN_TYPES = frozenset(t.value for t in ActivityTypes)


def problem_with(activity: Any) -> str | None:
    """Why an activity cannot be handled, or None when its shape is sound."""
    if not isinstance(activity.type, str) or not activity.type:
        return "the activity has no type"
    if activity.type not in KNOWN_TYPES:
        return "the activity's type is not one the Bot Framework sends"
    service_url = activity.service_url
    if not isinstance(service_url, str) or not service_url.startswith(("https://", "http://")):
        return "the activity has no service URL"
    for name, part in (("conversation", activity.conversation), ("from", activity.from_property)):
        if part is None or not isinstance(getattr(part, "id", None), str) or not part.id:
            return f"the activity has no {name} id"
    if activity.channel_data is not None and not isinstance(activity.channel_data, dict):
        return "the activity's channelData is not an object"
    if activity.text is not None and not isinstance(activity.text, str):
        return "the activity's text is not text"
    return None
