"""Benchmark the foundation at council scale: import, sweep, re-sweep, status, memory.

Generates a synthetic council (bench/synthetic.py: 10,000 decisions, 2,000 people, 60 wards by
default), imports it through the real CSV importers into a fresh database, and measures:

- the full sweep: the first sweep tick (`bot.lifecycle.run_sweep_tick`) at a fixed `now`,
  which creates every briefing and queues every escalation step that is due;
- the no-change re-sweep: the same tick again, with nothing changed;
- the chief executive's status (`bot.status.build_status`, 28 days) over repeated calls, with
  the directory snapshot cached as the running App caches it;
- the process's peak resident memory.

Each time is `time.perf_counter()` around exactly the operation, including opening the
session and committing. Targets are for a 2-core machine.

    python bench/bench_foundation.py                      # fresh SQLite in a temp folder
    python bench/bench_foundation.py --json               # figures as JSON
    python bench/bench_foundation.py --database-url postgresql://user@host:5432/empty_db [--reset]
    python bench/bench_foundation.py --no-gc-freeze       # without the server's gc.freeze()

Exit status 1 when a target is missed, 2 when the benchmark could not run.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from datetime import time as clock_time
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import synthetic
from sqlalchemy import func, inspect, select, text
from sqlmodel import SQLModel

from bot.app import App
from bot.briefings.escalate import run_sweep_tick
from bot.clock import SettableClock
from bot.config import EXAMPLE_CONFIG, load_settings
from bot.intake.directory_csv import parse_directory
from bot.intake.forward_plan_csv import parse_forward_plan
from bot.intake.store import store_decisions, store_directory
from bot.store import db
from bot.store.models import AuditEvent, Briefing, Decision, Nudge, Person, define_every_table
from bot.views.status import build_status

T = TypeVar("T")
MB = 1024 * 1024


class BenchError(Exception):
    """The benchmark cannot run as asked."""


@dataclass
class Figure:
    key: str
    label: str
    value: float
    unit: str
    target: float | None = None  # the figure must be below this; None is for information
    cpu: float | None = None  # this process's CPU time for the same operation, in `unit`

    @property
    def passed(self) -> bool | None:
        return None if self.target is None else self.value < self.target

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "value": round(self.value, 4),
            "cpu": None if self.cpu is None else round(self.cpu, 4),
            "unit": self.unit,
            "target": self.target,
            "pass": self.passed,
        }


@dataclass
class Timing:
    wall: float  # seconds, time.perf_counter()
    cpu: float  # seconds of this process's CPU, time.process_time()


def timed(operation: Callable[[], T]) -> tuple[Timing, T]:
    cpu, start = time.process_time(), time.perf_counter()
    result = operation()
    return Timing(time.perf_counter() - start, time.process_time() - cpu), result


def peak_rss_bytes() -> int:
    """The most memory this process has held resident (ru_maxrss: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def current_rss_bytes() -> int | None:
    try:
        import psutil
    except ImportError:
        return None
    return psutil.Process().memory_info().rss


def _sweep_summary(tick: Any) -> dict[str, Any]:
    return {
        "decisions": tick.sweep.decisions,
        "assessed": tick.sweep.assessed,
        "actions": tick.sweep.counts(),
        "messages_queued": len(tick.steps),
    }


@contextmanager
def _gc_pauses() -> Iterator[list[float]]:
    """The length of every garbage collection while inside the block, in seconds."""
    pauses: list[float] = []
    started = 0.0

    def callback(phase: str, _info: dict[str, Any]) -> None:
        nonlocal started
        if phase == "start":
            started = time.perf_counter()
        else:
            pauses.append(time.perf_counter() - started)

    gc.callbacks.append(callback)
    try:
        yield pauses
    finally:
        gc.callbacks.remove(callback)


def _progress(message: str) -> None:
    print(f"[bench_foundation] {message}", file=sys.stderr, flush=True)


def _reset_database(url: str) -> None:
    """Drop every table the bot made (for a PostgreSQL database used by an earlier run)."""
    engine = db.make_engine(url)
    define_every_table()
    SQLModel.metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    figures: list[Figure] = []

    _progress(f"generating the synthetic council in {workdir}")
    took, council = timed(
        lambda: synthetic.generate(
            workdir / "council",
            decisions=args.decisions,
            people=args.people,
            wards=args.wards,
            portfolios=args.portfolios,
            seed=args.seed,
        )
    )
    figures.append(Figure("generate_s", "generate the council CSVs", took.wall, "s", cpu=took.cpu))

    url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    if args.database_url and args.reset:
        _reset_database(url)
    settings = load_settings(args.config or str(EXAMPLE_CONFIG), environ={})
    settings = settings.with_overrides(
        database_url=url,
        pinned_now=None,
        council=replace(settings.council, name="Synthetic Borough Council", closure_days=()),
    )
    zone = ZoneInfo(settings.council.timezone)
    now = datetime.combine(council.start, clock_time(9, 30), tzinfo=zone)
    app = App.open(settings, clock=SettableClock(now), migrate=True)
    if args.gc_freeze:
        # What a server gets by freezing its start-up heap: full collections stop walking it.
        gc.collect()
        gc.freeze()
    with app.session() as session:
        if session.scalar(select(func.count()).select_from(Person)) or session.scalar(
            select(func.count()).select_from(Decision)
        ):
            raise BenchError(
                "the database is not empty; give an empty one, or --reset to drop the bot's "
                "tables first"
            )

    _progress("importing people.csv and portfolios.csv")

    def import_directory() -> Any:
        people, portfolios, _ = parse_directory(council.people_csv, council.portfolios_csv)
        with app.session() as session:
            return store_directory(session, people, portfolios, now=app.now(), actor="bench")

    took, _ = timed(import_directory)
    figures.append(
        Figure(
            "import_directory_s",
            "import the directory (parse + store)",
            took.wall,
            "s",
            cpu=took.cpu,
        )
    )

    _progress("importing forward_plan.csv")

    def import_decisions() -> Any:
        records, _ = parse_forward_plan(council.forward_plan_csv)
        with app.session() as session:
            return store_decisions(session, records, source="csv", now=app.now(), actor="bench")

    took, _ = timed(import_decisions)
    figures.append(
        Figure(
            "import_decisions_s",
            "import the forward plan (parse + store)",
            took.wall,
            "s",
            cpu=took.cpu,
        )
    )

    def tick() -> Any:
        with app.session() as session:
            return run_sweep_tick(app=app, session=session)

    _progress("full sweep")
    took, first = timed(tick)
    figures.append(
        Figure(
            "full_sweep_s", "full sweep (first tick)", took.wall, "s", args.target_sweep, took.cpu
        )
    )

    _progress("no-change re-sweep")
    took, second = timed(tick)
    figures.append(
        Figure("resweep_s", "no-change re-sweep", took.wall, "s", args.target_resweep, took.cpu)
    )

    _progress(f"chief executive's status, {args.status_calls} calls")

    def status() -> Any:
        with app.session() as session:
            return build_status(
                session=session,
                settings=app.settings,
                calendar=app.calendar,
                directory=app.directory(session),
                now=app.now(),
                viewer_email=council.chief_executive,
                days=28,
            )

    # What the sweeps reported is summarised and let go, as the running bot does, so the heap
    # (which every full garbage collection walks) holds what a long-running process holds.
    sweeps = {"first_sweep": _sweep_summary(first), "resweep": _sweep_summary(second)}
    del first, second
    samples: list[Timing] = []
    gc_pauses: list[float] = []  # the longest collection inside each status call
    report = None
    with _gc_pauses() as pauses:
        for _ in range(args.status_calls):
            before = len(pauses)
            took, report = timed(status)
            samples.append(took)
            gc_pauses.append(max(pauses[before:], default=0.0))
    assert report is not None
    figures.append(
        Figure(
            "status_p50_ms",
            f"chief executive's status, p50 of {len(samples)}",
            statistics.median(s.wall for s in samples) * 1000,
            "ms",
            args.target_status_ms,
            statistics.median(s.cpu for s in samples) * 1000,
        )
    )
    figures.append(
        Figure(
            "status_max_ms",
            f"chief executive's status, max of {len(samples)}",
            max(s.wall for s in samples) * 1000,
            "ms",
            args.target_status_ms,
            max(s.cpu for s in samples) * 1000,
        )
    )

    figures.append(
        Figure(
            "status_gc_max_ms",
            "  of which the longest garbage collection",
            max(gc_pauses) * 1000,
            "ms",
        )
    )
    figures.append(
        Figure(
            "peak_rss_mb",
            "peak RSS of this process",
            peak_rss_bytes() / MB,
            "MB",
            args.target_rss_mb,
        )
    )

    with app.session() as session:

        def count(model: Any) -> int:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)

        totals = {
            "decisions": count(Decision),
            "people": count(Person),
            "briefings": count(Briefing),
            "messages_queued": count(Nudge),
            "audit_events": count(AuditEvent),
        }
    backend = app.engine.dialect.name
    tables = len(inspect(app.engine).get_table_names())
    app.engine.dispose()
    current = current_rss_bytes()
    return {
        "benchmark": "foundation",
        "now": now.isoformat(),
        "gc_freeze": args.gc_freeze,
        "council": council.counts,
        "database": {
            "backend": backend,
            "tables": tables,
            "sqlite_version": sqlite3.sqlite_version if backend == "sqlite" else None,
        },
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average_at_start": args.load_at_start,
        },
        "totals": totals,
        **sweeps,
        "status": {
            "rows": len(report.rows),
            "at_risk": len(report.at_risk),
            "counts": report.counts,
            "samples_ms": [round(s.wall * 1000, 2) for s in samples],
            "samples_cpu_ms": [round(s.cpu * 1000, 2) for s in samples],
            "gc_pause_ms": [round(s * 1000, 2) for s in gc_pauses],
        },
        "current_rss_mb": round(current / MB, 1) if current else None,
        "figures": [f.as_dict() for f in figures],
        "passed": all(f.passed is not False for f in figures),
    }


def format_table(result: dict[str, Any]) -> str:
    def number(value: float, unit: str) -> str:
        if unit == "s":
            return f"{value:.3f} s"
        if unit == "ms":
            return f"{value:.1f} ms"
        return f"{value:.0f} {unit}"

    rows = [("Figure", "Measured", "CPU", "Target", "Result")]
    for f in result["figures"]:
        target = f"< {number(f['target'], f['unit'])}" if f["target"] is not None else "—"
        cpu = number(f["cpu"], f["unit"]) if f["cpu"] is not None else "—"
        verdict = {True: "PASS", False: "FAIL", None: "(info)"}[f["pass"]]
        rows.append((f["label"], number(f["value"], f["unit"]), cpu, target, verdict))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(
            value.rjust(widths[i]) if i in (1, 2, 3) else value.ljust(widths[i])
            for i, value in enumerate(r)
        ).rstrip()
        for r in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    council, first, totals = result["council"], result["first_sweep"], result["totals"]
    database = result["database"]
    head = [
        "No Surprises — foundation benchmark",
        f"Council: {council['decisions']:,} decisions, {council['people']:,} people, "
        f"{council['wards']} wards, {council['portfolios']} portfolios; now {result['now']}",
        f"Database: {database['backend']}"
        + (f" {database['sqlite_version']}" if database["sqlite_version"] else "")
        + f"; Python {result['machine']['python']} on {result['machine']['cpus']} CPU(s), "
        f"load average {result['machine']['load_average_at_start']} at start"
        + ("; gc.freeze() after start-up" if result["gc_freeze"] else ""),
        f"First sweep: {first['assessed']:,} assessed, actions {first['actions']}, "
        f"{first['messages_queued']:,} messages queued; re-sweep assessed "
        f"{result['resweep']['assessed']}",
        f"Database now holds {totals['briefings']:,} briefings, {totals['messages_queued']:,} "
        f"queued messages, {totals['audit_events']:,} audit events",
        f"Status: {result['status']['rows']:,} rows, {result['status']['at_risk']:,} at risk "
        f"({result['status']['counts']})",
        "",
    ]
    tail = [
        "",
        "Measured is wall-clock time (time.perf_counter); the targets apply to it. CPU is this",
        "process's CPU time for the same work (a PostgreSQL server's own work is not in it).",
        "All targets met." if result["passed"] else "Some targets were missed.",
    ]
    return "\n".join(head + lines + tail)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temp folder")
    parser.add_argument(
        "--reset", action="store_true", help="with --database-url: drop the bot's tables first"
    )
    parser.add_argument("--config", help="settings file (default: the bundled example)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder and say where")
    parser.add_argument("--decisions", type=int, default=10_000)
    parser.add_argument("--people", type=int, default=2_000)
    parser.add_argument("--wards", type=int, default=60)
    parser.add_argument("--portfolios", type=int, default=10)
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--status-calls", type=int, default=50)
    parser.add_argument(
        "--no-gc-freeze",
        dest="gc_freeze",
        action="store_false",
        help="skip gc.freeze() after start-up (the server freezes its start-up heap)",
    )
    parser.add_argument("--target-sweep", type=float, default=5.0, help="seconds")
    parser.add_argument("--target-resweep", type=float, default=0.5, help="seconds")
    parser.add_argument("--target-status-ms", type=float, default=100.0)
    parser.add_argument("--target-rss-mb", type=float, default=300.0)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Other work on the machine moves every figure: say how busy it was.
    args.load_at_start = round(os.getloadavg()[0], 2)
    workdir = Path(tempfile.mkdtemp(prefix="nosurprises-bench-"))
    try:
        result = run(args, workdir)
    except BenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception:
        traceback.print_exc()
        return 2  # 1 means a target was missed
    finally:
        if args.keep:
            _progress(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        print(format_table(result))
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
