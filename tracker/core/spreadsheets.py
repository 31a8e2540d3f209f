"""Opening an uploaded workbook without letting it take the server down.

An .xlsx file is a zip archive of XML parts. A "spreadsheet bomb" is small on disk (a few hundred
kilobytes) and unpacks to millions of cells; openpyxl would spend minutes and gigabytes building
them. Before openpyxl sees a file, ``open_workbook`` checks, in this order and each cheaply:

1. it is a zip archive whose parts declare at most ``max_unpacked_bytes`` together (the zip's own
   directory, no unpacking);
2. each worksheet's declared dimension (``<dimension ref="A1:T5000"/>``, at the head of the part)
   is within ``max_cells`` and ``max_rows``;
3. streaming through each worksheet part (unpacking 1 MiB at a time, never holding it whole), its
   actual ``<row>`` and ``<c>`` elements are counted, and the reading stops as soon as a limit is
   passed (a file may declare a small dimension and hold more, or declare none); the shared
   strings (which openpyxl reads whole) are counted the same way, at most one per cell allowed.

Only then is the workbook parsed. Every refusal names the limit, in Chinese and English, as a
``ValidationFailed`` with the ``file`` field, like the imports' other whole-file problems.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tracker.core.messages import Message
from tracker.core.validation import Problem, ValidationFailed

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook

CHUNK = 1 << 20
HEAD = 4096  # where a worksheet's root element and dimension are
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z]{1,3})?(\d+)?(?::([A-Z]{1,3})(\d+))?"')


@dataclass(frozen=True)
class SheetLimits:
    """What one uploaded workbook may hold. The defaults fit the official forms and the update
    template of a whole province many times over."""

    max_unpacked_bytes: int = 64 * 2**20
    max_cells: int = 200_000
    max_rows: int = 50_000


FORMS = SheetLimits()
# Claims registry files: 100,000 claims of some twenty columns; larger files come as CSV.
BULK = SheetLimits(max_unpacked_bytes=256 * 2**20, max_cells=2_000_000, max_rows=100_000)


def _refuse(message: Message) -> ValidationFailed:
    return ValidationFailed([Problem("file", message)])


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _declared(head: bytes) -> tuple[int, int] | None:
    """Rows and cells a worksheet declares in its dimension element (None when it declares none)."""
    found = _DIMENSION.search(head)
    if not found or not found.group(4):
        return None
    first_col, first_row, last_col, last_row = found.groups()
    rows = int(last_row) - int(first_row or b"1") + 1
    columns = _column_number(last_col) - _column_number(first_col or b"A") + 1
    return rows, max(rows, 0) * max(columns, 0)


def _counts(
    archive: zipfile.ZipFile, name: str, root: bytes, tags: tuple[bytes, ...]
) -> Iterator[tuple[bytes, list[int]]]:
    """Stream one XML part: after each chunk, the head of the part and how many elements of each
    tag (``b"row"``, ``b"c"``…; with the part's namespace prefix) it has held so far."""
    counts = [0] * len(tags)
    previous = head = b""
    patterns: list[tuple[bytes, ...]] = []
    with archive.open(name) as part:
        while chunk := part.read(CHUNK if patterns else max(CHUNK, HEAD)):  # the head whole, first
            if not patterns:
                head = chunk[:HEAD]
                found = re.search(rb"<(\w+:)?" + root + rb"[\s>]", head)
                prefix = (found.group(1) or b"") if found else b""
                patterns = [(b"<" + prefix + tag + b" ", b"<" + prefix + tag + b">") for tag in tags]
            for index, forms in enumerate(patterns):
                # Over the previous chunk's last bytes too, fewer than the pattern is long: a match
                # split between chunks is counted once, none twice.
                joined = previous[-(len(forms[0]) - 1) :] + chunk
                counts[index] += sum(joined.count(form) for form in forms)
            previous = chunk
            yield head, counts


def _check_sheet(archive: zipfile.ZipFile, name: str, limits: SheetLimits) -> None:
    declared_checked = False
    for head, (rows, cells) in _counts(archive, name, b"worksheet", (b"row", b"c")):
        if not declared_checked:
            declared = _declared(head)
            if declared and (declared[0] > limits.max_rows or declared[1] > limits.max_cells):
                raise _too_many(limits)
            declared_checked = True
        if rows > limits.max_rows or cells > limits.max_cells:
            raise _too_many(limits)


def _check_strings(archive: zipfile.ZipFile, name: str, limits: SheetLimits) -> None:
    """Shared strings are read whole by openpyxl: at most one per cell allowed."""
    for _head, (strings,) in _counts(archive, name, b"sst", (b"si",)):
        if strings > limits.max_cells:
            raise _too_many(limits)


def _too_many(limits: SheetLimits) -> ValidationFailed:
    return _refuse(
        Message(
            "表格过大：每个文件最多{max_rows:,}行、{max_cells:,}个单元格，请拆分后分批导入",
            max_rows=limits.max_rows,
            max_cells=limits.max_cells,
        ),
    )


def check_workbook(content: bytes, limits: SheetLimits = FORMS) -> None:
    """Refuse a file that is not a zip archive or would unpack beyond the limits (see above)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, ValueError):
        raise _refuse(Message("无法读取：不是有效的 Excel（.xlsx）文件")) from None
    with archive:
        parts = archive.infolist()
        if sum(p.file_size for p in parts) > limits.max_unpacked_bytes:
            mib = limits.max_unpacked_bytes // 2**20
            raise _refuse(
                Message("文件解压后超过{mib}MB，可能不是正常的填报表格，请检查后重新导出", mib=mib),
            )
        try:
            for part in parts:
                if part.filename.startswith("xl/worksheets/") and part.filename.endswith(".xml"):
                    _check_sheet(archive, part.filename, limits)
                elif part.filename == "xl/sharedStrings.xml":
                    _check_strings(archive, part.filename, limits)
        except (zipfile.BadZipFile, OSError, EOFError, RuntimeError):  # damaged or encrypted parts
            raise _refuse(Message("无法读取：不是有效的 Excel（.xlsx）文件")) from None


def open_workbook(content: bytes, limits: SheetLimits = FORMS, *, read_only: bool = False) -> Workbook:
    """The workbook, parsed only after ``check_workbook`` passed it; formulas give their saved
    values, never run."""
    check_workbook(content, limits)
    import openpyxl  # here: importing it costs a fifth of a second a bomb need not pay

    try:
        return openpyxl.load_workbook(io.BytesIO(content), read_only=read_only, data_only=True)
    except Exception:  # openpyxl raises many kinds of error for a file that is not a workbook
        raise _refuse(Message("无法读取：不是有效的 Excel（.xlsx）文件")) from None
