"""Start-up of the command line: `nosurprises --help` and `nosurprises status` (issue 15).

Each is a fresh process (`python -m bot …`), timed from start to exit, median and minimum of
several runs. `status` runs on the sample council in a SQLite file set up (migrated, imported,
swept) before timing. The floor beside each is a bare interpreter (`python -c pass`); for
information, importing SQLModel alone (which `status` no longer imports: it reads Core tables,
bot/store/tables_core.py) and SQLAlchemy alone (which it does).

Every module runs from bytecode compiled once, as an installed copy does (pip compiles at
install; Python caches it on first import otherwise): the bytecode goes to a temporary folder,
whatever PYTHONDONTWRITEBYTECODE says. `--compile-each-run` measures without it (each command
then compiles the bot's own modules again, about 40 ms).

    python bench/bench_startup.py [--runs 7] [--json] [--compile-each-run]

Targets: `--help` within 300 ms, `status` within 600 ms. Exit 1 when one is missed.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from figures import Figure, report

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "harbourside"


class Runs:
    """Wall-clock and CPU (user + system, from the child's rusage) time of each run."""

    def __init__(self, command: list[str], env: dict[str, str], runs: int) -> None:
        subprocess.run(command, env=env, capture_output=True, check=True)  # warm the file cache
        self.wall: list[float] = []
        self.cpu: list[float] = []
        for _ in range(runs):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            subprocess.run(command, env=env, capture_output=True, check=True)
            self.wall.append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            self.cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)

    def median_ms(self) -> float:
        return statistics.median(self.wall) * 1000

    def min_ms(self) -> float:
        return min(self.wall) * 1000

    def cpu_ms(self) -> float:
        return statistics.median(self.cpu) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--target-help-ms", type=float, default=300.0)
    parser.add_argument("--target-status-ms", type=float, default=600.0)
    parser.add_argument(
        "--compile-each-run",
        action="store_true",
        help="keep no bytecode between runs (as with PYTHONDONTWRITEBYTECODE=1 and no cache)",
    )
    args = parser.parse_args(argv)

    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as folder:
        env = {
            **os.environ,
            "NOSURPRISES_DATABASE_URL": f"sqlite:///{Path(folder) / 'startup.db'}",
            "NOSURPRISES_NOW": "2027-01-26T09:30",
            "PYTHONPATH": str(ROOT),
        }
        for name in ("SLACK_BOT_TOKEN", "TEAMS_APP_ID"):
            env.pop(name, None)
        if not args.compile_each_run:
            # Written by the setup commands and each warm-up run, then read by the timed runs.
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(Path(folder) / "bytecode")
        bot = [python, "-m", "bot"]
        for setup in (
            ["import", "directory", str(SAMPLE / "people.csv"), str(SAMPLE / "portfolios.csv")],
            ["import", "decisions", str(SAMPLE / "forward_plan.csv")],
            ["sweep"],
        ):
            subprocess.run([*bot, *setup], env=env, capture_output=True, check=True)
        floor = Runs([python, "-c", "pass"], env, args.runs)
        sqlmodel = Runs([python, "-c", "import sqlmodel"], env, args.runs)
        sqlalchemy = Runs([python, "-c", "import sqlalchemy"], env, args.runs)
        help_runs = Runs([*bot, "--help"], env, args.runs)
        status_runs = Runs([*bot, "status"], env, args.runs)

    base = floor.median_ms()
    figures = [
        Figure(
            "interpreter_ms", "bare interpreter (python -c pass)", base, "ms", cpu=floor.cpu_ms()
        ),
        Figure(
            "import_sqlmodel_ms",
            "python -c 'import sqlmodel'",
            sqlmodel.median_ms(),
            "ms",
            cpu=sqlmodel.cpu_ms(),
        ),
        Figure(
            "import_sqlalchemy_ms",
            "python -c 'import sqlalchemy'",
            sqlalchemy.median_ms(),
            "ms",
            cpu=sqlalchemy.cpu_ms(),
        ),
        Figure(
            "help_ms",
            f"nosurprises --help, median of {args.runs}",
            help_runs.median_ms(),
            "ms",
            args.target_help_ms,
            floor=base,
            cpu=help_runs.cpu_ms(),
        ),
        Figure("help_min_ms", "nosurprises --help, min", help_runs.min_ms(), "ms", floor=base),
        Figure(
            "status_ms",
            f"nosurprises status (sample council), median of {args.runs}",
            status_runs.median_ms(),
            "ms",
            args.target_status_ms,
            floor=base,
            cpu=status_runs.cpu_ms(),
        ),
        Figure("status_min_ms", "nosurprises status, min", status_runs.min_ms(), "ms", floor=base),
    ]
    bytecode = "compiled on each run" if args.compile_each_run else "bytecode cached, as installed"
    title = f"No Surprises — start-up, {bytecode} (load average {os.getloadavg()[0]:.2f})"
    return report(title, figures, as_json=args.json)


if __name__ == "__main__":
    raise SystemExit(main())
