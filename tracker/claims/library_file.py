"""Reading a reference-library file (tracker.claims.library_import): its rows as text, the header by
column name (English or Chinese), and cells as numbers or texts, every problem with its row (the
header is row 1) and column letter."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from openpyxl.utils import get_column_letter

from tracker.claims.library import FIELD_ZH, FIGURE_LIMIT, LibraryProblem
from tracker.core.messages import Listed, Message
from tracker.core.spreadsheets import FORMS, SheetLimits, open_workbook
from tracker.core.validation import (
    CONTROL_MESSAGE,
    Problem,
    ValidationFailed,
    clean_text,
    has_control_characters,
)

LIMIT = FIGURE_LIMIT
TEXT_LIMITS = {"declared_unit": 64, "confidence": 64, "scope": 64, "kind": 200, "unit": 64, "name": 200,
               "accreditation_no": 64}  # fmt: skip
Columns = dict[str, tuple[bool, tuple[str, ...]]]  # column → (required, other headers meaning it)


def read_library_table(content: bytes, filename: str) -> list[list[str]]:
    """The rows of a CSV (UTF-8, or GB18030 as Excel saves it on Chinese Windows) or of an XLSX's
    first sheet, as text."""
    if filename.lower().endswith(".xlsx"):
        return xlsx_rows(content)
    if not filename.lower().endswith(".csv"):
        raise ValidationFailed([Problem("file", Message("仅支持 CSV 或 XLSX 文件"))])
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        return [[clean_text(cell) for cell in row] for row in csv.reader(io.StringIO(text))]
    raise ValidationFailed([Problem("file", Message("无法识别 CSV 文件的编码"))])


def xlsx_rows(content: bytes, limits: SheetLimits = FORMS) -> list[list[str]]:
    """The first sheet's cells as text (dates as YYYY-MM-DD); formulas give their saved value, never
    run. A file beyond ``limits`` is refused before it is parsed (tracker.core.spreadsheets)."""
    book = open_workbook(content, limits, read_only=True)
    if not book.worksheets:
        raise ValidationFailed([Problem("file", Message("不是有效的 Excel 文件（.xlsx）"))])
    sheet = book.worksheets[0]
    return [[cell.date().isoformat() if isinstance(cell, dt.datetime) else clean_text(cell) for cell in row]
            for row in sheet.iter_rows(values_only=True)]  # fmt: skip


@dataclass
class FileRow:
    """One row of the file: its number (the header is 1), its cells by column name, and each
    column's letter, so a problem can say where it is."""

    number: int
    values: dict[str, str]
    letters: dict[str, str]

    def get(self, column: str) -> str:
        return self.values.get(column, "")

    def problem(self, column: str, message: Message) -> Problem:
        letter = self.letters.get(column)
        return LibraryProblem(
            column, message, row=self.number, column=f"{letter}（{column}）" if letter else column
        )


def read_header(rows: list[list[str]], columns: Columns, warnings: list[Message]) -> dict[str, int]:
    """Column name → index; a missing required column refuses the file."""
    if not rows:
        raise ValidationFailed([Problem("file", Message("文件是空的"))])
    names = {alias.lower(): name for name, (_req, aliases) in columns.items() for alias in (name, *aliases)}
    header: dict[str, int] = {}
    unknown = []
    for index, text in enumerate(rows[0]):
        name = names.get(text.lower())
        if name and name not in header:
            header[name] = index
        elif text:
            unknown.append(text)
    missing = [name for name, (required, _aliases) in columns.items() if required and name not in header]
    if missing:
        named = "、".join(f"{name}（{FIELD_ZH[name]}）" if name in FIELD_ZH else name for name in missing)
        raise ValidationFailed([Problem("file", Message("缺少必填列：{named}", named=named, join_missing=', '.join(missing)), row=1)])  # fmt: skip
    if unknown:
        warnings.append(Message("已忽略未知列：{columns}", columns=Listed(unknown)))
    return header


def file_rows(rows: list[list[str]], header: dict[str, int]) -> list[FileRow]:
    letters = {name: get_column_letter(index + 1) for name, index in header.items()}
    return [FileRow(number, {name: raw[i] if i < len(raw) else "" for name, i in header.items()}, letters)
            for number, raw in enumerate(rows[1:], start=2) if any(raw)]  # fmt: skip


def read_number(row: FileRow, column: str, problems: list[Problem], places: int) -> Decimal | None:
    """A required number of at most ``places`` decimals (what the column stores, so a re-import of
    the same figure is unchanged, not rounded into a new version)."""
    text = row.get(column).replace(",", "").replace("，", "")
    if not text:
        problems.append(row.problem(column, Message("必填项为空")))
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        problems.append(row.problem(column, Message("“{text}”不是数字", text=text)))
        return None
    if not value.is_finite() or abs(value) >= LIMIT:
        problems.append(row.problem(column, Message("“{text}”不是可用的数值", text=text)))
        return None
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        problems.append(
            row.problem(column, Message("“{text}”最多保留{places}位小数", text=text, places=places))
        )
        return None
    return value


def control_problems(rows: list[FileRow]) -> list[Problem]:
    """A problem for every cell holding NUL or another control character (row and column named)."""
    return [row.problem(column, CONTROL_MESSAGE) for row in rows for column, text in row.values.items()
            if has_control_characters(text)]  # fmt: skip


def read_texts(row: FileRow, columns: tuple[str, ...], problems: list[Problem]) -> dict[str, str]:
    """The non-empty optional texts of a row, each within its column's length."""
    found = {}
    for column in columns:
        text = row.get(column)
        limit = TEXT_LIMITS.get(column)
        if limit and len(text) > limit:
            problems.append(row.problem(column, Message("超过{limit}个字符", limit=limit)))
        elif text:
            found[column] = text
    return found


def read_key(row: FileRow, column: str, seen: dict[str, int], problems: list[Problem]) -> str:
    """The row's key, with a problem if it is empty or an earlier row has it."""
    key = row.get(column)
    if not key:
        problems.append(row.problem(column, Message("必填项为空")))
    elif key in seen:
        problems.append(row.problem(column, Message("与第{value}行重复", value=seen[key])))
    else:
        seen[key] = row.number
    return key
