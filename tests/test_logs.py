"""Log lines: one line per record in either format, never a traceback; JSON lines carry the id
of the HTTP request they were written for."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from bot.logs import JsonLines, TextLines, new_request_id, request_id


def emit(formatter: logging.Formatter, *, rid: str = "") -> str:
    record = logging.LogRecord(
        "bot.x", logging.ERROR, __file__, 1, "tick %s failed", ("sweep",), None
    )
    try:
        raise ValueError("bad\ndate")
    except ValueError:
        record.exc_info = sys.exc_info()
    token = request_id.set(rid)
    try:
        return formatter.format(record)
    finally:
        request_id.reset(token)


def test_text_lines_name_the_exception_on_the_same_line():
    line = emit(TextLines())
    assert "\n" not in line and "Traceback" not in line
    assert line.endswith("ERROR bot.x: tick sweep failed  (ValueError: bad date)")


def test_json_lines_carry_the_request_id_and_the_error_without_a_traceback():
    parsed = json.loads(emit(JsonLines(), rid="req-1"))
    assert parsed["message"] == "tick sweep failed" and parsed["level"] == "error"
    assert parsed["request_id"] == "req-1" and parsed["error"] == "ValueError: bad date"
    assert "request_id" not in json.loads(emit(JsonLines()))


@pytest.mark.parametrize(
    ("offered", "kept"),
    [("abc-123", True), ("", False), (None, False), ("x" * 65, False), ("a b\nforged", False)],
)
def test_a_callers_request_id_is_kept_only_if_plain(offered, kept):
    rid = new_request_id(offered)
    assert (rid == offered) is kept and rid and "\n" not in rid


def test_configure_refuses_an_unknown_format():
    from bot.logs import configure

    with pytest.raises(ValueError, match="--log-format must be one of text, json"):
        configure(fmt="xml")


def test_configure_installs_one_handler_that_writes_json_lines_to_standard_error(capsys):
    from bot.logs import HANDLER_NAME, configure

    root = logging.getLogger()
    level = root.level
    try:
        configure(fmt="text")
        configure(fmt="json")
        ours = [h for h in root.handlers if h.name == HANDLER_NAME]
        assert len(ours) == 1
        token = request_id.set("req-9")
        logging.getLogger("bot.test").info("hello")
        request_id.reset(token)
        [line] = capsys.readouterr().err.splitlines()
        assert json.loads(line) | {"time": "-"} == {
            "time": "-",
            "level": "info",
            "logger": "bot.test",
            "message": "hello",
            "request_id": "req-9",
        }
    finally:
        for handler in [h for h in root.handlers if h.name == HANDLER_NAME]:
            root.removeHandler(handler)
        root.setLevel(level)
