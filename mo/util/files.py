"""Export files on the caller's disk: where one may go, its format, and writing it atomically.

LocalClient's export service and HttpClient (which writes the file the server streams) share
these, so both clients refuse the same paths and leave the same files. Nothing here imports the
store, the services or a driver.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from mo.errors import validation_error

FORMATS = {".csv": "csv", ".jsonl": "jsonl"}


def resolve_target(
    path: str | os.PathLike[str], *, base_dir: str | os.PathLike[str] | None
) -> Path:
    """The absolute, symlink-free export path. Raises validation_error when it escapes
    `base_dir`, is a directory, or its folder does not exist."""
    target = Path(os.fspath(path)).resolve()
    if base_dir is not None:
        base = Path(os.fspath(base_dir)).resolve()
        if target == base or not target.is_relative_to(base):
            # Not naming base_dir: under `mo serve` it is a scratch folder on the server.
            raise validation_error("the export path is outside the allowed directory",
                                   field="path", path=os.fspath(path))
    if target.is_dir():
        raise validation_error("the export path is a directory", field="path", path=os.fspath(path))
    if not target.parent.is_dir():
        raise validation_error(
            "the export path's folder does not exist", field="path", path=os.fspath(path)
        )
    return target


def pick_format(target: Path, fmt: str | None) -> str:
    """"csv" or "jsonl", from `fmt` or else the path's suffix. Raises validation_error."""
    if fmt is None:
        fmt = FORMATS.get(target.suffix.lower())
    if fmt not in FORMATS.values():
        raise validation_error('the format is "csv" or "jsonl" (or a .csv/.jsonl path)',
                               field="format", value=fmt, path=target.name)
    return fmt


@contextmanager
def atomic_file(target: Path) -> Iterator[IO[bytes]]:
    """A temp file beside `target` that replaces it only when the block succeeds (fsynced
    first, so a crash never leaves a torn file under the final name)."""
    handle = tempfile.NamedTemporaryFile(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp", delete=False
    )
    try:
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, target)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
