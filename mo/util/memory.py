"""Handing freed memory back to the system between the phases of a large job.

Reading a 1M-row price list frees a few hundred MB before the database phase starts, but both
Arrow's pool and glibc's malloc keep freed pages for reuse, so the process's RSS
(its peak is a benchmark target) would carry them through the import. Dask's workers trim
glibc's heap the same way.
"""

from __future__ import annotations

import ctypes
import functools
from typing import Any

import pyarrow as pa


def give_back_memory() -> None:
    """Return freed memory held by Arrow's pool and by glibc's malloc to the system."""
    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Any:
    # Only glibc has malloc_trim; elsewhere (musl, macOS) freed memory simply stays mapped.
    # CDLL(None): the symbols already loaded into this process, the C library's among them.
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
