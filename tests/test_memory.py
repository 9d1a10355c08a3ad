"""give_back_memory: freed pages go back to the system between an import's phases."""

from __future__ import annotations

import os
import platform

import numpy as np

from mo.util import memory


def test_malloc_trim_is_found_exactly_where_glibc_runs() -> None:
    # Only glibc has malloc_trim (musl and macOS have none): found on glibc, None elsewhere.
    assert (memory._malloc_trim() is not None) == (platform.libc_ver()[0] == "glibc")


def test_freed_heap_pages_go_back_to_the_system() -> None:
    if platform.libc_ver()[0] != "glibc":
        return  # elsewhere there is nothing to trim (the test above checks it is not tried)
    # Mid-sized blocks (below glibc's mmap threshold, so they live on its heap), each followed
    # by a small block that stays: freeing the big ones leaves holes inside the heap, which
    # glibc keeps mapped on free() (it returns only the heap's free top by itself). Only
    # malloc_trim hands those pages back, so this fails if give_back_memory skips it.
    # The pins are big too: small ones fit in holes that earlier tests left in this process's
    # heap (seen under pytest -n), which leaves the big blocks contiguous at the heap's top,
    # where free() alone returns them and the test proves nothing.
    blocks, pins = [], []
    for _ in range(5_000):
        blocks.append(np.ones(64_000, dtype=np.uint8))
        pins.append(np.ones(32_000, dtype=np.uint8))
    held = _rss()
    del blocks
    freed_by_free = held - _rss()
    memory.give_back_memory()
    assert freed_by_free < 50 * 2**20, "free() returned the pages itself: this test proves nothing"
    assert _rss() < held - 200 * 2**20
    del pins


def _rss() -> int:
    with open("/proc/self/statm") as statm:  # glibc means Linux here
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
