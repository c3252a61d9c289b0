"""The read model's counts coloured once per stretch between amber and red instants (issue 15):
always what colouring every row afresh at that moment gives."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

from bot.briefings.states import BriefingState
from bot.views.coloured_counts import CountsFrom
from bot.views.status_model_page import AMBER, RED, colour_at

T0 = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
DAY = date(2027, 2, 1)
STATES = tuple(s for s in BriefingState if s != BriefingState.WITHDRAWN)


def rows() -> list[tuple]:
    """`statuscount` rows as the page reads them, in page order (due_at, decision_due)."""
    made = []
    for i, state in zip(range(60), itertools.cycle(STATES), strict=False):
        due_at = T0 + timedelta(hours=3 * (i % 7))
        amber_at = None if i % 11 == 0 else T0 + timedelta(hours=i % 5)
        red_at = None if i % 13 == 0 else T0 + timedelta(hours=2 + i % 6)
        decision_due = DAY + timedelta(days=i % 9)
        made.append((decision_due, due_at, state, "P", "h", i % 4, amber_at, red_at))
    return sorted(made, key=lambda r: (r[1], r[0]))


def afresh(rows: list[tuple], now: datetime, last: date) -> tuple[list[int], list[list]]:
    """Every row coloured at `now`, as the page did before the colouring was kept."""
    counts, groups = [0, 0, 0, 0], ([], [])
    for decision_due, due_at, state, _, _, n, amber_at, red_at in rows:
        if decision_due > last:
            continue
        rag = colour_at(state, amber_at, red_at, now)
        counts[rag] += n
        if rag <= AMBER and n > 0:
            groups[rag].append((due_at, decision_due, state, n))
    return counts, list(groups)


def test_the_kept_colouring_always_reads_as_colouring_afresh():
    kept, table = CountsFrom(rows(), colour_at), rows()
    moments = [T0 + timedelta(minutes=30 * k) for k in range(16)]
    # Every amber and red instant, and a microsecond either side, forwards and then back.
    edges = sorted({t for r in table for t in (r[6], r[7]) if t is not None})
    moments += [t + timedelta(microseconds=d) for t in edges for d in (-1, 0, 1)]
    moments += list(reversed(moments))
    for now in moments:
        coloured = kept.at(now)
        for last in (DAY, DAY + timedelta(days=4), DAY + timedelta(days=30)):
            counts, groups = afresh(table, now, last)
            assert coloured.counts_through(last) == counts, (now, last)
            at_risk = [list(coloured.at_risk_through(rag, last)) for rag in (RED, AMBER)]
            assert at_risk == groups, (now, last)


def test_the_colouring_is_worked_out_once_per_stretch():
    kept = CountsFrom(rows(), colour_at)
    first = kept.at(T0)
    assert first.until == T0 + timedelta(hours=1)  # the first amber instant after T0
    assert kept.at(first.until - timedelta(microseconds=1)) is first
    assert kept.at(first.until) is not first  # a row's colour may differ from here
    assert kept.at(T0 - timedelta(seconds=1)) is not first  # a clock set back is not covered
