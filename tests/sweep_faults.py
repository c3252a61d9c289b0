"""Stand-ins for the rules' entry point that fail on purpose, importable by name so the sweep's
worker process (spawned: it imports what it runs) can be given them (tests/test_sweep_worker.py)."""

from __future__ import annotations

import multiprocessing
import os
from typing import Any

from bot.decisions.facts import DecisionFacts
from bot.decisions.rules import Assessment, assess

BAD = "HBC-2027-002"


def assess_failing_on_bad(facts: DecisionFacts, **kwargs: Any) -> Assessment:
    """The rules, except that one item's dates are out of range."""
    if facts.ref == BAD:
        raise OverflowError("date value out of range")
    return assess(facts, **kwargs)


def assess_dying_in_worker(facts: DecisionFacts, **kwargs: Any) -> Assessment:
    """The rules, except that a worker process dies outright at the first item it is given."""
    if multiprocessing.parent_process() is not None:
        os._exit(3)
    return assess(facts, **kwargs)
