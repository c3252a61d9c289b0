"""Crash and outage safety, reduced from `bench/chaos.py`: a delivering process killed with
SIGKILL mid-post and after a post, and PostgreSQL stopped mid-run, lose and repeat nothing."""

from __future__ import annotations

from pathlib import Path

import chaos


async def test_killed_workers_and_a_database_outage_lose_and_duplicate_nothing(tmp_path: Path):
    result = await chaos.run(messages=120, kills=3, outage=0.5, seed_value=12, workdir=tmp_path)
    assert (result.kills, result.outages) == (3, 1)
    assert (result.lost, result.duplicates, result.unrecorded) == (0, 0, 0)
    assert result.posts == 120
    # A worker killed inside a post left it claimed; it was found on Slack, not posted again.
    assert result.found_already_posted >= 1
