"""What a signed Slack request must look like before any listener reads it.

Slack's own requests always have these shapes; anything else (a body that is not JSON, a click
without a user, private_metadata we did not write) is answered 400 with one log line, instead of
failing somewhere inside a listener with a traceback.
"""

from __future__ import annotations

import json
from typing import Any


def problem_with(body: Any) -> str | None:
    """Why a parsed Slack body cannot be handled, or None when its shape is sound."""
    if not isinstance(body, dict):
        return "the body is not a JSON object"
    kind = body.get("type")
    if kind is None:
        return _command(body) if "command" in body else "the body is no request Slack sends"
    if kind in ("block_actions", "view_submission", "view_closed"):
        return _user(body) or _interaction(kind, body)
    if kind == "block_suggestion":
        return _user(body) or _suggestion(body)
    if kind == "event_callback":
        return _event(body.get("event"))
    if kind == "url_verification":
        return None if isinstance(body.get("challenge"), str) else "the challenge is missing"
    return None  # anything else is left to bolt, which answers 404 for what nobody handles


def _command(body: dict[str, Any]) -> str | None:
    for name in ("user_id", "command"):
        if not isinstance(body.get(name), str) or not body[name]:
            return f"the command has no {name}"
    return None


def _user(body: dict[str, Any]) -> str | None:
    user = body.get("user")
    if not isinstance(user, dict) or not isinstance(user.get("id"), str) or not user["id"]:
        return f"the {body['type']} has no user"
    return None


def _interaction(kind: str, body: dict[str, Any]) -> str | None:
    if kind == "block_actions":
        actions = body.get("actions")
        if not isinstance(actions, list) or not all(isinstance(a, dict) for a in actions):
            return "the block_actions has no list of actions"
        for name in ("channel", "container", "message"):
            if body.get(name) is not None and not isinstance(body[name], dict):
                return f"the block_actions has an unreadable {name}"
        return None
    view = body.get("view")
    if not isinstance(view, dict):
        return f"the {kind} has no view"
    return _private_metadata(view.get("private_metadata")) or _state(view.get("state"))


def _suggestion(body: dict[str, Any]) -> str | None:
    if body.get("value") is not None and not isinstance(body["value"], str):
        return "the block_suggestion's typed value is not text"
    view = body.get("view")
    if view is None:
        return None
    if not isinstance(view, dict):
        return "the block_suggestion has an unreadable view"
    return _private_metadata(view.get("private_metadata"))


def _private_metadata(metadata: Any) -> str | None:
    if metadata in (None, ""):
        return None
    if not isinstance(metadata, str):
        return "the view's private_metadata is not text"
    try:
        parsed = json.loads(metadata)
    except ValueError:
        return "the view's private_metadata is not the JSON this bot wrote"
    if not isinstance(parsed, dict) or not all(isinstance(v, str) for v in parsed.values()):
        return "the view's private_metadata is not the JSON this bot wrote"
    return None


def _state(state: Any) -> str | None:
    if state is None:
        return None
    values = state.get("values") if isinstance(state, dict) else None
    if not isinstance(values, dict) or not all(
        isinstance(block, dict) and all(isinstance(action, dict) for action in block.values())
        for block in values.values()
    ):
        return "the view's state is not readable"
    for block in values.values():
        for action in block.values():
            chosen = action.get("selected_option")
            if chosen is not None and not isinstance(chosen, dict):
                return "the view's state has an unreadable choice"
            if action.get("value") is not None and not isinstance(action["value"], str):
                return "the view's state has a value that is not text"
            chosen_at = action.get("selected_date_time")
            if chosen_at is not None and (
                not isinstance(chosen_at, int) or isinstance(chosen_at, bool)
            ):
                return "the view's state has a date and time that is not a number"
    return None


def _event(event: Any) -> str | None:
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        return "the event_callback has no event"
    if event["type"] == "app_home_opened" and not isinstance(event.get("user"), str):
        return "the app_home_opened event has no user"
    return None
