"""Start-up stays light: each command imports only what it uses (issue 15).

The timings are in `bench/bench_startup.py`; these tests pin down the imports that decide them,
in a fresh interpreter each, since this process has imported everything already.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from bot.cli import REPORTS, SAMPLE_COUNCIL, command_in
from bot.store import db

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


def test_status_imports_neither_alembic_nor_http_nor_chat_sdks(tmp_path: Path) -> None:
    env = {
        "NOSURPRISES_DATABASE_URL": f"sqlite:///{tmp_path / 'startup.db'}",
        "NOSURPRISES_NOW": "2027-01-26T09:30",
    }
    # The first run migrates the new database (Alembic is needed then, and only then).
    people, portfolios = SAMPLE_COUNCIL / "people.csv", SAMPLE_COUNCIL / "portfolios.csv"
    code, modules = _modules_after(["import", "directory", str(people), str(portfolios)], env)
    assert code == 0 and "alembic" in modules
    code, modules = _modules_after(["status"], env)
    assert code == 0
    assert not modules & {"alembic", "aiohttp", "slack_bolt", "slack_sdk", "botbuilder"}
    assert "prometheus_client" not in modules  # the App makes its counters on first use
    assert "babel" not in modules  # English words need no Babel (bot/i18n/plain_po.py)
    # A report sends nothing: no adapter's plugin record is loaded for it.
    assert "adapters" not in modules
    # Nor the rules engine: a status reads what the last sweep stored; nor the tables it never
    # reads (the outbox, the records), which are defined on first use.
    assert not modules & {"bot.decisions.rules", "bot.store.models_delivery"}, sorted(modules)
    assert "bot.store.models_records" not in modules


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
