"""The command line's edges, through the real entry point in a subprocess: one sentence and exit
code 2 for a missing config, an unsupported database or a port in use; `serve` without a terminal
runs until SIGTERM; JSON log lines carry the request id."""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from bot.cli import wants_console
from bot.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parent.parent
NOSURPRISES = [sys.executable, "-m", "bot"]


def run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*NOSURPRISES, *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment(tmp_path, **env),
        stdin=subprocess.DEVNULL,
        timeout=60,
    )


def environment(tmp_path: Path, **env: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("NOSURPRISES_", "SLACK_"))}
    base |= {"PYTHONPATH": str(ROOT), "NOSURPRISES_DATABASE_URL": f"sqlite:///{tmp_path}/t.db"}
    return base | env


def one_sentence(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert result.stdout == "" and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    return lines[0]


def test_a_missing_config_file_is_one_sentence(tmp_path: Path):
    line = one_sentence(run(["--config", str(tmp_path / "nope.toml"), "status"], tmp_path))
    assert "nope.toml does not exist" in line


@pytest.mark.parametrize("command", [["status"], ["serve", "--port", "0"]])
def test_an_unsupported_database_is_one_sentence_without_the_password(tmp_path, command):
    url = "mysql://council:hunter2@db.example/nosurprises"
    line = one_sentence(run(command, tmp_path, NOSURPRISES_DATABASE_URL=url))
    assert "mysql databases are not supported" in line and "hunter2" not in line


def test_a_port_in_use_is_one_sentence(tmp_path: Path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = one_sentence(
            run(["serve", "--port", str(port), "--now", "2027-01-26T09:30"], tmp_path)
        )
    assert f"cannot listen on 127.0.0.1:{port}: it is already in use" in line


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_serve_without_a_terminal_runs_until_sigterm_and_logs_json_with_request_ids(tmp_path):
    port = free_port()
    server = subprocess.Popen(
        [
            *NOSURPRISES,
            "serve",
            "--port",
            str(port),
            "--log-format",
            "json",
            "--now",
            "2027-01-26T09:30",
        ],
        cwd=tmp_path,
        env=environment(tmp_path),
        stdin=subprocess.DEVNULL,  # what systemd and containers give it
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stderr is not None
        lines: list[dict] = []
        for raw in server.stderr:  # blocks until the server says it is listening
            lines.append(json.loads(raw))
            if lines[-1]["message"].startswith("No Surprises listening"):
                break
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/healthz", headers={"X-Request-Id": "probe-42"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200 and response.headers["X-Request-Id"] == "probe-42"
        assert server.poll() is None  # still serving: standard input's end did not stop it
        server.send_signal(signal.SIGTERM)
        _, rest = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
    assert server.returncode == 0
    lines += [json.loads(raw) for raw in rest.splitlines() if raw.strip()]
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    access = [line for line in lines if "/healthz" in line["message"]]
    assert access and all(line["request_id"] == "probe-42" for line in access)


def test_serve_with_console_reads_a_piped_script_and_stops_at_its_end(tmp_path: Path):
    result = subprocess.run(
        [*NOSURPRISES, "serve", "--demo", "--console", "--port", "0", "--now", "2027-01-26T09:30"],
        input="as imran\nhome\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={k: v for k, v in environment(tmp_path).items() if k != "NOSURPRISES_DATABASE_URL"},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "Imran" in result.stdout and "Traceback" not in result.stderr


class _Stdin:
    def __init__(self, tty: bool) -> None:
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize(
    ("console", "no_console", "tty", "expected"),
    [
        (False, False, True, True),
        (False, False, False, False),
        (True, False, False, True),
        (False, True, True, False),
    ],
)
def test_the_console_reads_only_when_asked_or_at_a_terminal(console, no_console, tty, expected):
    args = argparse.Namespace(console=console, no_console=no_console)
    assert wants_console(args, _Stdin(tty)) is expected
    assert wants_console(args, None) is (console and not no_console)


def test_the_listening_address_can_come_from_the_environment(tmp_path: Path):
    settings = load_settings(None, {"NOSURPRISES_HOST": "0.0.0.0", "NOSURPRISES_PORT": "8080"})
    assert (settings.server.host, settings.server.port) == ("0.0.0.0", 8080)
    with pytest.raises(ConfigError, match="NOSURPRISES_PORT: 'eighty' is not a port number"):
        load_settings(None, {"NOSURPRISES_PORT": "eighty"})


def test_an_unexpected_failure_is_one_sentence_not_a_traceback(monkeypatch, capsys):
    import bot.cli

    def broken(_args):
        raise RuntimeError("disk on fire\nsecond line")

    monkeypatch.setattr(bot.cli, "cmd_status", broken)
    assert bot.cli.main(["status"]) == 1
    err = capsys.readouterr().err
    assert err == (
        "error: the command stopped on an unexpected problem (RuntimeError: disk on fire second "
        "line). Please report it to your support team with the command you ran.\n"
    )


def test_ctrl_c_stops_a_command_in_one_word(monkeypatch, capsys):
    import bot.cli

    def interrupted(_args):
        raise KeyboardInterrupt

    monkeypatch.setattr(bot.cli, "cmd_status", interrupted)
    assert bot.cli.main(["status"]) == 130
    assert capsys.readouterr().err == "Stopped.\n"
