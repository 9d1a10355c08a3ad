"""`make bench` (quick: under 3 minutes on 2 cores) or `python -m bench --full`.

Each scenario runs in a fresh process; the table is printed and written as JSON under
bench/results/. Benchmarks are never part of `make test`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from bench.harness import Measurement, render, row_line, write_json
from bench.scenarios import SCENARIOS


def run_one(name: str, mode: str) -> Measurement:
    done = subprocess.run([sys.executable, "-m", "bench.scenarios", name, "--mode", mode],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"scenario {name} failed:\n{done.stderr[-3000:]}")
    return Measurement(**json.loads(done.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_const", dest="mode", const="quick", help="small sizes (default)")
    size.add_argument("--full", action="store_const", dest="mode", const="full", help="the sizes the targets name")
    parser.add_argument("--only", nargs="*", choices=sorted(SCENARIOS), help="run these scenarios only")
    args = parser.parse_args(argv)
    mode = args.mode or "quick"
    rows = []
    for name in args.only or SCENARIOS:
        rows.append(run_one(name, mode))
        print(row_line(rows[-1]), flush=True)
    print()
    print(render(rows))
    print(f"\nwritten to {write_json(rows, mode=mode)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
