"""Figures as the issue 15 benchmarks report them: each beside its floor and its target.

A figure is a measurement (wall-clock, `time.perf_counter()`), the floor it is compared with in
the same run where there is one (the same rows from raw SQL, a bare interpreter…), and a target:
either an absolute bound or a ratio to the floor. `--json` prints `{"figures": [...]}`, which
`run_all.py` reads.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class Figure:
    key: str
    label: str
    value: float
    unit: str  # "ms", "s", "MB", "msg/s"
    target: float | None = None  # the figure must be at most this (None: for information)
    floor: float | None = None  # the same work's floor in this run, in `unit`
    ratio_target: float | None = None  # the figure must be at most this many floors
    higher_is_better: bool = False
    # This process's (or the timed child's) CPU time for the same work, in `unit`: on a busy
    # machine it shows how much of the wall-clock figure was waiting for a core.
    cpu: float | None = None

    @property
    def passed(self) -> bool | None:
        checks: list[bool] = []
        if self.target is not None:
            checks.append(
                self.value >= self.target if self.higher_is_better else self.value <= self.target
            )
        if self.ratio_target is not None and self.floor:
            checks.append(self.value <= self.ratio_target * self.floor)
        return all(checks) if checks else None

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "pass": self.passed}


def median_and_min(
    operation: Callable[[], Any], runs: int, warm: int = 1
) -> tuple[float, float, Any]:
    """Median and minimum wall time of `runs` calls, in seconds, after `warm` untimed calls."""
    result = None
    for _ in range(warm):
        result = operation()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = operation()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), result


def number(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "ms":
        return f"{value:.2f} ms" if value < 10 else f"{value:.1f} ms"
    if unit == "s":
        return f"{value:.3f} s"
    return f"{value:.0f} {unit}"


def target_text(figure: dict[str, Any]) -> str:
    parts = []
    if figure.get("target") is not None:
        sign = ">=" if figure.get("higher_is_better") else "<="
        parts.append(f"{sign} {number(figure['target'], figure['unit'])}")
    if figure.get("ratio_target") is not None:
        parts.append(f"<= {figure['ratio_target']:g}x floor")
    return ", ".join(parts) or "—"


def format_table(title: str, figures: list[dict[str, Any]]) -> str:
    rows = [("Figure", "Measured", "CPU", "Floor", "Target", "Result")]
    for f in figures:
        verdict = {True: "PASS", False: "FAIL", None: "(info)"}[f["pass"]]
        rows.append(
            (
                f["label"],
                number(f["value"], f["unit"]),
                number(f.get("cpu"), f["unit"]),
                number(f.get("floor"), f["unit"]),
                target_text(f),
                verdict,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(
            v.rjust(widths[i]) if i in (1, 2, 3) else v.ljust(widths[i]) for i, v in enumerate(r)
        ).rstrip()
        for r in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join([title, *lines])


def report(title: str, figures: list[Figure], *, as_json: bool, extra: dict | None = None) -> int:
    """Print the figures (a table, or JSON) and return the exit code: 0 all met, 1 one missed."""
    data = [f.as_dict() for f in figures]
    passed = all(f["pass"] is not False for f in data)
    if as_json:
        print(json.dumps({"figures": data, "pass": passed, **(extra or {})}, indent=2))
    else:
        print(format_table(title, data))
        print("All targets met." if passed else "Some targets were missed.")
    return 0 if passed else 1
