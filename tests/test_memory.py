"""give_back_memory: freed pages go back to the system between an import's phases."""

from __future__ import annotations

import os
import platform

import numpy as np

from mo import memory


def test_glibc_heap_is_trimmed_where_glibc_runs() -> None:
    if platform.libc_ver()[0] != "glibc":
        assert memory._malloc_trim() is None or callable(memory._malloc_trim())
        return
    assert memory._malloc_trim() is not None
    # Many mid-sized blocks (below glibc's mmap threshold, so they live on its heap), freed.
    blocks = [np.ones(16_000, dtype=np.uint8) for _ in range(20_000)]
    held = _rss()
    del blocks
    memory.give_back_memory()
    assert _rss() < held - 200 * 2**20


def _rss() -> int:
    with open("/proc/self/statm") as statm:  # glibc means Linux here
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
