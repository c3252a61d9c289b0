"""The service files start exactly the commands the README's "Running in production" documents,
and those commands parse. Docker is not needed: the files are read, not run."""

from __future__ import annotations

import configparser
import json
import re
import shlex
from pathlib import Path

import yaml

from bot.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent


def documented() -> dict[str, list[str]]:
    """The `nosurprises …` lines in the README's production section, by subcommand."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Running in production", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "the production section shows its commands in a sh block"
    commands = [shlex.split(line) for line in block.group(1).splitlines() if line.strip()]
    assert all(c[0] == "nosurprises" for c in commands)
    return {"upgrade" if "upgrade" in c else "serve": c[1:] for c in commands}


def test_the_documented_commands_parse_and_serve_never_reads_the_console():
    commands = documented()
    assert set(commands) == {"upgrade", "serve"}
    serve = build_parser().parse_args(commands["serve"])
    assert serve.command == "serve" and not serve.console and serve.log_format == "json"
    assert build_parser().parse_args(commands["upgrade"]).db == "upgrade"


def test_compose_migrates_then_serves_the_documented_commands_with_postgresql():
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    commands = documented()
    assert services["migrate"]["command"] == commands["upgrade"]
    assert services["bot"]["command"] == commands["serve"]
    assert services["db"]["image"].startswith("postgres:")
    assert services["bot"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )
    url = services["bot"]["environment"]["NOSURPRISES_DATABASE_URL"]
    assert url.startswith("postgresql://") and "@db/" in url
    # Secrets are asked of the environment, never written into the file.
    assert "${POSTGRES_PASSWORD" in services["db"]["environment"]["POSTGRES_PASSWORD"]


def test_the_systemd_unit_migrates_then_serves_the_documented_commands():
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(ROOT / "deploy" / "nosurprises.service")
    service = unit["Service"]
    commands = documented()
    start = shlex.split(service["ExecStart"])
    before = shlex.split(service["ExecStartPre"])
    assert start[0].endswith("/nosurprises") and start[1:] == commands["serve"]
    assert before[0].endswith("/nosurprises") and before[1:] == commands["upgrade"]
    assert service["User"] != "root" and service["KillSignal"] == "SIGTERM"


def test_the_image_is_slim_non_root_health_checked_and_serves_the_documented_command():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    lines = [line for line in dockerfile.splitlines() if line and not line.startswith("#")]
    assert all(line.split()[1].endswith("-slim") for line in lines if line.startswith("FROM "))
    [user] = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert user not in ("root", "0")
    healthcheck = dockerfile.split("HEALTHCHECK", 1)[1].split("\nENTRYPOINT", 1)[0]
    assert "/healthz" in healthcheck
    [entrypoint] = [
        json.loads(line[len("ENTRYPOINT ") :]) for line in lines if "ENTRYPOINT" in line
    ]
    [cmd] = [json.loads(line[len("CMD ") :]) for line in lines if line.startswith("CMD ")]
    assert entrypoint == ["nosurprises"] and cmd == documented()["serve"]


def test_everything_the_image_copies_is_in_its_build_context():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    copied = [
        source
        for line in dockerfile.splitlines()
        if line.startswith("COPY ") and "--from" not in line
        for source in line.split()[1:-1]
    ]
    assert copied and all((ROOT / source).exists() for source in copied)
    assert not set(copied) & ignored
