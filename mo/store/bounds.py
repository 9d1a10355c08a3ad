"""Statement bounds: no single statement may run longer than MO_STATEMENT_TIMEOUT.

PostgreSQL enforces the bound itself (statement_timeout, set per transaction by its store).
DuckDB has no such setting, so its store registers each statement with one watchdog thread per
process, which calls interrupt() on the statement's cursor once the limit has passed. Both
answer the same MOError: `unavailable`, with the limit and the setting that sets it.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol

from mo.errors import ErrorCode, MOError

SETTING = "MO_STATEMENT_TIMEOUT"


def statement_timeout(limit_s: float, cause: BaseException | None = None) -> MOError:
    """The error for a statement stopped at its limit (retrying it unchanged would stop again,
    but the cause may be a busy server: `unavailable`, as PostgreSQL's own class 57 is)."""
    err = MOError(
        ErrorCode.UNAVAILABLE,
        f"the statement ran longer than the {limit_s:g} s limit ({SETTING})",
        {"reason": "statement_timeout", "limit_s": limit_s, "setting": SETTING},
    )
    err.__cause__ = cause
    return err


class Interruptible(Protocol):
    def interrupt(self) -> None: ...


@dataclass
class Watch:
    """One statement under watch; `fired` tells the store the interrupt was the bound's."""

    target: Interruptible
    deadline: float
    done: bool = False
    fired: bool = False
    seq: int = field(default=0)


class Watchdog:
    """One daemon thread interrupting the statements that outlive their deadline.

    Registering costs a lock and a heap push, not a thread per statement: a cost update runs a
    dozen statements in tens of milliseconds. Finished watches stay in the heap until their
    deadline comes up (lazy deletion); the thread is woken only when a deadline earlier than
    every pending one arrives.
    """

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._heap: list[tuple[float, int, Watch]] = []
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None

    @contextmanager
    def watch(self, target: Interruptible, *, limit_s: float) -> Iterator[Watch]:
        """Interrupt `target` if the block is still running after limit_s seconds (0: never)."""
        entry = Watch(target=target, deadline=time.monotonic() + limit_s)
        if limit_s > 0:
            self._add(entry)
        try:
            yield entry
        finally:
            with self._lock:  # after this, the thread can no longer interrupt the cursor
                entry.done = True

    def _add(self, entry: Watch) -> None:
        with self._lock:
            entry.seq = next(self._seq)
            earliest = self._heap[0][0] if self._heap else None
            heapq.heappush(self._heap, (entry.deadline, entry.seq, entry))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="mo-statement-bound",
                                                daemon=True)
                self._thread.start()
            elif earliest is None or entry.deadline < earliest:
                self._lock.notify()

    def _run(self) -> None:
        with self._lock:
            while True:
                if not self._heap:
                    self._lock.wait()
                    continue
                deadline, _, entry = self._heap[0]
                now = time.monotonic()
                if deadline > now:
                    self._lock.wait(deadline - now)
                    continue
                heapq.heappop(self._heap)
                if not entry.done:
                    entry.fired = True
                    try:
                        entry.target.interrupt()
                    except Exception:  # noqa: BLE001 - a closed cursor has nothing left to stop
                        pass


WATCHDOG = Watchdog()
