"""A throwaway PostgreSQL cluster from the machine's server binaries (initdb, pg_ctl).

Used by the test suite and the benchmarks. initdb refuses to run as root, so as root the
cluster runs as the `postgres` system user. fsync is off: this is for tests, never for data.

`shared_cluster()` is one cluster per process, stopped at exit (the benchmarks).
`shared_cluster(state)` is one cluster per test run however many processes it has (pytest-xdist
workers): the first process to ask starts it under a file lock and writes where it is into the
folder `state`; the others wait on the lock and attach. Whoever owns `state` calls
`stop_recorded(state)` once every process is done (the pytest controller, in conftest).
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

STATE_FILE = "pgcluster.json"
LOCK_FILE = "pgcluster.lock"


def binaries_available() -> bool:
    return bool(shutil.which("initdb") and shutil.which("pg_ctl"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Cluster:
    def __init__(
        self, folder: Path | None = None, port: int | None = None, *, durable_commits: bool = False
    ) -> None:
        self.folder = folder or Path(tempfile.mkdtemp(prefix="nosurprises-pg-"))
        self.data = self.folder / "data"
        self.port = port or _free_port()
        # synchronous_commit off may forget commits already acknowledged when the server is
        # stopped abruptly; a run that stops it on purpose (chaos) wants them kept.
        self.durable_commits = durable_commits

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}"

    def _run(self, *command: str) -> None:
        prefix: list[str] = []
        if os.geteuid() == 0:
            user = pwd.getpwnam("postgres") if _has_user("postgres") else pwd.getpwnam("nobody")
            os.chown(self.folder, user.pw_uid, user.pw_gid)
            prefix = ["runuser", "-u", user.pw_name, "--"]
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        initdb = shutil.which("initdb")
        if not (initdb and shutil.which("pg_ctl")):
            raise RuntimeError("the PostgreSQL server binaries (initdb, pg_ctl) are not on PATH")
        # --no-sync: initdb's final fsync of the new cluster is a second of waiting for nothing.
        cluster = ["-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
        self._run(initdb, "--no-sync", *cluster)
        self._serve()

    def _serve(self) -> None:
        pg_ctl = shutil.which("pg_ctl") or "pg_ctl"
        log = self.folder / "server.log"
        # The port was free when probed; another process may take it before the server binds
        # it (parallel test workers probe at the same moment), so a failed start tries anew.
        for attempt in range(3):
            options = (
                f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                f"-c synchronous_commit={'on' if self.durable_commits else 'off'} "
                "-c full_page_writes=off -c max_connections=200"
            )
            try:
                self._run(
                    pg_ctl, "-D", str(self.data), "-o", options, "-l", str(log), "-w", "start"
                )
                return
            except subprocess.CalledProcessError as exc:
                if attempt == 2:
                    server_log = log.read_text(errors="replace") if log.exists() else ""
                    raise RuntimeError(
                        f"PostgreSQL would not start on port {self.port}:\n"
                        f"{exc.stderr.decode(errors='replace')}{server_log[-2000:]}"
                    ) from exc
                self.port = _free_port()

    def pause(self) -> None:
        """Stop the server abruptly (an outage), keeping its data; `resume` brings it back."""
        self._run(shutil.which("pg_ctl") or "pg_ctl", "-D", str(self.data), "-m", "immediate",
                  "stop")  # fmt: skip

    def resume(self) -> None:
        """Start the server again after `pause`, on the same port if it is still free."""
        self._serve()

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


def shared_cluster(state: Path | None = None) -> Cluster:
    """The process's cluster, started on first use.

    Without `state`, it is this process's own and is stopped at exit. With `state` (a folder
    every process of a test run can see), it is the run's: started by whichever process asks
    first, and stopped only by `stop_recorded(state)`.
    """
    global _shared
    if _shared is None:
        if state is None:
            cluster = Cluster()
            cluster.start()
            atexit.register(cluster.stop)
        else:
            cluster = _run_cluster(state)
        _shared = cluster
    return _shared


def _run_cluster(state: Path) -> Cluster:
    with open(state / LOCK_FILE, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # held while another process starts the cluster
        recorded = state / STATE_FILE
        if recorded.exists():
            where = json.loads(recorded.read_text())
            return Cluster(Path(where["folder"]), where["port"])
        cluster = Cluster()
        try:
            cluster.start()
        except BaseException:
            cluster.stop()
            raise
        recorded.write_text(json.dumps({"folder": str(cluster.folder), "port": cluster.port}))
        return cluster


def stop_recorded(state: Path) -> None:
    """Stop the cluster `shared_cluster(state)` started, if any process started one."""
    recorded = state / STATE_FILE
    if recorded.exists():
        where = json.loads(recorded.read_text())
        Cluster(Path(where["folder"]), where["port"]).stop()
        recorded.unlink()
