"""Run every benchmark (bench/bench_*.py) in turn, each in its own process (`make bench`).

Each benchmark prints its own figures; this prints which ones missed a target and exits 1 if any
did (or failed to run). Arguments after `--` go to every benchmark, e.g.

    python bench/run_all.py                   # all of them
    python bench/run_all.py -k foundation     # only those whose name contains "foundation"
    python bench/run_all.py -- --json         # every benchmark's figures as JSON
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    passthrough: list[str] = []
    if "--" in argv:
        at = argv.index("--")
        argv, passthrough = argv[:at], argv[at + 1 :]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", dest="only", default="", help="run only names containing this")
    args = parser.parse_args(argv)

    scripts = sorted(p for p in BENCH.glob("bench_*.py") if args.only in p.stem)
    if not scripts:
        print("No benchmarks found.", file=sys.stderr)
        return 1
    results: list[tuple[str, int, float]] = []
    for script in scripts:
        print(f"=== {script.name} ===", flush=True)
        start = time.perf_counter()
        code = subprocess.call([sys.executable, str(script), *passthrough], cwd=BENCH.parent)
        results.append((script.name, code, time.perf_counter() - start))
        print(flush=True)

    print("=== summary ===")
    for name, code, seconds in results:
        verdict = {0: "all targets met", 1: "target(s) missed"}.get(code, f"failed (exit {code})")
        print(f"{name:<32} {verdict:<20} ({seconds:.0f} s)")
    return 0 if all(code == 0 for _, code, _ in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
