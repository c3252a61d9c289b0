"""The status read model's briefing counts coloured at a moment, and kept so coloured until the
first instant any of them would change colour (issue 15).

Every wide question reads the same `statuscount` rows (shared per version of the data) and
colours them at its own moment; between two consecutive amber or red instants of those rows
the colouring is the same, so it is worked out once for that stretch, with running totals by
decision date: a question's window is then one binary search, not a pass over every row.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from itertools import accumulate
from typing import Any

# A row's colour (its RAG order) at a moment: (state, amber_at, red_at, now) → 0..3.
Colour = Callable[[str, datetime | None, datetime | None, datetime], int]
# `statuscount` rows as the page reads them.
DECISION_DUE, DUE_AT, STATE, N, AMBER_AT, RED_AT = 0, 1, 2, 5, 6, 7
COLOURS = 4


class CountsFrom:
    """The `statuscount` rows from a window's first day on, in page order, and their colouring
    at the latest moment asked about while it still holds."""

    __slots__ = ("_colour", "_coloured", "rows")

    def __init__(self, rows: Sequence[Any], colour: Colour) -> None:
        self.rows, self._colour = rows, colour
        self._coloured: Coloured | None = None

    def at(self, now: datetime) -> Coloured:
        """The rows coloured at `now` (worked out again only once a row's colour may differ)."""
        found = self._coloured
        if found is None or not found.since <= now < found.until:
            found = self._coloured = Coloured(self.rows, self._colour, now)
        return found


class Coloured:
    """The rows coloured at `since`, which holds until `until` (the first amber or red instant
    after it); an earlier moment (a clock set back) is not covered."""

    __slots__ = ("_at_risk", "_dues", "_totals", "since", "until")

    def __init__(self, rows: Sequence[Any], colour: Colour, now: datetime) -> None:
        rags = [colour(r[STATE], r[AMBER_AT], r[RED_AT], now) for r in rows]
        later = [t for r in rows for t in (r[AMBER_AT], r[RED_AT]) if t is not None and t > now]
        self.since, self.until = now, min(later, default=datetime.max.replace(tzinfo=now.tzinfo))
        by_due = sorted(range(len(rows)), key=lambda i: rows[i][DECISION_DUE])
        self._dues = [rows[i][DECISION_DUE] for i in by_due]
        # Running totals by decision date, one list per colour, each starting at 0.
        self._totals = [
            [0, *accumulate(rows[i][N] if rags[i] == c else 0 for i in by_due)]
            for c in range(COLOURS)
        ]
        # The at-risk colours' briefings (red 0, amber 1), in page order.
        self._at_risk: tuple[list[Any], ...] = ([], [])
        for r, rag in zip(rows, rags, strict=True):
            if rag < len(self._at_risk) and r[N] > 0:
                self._at_risk[rag].append((r[DUE_AT], r[DECISION_DUE], r[STATE], r[N]))

    def counts_through(self, last: date) -> list[int]:
        """How many briefings of each colour are due for decision on or before `last`."""
        upto = bisect_right(self._dues, last)
        return [totals[upto] for totals in self._totals]

    def at_risk_through(self, rag: int, last: date) -> Iterator[Any]:
        """That colour's (due_at, decision_due, state, count) groups due by `last`, in order."""
        return (group for group in self._at_risk[rag] if group[1] <= last)
