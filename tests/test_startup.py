"""Start-up stays light: each command imports only what it uses (issue 15).

The timings are in `bench/bench_startup.py`; these tests pin down the imports that decide them,
in a fresh interpreter each, since this process has imported everything already.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from livebot import SARAH, make_bot, sqlite_url
from sqlalchemy import Engine, text, update

from bot.briefings.escalate import run_sweep_tick
from bot.cli import REPORTS, command_in
from bot.store import db
from bot.store.models import Person, table_of

HEAVY = ("sqlalchemy", "sqlmodel", "alembic", "aiohttp", "slack_bolt", "slack_sdk", "botbuilder")

_PROBE = """
import json, sys
from bot.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
# Each module by its full name, and each package by its top-level name.
names = sorted(set(sys.modules) | {name.partition(".")[0] for name in sys.modules})
print(json.dumps({"code": code, "modules": names}))
"""


def _modules_after(args: list[str], env: dict[str, str]) -> tuple[int, set[str]]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["code"], set(result["modules"])


def test_help_imports_no_database_library_and_no_chat_sdk() -> None:
    code, modules = _modules_after(["--help"], {})
    assert code == 0
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))
    # Nor the event loop or Prometheus's client: only the server and the ticks use them; nor
    # Babel: the catalogues are read without it (bot/i18n/plain_po.py).
    assert not modules & {"asyncio", "prometheus_client", "babel"}, sorted(modules)
    # teams-package is an adapter's command: the plugin records are read, the SDKs are not.
    code, modules = _modules_after(["teams-package", "--help"], {})
    assert code == 0 and not modules & set(HEAVY)


# What `status` must never import: it reads Core tables over a bare connection (issue 15).
NOT_FOR_STATUS = {
    "sqlmodel",
    "pydantic",
    "sqlalchemy.orm",
    "alembic",
    "aiohttp",
    "slack_bolt",
    "slack_sdk",
    "botbuilder",
    "babel",
    "prometheus_client",
}


def test_status_imports_no_orm_no_pydantic_no_alembic_and_no_chat_sdk(tmp_path: Path) -> None:
    bot = make_bot(sqlite_url(tmp_path), datetime(2027, 1, 12, 9, 30, tzinfo=UTC))
    with bot.app.session() as session:
        run_sweep_tick(app=bot.app, session=session)
        session.execute(update(table_of(Person)).where(Person.email == SARAH).values(language="cy"))
    env = {"NOSURPRISES_DATABASE_URL": bot.app.settings.database_url}
    for args in (
        ["status", "--now", "2027-01-12T09:30"],
        ["status", "--now", "2027-01-12T09:30", "--json", "--days", "90"],
        ["status", "--now", "2027-01-12T09:30", "--as", SARAH],  # a Welsh speaker
    ):
        code, modules = _modules_after(args, env)
        assert code == 0
        assert not modules & NOT_FOR_STATUS, sorted(modules & NOT_FOR_STATUS)
        # A report sends nothing: no adapter's plugin record is loaded for it; nor the rules
        # engine (a status reads what the last sweep stored), the table models or the App.
        assert "adapters" not in modules
        assert not modules & {
            "bot.decisions.rules",
            "bot.store.models",
            "bot.app",
            "bot.views.cards",
        }


def test_status_errors_import_no_orm_either(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[council]\nnation = 'atlantis'\n", encoding="utf-8")
    code, modules = _modules_after(["--config", str(bad), "status"], {})
    assert code == 2 and not modules & NOT_FOR_STATUS
    unreachable = {"NOSURPRISES_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    code, modules = _modules_after(["status"], unreachable)
    assert code == 3 and not modules & NOT_FOR_STATUS


def test_status_on_a_new_sqlite_file_migrates_it_first(tmp_path: Path) -> None:
    # Alembic (and so the table models) is imported then, and only then.
    env = {"NOSURPRISES_DATABASE_URL": f"sqlite:///{tmp_path / 'startup.db'}"}
    code, modules = _modules_after(["status"], env)
    assert code == 0 and "alembic" in modules
    code, modules = _modules_after(["status"], env)
    assert code == 0 and not modules & NOT_FOR_STATUS


def test_reports_skip_the_adapters_and_every_other_command_reads_them(tmp_path: Path) -> None:
    assert command_in(["--config", "x.toml", "status", "--days", "5"]) == "status"
    assert command_in(["--config", "status", "sweep"]) == "sweep"  # a file named "status"
    assert command_in(["--help"]) is None
    assert "status" in REPORTS and "serve" not in REPORTS
    # An adapter's table is read by every command but the reports: a bad one stops `sweep`.
    config = tmp_path / "config.toml"
    config.write_text("[teams]\napp_id = 7\n", encoding="utf-8")
    env = {"NOSURPRISES_DATABASE_URL": f"sqlite:///{tmp_path / 'reports.db'}"}
    code, modules = _modules_after(["--config", str(config), "sweep", "--dry-run"], env)
    assert code == 2 and "adapters" in modules
    code, modules = _modules_after(["--config", str(config), "status"], env)
    assert code == 0 and "adapters" not in modules


def test_table_models_are_defined_without_building_pydantic_validators() -> None:
    # Table models are never validated (SQLModel constructs them), so their validators are
    # left unbuilt at start-up, and their annotations are real types, not strings to evaluate.
    probe = (
        "import json, bot.store.models as m\n"
        "m.define_every_table()\n"
        "tables = m.Stored.__subclasses__()\n"
        "print(json.dumps([len(tables), sum(c.__pydantic_complete__ for c in tables), "
        "sum(isinstance(a, str) for c in tables for a in c.__annotations__.values())]))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    count, built, strings = json.loads(done.stdout)
    assert count >= 25 and built == 0 and strings == 0


def test_head_revision_read_from_the_files_is_alembics_head() -> None:
    from alembic.script import ScriptDirectory

    engine = db.make_engine("sqlite://")
    script = ScriptDirectory.from_config(db.alembic_config(engine))
    assert db.head_revision() == script.get_current_head()


def test_current_revision_of_new_old_and_migrated_databases(tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'revisions.db'}")
    assert db.current_revision(engine) is None and not db.is_current(engine)
    db.upgrade(engine)
    assert db.current_revision(engine) == db.head_revision() and db.is_current(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    assert db.current_revision(engine) == "0001" and not db.is_current(engine)


def test_status_runs_with_the_collector_paused_and_restores_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.cli
    import bot.store.engine

    seen: dict[str, object] = {}
    engines = []
    real_status, real_open = bot.cli.cmd_status, bot.store.engine.open_engine

    def status(args: argparse.Namespace) -> int:
        seen["status"] = gc.isenabled()
        return real_status(args)

    def audit(args: argparse.Namespace) -> int:
        seen["audit"] = gc.isenabled()
        return 0

    def opened(url: str, **options: object) -> Engine:
        engines.append(real_open(url))
        return engines[-1]

    monkeypatch.setattr(bot.cli, "cmd_status", status)
    monkeypatch.setattr(bot.cli, "cmd_audit_verify", audit)
    monkeypatch.setattr(bot.store.engine, "open_engine", opened)
    monkeypatch.setenv("NOSURPRISES_DATABASE_URL", f"sqlite:///{tmp_path / 'gc.db'}")
    frozen, was_enabled = gc.get_freeze_count(), gc.isenabled()
    gc.enable()  # whatever an earlier test in this process left
    try:
        assert bot.cli.main(["status"]) == 0 and bot.cli.main(["audit", "verify"]) == 0
        assert seen == {"status": False, "audit": True}
        # Restored, and nothing frozen: only the program (main() with no arguments) freezes.
        # (Not equal: objects an earlier test in this process froze may have been freed since.)
        assert gc.isenabled() and gc.get_freeze_count() <= frozen
    finally:
        if not was_enabled:
            gc.disable()
    # Its connections are closed, not left for the process's end.
    assert len(engines) == 1 and engines[0].pool.checkedin() == 0


def test_status_as_the_program_leaves_what_it_built_frozen(tmp_path: Path) -> None:
    probe = (
        "import gc, sys\n"
        "from bot.cli import main\n"
        "sys.argv = ['nosurprises', 'status']\n"
        "code = main()\n"
        "print(code, gc.isenabled(), gc.get_freeze_count() > 10_000)\n"
    )
    env = {**os.environ, "NOSURPRISES_DATABASE_URL": f"sqlite:///{tmp_path / 'frozen.db'}"}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "0 True True"
