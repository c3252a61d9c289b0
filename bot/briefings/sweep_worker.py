"""The sweep's worker process: it plans chunks of decisions (bot/briefings/sweep_plan.py) on
a second core while the sweep reads the next chunk and writes the last one.

Spawned, not forked: the server sweeps on a thread of a threaded process. Started once per
sweep with enough work, given its setup once, and shut down when the sweep ends however it
ends. If it cannot start, or dies, the chunks are planned in this process by the same code,
and the log says so in one line.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import date
from multiprocessing import get_context
from typing import Any, NamedTuple

from bot.briefings.sweep_plan import ChunkPlan, Planner, PlanSetup

log = logging.getLogger(__name__)

# Fewer dirty decisions than this are planned in process: a worker takes half a second or more
# to start, and on a busy machine a second process costs the sweep more than it saves (at 10k
# decisions the sweep in process was as quick or quicker).
WORKER_THRESHOLD = 20_000

# While the worker starts up (half a second or more of imports), the chunks read meanwhile
# are planned here rather than waited for. (Tests turn it off to know where each is planned.)
PLAN_HERE_WHILE_STARTING = True

# The worker's planner (set in the worker process by `_start`).
_planner: Planner | None = None


def _start(setup: PlanSetup) -> None:
    global _planner
    _planner = Planner(setup)


def _plan(
    rows: list[list[Any]], history: dict[int, list[tuple[date, date]]], reconciled: frozenset[int]
) -> ChunkPlan:
    if _planner is None:
        raise RuntimeError("the sweep's worker was not started")
    return _planner.plan(rows, history, reconciled)


class Tables(NamedTuple):
    """The flag sets and reason sets a planner has numbered, as the sweep stores them."""

    flag_sets: list[tuple[list[dict[str, str]], str]]
    reason_sets: list[tuple[list[str], str]]  # one shared list, and its text in one line


class Pending(NamedTuple):
    """A chunk handed to the planner: the worker's future, and its inputs to plan again."""

    future: Future[ChunkPlan] | None
    rows: list[list[Any]]
    history: dict[int, list[tuple[date, date]]]
    reconciled: frozenset[int]


class Planning:
    """Chunks planned in a worker process, or in this one if it cannot start or dies."""

    def __init__(self, setup: PlanSetup) -> None:
        self.setup = setup
        self.pool: ProcessPoolExecutor | None = None
        self.started = False
        self.starting: Future[None] | None = None
        self.fell_back = False
        self.chunks = self.in_worker_chunks = 0
        self.local: Planner | None = None
        # Each planner numbers its own flag and reason sets: the tables are kept per planner.
        self.worker_tables = Tables([], [])
        self.local_tables = Tables([], [])

    def start(self) -> None:
        """Start the worker process (once: again does nothing)."""
        if self.started:
            return
        self.started = True
        try:
            self.pool = ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"))
            # The setup goes as the first call, not as the process's arguments: those are
            # written while the new process imports its modules, and the sweep would wait.
            self.starting = self.pool.submit(_start, self.setup)
        except Exception as exc:
            self._fall_back("could not start", exc)

    @property
    def in_worker(self) -> bool:
        return self.pool is not None

    def submit(
        self,
        rows: list[list[Any]],
        history: dict[int, list[tuple[date, date]]],
        reconciled: frozenset[int],
    ) -> Pending:
        """Hand a chunk to the worker (planned here when its result is asked for, without one
        or while it is still starting)."""
        future = None
        starting = self.starting is not None and not self.starting.done()
        if self.pool is not None and not (starting and PLAN_HERE_WHILE_STARTING):
            try:
                future = self.pool.submit(_plan, rows, history, reconciled)
            except Exception as exc:  # the process could not be started, or has died
                self._fall_back("could not start", exc)
        return Pending(future, rows, history, reconciled)

    def result(self, pending: Pending) -> tuple[ChunkPlan, Tables]:
        """The chunk's plan, with the tables its numbers refer to."""
        self.chunks += 1
        if pending.future is not None:
            try:
                plan = pending.future.result()
            except Exception as exc:
                started = self.starting is not None and self.starting.done()
                if started and self.starting is not None and self.starting.exception():
                    self._fall_back("could not start", exc)
                else:
                    self._fall_back("stopped", exc)
            else:
                self.in_worker_chunks += 1
                return plan, _extended(self.worker_tables, plan)
        if self.local is None:
            self.local = Planner(self.setup)
        plan = self.local.plan(pending.rows, pending.history, pending.reconciled)
        return plan, _extended(self.local_tables, plan)

    def _fall_back(self, what: str, exc: BaseException) -> None:
        if self.fell_back:
            return  # already said
        self.fell_back = True
        log.warning(
            "sweep: the worker process %s (%s); assessing in this process instead",
            what,
            type(exc).__name__,
        )
        self.close(abandon=True)

    def close(self, *, abandon: bool = False) -> None:
        """Stop the worker: after its last chunk, or at once (`abandon`: the sweep failed or
        was interrupted, or the worker broke)."""
        pool, self.pool = self.pool, None
        if pool is None:
            return
        log.info(
            "sweep: the worker process planned %d of %d chunks", self.in_worker_chunks, self.chunks
        )
        if abandon:
            # Its processes are ended, not waited for: a chunk half planned is of no use.
            processes = list(getattr(pool, "_processes", {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                process.terminate()
            for process in processes:
                process.join(timeout=5)
            return
        # Every chunk's plan is in: the process exits by itself, without the sweep waiting.
        pool.shutdown(wait=False)


def _extended(tables: Tables, plan: ChunkPlan) -> Tables:
    tables.flag_sets.extend(plan.flag_sets)
    tables.reason_sets.extend((list(reasons), "; ".join(reasons)) for reasons in plan.reason_sets)
    return tables
