"""Run every benchmark (bench/bench_*.py) three times and print one table (`make bench`).

Each benchmark runs in its own process with `--json`, `--runs` times (3 by default). The table
gives, for every figure, the minimum and the median of the runs, the median CPU time where the
benchmark reports it (on a busy machine, how much of the figure was work rather than waiting for
a core), the floor measured beside it (the median of the runs' floors), the target, and whether
the median meets it. Exit 1 if any
target is missed (or a benchmark failed to run). Arguments after `--` go to every benchmark:

    python bench/run_all.py                   # all of them, three runs each
    python bench/run_all.py -k answers        # only those whose name contains "answers"
    python bench/run_all.py --runs 1          # one run each (quicker, noisier)
    python bench/run_all.py --show            # also print each benchmark's own output
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from figures import number, target_text  # noqa: E402


def _last_json(text: str) -> Any:
    """The JSON document a benchmark printed (progress and tables may come before it)."""
    start = min((i for i in (text.find("{"), text.find("[")) if i >= 0), default=-1)
    while start >= 0:
        try:
            return json.loads(text[start:])
        except json.JSONDecodeError:
            nxt = [i for i in (text.find("\n{", start + 1), text.find("\n[", start + 1)) if i >= 0]
            start = min(nxt) + 1 if nxt else -1
    raise ValueError("no JSON in the benchmark's output")


def figures_of(name: str, data: Any) -> list[dict[str, Any]]:
    """One benchmark's figures in the common shape (see bench/figures.py)."""
    if isinstance(data, dict) and "figures" in data:
        figures = []
        for f in data["figures"]:
            figure = {"floor": None, "ratio_target": None, "higher_is_better": False, **f}
            if figure.get("pass") is None and figure.get("target") is None:
                figure["pass"] = None
            figures.append(figure)
        return figures
    if name == "bench_delivery.py":
        return [
            {
                "key": f"delivery_{r['backend']}",
                "label": f"delivery, {r['backend']}",
                "value": r["per_second"],
                "unit": "msg/s",
                "target": r["target_per_second"],
                "higher_is_better": True,
                "floor": None,
                "ratio_target": None,
                "pass": r["pass"],
            }
            for r in data
        ]
    if name == "bench_slack.py":
        rows = data["rows"]
        floor = rows["floor: bare bolt app, fixed text"]["p99_ms"]
        return [
            {
                "key": f"slack_{label}",
                "label": f"Slack p99: {label}",
                "value": row["p99_ms"],
                "unit": "ms",
                "target": None,
                "floor": None if label.startswith("floor") else floor,
                "ratio_target": data["target_ratio"] if label.startswith("/surprises") else None,
                "higher_is_better": False,
                "pass": data["pass_by_row"].get(label),
            }
            for label, row in rows.items()
        ]
    if name == "bench_teams.py":
        results = data["results"]
        floor = results["floor"]["p99_ms"]
        return [
            {
                "key": f"teams_{label}",
                "label": f"Teams p99: {label}",
                "value": row["p99_ms"],
                "unit": "ms",
                "target": None,
                "floor": None if label == "floor" else floor,
                "ratio_target": data["target_ratio_p99"] if label == "surprises" else None,
                "higher_is_better": False,
                "pass": data["pass"] if label == "surprises" else None,
            }
            for label, row in results.items()
            if isinstance(row, dict) and "p99_ms" in row
        ]
    raise ValueError(f"{name}: no figures in its JSON")


def _passes(figure: dict[str, Any], value: float, floor: float | None) -> bool | None:
    checks = []
    if figure.get("target") is not None:
        target = figure["target"]
        checks.append(value >= target if figure.get("higher_is_better") else value <= target)
    if figure.get("ratio_target") is not None and floor:
        checks.append(value <= figure["ratio_target"] * floor)
    return all(checks) if checks else figure.get("pass") if figure.get("pass") is False else None


def summarise(runs: dict[str, list[list[dict[str, Any]]]]) -> tuple[list[tuple[str, ...]], bool]:
    """The table's rows (min and median of the runs) and whether every target was met."""
    rows: list[tuple[str, ...]] = []
    ok = True
    for name, per_run in runs.items():
        by_key: dict[str, list[dict[str, Any]]] = {}
        for figures in per_run:
            for figure in figures:
                by_key.setdefault(figure["key"], []).append(figure)
        for samples in by_key.values():
            first = samples[0]
            values = [s["value"] for s in samples]
            floors = [s["floor"] for s in samples if s.get("floor") is not None]
            cpus = [s["cpu"] for s in samples if s.get("cpu") is not None]
            median = statistics.median(values)
            floor = statistics.median(floors) if floors else None
            verdict = _passes(first, median, floor)
            ok = ok and verdict is not False
            unit = first["unit"]
            rows.append(
                (
                    name.removeprefix("bench_").removesuffix(".py"),
                    first["label"],
                    number(min(values), unit),
                    number(median, unit),
                    number(statistics.median(cpus) if cpus else None, unit),
                    number(floor, unit),
                    target_text(first),
                    {True: "PASS", False: "FAIL", None: "(info)"}[verdict],
                    str(len(values)),
                )
            )
    return rows, ok


def print_table(rows: list[tuple[str, ...]]) -> None:
    header = ("Bench", "Figure", "Min", "Median", "CPU", "Floor", "Target", "Result", "Runs")
    table = [header, *rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for index, row in enumerate(table):
        print(
            "  ".join(
                v.rjust(widths[i]) if i in (2, 3, 4, 5) else v.ljust(widths[i])
                for i, v in enumerate(row)
            ).rstrip()
        )
        if index == 0:
            print("  ".join("-" * w for w in widths))


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    passthrough: list[str] = []
    if "--" in argv:
        at = argv.index("--")
        argv, passthrough = argv[:at], argv[at + 1 :]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", dest="only", default="", help="run only names containing this")
    parser.add_argument("--runs", type=int, default=3, help="runs of each benchmark (default 3)")
    parser.add_argument("--show", action="store_true", help="print each run's own output too")
    args = parser.parse_args(argv)

    scripts = sorted(p for p in BENCH.glob("bench_*.py") if args.only in p.stem)
    if not scripts:
        print("No benchmarks found.", file=sys.stderr)
        return 1
    runs: dict[str, list[list[dict[str, Any]]]] = {}
    failures: list[str] = []
    load = os.getloadavg()[0]
    started = time.perf_counter()
    for script in scripts:
        for run in range(1, args.runs + 1):
            print(f"=== {script.name}, run {run} of {args.runs} ===", file=sys.stderr, flush=True)
            done = subprocess.run(
                [sys.executable, str(script), "--json", *passthrough],
                cwd=BENCH.parent,
                stdout=subprocess.PIPE,
                text=True,
            )
            if args.show:
                print(done.stdout, file=sys.stderr)
            if done.returncode not in (0, 1):
                failures.append(f"{script.name} run {run}: failed (exit {done.returncode})")
                continue
            try:
                runs.setdefault(script.name, []).append(
                    figures_of(script.name, _last_json(done.stdout))
                )
            except (ValueError, KeyError) as exc:
                failures.append(f"{script.name} run {run}: unreadable figures ({exc})")
    rows, ok = summarise(runs)
    minutes = (time.perf_counter() - started) / 60
    print(
        f"No Surprises benchmarks: min and median of {args.runs} run(s) each; "
        f"{os.cpu_count()} CPU(s), load average {load:.2f} at start, {minutes:.0f} min"
    )
    print_table(rows)
    for failure in failures:
        print(failure)
    passed = ok and not failures
    print("All targets met." if passed else "Some targets were missed.")
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
