"""Shared fixtures: a throwaway PostgreSQL cluster, and database URLs for both backends.

The suite runs in parallel (pytest-xdist, `-n` in pyproject.toml). What the worker processes
share lives in one folder per run, made by the controlling process before the workers start and
named to them in SHARED_DIR_VARIABLE: the run's one PostgreSQL cluster (each test still gets a
database of its own) and livebot's SQLite template databases. The controlling process removes
it, stopping the cluster, when the run ends. Nothing listens on a fixed port.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import pgcluster  # noqa: E402 - lives in bench/, shared with the benchmarks

# Also read by livebot.py, which keeps its template databases there.
SHARED_DIR_VARIABLE = "NOSURPRISES_TEST_SHARED_DIR"

NO_POSTGRES = (
    "PostgreSQL TESTS SKIPPED: the server binaries initdb and pg_ctl are not on PATH, so the "
    "store was tested on SQLite only. Install PostgreSQL 15 to run them."
)

_shared_key = pytest.StashKey[str]()


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    if not _is_worker(config):
        # Set before pytest-xdist starts the workers, which inherit the environment.
        shared = tempfile.mkdtemp(prefix="nosurprises-tests-")
        config.stash[_shared_key] = shared
        os.environ[SHARED_DIR_VARIABLE] = shared


def pytest_unconfigure(config: pytest.Config) -> None:
    shared = config.stash.get(_shared_key, None)
    if shared is not None:
        pgcluster.stop_recorded(Path(shared))
        shutil.rmtree(shared, ignore_errors=True)
        os.environ.pop(SHARED_DIR_VARIABLE, None)


def shared_dir() -> Path:
    """The folder this run's processes share (see the module's docstring)."""
    return Path(os.environ[SHARED_DIR_VARIABLE])


@pytest.fixture
def pg_url() -> str:
    """A fresh, empty database in this run's throwaway PostgreSQL cluster."""
    if not pgcluster.binaries_available():
        pytest.skip(NO_POSTGRES)
    return pgcluster.shared_cluster(shared_dir()).new_database("test")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on the embedded SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("pg_url")


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    # Counted from the reports, which the workers send back to the controller.
    skipped = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if NO_POSTGRES in str(report.longrepr)
    ]
    if skipped:
        terminalreporter.write_sep("!", NO_POSTGRES, red=True, bold=True)
        terminalreporter.write_line(f"{len(skipped)} PostgreSQL test(s) skipped.")
