"""Answers, imports and sweeps at council scale, each beside its floor (issue 15).

For each size (10,000 and 100,000 decisions by default) a synthetic council is generated,
imported (in a child process, so its time and peak memory are its own), swept, and asked:

- `/surprises mine` (a ward councillor), `/surprises` by an officer who sees only their own
  items (each the person whose answer is closest to 5 rows, so every size is measured on the
  same size of answer), and `/surprises REF` by the chief executive: the answer a chat sends
  (`bot.views.commands.answer`, a fresh session each time); target 5 ms at every size. The
  floor is the indexed SQL for the same rows on the raw driver connection.
- the chief executive's `/surprises` over 28 and 180 days; targets 20 ms at 10k and 100 ms at
  100k, and within 3x the floor: a raw SQL query returning the same rows.
- the import of the forward plan (parse + store); targets 2 s at 10k, 20 s and 300 MB peak
  resident memory at 100k.
- the full sweep and the no-change re-sweep (`sweep_and_refresh`: the tick, with the status
  read model rebuilt after it); at 100k within 10 s / 50 ms.

Answers are timed after one untimed call, median and minimum of `--calls`, with the start-up
heap frozen as the server freezes it (`gc.freeze()`).

    python bench/bench_answers.py [--sizes 10000,100000] [--calls 30] [--json]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import synthetic
from figures import Figure, report

MB = 1024 * 1024
TARGET_NARROW_MS = 5.0
ROWS = 5  # the size of answer the narrow questions are measured on
TARGET_CE_MS = {10_000: 20.0, 100_000: 100.0}
TARGET_IMPORT_S = {10_000: 2.0, 100_000: 20.0}
TARGET_IMPORT_RSS_MB = 300.0
TARGET_SWEEP_S = {100_000: 10.0}
TARGET_RESWEEP_MS = {100_000: 50.0}


def _settings(url: str) -> Any:
    from bot.config import EXAMPLE_CONFIG, load_settings

    settings = load_settings(str(EXAMPLE_CONFIG), environ={})
    return settings.with_overrides(
        database_url=url,
        pinned_now=None,
        council=replace(settings.council, name="Synthetic Borough Council", closure_days=()),
    )


def _now(council: Any) -> datetime:
    return datetime.combine(council.start, clock_time(9, 30), tzinfo=ZoneInfo("Europe/London"))


def import_council(folder: Path, url: str) -> dict[str, float]:
    """(In the child process.) Import the directory, then time the forward plan's import."""
    from bot.app import App
    from bot.clock import SettableClock
    from bot.intake.directory_csv import parse_directory
    from bot.intake.forward_plan_csv import parse_forward_plan
    from bot.intake.store import store_decisions, store_directory

    start = synthetic.START
    app = App.open(
        _settings(url),
        clock=SettableClock(
            datetime.combine(start, clock_time(9, 30), tzinfo=ZoneInfo("Europe/London"))
        ),
    )
    people, portfolios, _ = parse_directory(folder / "people.csv", folder / "portfolios.csv")
    with app.session() as session:
        store_directory(session, people, portfolios, now=app.now(), actor="bench")
    before_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    wall, cpu = time.perf_counter(), time.process_time()
    records, _ = parse_forward_plan(folder / "forward_plan.csv")
    with app.session() as session:
        store_decisions(session, records, source="csv", now=app.now(), actor="bench")
    return {
        "seconds": time.perf_counter() - wall,
        "cpu": time.process_time() - cpu,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / MB,
        "rss_before_mb": before_rss / MB,
    }


def _timed(operation: Callable[[], Any]) -> tuple[float, float, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = operation()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def _calls(operation: Callable[[], Any], calls: int) -> tuple[list[float], list[float], Any]:
    result = operation()
    walls, cpus = [], []
    for _ in range(calls):
        wall, cpu, result = _timed(operation)
        walls.append(wall)
        cpus.append(cpu)
    return walls, cpus, result


def _ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def measure_size(size: int, args: argparse.Namespace, workdir: Path) -> list[Figure]:
    from sqlalchemy import text

    from bot.app import App
    from bot.clock import SettableClock
    from bot.ticks import sweep_and_refresh
    from bot.views.commands import answer
    from bot.views.shared_rows import forget_shared

    folder = workdir / f"council-{size}"
    council = synthetic.generate(folder, decisions=size, seed=args.seed)
    url = f"sqlite:///{folder / 'bench.db'}"
    label = f"{size // 1000}k"
    figures: list[Figure] = []

    print(f"[bench_answers] {label}: importing", file=sys.stderr, flush=True)
    child = subprocess.run(
        [sys.executable, __file__, "--import-into", str(folder), url],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )
    imported = json.loads(child.stdout.strip().splitlines()[-1])
    figures.append(
        Figure(
            f"import_{label}_s",
            f"{label}: import the forward plan (parse + store)",
            imported["seconds"],
            "s",
            TARGET_IMPORT_S.get(size),
            cpu=imported["cpu"],
        )
    )
    figures.append(
        Figure(
            f"import_{label}_rss_mb",
            f"{label}: peak RSS of the importing process",
            imported["peak_rss_mb"],
            "MB",
            TARGET_IMPORT_RSS_MB if size >= 100_000 else None,
            floor=imported["rss_before_mb"],
        )
    )

    clock = SettableClock(_now(council))
    app = App.open(_settings(url), clock=clock)

    def tick() -> Any:
        with app.session() as session:
            # As the sweep tick does: the status read model is rebuilt after the sweep.
            return sweep_and_refresh(app=app, session=session)

    print(f"[bench_answers] {label}: sweeping", file=sys.stderr, flush=True)
    wall, cpu, _ = _timed(tick)
    figures.append(
        Figure(
            f"sweep_{label}_s",
            f"{label}: full sweep (first tick)",
            wall,
            "s",
            TARGET_SWEEP_S.get(size),
            cpu=cpu,
        )
    )
    walls, cpus, _ = _calls(tick, 5)
    figures.append(
        Figure(
            f"resweep_{label}_ms",
            f"{label}: no-change re-sweep, median of 5",
            _ms(walls),
            "ms",
            TARGET_RESWEEP_MS.get(size),
            cpu=_ms(cpus),
        )
    )

    gc.collect()
    gc.freeze()
    with app.session() as session:
        chief = next(iter(app.directory(session).chief_executives))
        today = app.calendar.local_date(app.now())
        # People with a handful of rows in the 28-day window (the closest to ROWS), a ward
        # councillor (not a cabinet member, owed a briefing on their whole portfolio) and an
        # officer: the same size of answer at every council size, so a figure that grows
        # with the council is the cost of the council, not of a longer answer.
        in_window = (
            "FROM briefing b JOIN decision d ON d.id = b.decision_id "
            "WHERE d.decision_due BETWEEN :first AND :last "
        )
        bounds = {
            "first": (today - timedelta(days=30)).isoformat(),
            "last": (today + timedelta(days=28)).isoformat(),
        }
        people = session.execute(
            text(
                f"SELECT b.member_email, count(*) AS n {in_window} AND b.member_email IN "
                "(SELECT email FROM person WHERE roles LIKE '%ward_councillor%' "
                "AND roles NOT LIKE '%cabinet_member%') GROUP BY b.member_email "
                "ORDER BY n, b.member_email"
            ),
            bounds,
        ).all()
        councillor = min(people, key=lambda p: (abs(p[1] - ROWS), p[0]))[0]
        officers = session.execute(
            text(
                f"SELECT b.briefer_email, count(*) AS n {in_window} GROUP BY b.briefer_email "
                "ORDER BY n, b.briefer_email"
            ),
            bounds,
        ).all()
        officer = min(officers, key=lambda p: (abs(p[1] - ROWS), p[0]))[0]
        ref = session.execute(
            text(
                "SELECT d.ref FROM decision d JOIN briefing b ON b.decision_id = d.id "
                "WHERE d.decision_due >= :today GROUP BY d.ref HAVING count(*) = 2 "
                "ORDER BY d.decision_due, d.ref LIMIT 1"
            ),
            {"today": today.isoformat()},
        ).scalar_one()

    window = (
        (today - timedelta(days=30)).isoformat(),
        (today + timedelta(days=28)).isoformat(),
    )
    raw = app.engine.raw_connection()

    def sql(statement: str, *params: Any) -> Callable[[], list[Any]]:
        def run() -> list[Any]:
            cursor = raw.cursor()
            cursor.execute(statement, params)
            return cursor.fetchall()

        return run

    columns = (
        "d.ref, d.title, d.restriction, d.exempt_paragraphs, d.decision_due, d.status, "
        "d.portfolio, d.portfolio_holder, d.directorate, d.flags, b.id, b.member_email, "
        "b.briefer_email, b.state, b.due_at, b.version, b.changed_since_briefed"
    )
    theirs = (
        f"SELECT {columns} FROM briefing b JOIN decision d ON d.id = b.decision_id "
        "WHERE (b.member_email = ? OR b.briefer_email = ?) AND d.decision_due BETWEEN ? AND ?"
    )
    questions: list[tuple[str, str, str, Callable[[], list[Any]], float | None, float | None]] = [
        (
            "mine",
            councillor,
            "mine",
            sql(theirs, councillor, councillor, *window),
            TARGET_NARROW_MS,
            None,
        ),
        (
            "officer's own /surprises",
            officer,
            "",
            sql(theirs, officer, officer, *window),
            TARGET_NARROW_MS,
            None,
        ),
        (
            "/surprises REF (chief executive)",
            chief,
            ref,
            sql(
                f"SELECT {columns} FROM decision d LEFT JOIN briefing b ON b.decision_id = d.id "
                "WHERE d.ref = ?",
                ref,
            ),
            TARGET_NARROW_MS,
            None,
        ),
    ]
    for days in (28, 180):
        last = (today + timedelta(days=days)).isoformat()
        questions.append(
            (
                f"chief executive, {days} days",
                chief,
                f"days {days}",
                sql(
                    f"SELECT {columns} FROM decision d LEFT JOIN briefing b "
                    "ON b.decision_id = d.id WHERE d.decision_due BETWEEN ? AND ?",
                    window[0],
                    last,
                ),
                TARGET_CE_MS.get(size),
                3.0,
            )
        )
    print(f"[bench_answers] {label}: asking", file=sys.stderr, flush=True)
    for name, who, words, floor_query, target, ratio in questions:

        def ask(who: str = who, words: str = words) -> Any:
            with app.session() as session:
                return answer(app=app, session=session, text=words, actor_email=who, direct=True)

        def ask_first(ask: Callable[[], Any] = ask) -> Any:
            # Nothing kept from an earlier question: what the first question after a click,
            # an import or a sweep costs, the usual case for a councillor asking once a day.
            forget_shared()
            return ask()

        calls = args.calls if ratio is None else max(5, args.calls // 3)
        floor_walls, _, rows = _calls(floor_query, calls)
        key = f"{name}_{label}_ms".replace(" ", "_").replace("/", "").replace("'", "")
        for suffix, how, asking in (
            ("", f"median of {calls}", ask),
            ("_first", f"first after a change, median of {calls}", ask_first),
        ):
            walls, cpus, cards = _calls(asking, calls)
            assert cards and cards[0].title != "Not found", (name, cards)
            figures.append(
                Figure(
                    key.replace("_ms", f"{suffix}_ms"),
                    f"{label}: {name} ({len(rows)} rows), {how}",
                    _ms(walls),
                    "ms",
                    target,
                    floor=_ms(floor_walls),
                    ratio_target=ratio,
                    cpu=_ms(cpus),
                )
            )
    raw.close()
    gc.unfreeze()
    app.engine.dispose()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="decisions, comma-separated")
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--import-into", nargs=2, metavar=("FOLDER", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.import_into:
        folder, url = args.import_into
        print(json.dumps(import_council(Path(folder), url)))
        return 0
    workdir = Path(tempfile.mkdtemp(prefix="bench-answers-"))
    load = os.getloadavg()[0]
    try:
        figures: list[Figure] = []
        for size in (int(s) for s in args.sizes.split(",")):
            figures += measure_size(size, args, workdir)
    finally:
        if args.keep:
            print(f"[bench_answers] kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    title = f"No Surprises — answers, imports and sweeps at scale (load average {load:.2f})"
    return report(title, figures, as_json=args.json)


if __name__ == "__main__":
    raise SystemExit(main())
