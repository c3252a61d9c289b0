"""Benchmark: the serving process's resident memory after 1,000 distinct questions (issue 15).

A child process generates the 10,000-decision synthetic council, imports and sweeps it into a
SQLite file (so that work's memory is not this process's). This process then opens that
database as the server does — the real web app with the Slack adapter, a mock Slack Web API
on loopback, `gc.freeze()` after start-up — and asks `/surprises` 1,000 different questions
through signed slash commands, 10 at a time, waiting for every answer at its response_url:
the chief executive's status for every window of 1–365 days, first and second page, and
single items by reference. Figures: resident memory now (VmRSS) and at its peak (ru_maxrss),
beside the same process's resident memory once started (the floor, for information), and how
long the questions took (wall clock, and this process's CPU time: the load shows between them).
Target: 150 MB.

    python bench/bench_serve_rss.py [--questions 1000] [--decisions 10000] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "tests"))

from figures import Figure, report  # noqa: E402

MB = 1024 * 1024
TARGET_MB = 150.0


def resident_mb() -> float:
    """This process's resident memory now (VmRSS), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024 / MB
    raise RuntimeError("no VmRSS in /proc/self/status")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / MB


def prepare_child(folder: Path, decisions: int) -> None:
    """In the child: the council generated, imported and swept into folder/bench.db."""
    import bench_slack
    from sqlalchemy import select
    from sqlmodel import col

    from bot.store.models import Decision

    app, chief = bench_slack.prepare(folder, decisions)
    with app.session() as session:
        refs = list(session.scalars(select(col(Decision.ref)).order_by(col(Decision.ref))))
    print(json.dumps({"chief": chief, "now": app.now().isoformat(), "refs": refs}))


def questions(count: int, refs: list[str]) -> list[str]:
    """`count` different questions: every window and two pages, then items by reference."""
    asked = [f"days {days} page {page}" for page in (1, 2) for days in range(1, 366)]
    step = max(1, len(refs) // max(1, count - len(asked)))
    asked += refs[::step]
    return asked[:count]


async def serve_and_ask(folder: Path, prepared: dict[str, Any], args: argparse.Namespace) -> dict:
    import aiohttp
    from bench_slack import serve_with_slack
    from slack_mock import command_body, signed

    from bot.app import App
    from bot.clock import SettableClock
    from bot.config import EXAMPLE_CONFIG, load_settings

    settings = load_settings(str(EXAMPLE_CONFIG), environ={})
    settings = settings.with_overrides(
        database_url=f"sqlite:///{folder / 'bench.db'}",
        council=replace(settings.council, closure_days=()),
    )
    app = App.open(settings, clock=SettableClock(datetime.fromisoformat(prepared["now"])))
    served = await serve_with_slack(app, prepared["chief"])
    waiters, sink_base, url = served.waiters, served.sink_base, served.url
    gc.freeze()  # as bot/server.py does once it has started
    started_mb = resident_mb()

    texts = questions(args.questions, prepared["refs"])
    ids = itertools.count()
    gate = asyncio.Semaphore(args.concurrency)
    loop = asyncio.get_running_loop()

    async def ask(http: aiohttp.ClientSession, text: str) -> None:
        key = str(next(ids))
        waiters[key] = loop.create_future()
        body = command_body("UCHIEF", text, f"{sink_base}/response/{key}")
        async with gate:
            async with http.post(url, data=body.encode(), headers=signed(body)) as response:
                assert response.status == 200, await response.text()
            await asyncio.wait_for(waiters[key], 120)
        del waiters[key]

    wall, cpu = time.perf_counter(), time.process_time()
    async with aiohttp.ClientSession() as http:
        await asyncio.gather(*(ask(http, text) for text in texts))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    gc.collect()
    result = {
        "asked": len(set(texts)),
        "seconds": wall,
        "cpu_seconds": cpu,
        "started_mb": started_mb,
        "resident_mb": resident_mb(),
        "peak_mb": peak_mb(),
    }
    for each in (served.runner, served.sink_runner):
        await each.cleanup()
    await served.slack.stop()
    await served.mock.stop()
    app.engine.dispose()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=1000)
    parser.add_argument("--decisions", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--prepare", metavar="FOLDER", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.prepare:
        prepare_child(Path(args.prepare), args.decisions)
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-serve-rss-") as folder:
        print("preparing the synthetic council (child process)…", file=sys.stderr, flush=True)
        done = subprocess.run(
            [sys.executable, __file__, "--prepare", folder, "--decisions", str(args.decisions)],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            print(done.stderr[-2000:], file=sys.stderr)
            return 2
        prepared = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"asking {args.questions} distinct questions…", file=sys.stderr, flush=True)
        measured = asyncio.run(serve_and_ask(Path(folder), prepared, args))
    size = f"{args.decisions // 1000}k"
    figures = [
        Figure("started_mb", f"{size}: once started", measured["started_mb"], "MB"),
        Figure(
            "resident_mb",
            f"{size}: resident after {measured['asked']} distinct questions",
            measured["resident_mb"],
            "MB",
            target=TARGET_MB,
            floor=measured["started_mb"],
        ),
        Figure("peak_mb", f"{size}: peak resident (ru_maxrss)", measured["peak_mb"], "MB"),
        Figure(
            "asking_s",
            f"{size}: asking them (wall; CPU of the serving process)",
            measured["seconds"],
            "s",
            cpu=measured["cpu_seconds"],
        ),
    ]
    return report("serve RSS (issue 15)", figures, as_json=args.json)


if __name__ == "__main__":
    raise SystemExit(main())
