"""Shared fixtures: a throwaway PostgreSQL cluster, and database URLs for both backends."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import pgcluster  # noqa: E402 - lives in bench/, shared with the benchmarks

NO_POSTGRES = (
    "PostgreSQL TESTS SKIPPED: the server binaries initdb and pg_ctl are not on PATH, so the "
    "store was tested on SQLite only. Install PostgreSQL 15 to run them."
)
_skipped_for_postgres: list[str] = []


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> str:
    """A fresh, empty database in this run's throwaway PostgreSQL cluster."""
    if not pgcluster.binaries_available():
        _skipped_for_postgres.append(request.node.nodeid)
        pytest.skip(NO_POSTGRES)
    return pgcluster.shared_cluster().new_database("test")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on the embedded SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("pg_url")


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if _skipped_for_postgres:
        terminalreporter.write_sep("!", NO_POSTGRES, red=True, bold=True)
        terminalreporter.write_line(f"{len(_skipped_for_postgres)} PostgreSQL test(s) skipped.")
