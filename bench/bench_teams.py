"""Benchmark the Teams adapter: `surprises` for the chief executive, beside a bare echo bot.

The bot runs in a child process, as `nosurprises serve` would run it: the real aiohttp server
with the Teams adapter at /api/messages (unauthenticated local mode) on the synthetic council
(bench/synthetic.py: 10,000 decisions, 2,000 people by default, imported through the real CSV
importers and swept). Beside it, on the same server, /api/echo is a bare botbuilder echo bot
(stock CloudAdapter, stock connector client): the floor, what the SDK alone costs.

This process plays Teams and the Bot Connector: it posts activities to the server exactly as
Teams does, with serviceUrl pointing at a mock Bot Connector (tests/teams_mock.py) on this
process's event loop. Each figure is the time from starting the POST to the moment the reply
reached the mock connector (one clock: time.monotonic in this process), over --requests
requests with --concurrency in flight at once, after a warm-up.

    python bench/bench_teams.py                       # 200 requests each, 10 concurrent
    python bench/bench_teams.py --json
    python bench/bench_teams.py --workdir /tmp/nsbench  # keep (and reuse) the council database

Target: the p99 of `surprises` within 1.5x the echo bot's p99. Exit status 1 when missed.
The adapter answers one person's identical question in flight once (adapters/teams/coalesce.py);
the last row, for information, asks ten different questions at once, so nothing is shared and
the core's own cost of the status query shows.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

TARGET_RATIO = 1.5
MARKER = "council.json"


def _progress(message: str) -> None:
    print(f"[bench_teams] {message}", file=sys.stderr, flush=True)


# --- the server (child process) -----------------------------------------------------------------


def prepare_council(workdir: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Generate, import and sweep the synthetic council once; reuse it if already there."""
    marker = workdir / MARKER
    if marker.exists():
        return json.loads(marker.read_text())
    from dataclasses import replace
    from datetime import datetime
    from datetime import time as clock_time
    from zoneinfo import ZoneInfo

    import synthetic

    from bot.app import App
    from bot.briefings.escalate import run_sweep_tick
    from bot.clock import SettableClock
    from bot.config import EXAMPLE_CONFIG, load_settings
    from bot.intake.directory_csv import parse_directory
    from bot.intake.forward_plan_csv import parse_forward_plan
    from bot.intake.store import store_decisions, store_directory

    _progress(f"generating the synthetic council ({args.decisions} decisions) in {workdir}")
    council = synthetic.generate(
        workdir / "csv", decisions=args.decisions, people=args.people, wards=args.wards
    )
    settings = load_settings(str(EXAMPLE_CONFIG), environ={})
    settings = settings.with_overrides(
        database_url=f"sqlite:///{workdir / 'bench.db'}",
        pinned_now=None,
        council=replace(settings.council, name="Synthetic Borough Council", closure_days=()),
    )
    now = datetime.combine(council.start, clock_time(9, 30), tzinfo=ZoneInfo("Europe/London"))
    app = App.open(settings, clock=SettableClock(now), migrate=True)
    _progress("importing the directory and the forward plan, then sweeping")
    people, portfolios, _ = parse_directory(council.people_csv, council.portfolios_csv)
    with app.session() as session:
        store_directory(session, people, portfolios, now=app.now(), actor="bench")
    records, _ = parse_forward_plan(council.forward_plan_csv)
    with app.session() as session:
        store_decisions(session, records, source="csv", now=app.now(), actor="bench")
    with app.session() as session:
        run_sweep_tick(app=app, session=session)
    info = {
        "now": now.isoformat(),
        "chief_executive": council.chief_executive,
        "decisions": args.decisions,
        "people": args.people,
    }
    marker.write_text(json.dumps(info))
    return info


async def serve(workdir: Path, info: dict[str, Any]) -> None:
    from dataclasses import replace
    from datetime import datetime

    from aiohttp import web

    from adapters.teams.adapter import TeamsAdapter
    from adapters.teams.echo import mount_echo_bot
    from adapters.teams.settings import TeamsSettings
    from bot.app import App
    from bot.clock import SettableClock
    from bot.config import EXAMPLE_CONFIG, load_settings
    from bot.delivery.hub import Hub
    from bot.server import build_web_app

    settings = load_settings(str(EXAMPLE_CONFIG), environ={})
    settings = settings.with_overrides(
        database_url=f"sqlite:///{workdir / 'bench.db'}",
        pinned_now=None,
        council=replace(settings.council, name="Synthetic Borough Council", closure_days=()),
        adapters={"teams": TeamsSettings(enabled=True, allow_unauthenticated_local=True)},
    )
    app = App.open(settings, clock=SettableClock(datetime.fromisoformat(info["now"])))
    hub = Hub(app)
    web_app = build_web_app(app, hub)
    teams = TeamsAdapter(hub, settings.adapters["teams"])
    teams.mount(web_app)
    mount_echo_bot(web_app, "/api/echo")
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    await teams.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    print(json.dumps({"port": port, **info}), flush=True)
    # Serve until the parent closes our standard input.
    await asyncio.to_thread(sys.stdin.read)
    await teams.stop()
    await runner.cleanup()


def serve_main(args: argparse.Namespace) -> int:
    import logging

    logging.basicConfig(level=logging.ERROR)
    workdir = Path(args.serve)
    info = prepare_council(workdir, args)
    asyncio.run(serve(workdir, info))
    return 0


# --- Teams and the Bot Connector (this process) --------------------------------------------------


@dataclass
class Scenario:
    key: str
    label: str
    path: str
    text: str


SCENARIOS = (
    Scenario("floor", "floor: bare botbuilder echo bot", "/api/echo", "hello"),
    Scenario("help", "help (our adapter, a tiny core call)", "/api/messages", "help"),
    Scenario("surprises", "surprises, chief executive", "/api/messages", "surprises"),
    # For information: each request in flight asks a different question (days 20..29), so
    # none can share a computation; this is the core's own cost, queued on one interpreter.
    Scenario(
        "unshared",
        "surprises days N, all different (info)",
        "/api/messages",
        "surprises days {n}",
    ),
)


def summarise(samples: list[float], seconds: float) -> dict[str, float]:
    ms = sorted(s * 1000 for s in samples)
    cuts = statistics.quantiles(ms, n=100, method="inclusive")
    return {
        "requests": len(ms),
        "p50_ms": round(statistics.median(ms), 1),
        "p90_ms": round(cuts[89], 1),
        "p99_ms": round(cuts[98], 1),
        "max_ms": round(ms[-1], 1),
        "mean_ms": round(statistics.fmean(ms), 1),
        "throughput_rps": round(len(ms) / seconds, 1),
    }


async def drive(args: argparse.Namespace, port: int, info: dict[str, Any]) -> dict[str, Any]:
    import aiohttp
    from teams_mock import Member, MockConnector, message

    loop = asyncio.get_running_loop()
    waiting: dict[str, asyncio.Future[float]] = {}

    def arrived(call: Any) -> None:
        future = waiting.get(call.activity_id)
        if future is not None and not future.done() and call.kind == "reply":
            future.set_result(call.at)

    mock = MockConnector(listener=arrived)
    await mock.start()
    chief = mock.add(Member("Chief Executive", info["chief_executive"], "aad-bench-chief"))
    base = f"http://127.0.0.1:{port}"
    connector = aiohttp.TCPConnector(limit=args.concurrency * 2)
    results: dict[str, Any] = {}
    async with aiohttp.ClientSession(connector=connector) as http:

        async def once(scenario: Scenario, worker: int) -> float:
            activity = message(chief, scenario.text.format(n=20 + worker), mock.url)
            future = loop.create_future()
            waiting[activity["id"]] = future
            started = time.monotonic()
            async with http.post(base + scenario.path, json=activity) as response:
                await response.read()
                if response.status >= 300:
                    raise RuntimeError(f"{scenario.path} answered {response.status}")
            reached = await asyncio.wait_for(future, 30)
            del waiting[activity["id"]]
            return reached - started

        async def run(scenario: Scenario, count: int) -> tuple[list[float], float]:
            samples: list[float] = []
            remaining = count

            async def worker(number: int) -> None:
                nonlocal remaining
                while remaining > 0:
                    remaining -= 1
                    samples.append(await once(scenario, number))

            started = time.monotonic()
            await asyncio.gather(*(worker(n) for n in range(args.concurrency)))
            return samples, time.monotonic() - started

        for scenario in SCENARIOS:
            _progress(f"{scenario.key}: warm-up, then {args.requests} requests")
            await run(scenario, args.warmup)
            samples, seconds = await run(scenario, args.requests)
            results[scenario.key] = {"label": scenario.label, **summarise(samples, seconds)}
    await mock.close()
    return results


def print_table(report: dict[str, Any]) -> None:
    rows = report["results"]
    print(
        f"Teams adapter: {report['requests']} requests each, {report['concurrency']} concurrent; "
        f"synthetic council of {report['decisions']:,} decisions "
        f"({report['python']}, {report['cpus']} CPUs)"
    )
    print("time from POST /api/messages until the reply reached the mock Bot Connector")
    header = f"{'':40} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8} {'req/s':>7}"
    print(header)
    print("-" * len(header))
    for row in rows.values():
        print(
            f"{row['label']:40} {row['p50_ms']:8.1f} {row['p90_ms']:8.1f} {row['p99_ms']:8.1f} "
            f"{row['max_ms']:8.1f} {row['throughput_rps']:7.1f}"
        )
    verdict = "PASS" if report["pass"] else "MISS"
    print(
        f"surprises p99 / floor p99 = {report['ratio_p99']:.2f} "
        f"(p50 ratio {report['ratio_p50']:.2f}); target <= {TARGET_RATIO}: {verdict}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--decisions", type=int, default=10_000)
    parser.add_argument("--people", type=int, default=2_000)
    parser.add_argument("--wards", type=int, default=60)
    parser.add_argument("--workdir", help="keep the council database here (reused if present)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--serve", help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args(argv)
    if args.serve:
        return serve_main(args)

    workdir = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="nsbench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    child = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve",
            str(workdir),
            "--decisions",
            str(args.decisions),
            "--people",
            str(args.people),
            "--wards",
            str(args.wards),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        if not line:
            print("error: the bot did not start", file=sys.stderr)
            return 2
        info = json.loads(line)
        results = asyncio.run(drive(args, info["port"], info))
    finally:
        with contextlib.suppress(Exception):
            assert child.stdin is not None
            child.stdin.close()
        try:
            child.wait(30)
        except subprocess.TimeoutExpired:
            child.kill()
        if not args.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    floor, surprises = results["floor"], results["surprises"]
    report = {
        "requests": args.requests,
        "concurrency": args.concurrency,
        "decisions": info["decisions"],
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "results": results,
        "ratio_p99": round(surprises["p99_ms"] / floor["p99_ms"], 3),
        "ratio_p50": round(surprises["p50_ms"] / floor["p50_ms"], 3),
        "target_ratio_p99": TARGET_RATIO,
    }
    report["pass"] = report["ratio_p99"] <= TARGET_RATIO
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_table(report)
    return 0 if report["pass"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
