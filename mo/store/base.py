"""The narrow store interface every backend implements.

A transaction (Tx) runs named queries from the sql/ catalog with named parameters, and bulk-loads
a DataFrame into a table. Nothing else crosses this line: dialect differences stay below it.
"""

from __future__ import annotations

import random
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, TypeVar

import pandas as pd

from mo.errors import ErrorCode, MOError

T = TypeVar("T")
Params = Mapping[str, Any] | None
Row = dict[str, Any]

# A write that lost a race is retried this many times before the caller sees `unavailable`.
MAX_ATTEMPTS = 8


class Tx(ABC):
    """One open transaction. Queries are catalog names such as "ingredients.by_key"."""

    dialect: str

    @abstractmethod
    def all(self, query: str, params: Params = None) -> list[Row]: ...

    @abstractmethod
    def run(self, query: str, params: Params = None) -> int:
        """Execute a statement; return the rows it changed where the driver knows, else -1."""

    @abstractmethod
    def load(self, table: str, frame: pd.DataFrame) -> int:
        """Bulk-load a DataFrame's columns into the same-named columns of `table`."""

    @abstractmethod
    def script(self, sql_text: str) -> None:
        """Run a multi-statement script (migrations only)."""

    @abstractmethod
    def arrow(self, query: str, params: Params = None) -> Any:
        """The result as a pyarrow Table: the fast path for large reads and exports."""

    # Hooks for what one engine needs done and the other does by itself. A service calls them
    # where the work is needed; a store with nothing to do returns at once (no placeholder SQL).

    @abstractmethod
    def create_temp_table(self, query: str) -> None:
        """Run the named ``CREATE TEMP TABLE`` statement so that the table is fresh, empty and
        lasts for this transaction only: gone at commit or rollback, replaced if it exists."""

    @abstractmethod
    def open_work_tables(self, queries: Sequence[str]) -> None:
        """Fresh, empty temporary tables from the named blocks of ``CREATE TEMP TABLE``
        statements (a block this dialect's catalog lacks creates nothing), in one round trip.
        Their rows last for this transaction only; an engine may keep the empty tables for the
        connection's next transaction where creating them costs catalog writes."""

    @abstractmethod
    def analyze(self, tables: Sequence[str], *, staging: bool = False) -> None:
        """Fresh planner statistics for `tables`, so the joins that follow are planned for their
        real size. staging=True: this transaction's temporary tables, sampled lightly; else
        shared tables, analysed as their owner. Engines that keep statistics as they load do
        nothing."""

    @abstractmethod
    def plan_for_whole_tables(self) -> None:
        """The rest of this transaction reads whole tables of a tenant: plan hash joins whatever
        the statistics say (engines that always do, do nothing)."""

    @abstractmethod
    def act_for_tenant(self, tenant_id: str) -> None:
        """The rest of a transaction opened without a tenant acts for `tenant_id` (the one it has
        just created), as far as row-level security is concerned."""

    @abstractmethod
    def lock_migrations(self) -> None:
        """Hold, to the end of this transaction, the lock that lets concurrent migration runners
        apply each version once."""

    def one(self, query: str, params: Params = None) -> Row | None:
        rows = self.all(query, params)
        return rows[0] if rows else None

    def scalar(self, query: str, params: Params = None) -> Any:
        row = self.one(query, params)
        return None if row is None else next(iter(row.values()))


class Store(ABC):
    dialect: str
    url: str

    @abstractmethod
    def transaction(self, *, tenant_id: str | None = None) -> AbstractContextManager[Tx]:
        """A transaction; on PostgreSQL it also sets app.tenant_id for row-level security."""

    @abstractmethod
    def close(self) -> None: ...

    def atomic(self, work: Callable[[Tx], T], *, tenant_id: str | None = None) -> T:
        """Run `work` in one transaction, retrying it when it lost a write-write race.

        The first attempt runs alongside everything else. A retry waits for the store's retry
        gate, so writers that lost a race re-run one at a time instead of colliding again:
        32 threads writing one row used to leave most of them out of attempts.
        """
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                if attempt == 1:
                    return self._attempt(work, tenant_id)
                with self._retry_gate():
                    return self._attempt(work, tenant_id)
            except MOError as err:
                if not _is_race(err) or attempt == MAX_ATTEMPTS:
                    raise
                # Full jitter, so that losers from other processes (PostgreSQL) do not restart
                # in lockstep either; at most 2.3 s of sleep over all attempts.
                time.sleep(random.uniform(0.0, min(1.0, 0.01 * 2**attempt)))
        raise AssertionError("unreachable")

    def _attempt(self, work: Callable[[Tx], T], tenant_id: str | None) -> T:
        with self.transaction(tenant_id=tenant_id) as tx:
            return work(tx)

    def _retry_gate(self) -> AbstractContextManager[bool]:
        # Re-entrant: a retried call may itself call atomic. dict.setdefault is atomic, so two
        # first retries agree on one gate without a lock of their own.
        return self.__dict__.setdefault("_retry_gate_lock", threading.RLock())

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _is_race(err: MOError) -> bool:
    return err.code is ErrorCode.UNAVAILABLE and err.details.get("reason") == "transaction_conflict"


def transaction_conflict(exc: BaseException) -> MOError:
    err = MOError(
        ErrorCode.UNAVAILABLE,
        "the write lost a race with a concurrent transaction; retry it",
        {"reason": "transaction_conflict"},
    )
    err.__cause__ = exc
    return err


def rows_from(columns: list[str], records: Iterator[tuple[Any, ...]]) -> list[Row]:
    return [dict(zip(columns, record)) for record in records]
