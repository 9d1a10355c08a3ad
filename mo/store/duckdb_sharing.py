"""Sharing one embedded DuckDB file between processes.

A DuckDB file admits one read-write process at a time, and a workbench has several: notebook
kernels, a cron `mo run`, `mo serve`. So a store holds the file only while it is used:

- it opens the file when a transaction needs it and closes it after IDLE_RELEASE_S without
  another transaction (a loop keeps its connection; an idle notebook or server lets go);
- a process that finds the file held waits, with jittered exponential backoff, up to
  MO_DB_LOCK_TIMEOUT, then answers `unavailable` naming the holder's PID and the file;
- while it waits it holds a shared flock on `<file>.waiters`. After each transaction the holder
  tries an exclusive flock on it without blocking: when that fails someone is waiting, and the
  holder releases the file at once (and then, before opening it again, gives the waiters a
  moment), so a process calling mo in a tight loop does not starve the others.

Threads of one process share one connection (a cursor per transaction); the file is released
only when no transaction of this store is open. `:memory:` is never released: it would vanish.
"""

from __future__ import annotations

import atexit
import fcntl
import os
import random
import re
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb

from mo.errors import ErrorCode, MOError

# Idle time after which a store lets go of its file: long enough that a loop of calls keeps one
# connection, short enough that another process waits well under a second for an idle one.
IDLE_RELEASE_S = 0.5
# Backoff of a waiting process: 2 ms doubling up to 100 ms, each sleep jittered.
_BACKOFF_FIRST_S = 0.002
_BACKOFF_CAP_S = 0.1
# After releasing the file to waiters, how long a holder lets them take it before competing.
_YIELD_S = 0.3
_HOLDER_PID = re.compile(r"\(PID (\d+)\)")


def is_lock_error(exc: BaseException) -> bool:
    return isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower()


def held_elsewhere(exc: BaseException, path: str, *, waited_s: float | None = None) -> MOError:
    """`unavailable` for a file another process holds: its PID, the file, and what to do."""
    match = _HOLDER_PID.search(str(exc))
    pid = int(match.group(1)) if match else None
    holder = f"process {pid}" if pid is not None else "another process"
    waited = "" if waited_s is None else f" and was not released within {waited_s:g} s"
    err = MOError(
        ErrorCode.UNAVAILABLE,
        f"the DuckDB file {path} is held by {holder}{waited}; let that process finish or stop "
        "it, raise MO_DB_LOCK_TIMEOUT, or use PostgreSQL for long concurrent writers",
        {"reason": "database_locked", "file": path, "holder_pid": pid, "waited_s": waited_s},
    )
    err.__cause__ = exc
    return err


class WaitersFile:
    """`<db>.waiters`: a waiting process holds a shared flock on it; holders probe it."""

    def __init__(self, db_path: str) -> None:
        self._fd = os.open(db_path + ".waiters", os.O_RDWR | os.O_CREAT, 0o666)

    def present(self) -> bool:
        """True when some process is waiting for the file (holds the shared lock)."""
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        return False

    @contextmanager
    def waiting(self) -> Iterator[None]:
        fcntl.flock(self._fd, fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        os.close(self._fd)


def connect_waiting(path: str, *, timeout_s: float, waiters: WaitersFile,
                    translate: Callable[[duckdb.Error], MOError]) -> duckdb.DuckDBPyConnection:
    """Open `path`, waiting up to `timeout_s` while another process holds it."""
    try:
        return duckdb.connect(path)
    except duckdb.Error as exc:
        if not is_lock_error(exc):
            raise translate(exc) from exc
    deadline = time.monotonic() + timeout_s
    with waiters.waiting():
        for attempt in range(1, 1_000_000):
            delay = min(_BACKOFF_CAP_S, _BACKOFF_FIRST_S * 2**attempt)
            left = deadline - time.monotonic()
            time.sleep(max(0.0, min(left, random.uniform(delay / 2, delay))))
            try:
                return duckdb.connect(path)
            except duckdb.Error as exc:
                if not is_lock_error(exc):
                    raise translate(exc) from exc
                if time.monotonic() >= deadline:
                    raise held_elsewhere(exc, path, waited_s=timeout_s) from exc
    raise AssertionError("unreachable")


# Every SharedFile of this process, for the exit hook below.
_SHARED_FILES: weakref.WeakSet[SharedFile] = weakref.WeakSet()


@atexit.register
def _release_all_at_exit() -> None:
    """Close the files still open before the interpreter finalizes. Otherwise an idle closer (a
    daemon thread) may be inside DuckDB's close, its GIL released, as finalization starts; when
    it takes the GIL back, Python ends the thread with a forced unwind through DuckDB's C++
    frames, and the process aborts ("FATAL: exception not rethrown"): seen once, at the exit
    of a process that had finished its work. The closers hold the lock while closing, so after
    this no close is in flight, and none starts."""
    for shared in list(_SHARED_FILES):
        shared.release_idle()


class SharedFile:
    """One store's connection to one DuckDB file, open only while transactions need it."""

    def __init__(self, path: str, *, timeout_s: float,
                 on_open: Callable[[duckdb.DuckDBPyConnection], None],
                 translate: Callable[[duckdb.Error], MOError]) -> None:
        self.path = path
        self._timeout_s = timeout_s
        self._on_open = on_open
        self._translate = translate
        self._pinned = path == ":memory:"
        self._waiters = None if self._pinned else WaitersFile(path)
        self._cond = threading.Condition()
        self._conn: duckdb.DuckDBPyConnection | None = None
        self._active = 0  # open transactions of this store
        self._depth = threading.local()  # open transactions of this store in the current thread
        self._opening = False
        self._draining = False  # someone waits: admit no new transaction until released
        self._last_used = 0.0
        self._yielded_at: float | None = None
        self._identity: tuple[int, int] | None = None  # (device, inode) of the file first opened
        self.opens = 0  # how many times the file was opened (tests and measurements read it)
        if self._pinned:
            self._conn = self._open()
        _SHARED_FILES.add(self)

    @contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor on the shared connection for one transaction; the file is held meanwhile."""
        cursor = self._enter()
        self._depth.n = getattr(self._depth, "n", 0) + 1
        try:
            yield cursor
        finally:
            self._depth.n -= 1
            cursor.close()
            self._exit()

    def _enter(self) -> duckdb.DuckDBPyConnection:
        # A transaction opened inside another one of this thread must not wait for the drain its
        # outer transaction holds up.
        nested = getattr(self._depth, "n", 0) > 0
        with self._cond:
            while True:
                if self._conn is not None and (nested or not self._draining):
                    self._active += 1
                    return self._conn.cursor()  # cursor() is not thread-safe: under the lock
                if self._conn is None and not self._opening:
                    self._opening = True
                    break
                self._cond.wait()
        try:
            conn = self._open()  # may wait for another process: without the lock
        except BaseException:
            with self._cond:
                self._opening = False
                self._cond.notify_all()
            raise
        with self._cond:
            self._conn, self._opening, self._draining = conn, False, False
            self._active += 1
            self._cond.notify_all()
            threading.Thread(target=self._close_when_idle, args=(conn,), daemon=True,
                             name=f"mo-duckdb-idle-{os.path.basename(self.path)}").start()
            return conn.cursor()

    def _exit(self) -> None:
        with self._cond:
            self._active -= 1
            self._last_used = time.monotonic()
            if self._pinned or self._waiters is None:
                return
            if not self._draining and self._waiters.present():
                self._draining = True  # admit no new transaction; the last one out releases
            if self._draining and not self._active:
                self._release(yielded=True)

    def _open(self) -> duckdb.DuckDBPyConnection:
        if self._pinned or self._waiters is None:
            conn = duckdb.connect(self.path)
        else:
            self._let_waiters_in()
            conn = connect_waiting(self.path, timeout_s=self._timeout_s, waiters=self._waiters,
                                   translate=self._translate)
        try:
            self._check_same_file()
            self._on_open(conn)
        except BaseException:
            conn.close()
            raise
        self.opens += 1
        return conn

    def _check_same_file(self) -> None:
        # Tenant contexts and migration checks belong to the file first opened; a file swapped in
        # at the same path (`make demo` does) would take writes meant for the old one and lose
        # them (tenant ids differ): refuse loudly instead.
        if self._pinned:
            return
        stat = os.stat(self.path)
        identity = (stat.st_dev, stat.st_ino)
        if self._identity is None:
            self._identity = identity
        elif identity != self._identity:
            raise MOError(
                ErrorCode.UNAVAILABLE,
                f"the DuckDB file {self.path} was replaced since this client opened it (for "
                "example by `make demo`); open a new client (or restart `mo serve`)",
                {"reason": "database_replaced", "file": self.path},
            )

    def _let_waiters_in(self) -> None:
        # Having just released the file to waiters, do not race them for it straight away.
        if self._yielded_at is None or self._waiters is None:
            return
        until, self._yielded_at = self._yielded_at + _YIELD_S, None
        while time.monotonic() < until and self._waiters.present():
            time.sleep(random.uniform(0.002, 0.01))

    def _release(self, *, yielded: bool = False) -> None:
        # Under self._cond, with no transaction open. Closing checkpoints the WAL into the file.
        conn, self._conn, self._draining = self._conn, None, False
        self._yielded_at = time.monotonic() if yielded else None
        self._cond.notify_all()
        if conn is not None:
            try:
                conn.close()
            except duckdb.Error:
                pass  # a failed checkpoint leaves the WAL, which the next open replays

    def _close_when_idle(self, conn: duckdb.DuckDBPyConnection) -> None:
        with self._cond:
            while self._conn is conn:
                idle_for = time.monotonic() - self._last_used
                if not self._active and idle_for >= IDLE_RELEASE_S:
                    self._release()
                    return
                self._cond.wait(IDLE_RELEASE_S - idle_for if not self._active else IDLE_RELEASE_S)

    def release_idle(self) -> None:
        """Close the file now if no transaction of this store is open (else leave it)."""
        with self._cond:
            if not self._pinned and not self._active:
                self._release()

    def close(self) -> None:
        with self._cond:
            self._release()
            if self._waiters is not None:
                self._waiters.close()
                self._waiters = None


@contextmanager
def holding(path: str, *, timeout_s: float,
            translate: Callable[[duckdb.Error], MOError]) -> Iterator[duckdb.DuckDBPyConnection]:
    """Hold the file (waiting for other processes as a store does) while the context lasts."""
    waiters = WaitersFile(path)
    try:
        conn = connect_waiting(path, timeout_s=timeout_s, waiters=waiters, translate=translate)
        try:
            yield conn
        finally:
            conn.close()
    finally:
        waiters.close()


@dataclass(frozen=True)
class FileContents:
    """What a DuckDB file about to be replaced holds: its tables, and its tenants' slugs (None
    when it has no tenants table, i.e. it is not a mo database)."""

    tables: tuple[str, ...]
    tenants: tuple[str, ...] | None


def replace_file(built: str, target: str, *, timeout_s: float,
                 translate: Callable[[duckdb.Error], MOError],
                 check: Callable[[FileContents], None]) -> None:
    """Move the finished file `built` to `target` (os.replace) while holding `target`, so that no
    process has it open: it waits for other holders like any call, up to `timeout_s`, then
    raises `unavailable` naming the holder. `check` sees what `target` holds and raises to
    refuse. A process that had opened `target` before gets `database_replaced` on its next call
    rather than writing into the new file (see SharedFile)."""
    _checkpointed(built, translate)
    if not os.path.exists(target):
        os.replace(built, target)
        return
    with holding(target, timeout_s=timeout_s, translate=translate) as old:
        try:
            check(_contents(old))
            old.execute("CHECKPOINT")  # nothing of the old file's may stay in a WAL at its path
        except duckdb.Error as exc:
            raise translate(exc) from exc
        os.replace(built, target)
        # Closing the old connection next writes nothing: it checkpointed and holds no changes.


def _contents(conn: duckdb.DuckDBPyConnection) -> FileContents:
    tables = tuple(row[0] for row in conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
        "ORDER BY table_name").fetchall())
    if "tenants" not in tables:
        return FileContents(tables=tables, tenants=None)
    rows = conn.execute("SELECT slug FROM tenants ORDER BY slug").fetchall()
    slugs = tuple(row[0] for row in rows)
    return FileContents(tables=tables, tenants=slugs)


def _checkpointed(path: str, translate: Callable[[duckdb.Error], MOError]) -> None:
    # A file moved without its WAL would lose the WAL's commits: fold it in first.
    if os.path.exists(path + ".wal"):
        try:
            duckdb.connect(path).close()
        except duckdb.Error as exc:
            raise translate(exc) from exc
    if os.path.exists(path + ".wal"):
        raise MOError(ErrorCode.INTERNAL_ERROR, f"{path} still has a write-ahead log",
                      {"file": path})
