"""Scratch folders of `mo serve`: uploads being imported and exports being streamed.

Each lives under one mo-owned folder in the system's temp dir, named `<kind>-<pid>-<random>`
after the server process that made it. A request removes its folder when it is done; a server
that was killed cannot, so every server removes, when it starts, the folders of processes
that no longer run — and only those, as several servers may share the folder.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mo.errors import validation_error

KINDS = ("upload", "export")
_OWNED = re.compile(r"^(?:%s)-(\d+)-" % "|".join(KINDS))
_SURROGATES = re.compile("[\ud800-\udfff]")
MAX_FILE_NAME_BYTES = 255  # what the file systems mo runs on allow for one name
# An export writes "<name>.manifest.json" through a temp file ".<that>.<8 random>.tmp".
MAX_EXPORT_NAME_BYTES = MAX_FILE_NAME_BYTES - len(".manifest.json") - len("..12345678.tmp")


def scratch_root() -> Path:
    """The mo-owned folder under the temp dir (per user, so users cannot block each other)."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    root = Path(tempfile.gettempdir()) / f"mo-scratch-{uid}"
    root.mkdir(mode=0o700, exist_ok=True)
    return root


def new_folder(kind: str, *, root: Path | None = None) -> Path:
    """A fresh private folder owned by this process; the caller removes it (remove_folder)."""
    if kind not in KINDS:
        raise ValueError(f"unknown scratch kind {kind!r}")
    return Path(tempfile.mkdtemp(prefix=f"{kind}-{os.getpid()}-", dir=root or scratch_root()))


def remove_folder(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def scratch_folder(kind: str) -> Iterator[Path]:
    """A fresh folder for the block, removed when it ends, however it ends."""
    folder = new_folder(kind)
    try:
        yield folder
    finally:
        remove_folder(folder)


def remove_stale(*, root: Path | None = None) -> list[Path]:
    """Remove the scratch folders whose owning process is gone; return them.

    A PID reused by a new process keeps its dead predecessor's folders until that one ends too:
    a leftover kept a little longer, never a live request's folder removed.
    """
    removed = []
    for folder in (root or scratch_root()).iterdir():
        owner = _OWNED.match(folder.name)
        if owner and folder.is_dir() and not _running(int(owner.group(1))):
            remove_folder(folder)
            removed.append(folder)
    return removed


def _running(pid: int) -> bool:
    if os.name != "posix":  # os.kill(pid, 0) is no probe elsewhere: keep everything
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    except (OverflowError, ValueError):  # no PID a process can have
        return False
    return True


def file_name(
    name: str | None, *, field: str, default: str, max_bytes: int = MAX_FILE_NAME_BYTES
) -> str:
    """The base name a caller's file is written under in a scratch folder (`default` when the
    caller gave none), so it cannot climb out of the folder.

    Raises validation_error naming `field` for a name no file can have — ".", "..", a NUL, not
    Unicode, longer than max_bytes — rather than failing once the file is opened.
    """
    text = name or ""
    if "\x00" in text:  # pathlib would accept it, open() would not
        raise validation_error(
            f"{field} holds a NUL character", field=field, max_bytes=max_bytes
        )
    base = Path(text).name if text else default
    problem = None
    if base in ("", ".", ".."):  # "/", "." and "a/.." name a folder, not a file
        problem = "is no file name"
    elif _SURROGATES.search(base):
        problem = "is not valid Unicode"
    elif len(base.encode("utf-8")) > max_bytes:
        problem = f"is longer than {max_bytes} bytes"
    if problem:
        raise validation_error(f"{field} {problem}", field=field, max_bytes=max_bytes)
    return base


def export_name(name: str | None, format: str | None) -> str:
    """The file an export is written to (default events.<format>); validation_error naming
    `name` when the export's temp and manifest files beside it could not have a name."""
    return file_name(
        name, field="name", default=f"events.{format or 'csv'}", max_bytes=MAX_EXPORT_NAME_BYTES
    )
