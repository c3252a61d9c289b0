"""Benchmark: delivering 10,000 due messages through a no-op adapter, on SQLite and PostgreSQL.

Setup (not timed): a synthetic council (bench/synthetic.py) imported and swept, then the outbox
filled with 10,000 due messages — briefing reminders whose cards are drawn fresh from the
database at send time, and digests with stored cards. Timed: `Deliverer.run_once()` until the
queue is empty (claim, draw, send, record every attempt, each message in its own commit).
Target: at least 1,000 messages a second.

    python bench/bench_delivery.py                 # SQLite and a throwaway PostgreSQL
    python bench/bench_delivery.py --json
    python bench/bench_delivery.py --sqlite-only
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import pgcluster  # noqa: E402
import synthetic  # noqa: E402

from bot.app import App  # noqa: E402
from bot.briefings.escalate import run_sweep_tick  # noqa: E402
from bot.clock import SettableClock  # noqa: E402
from bot.config import EXAMPLE_CONFIG, load_settings  # noqa: E402
from bot.delivery.deliverer import Deliverer  # noqa: E402
from bot.delivery.hub import Hub  # noqa: E402
from bot.delivery.ports import DeliveryOutcome, PostedRef, SendResult  # noqa: E402
from bot.intake.directory_csv import parse_directory  # noqa: E402
from bot.intake.forward_plan_csv import parse_forward_plan  # noqa: E402
from bot.intake.store import store_decisions, store_directory  # noqa: E402
from bot.store.directory import PersonView  # noqa: E402
from bot.store.models import Briefing, DeliveryAttempt, Nudge, NudgeStatus  # noqa: E402
from bot.views.cards import Card  # noqa: E402

TARGET = 1000.0


class NoopAdapter:
    """Accepts every message at once, as a platform with no latency would."""

    platform = "noop"

    def __init__(self) -> None:
        self.ids = itertools.count(1)

    async def send(self, recipient: PersonView, card: Card, *, dedupe_key: str = "") -> SendResult:
        return SendResult(
            DeliveryOutcome.DELIVERED,
            platform=self.platform,
            message_id=str(next(self.ids)),
            channel=f"dm:{recipient.email}",
        )

    async def update(self, posted: PostedRef, card: Card) -> SendResult:
        return SendResult(
            DeliveryOutcome.DELIVERED, platform=self.platform, message_id=posted.message_id
        )


def prepare(url: str, workdir: Path, messages: int, decisions: int) -> App:
    council = synthetic.generate(workdir / "council", decisions=decisions, people=1000, wards=40)
    settings = load_settings(str(EXAMPLE_CONFIG), environ={})
    settings = settings.with_overrides(
        database_url=url, council=replace(settings.council, closure_days=())
    )
    app = App.open(settings, clock=SettableClock(synthetic_now(council, settings)), migrate=True)
    people, portfolios, _ = parse_directory(council.people_csv, council.portfolios_csv)
    records, _ = parse_forward_plan(council.forward_plan_csv)
    with app.session() as session:
        store_directory(session, people, portfolios, now=app.now())
        store_decisions(session, records, source="csv", now=app.now())
    with app.session() as session:
        run_sweep_tick(app=app, session=session)
        session.execute(Nudge.__table__.delete())
    with app.session() as session:
        briefings = session.execute(select(Briefing.id, Briefing.briefer_email)).all()
    now = app.now()
    due = now - timedelta(minutes=1)
    digest = Card(
        title="Good morning: 3 member briefings waiting on you",
        lines=("*REF-1* An item: brief Cllr A by Thu 28 Jan",) * 3,
    ).to_dict()
    rows: list[dict[str, Any]] = []
    digests = messages // 10
    for index in range(messages - digests):
        briefing_id, briefer = briefings[index % len(briefings)]
        kind = ("first_prompt", "reminder", "urgent_reminder")[index // len(briefings) % 3]
        rows.append(_row(briefer, kind, f"bench:{index}", due, briefing_id=briefing_id))
    for index in range(digests):
        briefer = briefings[index % len(briefings)][1]
        rows.append(_row(briefer, "officer_digest", f"bench-digest:{index}", due, card=digest))
    with app.session() as session:
        session.execute(insert(Nudge.__table__), rows)
    return app


def _row(
    recipient: str,
    kind: str,
    key: str,
    due: Any,
    *,
    briefing_id: int | None = None,
    card: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "recipient_email": recipient,
        "briefing_id": briefing_id,
        "kind": kind,
        "card": card or {},
        "send_at": due,
        "dedupe_key": key,
        "status": "pending",
        "attempts": 0,
        "claimed_by": "",
        "platform": "",
        "last_error": "",
        "created_at": due,
    }


def synthetic_now(council: synthetic.SyntheticCouncil, settings: Any) -> Any:
    from bot.decisions.calendar import CouncilCalendar

    calendar = CouncilCalendar.from_settings(settings.council)
    day = calendar.add_working_days(council.start, 1)
    return calendar.start_of_day(day) + timedelta(hours=1)


async def deliver_all(app: App, concurrency: int | None = None) -> tuple[float, float, int]:
    """Wall-clock and this process's CPU seconds for one delivery run, and how many it sent."""
    hub = Hub(app)
    hub.register(NoopAdapter())
    started, cpu = time.perf_counter(), time.process_time()
    stats = await Deliverer(hub, concurrency=concurrency).run_once()
    return time.perf_counter() - started, time.process_time() - cpu, stats.sent


def verify(app: App, messages: int) -> None:
    with app.session() as session:
        sent = session.scalar(
            select(func.count()).select_from(Nudge).where(Nudge.status == NudgeStatus.SENT)
        )
        attempts = session.scalar(select(func.count()).select_from(DeliveryAttempt))
    if sent != messages or attempts != messages:
        raise SystemExit(
            f"verification failed: {sent} sent, {attempts} attempts, expected {messages} of each"
        )


def measure(name: str, url: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    print(f"[{name}] preparing {args.messages} due messages…", file=sys.stderr, flush=True)
    app = prepare(url, workdir, args.messages, args.decisions)
    print(f"[{name}] delivering…", file=sys.stderr, flush=True)
    seconds, cpu, sent = asyncio.run(deliver_all(app, args.concurrency))
    verify(app, args.messages)
    app.engine.dispose()
    rate = sent / seconds
    return {
        "backend": name,
        "messages": sent,
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu, 3),
        "per_second": round(rate, 1),
        "target_per_second": TARGET,
        "pass": rate >= TARGET,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--decisions", type=int, default=2_000, help="synthetic council size")
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument(
        "--concurrency", type=int, help="messages in flight (default: the outbox setting, 8)"
    )
    parser.add_argument("--database-url", help="an empty PostgreSQL database to use instead")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-delivery-") as folder:
        workdir = Path(folder)
        results.append(measure("SQLite", f"sqlite:///{workdir / 'bench.db'}", args, workdir))
        if not args.sqlite_only:
            if args.database_url:
                results.append(measure("PostgreSQL", args.database_url, args, workdir))
            elif pgcluster.binaries_available():
                url = pgcluster.shared_cluster().new_database("bench")
                results.append(measure("PostgreSQL (fsync off)", url, args, workdir))
            else:
                print("!!! PostgreSQL SKIPPED: initdb/pg_ctl not on PATH !!!", file=sys.stderr)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        # CPU: this process's own (a PostgreSQL server's work is not in it); far below the
        # wall-clock seconds, it says other load on the machine slowed the run.
        print(
            f"{'backend':<24}{'messages':>10}{'seconds':>10}{'CPU s':>8}{'msgs/s':>10}"
            f"{'target':>10}  result"
        )
        for r in results:
            print(
                f"{r['backend']:<24}{r['messages']:>10}{r['seconds']:>10.2f}"
                f"{r['cpu_seconds']:>8.2f}{r['per_second']:>10.0f}{'>= 1000':>10}"
                f"  {'PASS' if r['pass'] else 'FAIL'}"
            )
    return 0 if all(r["pass"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
