"""How the process logs: plain lines for a terminal, or JSON lines (`--log-format json`) for a
log collector, each carrying the id of the HTTP request it belongs to."""

from __future__ import annotations

import json
import logging
import re
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

# Set for each HTTP request; worker threads started with asyncio.to_thread inherit it.
request_id: ContextVar[str] = ContextVar("request_id", default="")
LOG_FORMATS = ("text", "json")
HANDLER_NAME = "nosurprises"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# A caller's X-Request-Id is kept only if it is short and plain: it ends up in every log line.
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def new_request_id(offered: str | None) -> str:
    """The caller's request id if it is safe to log, else a fresh one."""
    if offered and _SAFE_ID.match(offered):
        return offered
    return uuid.uuid4().hex


class TextLines(logging.Formatter):
    """Plain lines; an exception is named on the same line, never printed as a traceback."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def formatException(self, ei: Any) -> str:
        return f"  ({one_line(ei[1])})" if ei and ei[1] is not None else ""

    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace("\n  (", "  (")


def one_line(error: BaseException) -> str:
    """'ValueError: what went wrong', on one line."""
    return f"{type(error).__name__}: {' '.join(str(error).split())}"


class JsonLines(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, request id, and the
    exception's type and message (never a traceback) when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if rid := request_id.get():
            line["request_id"] = rid
        if record.exc_info and record.exc_info[1] is not None:
            line["error"] = one_line(record.exc_info[1])
        return json.dumps(line, ensure_ascii=False)


def configure(*, fmt: str = "text", level: int = logging.INFO) -> None:
    """Send the root logger's records to standard error in the chosen format."""
    if fmt not in LOG_FORMATS:
        raise ValueError(f"--log-format must be one of {', '.join(LOG_FORMATS)}")
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLines() if fmt == "json" else TextLines())
    handler.name = HANDLER_NAME
    root = logging.getLogger()
    # Replace only a handler this module installed before; others (a test's) stay.
    for old in [h for h in root.handlers if h.name == HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
