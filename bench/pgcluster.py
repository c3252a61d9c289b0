"""A throwaway PostgreSQL cluster from the machine's server binaries (initdb, pg_ctl).

Used by the test suite and the benchmarks. initdb refuses to run as root, so as root the
cluster runs as the `postgres` system user. fsync is off: this is for tests, never for data.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path


def binaries_available() -> bool:
    return bool(shutil.which("initdb") and shutil.which("pg_ctl"))


class Cluster:
    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="nosurprises-pg-"))
        self.data = self.folder / "data"
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}"

    def _run(self, *command: str) -> None:
        prefix: list[str] = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres") if _has_user("postgres") else pwd.getpwnam("nobody")
            os.chown(self.folder, user.pw_uid, user.pw_gid)
            prefix = ["runuser", "-u", user.pw_name, "--"]
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
        if not (initdb and pg_ctl):
            raise RuntimeError("the PostgreSQL server binaries (initdb, pg_ctl) are not on PATH")
        self._run(initdb, "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        log = str(self.folder / "server.log")
        self._run(pg_ctl, "-D", str(self.data), "-o", options, "-l", log, "-w", "start")

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._run(
                shutil.which("pg_ctl") or "pg_ctl", "-D", str(self.data), "-m", "immediate", "stop"
            )
        shutil.rmtree(self.folder, ignore_errors=True)

    def new_database(self, prefix: str = "db") -> str:
        """Create an empty database; returns its URL."""
        import psycopg

        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(f"{self.url}/postgres", autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return f"{self.url}/{name}"


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


_shared: Cluster | None = None


def shared_cluster() -> Cluster:
    """One cluster per process, started on first use and stopped at exit."""
    global _shared
    if _shared is None:
        cluster = Cluster()
        cluster.start()
        atexit.register(cluster.stop)
        _shared = cluster
    return _shared
