"""Memory freed by wide answers is handed back once a burst of them ends (issue 15)."""

from __future__ import annotations

import asyncio
import ctypes
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from livebot import email, make_bot, sqlite_url

from bot import memory_trim, service
from bot.memory_trim import TrimWhenIdle, find_malloc_trim, trim_memory

START = datetime(2027, 1, 26, 9, 30, tzinfo=ZoneInfo("Europe/London"))


def test_trim_calls_malloc_trim_with_zero_and_says_it_did():
    calls: list[int] = []
    assert trim_memory(lambda pad: calls.append(pad) or 1) is True
    assert calls == [0]


def test_trim_is_safe_where_there_is_no_malloc_trim(monkeypatch):
    monkeypatch.setattr(memory_trim, "find_malloc_trim", lambda: None)
    assert trim_memory() is False


def test_a_failing_trim_is_not_an_error():
    def broken(_pad: int) -> int:
        raise OSError("no")

    assert trim_memory(broken) is False


def test_a_c_library_without_malloc_trim_gives_none(monkeypatch):
    class NoTrim:  # musl, macOS: the symbol is not there
        def __init__(self, _name: object) -> None:
            pass

    find_malloc_trim.cache_clear()
    monkeypatch.setattr(ctypes, "CDLL", NoTrim)
    try:
        assert find_malloc_trim() is None
    finally:
        monkeypatch.undo()
        find_malloc_trim.cache_clear()


def test_glibc_malloc_trim_is_found_and_runs():
    if not hasattr(ctypes.CDLL(None), "malloc_trim"):
        pytest.fail("this test expects glibc (the image the bot ships in)")
    assert find_malloc_trim() is not None
    assert trim_memory() is True


async def test_a_burst_is_trimmed_once_when_its_last_job_is_done():
    trims: list[int] = []
    trimmer = TrimWhenIdle(lambda: trims.append(1))
    gates = [threading.Event() for _ in range(3)]
    with ThreadPoolExecutor(2) as executor:
        futures = [trimmer.submit(executor, gate.wait) for gate in gates]  # the third queued
        gates[0].set()
        await asyncio.wrap_future(futures[0])
        gates[1].set()
        await asyncio.wrap_future(futures[1])
        assert trims == []  # the third is still to come
        gates[2].set()
        await asyncio.wrap_future(futures[2])
        # The trim is done before the waiter hears the result.
        assert trims == [1]


async def test_a_job_cancelled_in_the_queue_does_not_stop_trimming():
    trims: list[int] = []
    trimmer = TrimWhenIdle(lambda: trims.append(1))
    gate = threading.Event()
    with ThreadPoolExecutor(1) as executor:
        running = trimmer.submit(executor, gate.wait)
        queued = trimmer.submit(executor, lambda: None)
        assert queued.cancel()
        gate.set()
        await asyncio.wrap_future(running)
    assert trims == [1]


async def test_a_wide_answer_is_followed_by_a_trim(tmp_path: Path, monkeypatch):
    bot = make_bot(sqlite_url(tmp_path), START)
    trims: list[int] = []
    monkeypatch.setattr(service.HEAVY_ANSWERS_TRIM, "_trim", lambda: trims.append(1))
    reply = await service.handle_command(
        bot.hub, text="days 60", actor_email=email("Margaret Hollis"), platform="test", direct=True
    )
    assert reply.cards and trims == [1]
