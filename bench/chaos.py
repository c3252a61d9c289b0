"""Chaos: due messages delivered through a mock Slack while the delivering process is killed.

On a PostgreSQL cluster of its own (it is stopped mid-run), 3,000 due messages are delivered by
a separate process (`chaos.py --worker`) through a mock Slack Web API that logs every post.
That process is killed with SIGKILL at 20 random points — half of them inside a post (Slack has
kept the message, the process never hears back), half just after one — and started again each
time; and the database is stopped abruptly for a few seconds mid-run. At the end:

- lost: messages not recorded as sent, or recorded as sent but never posted (must be 0);
- duplicates: messages posted to Slack more than once (must be 0);
- unrecorded: posts with no delivery attempt recording them (must be 0).

    python bench/chaos.py                      # 3,000 messages, 20 kills, a 3 s outage
    python bench/chaos.py --messages 300 --kills 3 --outage 1 --json

Exit 0 when all three are 0, 1 when one is not, 2 when it could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

import pgcluster  # noqa: E402
import synthetic  # noqa: E402
from slack_mock import SIGNING_SECRET, TOKEN, MockSlack, Post  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from bot.app import App  # noqa: E402
from bot.config import EXAMPLE_CONFIG, Settings, load_settings  # noqa: E402
from bot.intake.directory_csv import parse_directory  # noqa: E402
from bot.intake.store import store_directory  # noqa: E402
from bot.store.models import DeliveryAttempt, Nudge, NudgeStatus, table_of  # noqa: E402
from bot.views.cards import Card  # noqa: E402

# A Tuesday morning in term: the bot only delivers in working hours, so the run's clock starts
# here and moves with real time.
CLOCK_BASE = datetime(2027, 1, 5, 10, 0, tzinfo=ZoneInfo("Europe/London"))
# The worker's claims go stale this fast (production: 30 s) so a killed worker's messages are
# back in the queue within seconds.
CLAIM_TIMEOUT_SECONDS = 1.0
GIVE_UP_SECONDS = 900.0


class OffsetClock:
    """Real time, moved so that `epoch` (seconds since 1970) reads as `base`."""

    def __init__(self, base: datetime, epoch: float) -> None:
        self.base = base.astimezone(UTC)
        self.epoch = epoch

    def now(self) -> datetime:
        return self.base + timedelta(seconds=time.time() - self.epoch)


@dataclass
class ChaosResult:
    messages: int
    kills: int
    outages: int
    outage_seconds: float
    posts: int
    lost: int
    duplicates: int
    unrecorded: int
    found_already_posted: int
    seconds: float

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.duplicates == 0 and self.unrecorded == 0


def chaos_settings(database_url: str, *, concurrency: int) -> Settings:
    settings = load_settings(str(EXAMPLE_CONFIG), environ={})
    return settings.with_overrides(
        database_url=database_url,
        # Retries (a send that failed while the database was away) come round in seconds.
        outbox=replace(
            settings.outbox,
            claim_timeout_seconds=CLAIM_TIMEOUT_SECONDS,
            concurrency=concurrency,
            backoff_base_seconds=0.5,
            backoff_max_seconds=2.0,
        ),
    )


def seed(app: App, workdir: Path, messages: int) -> list[str]:
    """A directory of people, and `messages` due digests spread among them; their emails."""
    council = synthetic.generate(workdir / "council", decisions=10, people=300, wards=10)
    people, portfolios, _ = parse_directory(council.people_csv, council.portfolios_csv)
    with app.session() as session:
        store_directory(session, people, portfolios, now=app.now())
    emails = sorted(p.email for p in people)
    due = app.now() - timedelta(minutes=1)
    rows = []
    for index in range(messages):
        card = Card(title=f"Good morning: message {index}", lines=("A briefing waits",))
        rows.append(
            {
                "recipient_email": emails[index % len(emails)],
                "briefing_id": None,
                "kind": "officer_digest",
                "card": card.to_dict(),
                "send_at": due,
                "dedupe_key": f"chaos:{index}",
                "status": NudgeStatus.PENDING.value,
                "attempts": 0,
                "claimed_by": "",
                "platform": "",
                "last_error": "",
                "created_at": due,
                "in_doubt": False,
            }
        )
    with app.session() as session:
        session.execute(insert(table_of(Nudge)), rows)
    return emails


def queue_empty(app: App) -> bool:
    with app.session() as session:
        waiting = session.scalar(
            select(func.count())
            .select_from(Nudge)
            .where(Nudge.status.in_([NudgeStatus.PENDING, NudgeStatus.SENDING]))  # type: ignore[attr-defined]
        )
    return waiting == 0


def tally(app: App, posts: list[Post], messages: int, kills: int, outages: int, outage: float,
          seconds: float) -> ChaosResult:  # fmt: skip
    posted = Counter(p.dedupe_key for p in posts)
    with app.session() as session:
        nudges = session.execute(select(Nudge.id, Nudge.dedupe_key, Nudge.status)).all()
        recorded = set(
            session.scalars(
                select(DeliveryAttempt.nudge_id).where(DeliveryAttempt.outcome == "delivered")
            )
        )
        found = session.scalar(
            select(func.count())
            .select_from(DeliveryAttempt)
            .where(DeliveryAttempt.note == "already_posted")
        )
    lost = sum(1 for n in nudges if n.status != NudgeStatus.SENT or n.dedupe_key not in posted)
    ids = {n.dedupe_key: n.id for n in nudges}
    unrecorded = sum(1 for key in posted if ids.get(key) not in recorded)
    return ChaosResult(
        messages=messages,
        kills=kills,
        outages=outages,
        outage_seconds=outage,
        posts=len(posts),
        lost=lost,
        duplicates=sum(n - 1 for n in posted.values()),
        unrecorded=unrecorded,
        found_already_posted=int(found or 0),
        seconds=round(seconds, 1),
    )


async def run(
    *,
    messages: int = 3000,
    kills: int = 20,
    outage: float = 3.0,
    seed_value: int = 12,
    concurrency: int = 8,
    workdir: Path | None = None,
) -> ChaosResult:
    """The whole chaos run, in this process and its workers; raises if it cannot run."""
    rng = random.Random(seed_value)
    with tempfile.TemporaryDirectory(prefix="chaos-") as folder:
        work = workdir or Path(folder)
        # A server stopped abruptly keeps every commit it acknowledged, as a real one does.
        cluster = pgcluster.Cluster(durable_commits=True)
        cluster.start()
        try:
            return await _run(cluster, work, rng, messages, kills, outage, concurrency)
        finally:
            cluster.stop()


async def _run(cluster: pgcluster.Cluster, work: Path, rng: random.Random, messages: int,
               kills: int, outage: float, concurrency: int) -> ChaosResult:  # fmt: skip
    url = cluster.new_database("chaos")
    epoch = time.time()
    clock = OffsetClock(CLOCK_BASE, epoch)
    app = App.open(chaos_settings(url, concurrency=concurrency), clock=clock, migrate=True)
    emails = seed(app, work, messages)
    mock = MockSlack(users={e: f"U{i:05d}" for i, e in enumerate(emails)})
    mock.clock = lambda: clock.now().timestamp()
    await mock.start()
    kill_at = sorted(rng.sample(range(1, messages), kills))
    inside = [rng.random() < 0.5 for _ in kill_at]
    outage_at = rng.randrange(messages // 3, 2 * messages // 3) if outage > 0 else -1
    state: dict[str, Any] = {"worker": None, "killed": 0, "outage": None}
    loop = asyncio.get_running_loop()

    def trace(what: str) -> None:
        if os.environ.get("CHAOS_TRACE"):
            print(f"{time.perf_counter() - started:7.2f}s {len(mock.posts):5d} {what}",
                  file=sys.stderr)  # fmt: skip

    def kill() -> None:
        trace("kill")
        worker = state["worker"]
        if worker is not None and worker.returncode is None:
            worker.send_signal(signal.SIGKILL)
            state["killed"] += 1

    async def stop_database() -> None:
        trace("database stopping")
        await asyncio.to_thread(cluster.pause)
        await asyncio.sleep(outage)
        await asyncio.to_thread(cluster.resume)
        trace("database back")

    def on_post(_post: Post) -> None:
        count = len(mock.posts)
        while kill_at and count >= kill_at[0]:
            kill_at.pop(0)
            if inside.pop(0):
                kill()  # Slack has the message; the worker never hears back
            else:
                loop.call_soon(kill)  # after the answer is on its way
        if count == outage_at:
            state["outage"] = asyncio.ensure_future(stop_database())

    mock.on_post = on_post
    started = time.perf_counter()
    log = open(work / "workers.log", "ab")  # noqa: SIM115 - open for the whole run
    try:
        while True:
            if time.perf_counter() - started > GIVE_UP_SECONDS:
                raise RuntimeError("the run did not finish in time; see workers.log")
            worker = await asyncio.create_subprocess_exec(
                sys.executable, str(Path(__file__).resolve()), "--worker",
                "--database-url", url, "--slack-url", f"{mock.url}/api/",
                "--epoch", repr(epoch), "--concurrency", str(concurrency),
                stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log,
            )  # fmt: skip
            state["worker"] = worker
            trace("worker started")
            if await worker.wait() == 0:  # the queue is empty; otherwise it was killed
                break
        if state["outage"] is not None:
            await state["outage"]
        seconds = time.perf_counter() - started
        outages = 1 if state["outage"] is not None else 0
        return tally(app, mock.posts, messages, state["killed"], outages, outage, seconds)
    finally:
        worker = state["worker"]
        if worker is not None and worker.returncode is None:  # the run failed: leave no worker
            worker.kill()
            await worker.wait()
        log.close()
        await mock.stop()
        app.engine.dispose()


# --- the worker: a delivering process, as `serve` runs it -----------------------------------


async def work(database_url: str, slack_url: str, epoch: float, concurrency: int) -> int:
    """Deliver until the queue is empty, riding out database outages; 0 when done."""
    from adapters.slack.app import SlackAdapter
    from adapters.slack.settings import SlackSettings
    from bot.delivery.deliverer import Deliverer
    from bot.delivery.hub import Hub

    clock = OffsetClock(CLOCK_BASE, epoch)
    settings = chaos_settings(database_url, concurrency=concurrency)
    deadline = time.monotonic() + GIVE_UP_SECONDS
    while True:
        try:
            app = App.open(settings, clock=clock, migrate=False)
            break
        except Exception as exc:  # the database is away: wait for it
            if time.monotonic() > deadline:
                raise
            logging.warning("cannot open the database yet: %s", type(exc).__name__)
            await asyncio.sleep(0.2)
    hub = Hub(app)
    SlackAdapter(
        hub,
        SlackSettings(enabled=True, bot_token=TOKEN, signing_secret=SIGNING_SECRET,
                      api_url=slack_url),
    )  # fmt: skip
    while time.monotonic() < deadline:
        try:
            stats = await Deliverer(hub).run_once()
            if stats.claimed == 0 and queue_empty(app):
                return 0
        except Exception as exc:
            logging.warning("delivery run ended early: %s", type(exc).__name__)
        # Nothing claimable yet (a dead worker's claims are not stale yet): look again soon.
        await asyncio.sleep(0.1)
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--outage", type=float, default=3.0, help="seconds the database is down")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--slack-url", help=argparse.SUPPRESS)
    parser.add_argument("--epoch", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s: %(message)s")
        return asyncio.run(work(args.database_url, args.slack_url, args.epoch, args.concurrency))
    if not pgcluster.binaries_available():
        print("chaos: PostgreSQL's initdb and pg_ctl are not on PATH; cannot run.",
              file=sys.stderr)  # fmt: skip
        return 2
    try:
        result = asyncio.run(
            run(messages=args.messages, kills=args.kills, outage=args.outage,
                seed_value=args.seed, concurrency=args.concurrency)
        )  # fmt: skip
    except Exception as exc:
        print(f"chaos: could not run: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({**asdict(result), "pass": result.ok}, indent=2))
    else:
        print(f"{'figure':<34}{'measured':>10}  target")
        rows = [
            ("messages due", result.messages, ""),
            ("worker killed (SIGKILL)", result.kills, ""),
            ("database stopped (times)", result.outages, ""),
            ("each outage (s)", result.outage_seconds, ""),
            ("posts to Slack", result.posts, ""),
            ("found already posted, not resent", result.found_already_posted, ""),
            ("lost", result.lost, "0"),
            ("duplicates on Slack", result.duplicates, "0"),
            ("posts with no attempt recorded", result.unrecorded, "0"),
            ("wall time (s)", result.seconds, ""),
        ]
        for name, value, target in rows:
            print(f"{name:<34}{value:>10}  {target}")
        print("PASS" if result.ok else "FAIL")
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
