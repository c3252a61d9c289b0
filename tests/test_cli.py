"""The command line end to end on a temporary SQLite database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import SAMPLE_COUNCIL
from bot.cli import main as cli

PEOPLE = str(SAMPLE_COUNCIL / "people.csv")
PORTFOLIOS = str(SAMPLE_COUNCIL / "portfolios.csv")
PLAN = str(SAMPLE_COUNCIL / "forward_plan.csv")


@pytest.fixture(autouse=True)
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NOSURPRISES_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("NOSURPRISES_NOW", "2027-01-26T09:30")
    for name in ("SLACK_BOT_TOKEN", "TEAMS_APP_ID"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = cli(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_whole_command_line(capsys):
    code, out, _ = run(capsys, "import", "directory", PEOPLE, PORTFOLIOS)
    assert code == 0 and "31 added" in out
    code, out, _ = run(capsys, "import", "directory", PEOPLE, PORTFOLIOS)
    assert code == 0 and "unchanged; nothing was written" in out
    code, out, _ = run(capsys, "import", "decisions", PLAN, "--json")
    assert code == 0 and json.loads(out)["created"] == 12
    code, out, _ = run(capsys, "import", "decisions", PLAN)
    assert code == 0 and "No changes: 12 item(s) already up to date" in out

    code, out, _ = run(capsys, "sweep", "--dry-run")
    assert code == 0 and out.startswith("Sweep at Tue 26 Jan 2027 09:30")
    assert "would create: HBC-2027-003 → sarah.whitlock@" in out
    assert "because Portfolio holder for Housing" in out
    code, out, _ = run(capsys, "sweep", "--json")
    report = json.loads(out)
    assert report["counts"]["create"] > 0 and report["messages_queued"]
    code, out, _ = run(capsys, "sweep")
    assert code == 0 and "nothing to change" in out

    code, out, _ = run(capsys, "status", "--days", "60")
    assert code == 0 and "At risk, most urgent first:" in out
    code, out, _ = run(capsys, "status", "--portfolio", "Housing", "--json")
    assert {r["ref"] for r in json.loads(out)["at_risk"]} <= {"HBC-2027-003", "HBC-2027-004"}

    code, out, _ = run(capsys, "audit", "verify", "--json")
    assert code == 0 and json.loads(out)["ok"] is True
    code, out, _ = run(capsys, "db", "upgrade")
    assert code == 0 and "up to date" in out


def test_a_bad_file_exits_1_naming_file_line_and_column(capsys, environment: Path):
    bad = environment / "people.csv"
    bad.write_text("name,email,roles\nAnn,ann-at-nowhere,officer\n", encoding="utf-8")
    code, _, err = run(capsys, "import", "directory", str(bad), PORTFOLIOS)
    assert code == 1
    assert "people.csv, line 2, column email: 'ann-at-nowhere' is not an email address" in err
    assert "nothing was imported" in err


def test_bad_settings_and_unreachable_databases_get_clear_errors(
    capsys, monkeypatch: pytest.MonkeyPatch, environment: Path
):
    monkeypatch.setenv("NOSURPRISES_NOW", "next tuesday")
    code, _, err = run(capsys, "status")
    assert code == 2 and "NOSURPRISES_NOW" in err
    monkeypatch.setenv("NOSURPRISES_NOW", "2027-01-26T09:30")
    monkeypatch.setenv("NOSURPRISES_DATABASE_URL", "postgresql://bob:hunter2@127.0.0.1:1/x")
    code, _, err = run(capsys, "status")
    assert code == 3 and "cannot use the database" in err
    assert "hunter2" not in err
    config = environment / "config.toml"
    config.write_text('[council]\nnation = "atlantis"\n', encoding="utf-8")
    code, _, err = run(capsys, "--config", str(config), "status")
    assert code == 2 and "council.nation" in err and str(config) in err


def test_a_sweep_rebuilds_the_status_read_model_and_a_dry_run_does_not(capsys, environment):
    from sqlalchemy import create_engine, text

    run(capsys, "import", "directory", PEOPLE, PORTFOLIOS)
    run(capsys, "import", "decisions", PLAN)
    engine = create_engine(f"sqlite:///{environment / 'cli.db'}")

    def built() -> tuple[int, int]:
        with engine.connect() as connection:
            model = connection.execute(text("SELECT count(*) FROM statusmodel")).scalar()
            counted = connection.execute(text("SELECT count(*) FROM statuscount")).scalar()
        return int(model or 0), int(counted or 0)

    assert run(capsys, "sweep", "--dry-run")[0] == 0
    assert built() == (0, 0)
    assert run(capsys, "sweep")[0] == 0
    model, counted = built()
    assert model == 1 and counted > 0
    engine.dispose()
