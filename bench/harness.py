"""Timing, memory and reporting for the benchmarks: medians, ratios, peak RSS, JSON output."""

from __future__ import annotations

import json
import platform
import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Measurement:
    scenario: str
    mo_s: float
    bare_s: float | None
    target: str
    met: bool
    peak_rss_mb: float
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        return None if not self.bare_s else self.mo_s / self.bare_s


def median_seconds(work: Callable[[], Any], *, repeat: int, setup: Callable[[], Any] | None = None) -> float:
    """The median wall time of `repeat` runs (setup, if any, runs untimed before each)."""
    times = []
    for _ in range(repeat):
        if setup is not None:
            setup()
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


HEADER = f"{'scenario':<34} {'mo':>10} {'bare':>10} {'ratio':>7} {'peak MB':>8}  target / met"


def row_line(m: Measurement) -> str:
    bare = f"{m.bare_s:.4f}s" if m.bare_s is not None else "-"
    ratio = f"{m.ratio:.2f}x" if m.ratio is not None else "-"
    return (f"{m.scenario:<34} {m.mo_s:>9.4f}s {bare:>10} {ratio:>7} {m.peak_rss_mb:>8.0f}  "
            f"{m.target} / {'yes' if m.met else 'NO'}")


def render(rows: list[Measurement]) -> str:
    """The table, then each scenario's footnote (notes["footnote"]), if any."""
    lines = [HEADER, "-" * len(HEADER), *map(row_line, rows)]
    footnotes = [f"{m.scenario}: {m.notes['footnote']}" for m in rows if "footnote" in m.notes]
    return "\n".join(lines + ([""] + footnotes if footnotes else []))


def write_json(rows: list[Measurement], *, mode: str) -> Path:
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"bench-{mode}-{stamp}.json"
    payload = {
        "mode": mode, "at": stamp, "python": platform.python_version(), "machine": platform.machine(),
        "results": [{**asdict(m), "ratio": m.ratio} for m in rows],
    }
    path.write_text(json.dumps(payload, indent=2))
    return path
