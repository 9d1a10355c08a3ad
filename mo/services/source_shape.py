"""The shape of an imported file, checked before any parser sees it.

A parser's memory and time grow with the shape of what it reads, not only with its size: a
0.6 MB header of 300k columns took a CSV reader to 2.9 GB, and one .xlsx row of 200k cells (a
24 KB file) took openpyxl 85 s. So a price list or recipe file is first measured with cheap,
streaming scans — its longest line, its header's columns, a sheet's declared and real
dimensions — and refused with a validation_error naming what is over which limit
(mo.settings.InputLimits) before pandas, pyarrow or openpyxl build anything.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

import numpy as np

from mo.errors import MOError, validation_error
from mo.settings import InputLimits, load_input_limits

XLSX_MAX_ROWS = 1_048_576  # the format's own limit: a sheet claiming more is not a spreadsheet
_SCAN_CHUNK = 1 << 20
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\b[^>]*\bref="([^"]*)"')
_ROW_OR_CELL = re.compile(rb"<(?:\w+:)?(row|c)[\s/>]")
_CELL_COLUMN = re.compile(rb'<(?:\w+:)?c\s[^>]*?\br="([A-Za-z]+)[0-9]')
_ROW_NUMBER = re.compile(rb'<(?:\w+:)?row\s[^>]*?\br="([0-9]+)"')
_REF_COLUMN = re.compile(r"\$?([A-Za-z]+)\$?[0-9]*$")


@dataclass(frozen=True)
class SheetSize:
    """What a sheet scan found: its widest row (cells or column letters) and its row count."""

    columns: int
    rows: int


def checked_csv(data: bytes, *, limits: InputLimits | None = None) -> bytes:
    """The CSV's bytes, old-Mac CR-only line ends turned into LF; validation_error when a line
    or the header is over the limits. `data` has no BOM (the caller strips it)."""
    limits = limits or load_input_limits()
    if b"\n" not in data and b"\r" in data:
        data = data.replace(b"\r", b"\n")  # classic Mac OS: every reader below wants LF
    longest, line = _longest_line(data)
    if longest > limits.max_line_bytes:
        err = _over("a line of the CSV is too long", "line_bytes", longest, limits.max_line_bytes)
        err.details["line"] = line
        raise err
    end = data.find(b"\n")
    check_header_width(data if end < 0 else data[:end], limits=limits)
    return data


def check_header_width(
    line: bytes, *, delimiter: str = ",", limits: InputLimits | None = None
) -> None:
    """validation_error when a header line (the first, or one found below title lines, with
    its own separator) has more columns than the limit."""
    limits = limits or load_input_limits()
    columns = _header_width(line, delimiter)
    if columns > limits.max_columns:
        raise _over("the CSV has too many columns", "columns", columns, limits.max_columns)


def _longest_line(data: bytes) -> tuple[int, int]:
    """(bytes, 1-based line number) of the longest line, its line end not counted."""
    # numpy finds the line ends in C: a 50 MB list is measured in tens of milliseconds.
    ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == ord("\n"))
    lengths = np.diff(np.concatenate(([-1], ends, [len(data)]))) - 1
    at = int(lengths.argmax())
    return int(lengths[at]), at + 1


def _header_width(line: bytes, delimiter: str = ",") -> int:
    try:
        text = line.decode(errors="replace").rstrip("\r")
        return len(next(csv.reader([text], delimiter=delimiter), []))
    except csv.Error as exc:  # e.g. a lone CR inside the line: the reader cannot split it
        raise validation_error(
            f"the CSV header cannot be read: {exc}", field="source", problem="header"
        ) from exc


def check_xlsx(
    data: bytes, *, sheet: str | int | None = None, limits: InputLimits | None = None
) -> SheetSize:
    """Measure a worksheet of an .xlsx (the first, or `sheet` by name or 0-based position)
    without building it: its declared dimension first, then a streaming scan of its XML that
    stops as soon as a row passes the column cap (a missing or lying dimension tag changes
    nothing). Raises validation_error, naming the sheets there are when `sheet` is not one."""
    limits = limits or load_input_limits()
    try:
        with _first_sheet(data, sheet) as stream:
            return _scan_sheet(_chunks(stream), limits)
    except MOError:
        raise
    except Exception as exc:  # zipfile/openpyxl raise many types for a damaged or foreign file
        raise validation_error(
            f"the .xlsx file cannot be read: {type(exc).__name__}", field="source"
        ) from exc


def _first_sheet(data: bytes, wanted: str | int | None = None) -> IO[bytes]:
    """A worksheet's XML (the first, or the one named or at the position `wanted`), found as
    openpyxl (and so pandas) finds it, unread."""
    from openpyxl.reader.excel import ExcelReader

    # The manifest and workbook parts only: neither the cells nor the shared strings.
    reader = ExcelReader(io.BytesIO(data), read_only=True)
    reader.read_manifest()
    reader.read_workbook()
    sheets = [
        (sheet.name, rel.target)
        for sheet, rel in reader.parser.find_sheets()
        if "chartsheet" not in rel.Type and rel.target in reader.valid_files
    ]
    if not sheets:
        raise validation_error("the .xlsx file has no worksheet", field="source")
    names = [name for name, _ in sheets]
    at = 0 if wanted is None else wanted if isinstance(wanted, int) else (
        names.index(wanted) if wanted in names else -1
    )
    if not 0 <= at < len(sheets):
        raise validation_error(
            f"the .xlsx file has no sheet {wanted!r}", field="sheet", value=wanted, sheets=names
        )
    return reader.archive.open(sheets[at][1])


def _chunks(stream: IO[bytes]) -> Iterator[bytes]:
    """The stream in chunks cut after a tag's end, so no tag is split between two chunks."""
    carry = b""
    while block := stream.read(_SCAN_CHUNK):
        buffer = carry + block
        cut = buffer.rfind(b"<")
        cut = len(buffer) if cut < 0 else cut
        carry = buffer[cut:]
        yield buffer[:cut]
    yield carry


def _scan_sheet(chunks: Iterator[bytes], limits: InputLimits) -> SheetSize:
    widest = rows = run = 0
    for number, chunk in enumerate(chunks):
        if number == 0:
            _check_declared(chunk, limits)
        runs = b"".join(_ROW_OR_CELL.findall(chunk)).split(b"row")
        run += len(runs[0])  # cells continuing the row the last chunk ended in
        counts = [run, *(len(r) for r in runs[1:])]
        run = counts[-1]
        rows += len(runs) - 1
        widest = max(widest, max(counts), _widest_reference(chunk))
        last_row = max((int(n) for n in _ROW_NUMBER.findall(chunk)), default=0)
        if widest > limits.max_columns:
            raise _over("the .xlsx sheet is too wide", "columns", widest, limits.max_columns)
        if (tallest := max(rows, last_row)) > XLSX_MAX_ROWS:
            raise _over("the .xlsx sheet is too long", "rows", tallest, XLSX_MAX_ROWS)
    return SheetSize(columns=widest, rows=rows)


def _check_declared(head: bytes, limits: InputLimits) -> None:
    found = _DIMENSION.search(head)
    if found is None:
        return  # no dimension tag: the scan measures the cells themselves
    declared = found.group(1).decode(errors="replace").split(":")[-1]
    reference = _REF_COLUMN.match(declared)
    columns = _column_number(reference.group(1)) if reference else 0
    if columns > limits.max_columns:
        raise _over(
            "the .xlsx sheet declares too many columns", "columns", columns, limits.max_columns
        )


def _widest_reference(chunk: bytes) -> int:
    """The largest column a cell reference names (A=1): one cell at XFD1 widens the grid."""
    letters = set(_CELL_COLUMN.findall(chunk))
    return max((_column_number(text.decode()) for text in letters), default=0)


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters.upper()[:8]:  # 8 letters already exceed any cap
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


def _over(message: str, what: str, found: int, limit: int) -> MOError:
    return validation_error(
        f"{message}: {found:,} over the limit of {limit:,}",
        field="source",
        problem=f"too many {what}" if what != "line_bytes" else "line too long",
        found=found,
        limit=limit,
        limit_name=what,
    )
