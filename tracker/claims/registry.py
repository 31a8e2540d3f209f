"""The claims registry: reading the exchange file (DOMAIN.md §9, CSV or XLSX, or PACT JSON) into
claim versions, at bulk speed.

All or nothing: every problem is listed with its row (the file's line, the header being row 1) and
column, and nothing is written unless there is none. Unknown extra columns are ignored with a
warning; a missing required column rejects the file. Re-importing a ``claim_id`` with different
content adds a version (the earlier ones stay); the same content adds nothing, so the same file
twice changes nothing. A value that is wrong for the regulator (an invalid credit code, a figure
out of range) is a finding for the rules, not an import error: only what cannot be read, or cannot
be true of any claim (a negative amount, a period ending before it starts), is refused.

The checks run column by column (pandas over Arrow-read text), a slice of rows at a time, and the
versions are written in bulk by a second thread while the next slice is checked, all in the one
transaction (a problem found late rolls back what was written), so a file of a million claims
imports in seconds. The import itself is the audited act: one
``ClaimImport`` row (who, when, the file's SHA-256, the counts) and one audit event, and every
version written points at its import.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import io
import itertools
import queue
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TypeVar, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from openpyxl.utils import get_column_letter
from sqlalchemy import Connection, Row, Table, func, select, text, update
from sqlalchemy.orm import Session

from tracker.access.permissions import Level, may_act, visible_cities
from tracker.claims.cells import dates, numbers
from tracker.claims.exchange import (
    BOUNDARIES,
    COLUMN_OF,
    DATES,
    HEADERS,
    KEY_LENGTH,
    LABELS,
    LIMIT,
    LIMITS,
    NUMBERS,
    REQUIRED,
    SIGNED,
    TEXTS,
    UNIT_OF,
    UNITS,
    header_key,
    header_unit_agrees,
)
from tracker.claims.library_file import xlsx_rows
from tracker.claims.pact import PactFile, pact_rows, read_pact
from tracker.claims.pact_versions import link_columns, organisation_codes, plan_retirements, retire
from tracker.core.db import one_of, utcnow
from tracker.core.messages import Listed, Message
from tracker.core.spreadsheets import BULK
from tracker.core.validation import (
    CONTROL_MESSAGE,
    CONTROL_PATTERN,
    Problem,
    ValidationFailed,
    clean_text,
)
from tracker.models import City, Claim, ClaimImport, Organisation, Pilot, Product, User

HASH_KEY = "cfp-claims-hash1"  # 16 bytes: the key of the content hash (changing it re-versions every claim)
CHUNK = 5000  # keys or ids per IN (...) list
LOOKUP = 100_000  # keys or ids per one_of() parameter
T = TypeVar("T")
LINKS = (
    "pact_status",
    "preceding",
    "superseded_by",
)  # PACT's version links: left out of a spreadsheet's INSERT


@dataclass
class ClaimImportResult:
    new: int = 0
    new_versions: int = 0
    unchanged: int = 0
    retired: int = (
        0  # PACT: claims taken out of force (Deprecated, or replaced by a footprint's precedingPfIds)
    )
    warnings: list[Message] = field(default_factory=list)
    dry_run: bool = False
    import_id: int | None = None

    @property
    def summary(self) -> Message:
        """What the import did, in the reader's language."""
        retired = Message("；{n}条已废止或被取代，不再计为现行声明", n=self.retired) if self.retired else ""
        return Message("{head}新增声明{new}条，更新为新版本{versions}条，{unchanged}条与现有版本一致未改动{retired}",
                       head=Message("检查通过（未写入）：") if self.dry_run else "", new=self.new,
                       versions=self.new_versions, unchanged=self.unchanged, retired=retired)  # fmt: skip


# --- reading -----------------------------------------------------------------------------------------


def read_table(content: bytes, filename: str, city: str | None = None) -> pd.DataFrame:
    """The file's cells as text, one column per file column (numbered from 0), the header included
    as the first row: CSV (UTF-8 with or without BOM, or GB18030/GBK as Excel saves it on Chinese
    Windows), the first sheet of an XLSX, or a PACT ProductFootprint JSON list mapped onto the
    exchange columns (``city`` for all of them)."""
    return _read(content, filename, city)[0]


def _read(content: bytes, filename: str, city: str | None = None) -> tuple[pd.DataFrame, bool]:
    """``read_table``, and whether Arrow read the file's own bytes (a UTF-8 CSV), so that what its
    bytes hold (``_csv_bytes``) is what its cells hold."""
    name = filename.lower()
    if name.endswith(".xlsx"):
        return _frame(xlsx_rows(content, BULK)), False
    if name.endswith(".json"):
        return _frame(pact_rows(content, city)), False
    return _csv_table(content)


BOM = b"\xef\xbb\xbf"


def _csv_table(content: bytes) -> tuple[pd.DataFrame, bool]:
    """A CSV's cells: Arrow reads a regular UTF-8 file; otherwise the text is decoded (UTF-8, else
    GB18030, else refused) and a GB18030 file read by Arrow as UTF-8 (the decoded text and its UTF-8
    copy are the only extra memory, a few times the file), a ragged one the careful way."""
    try:
        return _arrow_csv(content.removeprefix(BOM)), True
    except (pa.ArrowInvalid, ValueError):  # ragged rows, blank lines, not UTF-8: look closer
        pass
    text, encoding = _decoded(content)
    if encoding == "gb18030":
        try:
            return _arrow_csv(text.encode("utf-8")), False
        except (pa.ArrowInvalid, ValueError):
            pass
    return _frame([list(row) for row in csv.reader(io.StringIO(text))]), False


def _decoded(content: bytes) -> tuple[str, str]:
    """The text and its encoding: UTF-8 when it has the BOM (Excel's "CSV UTF-8") or decodes as
    UTF-8; else GB18030 (a superset of GBK and GB2312, Excel's "CSV" on Chinese Windows)."""
    encodings = ("utf-8",) if content.startswith(BOM) else ("utf-8", "gb18030")
    for encoding in encodings:
        try:
            return content.removeprefix(BOM).decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    message = Message(
        "文件既不是 UTF-8 也不是 GB18030（GBK）编码的 CSV，请在 Excel 中另存为“CSV UTF-8（逗号分隔）”"
    )
    raise ValidationFailed([Problem("file", message)])


def _arrow_csv(content: bytes) -> pd.DataFrame:
    """A regular CSV (every row as wide as the header) read by Arrow, in parallel: all cells as
    text (large strings, as pandas holds them: no cast of every column's offsets). A quoted line
    break or a ragged row makes Arrow refuse; the caller then reads the slow way."""
    width = len(next(csv.reader(io.StringIO(content[: content.find(b"\n") + 1 or None].decode("utf-8"))), []))
    if not width:
        raise ValueError("empty")
    table = pacsv.read_csv(
        io.BytesIO(content),
        read_options=pacsv.ReadOptions(column_names=[str(i) for i in range(width)], block_size=1 << 22),
        parse_options=pacsv.ParseOptions(ignore_empty_lines=False),
        convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(map(str, range(width)), pa.large_string()),
                                             strings_can_be_null=False, quoted_strings_can_be_null=False),
    )  # fmt: skip
    frame = table.to_pandas()
    frame.columns = range(width)
    return frame


def _frame(rows: list[list[str]]) -> pd.DataFrame:
    width = max((len(row) for row in rows), default=0)
    return pd.DataFrame(
        [[*row, *[""] * (width - len(row))] for row in rows], columns=range(width), dtype=object
    )


def _as_text(column: pd.Series) -> pd.Series:
    """A column Arrow read as text, as ``_strip`` returns it when there is nothing to trim."""
    return column.fillna("").astype(str)


def _strip(column: pd.Series) -> pd.Series:
    """clean_text over a column: trimmed of half- and full-width spaces, CR LF as LF."""
    text = column.fillna("").astype(str)
    if text.str.contains("\r", regex=False).any():
        text = text.str.replace("\r\n", "\n", regex=False)
    return text.str.strip(" \t\n\r\u3000\u00a0")


# --- checking ------------------------------------------------------------------------------------------


class _Checker:
    """Column-wise checks of the data rows; every problem keeps its row (file line, header = 1),
    its column letter and header as written (``spots``), and the order of the checks."""

    def __init__(self, cells: pd.DataFrame, rows: np.ndarray, spots: Mapping[str, str]) -> None:
        self.cells, self.rows, self.spots = cells, rows, spots
        self.found: list[tuple[int, int, Problem]] = []

    def add(self, column: str, mask: pd.Series | np.ndarray, message: Message) -> None:
        """A problem for each row where ``mask`` holds; ``{value}`` in the message is the cell's text."""
        hits = np.flatnonzero(np.asarray(mask, dtype=bool))
        values = (
            self.cells[column].iloc[hits].tolist() if len(hits) and column in self.cells else [""] * len(hits)
        )
        for index, value in zip(hits, values, strict=True):
            text = str(value)
            self.add_one(column, int(index), message.with_params(value=text))

    def add_one(self, column: str, index: int, message: Message) -> None:
        row, spot = int(self.rows[index]), self.spots[column]
        self.found.append((row, len(self.found), Problem(column, message, row=row, column=spot)))

    def problems(self) -> list[Problem]:
        return [problem for _, _, problem in sorted(self.found, key=lambda item: (item[0], item[1]))]


def _typed(cells: pd.DataFrame, rows: np.ndarray, spots: Mapping[str, str], cities: dict[str, City],
           repeats: np.ndarray) -> tuple[pd.DataFrame, _Checker]:  # fmt: skip
    """The data rows as typed claim values (NaN/None where empty), and the checker holding what
    cannot be read; ``repeats`` holds, for a claim id repeated in the file, the row it first came in."""
    check = _Checker(cells, rows, spots)
    typed = pd.DataFrame(index=cells.index)
    keys = cells["claim_id"]
    check.add("claim_id", keys.str.len() > KEY_LENGTH, Message("超过{key_length}个字符", key_length=KEY_LENGTH))  # fmt: skip
    for index in np.flatnonzero(repeats):
        check.add_one(
            "claim_id", int(index), Message("与第{value}行的 claim_id 重复", value=int(repeats[index]))
        )
    for column in REQUIRED:
        if column not in NUMBERS and column not in DATES:
            check.add(column, cells[column] == "", Message("必填项为空"))
    for column, limit in TEXTS.items():
        text = cells[column] if column in cells else pd.Series("", index=cells.index)
        check.add(column, text.str.len() > limit, Message("超过{limit}个字符", limit=limit))  # fmt: skip
        typed[column] = text.where(text != "", None)
    city_text = cells["city"]
    city_ids = {name: c.id for name, c in cities.items()}
    typed["city_id"] = (  # one type whatever the other rows hold (the content hash reads it)
        _lookup(city_text, city_ids)
        .fillna(_lookup(city_text.str.removesuffix("市"), city_ids))
        .astype("Int64")
    )
    check.add("city", (city_text != "") & typed["city_id"].isna(), Message("“{value}”不是本省的城市"))  # fmt: skip
    for column, choices, shown in (
        ("declared_unit", UNITS, "t、kg、kWh、m3、L、瓶(500mL)、kWp、件"),
        ("boundary", BOUNDARIES, "从摇篮到大门、从摇篮到坟墓、从大门到大门"),
        ("label_type", LABELS, "自我声明、第三方认证、碳中和"),
    ):
        plain = {key: str(getattr(value, "value", value)) for key, value in choices.items()}
        typed[column] = _lookup(cells[column].str.lower().str.replace(" ", "", regex=False), plain)
        check.add(column, (cells[column] != "") & typed[column].isna(), Message("“{value}”不是可识别的取值（{shown}）", shown=shown))  # fmt: skip
    for column, key in NUMBERS.items():
        typed[key] = _number_column(check, column, cells)
    for column in DATES:
        typed[column] = _date_column(check, column, cells)
    for column in ("footprint_kgco2e", "period_start", "period_end", "published_on"):
        check.add(column, cells[column] == "", Message("必填项为空"))
    check.add("period_end", typed["period_end"] < typed["period_start"], Message("数据期截止日“{value}”早于开始日"))  # fmt: skip
    return typed, check


def _number_column(check: _Checker, column: str, cells: pd.DataFrame) -> pd.Series:
    """One number column's values (NaN where empty or refused), its problems in ``check``."""
    text = cells[column] if column in cells else pd.Series("", index=cells.index)
    value, other_unit = numbers(text, UNIT_OF[column])
    check.add(column, (text != "") & value.isna(), Message("“{value}”不是数字"))
    check.add(column, other_unit, Message("“{value}”的单位不是本列的{unit}", unit=UNIT_OF[column]))
    unusable = value.notna() & ~(value.abs() < LIMITS.get(column, LIMIT))
    check.add(column, unusable & ~other_unit, Message("“{value}”不是可用的数值"))
    if column not in SIGNED:
        check.add(column, (value < 0) & ~other_unit, Message("“{value}”为负数，此项不能为负"))
    return value.where(value.notna() & ~unusable & ~other_unit)


def _date_column(check: _Checker, column: str, cells: pd.DataFrame) -> pd.Series:
    """One date column's values (NaT where empty or refused), its problems in ``check``."""
    text = cells[column] if column in cells else pd.Series("", index=cells.index)
    value, no_such_day = dates(text)
    check.add(column, no_such_day, Message("“{value}”不是存在的日期"))
    check.add(column, (text != "") & value.isna() & ~no_such_day, NOT_A_DATE)
    return value


NOT_A_DATE = Message(
    "“{value}”不是日期（可写作 2025-06-28、2025/6/28、2025.6.28、2025年6月28日，或 Excel 日期序号）"
)


def _lookup(text: pd.Series, mapping: Mapping[str, object]) -> pd.Series:
    """``text`` mapped through ``mapping`` (NaN where absent): Arrow finds each cell's key among the
    mapping's (a hash probe in C++, no Python per distinct value); integer values come back as
    floats (NaN where absent), others as objects."""
    values = list(mapping.values())
    where = pc.index_in(pa.array(text, type=pa.string(), from_pandas=True),
                        value_set=pa.array(list(mapping), type=pa.string()))  # fmt: skip
    where = pc.fill_null(where, len(values)).to_numpy(zero_copy_only=False)
    if all(type(value) is int for value in values):
        return pd.Series(np.array([*values, np.nan], dtype="float64")[where], index=text.index)
    return pd.Series(np.array([*values, None], dtype=object)[where], index=text.index).infer_objects()


def _content_hashes(typed: pd.DataFrame) -> pd.Series:
    """A keyed 64-bit hash of each claim's values: the same content, however formatted in the file
    (1.50 or 1.5, 市 or not), hashes the same. Only versions of one claim are compared, so 64 bits
    leave no practical chance of a change going unnoticed."""
    hashes = pd.util.hash_pandas_object(typed, index=False, hash_key=HASH_KEY).to_numpy()
    return pd.Series(hashes.astype(str), index=typed.index, dtype=object)  # decimal digits, at C speed


# --- importing ------------------------------------------------------------------------------------------


def import_claims(session: Session, user: User, content: bytes, filename: str, *, dry_run: bool = False,
                  source: str | None = None, city: str | None = None,
                  credit_code: str | None = None) -> ClaimImportResult:  # fmt: skip
    """Import an exchange file (or PACT JSON, whose claims are all of ``city``; ``credit_code`` for a
    one-company PACT file whose ``companyIds`` hold none) as the user: every row of a city the user
    may act for, or nothing. One ``ClaimImport`` records the act; every version written points at it.

    The rows are checked slice by slice (``SLICE_ROWS``); while one slice is checked, the slice
    before it is being written (``_Writer``, in the same transaction), so that the database never
    waits for the checks. A problem anywhere stops the writing, the remaining slices are still
    checked so that every problem is listed, and the transaction is rolled back: nothing is stored."""
    result = ClaimImportResult(dry_run=dry_run)
    digest = None if dry_run else _meanwhile(lambda: hashlib.sha256(content).hexdigest())
    pact = _read_pact(session, user, content, filename, city, credit_code)
    plain_csv = pact is None and not filename.lower().endswith((".xlsx", ".json"))
    scanned = _meanwhile(lambda: _csv_bytes(content)) if plain_csv else None
    table, own_bytes = (_frame(pact.rows), False) if pact is not None else _read(content, filename, city)
    if table.empty:
        raise ValidationFailed([Problem("file", Message("文件是空的"))])
    header = _header(list(table.iloc[0]), result)
    # A UTF-8 CSV whose bytes hold no space, tab or CR at a cell's edge needs no trim (one pass over
    # the bytes instead of one per column); its bytes also tell whether a control character is there.
    controls, untrimmed = (
        scanned() if own_bytes and scanned else (_may_hold_controls(content, filename), True)
    )
    trim = _strip if untrimmed else _as_text
    cells = pd.DataFrame({name: trim(table[index].iloc[1:]) for name, index in header.index.items()})
    del table
    filled = (cells != "").any(axis=1).to_numpy()
    rows = np.arange(2, len(filled) + 2)[filled]
    # blank lines left out (a copy of every column only then); numbered from 0 either way
    cells = (cells[filled] if not filled.all() else cells).reset_index(drop=True)
    cities = {name: c for c in session.scalars(visible_cities(user)) for name in (c.short_zh, c.name_zh)}
    allowed = {c.id for c in cities.values() if may_act(user, Level.EITHER, c)}
    context = _Context(header, cities, allowed, controls, _repeats(cells["claim_id"], rows),
                       _current_versions(session, cells["claim_id"]), pact)  # fmt: skip
    record = None if digest is None else _new_record(session, user, digest(), filename, source, len(cells))
    writer = None if record is None else _Writer(session, record, _Links.of(session))
    problems: list[Problem] = []
    plan = None
    try:
        for part in _slices(len(cells), whole=pact is not None):  # a PACT file is planned whole
            start = part.start
            typed, found = _checked(context, cells.iloc[part].reset_index(drop=True), rows[part], start)
            if pact is not None:
                plan = plan_retirements(session, pact, typed, rows[part], allowed)
                found = pact.located(found, plan.problems)
                typed = typed.assign(is_current=plan.current, superseded_by=plan.superseded_by)
                result.warnings += pact.warnings
                result.retired = plan.count
            problems += found
            fresh = typed["stored_hash"].isna()
            changed = ~fresh & (typed["stored_hash"] != typed["content_hash"])
            result.new += int(fresh.sum())
            result.new_versions += int(changed.sum())
            result.unchanged += len(typed) - int(fresh.sum()) - int(changed.sum())
            if writer is not None and not problems:
                writer.write(typed[fresh | changed])
        if problems:
            raise ValidationFailed(problems)
        if writer is not None and record is not None:
            writer.close()
            record.new, record.new_versions, record.unchanged = (
                result.new,
                result.new_versions,
                result.unchanged,
            )
            record.retired = result.retired
            session.add(record)  # after its versions: the audited act says what it did
            session.flush()
            result.import_id = record.id
            if plan is not None:
                retire(session.connection(), plan.stored)
    finally:
        if writer is not None:
            writer.abort()  # a no-op once closed
    return result


SLICE_ROWS = 100_000  # rows checked while the slice before them is written (also bounds the memory)
FIRST_SLICE_ROWS = 5_000  # a smaller first slice: the database starts writing sooner


def _slices(rows: int, *, whole: bool) -> Iterator[slice]:
    if not rows:
        return
    if whole:
        yield slice(0, rows)
        return
    bounds = [0, *range(min(FIRST_SLICE_ROWS, rows), rows, SLICE_ROWS), rows]
    for start, stop in itertools.pairwise(bounds):
        yield slice(start, stop)


def _meanwhile(work: Callable[[], T]) -> Callable[[], T]:
    """``work`` done by a thread of its own while the file is read (hashing and numpy's passes over
    the bytes let go of the GIL); the function returned waits for its result (or raises its error)."""
    found: list[T] = []
    failed: list[BaseException] = []

    def run() -> None:
        try:
            found.append(work())
        except BaseException as error:  # raised by the waiting thread
            failed.append(error)

    thread = threading.Thread(target=run, name="claims-meanwhile", daemon=True)
    thread.start()

    def result() -> T:
        thread.join()
        if failed:
            raise failed[0]
        return found[0]

    return result


@dataclass
class _Context:
    """What the checks of every slice share: the header, the cities the user sees and may act for,
    whether control characters are to be looked for, the repeated claim ids of the whole file (the
    first row of each, 0 elsewhere) and the current stored versions of the file's claim ids."""

    header: _Header
    cities: dict[str, City]
    allowed: set[int]
    controls: bool
    repeats: np.ndarray
    stored: pd.DataFrame
    pact: PactFile | None


def _repeats(keys: pd.Series, rows: np.ndarray) -> np.ndarray:
    """For each row, the first row holding its claim id when the id is repeated there; 0 otherwise."""
    repeated = (keys.duplicated() & (keys != "")).to_numpy()
    if not repeated.any():  # the usual file: no grouping needed
        return np.zeros(len(keys), dtype=rows.dtype)
    first = pd.Series(rows, index=keys.index).groupby(keys).transform("first").to_numpy()
    return np.where(repeated, first, 0)


def _checked(context: _Context, cells: pd.DataFrame, rows: np.ndarray, start: int) -> tuple[pd.DataFrame, list[Problem]]:  # fmt: skip
    """One slice of the rows (from row index ``start`` of the file's data) typed and checked, joined
    to the stored version of each claim id, with its problems in the file's row order."""
    repeats = context.repeats[start : start + len(cells)]
    typed, check = _typed(cells, rows, context.header.spots, context.cities, repeats)
    if context.controls:
        for column in context.header.index:
            check.add(column, cells[column].str.contains(CONTROL, regex=True), CONTROL_MESSAGE)
    check.add("city", typed["city_id"].notna() & ~typed["city_id"].isin(context.allowed),
              Message("您无权导入该城市的声明"))  # fmt: skip
    typed["claim_key"] = cells["claim_id"]
    if context.pact is not None:  # PACT's version links are content: a Deprecated footprint is a new version
        typed = link_columns(typed, context.pact, rows)
    typed["content_hash"] = _content_hashes(typed.drop(columns=["claim_key"]))
    typed = typed.assign(**{name: None for name in LINKS if name not in typed})
    typed = typed.join(context.stored, on="claim_key")
    # A new version replaces the current one, wherever it is: only who may act for its city may.
    check.add("claim_id", typed["stored_city"].notna() & ~typed["stored_city"].isin(context.allowed),
              Message("该 claim_id 已是其他城市的声明，您无权更新"))  # fmt: skip
    return typed, check.problems()


def _new_record(session: Session, user: User, sha256: str, filename: str, source: str | None,
                rows: int) -> ClaimImport:  # fmt: skip
    """The import's record, its id reserved now (the versions carry it) and stored once the versions
    are: its audit event then holds what the import did. On SQLite the write transaction holds the
    database's write lock from its BEGIN IMMEDIATE, so the next id is this transaction's to take."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        reserved = connection.execute(text("SELECT nextval(pg_get_serial_sequence('claim_imports', 'id'))"))
    else:
        reserved = connection.execute(select(func.coalesce(func.max(ClaimImport.id), 0) + 1))
    return ClaimImport(id=int(reserved.scalar_one()), filename=filename[:200],
                       sha256=sha256, source=source or _source(filename),
                       imported_by_id=user.id, imported_at=utcnow(), rows=rows, new=0, new_versions=0,
                       unchanged=0, retired=0)  # fmt: skip


def _read_pact(session: Session, user: User, content: bytes, filename: str, city: str | None,
               credit_code: str | None) -> PactFile | None:  # fmt: skip
    """A PACT JSON file read with the credit codes of the organisations the user may see; None for
    a CSV or XLSX file (for which a credit code given is refused: their rows carry their own)."""
    if not filename.lower().endswith(".json"):
        if credit_code:
            raise ValidationFailed(
                [
                    Problem(
                        "credit_code",
                        Message(
                            "统一社会信用代码只能为 PACT JSON 文件指定（表格的每行自带统一社会信用代码）"
                        ),
                    )
                ]
            )
        return None
    return read_pact(
        content, city=city, credit_code=credit_code, organisations=organisation_codes(session, user)
    )


CONTROL = CONTROL_PATTERN  # the one definition (tracker.lifecycle.applications)
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _may_hold_controls(content: bytes, filename: str) -> bool:
    """Whether the cells need the control-character check: a CSV only if its bytes hold one (one
    fast scan of the file instead of one per column of a million rows); a workbook or JSON file
    always (their escapes, _x0000_ or \\u0000, turn into control characters when read)."""
    if filename.lower().endswith((".xlsx", ".json")):
        return True
    return _CONTROL_BYTES.search(content) is not None


_SLICE = 1 << 24  # bytes per numpy pass: bounded temporary memory
_EDGES = np.array([ord(","), ord('"'), ord("\n")], dtype=np.uint8)


def _csv_bytes(content: bytes) -> tuple[bool, bool]:
    """For a UTF-8 CSV read by Arrow, in one vectorised pass over its bytes: whether it may hold a
    control character (as ``_may_hold_controls``) and whether any cell may need trimming: a tab or
    CR anywhere, a space next to a comma, a quote or a line break (or at either end of the file),
    a no-break or an ideographic space anywhere. Either answer may be a false alarm, never a miss;
    a clean file is then spared a trim of every column."""
    data = np.frombuffer(content, dtype=np.uint8)
    controls, untrimmed = False, content[:1] == b" " or content[-1:] == b" "
    for start in range(0, len(data), _SLICE):
        chunk = data[max(start - 2, 0) : start + _SLICE + 1]  # overlapping by the neighbours looked at
        low = np.flatnonzero(chunk <= 32)
        values = chunk[low]
        controls = (
            controls
            or bool(np.any(chunk == 127))
            or bool(np.any((values < 32) & (values != 9) & (values != 10) & (values != 13)))
        )
        if not untrimmed:
            spaces = low[values == 32]
            untrimmed = bool(np.any((values == 9) | (values == 13))) or bool(
                np.any(np.isin(chunk[np.clip(spaces - 1, 0, None)], _EDGES))
                | np.any(np.isin(chunk[np.clip(spaces + 1, None, len(chunk) - 1)], _EDGES))
            )
        if not untrimmed:  # U+00A0 is C2 A0, U+3000 is E3 80 80 in UTF-8
            lead = np.flatnonzero((chunk == 0xC2) | (chunk == 0xE3))
            lead = lead[lead + 2 < len(chunk)]
            untrimmed = bool(np.any(((chunk[lead] == 0xC2) & (chunk[lead + 1] == 0xA0))
                                    | ((chunk[lead] == 0xE3) & (chunk[lead + 1] == 0x80) & (chunk[lead + 2] == 0x80))))  # fmt: skip
        if controls and untrimmed:
            break
    return controls, untrimmed


@dataclass
class _Header:
    """Where each exchange column is in the file (its index from 0) and how to name it in a problem:
    its letter and its header as written (``H（声明碳足迹（kgCO2e））``)."""

    index: dict[str, int] = field(default_factory=dict)
    spots: dict[str, str] = field(default_factory=dict)


def _header(names: list[object], result: ClaimImportResult) -> _Header:
    """The columns by their header (the column names or their synonyms, exchange.HEADERS). A column
    named twice, a unit in a header that is not its column's, or a required column missing refuses
    the file, every such problem listed; unknown columns are ignored with a warning."""
    header, problems, extra = _Header(), [], []
    for index, name in enumerate(names):
        written = clean_text(name)
        key, tail = header_key(written)
        column, spot = COLUMN_OF.get(key), f"{get_column_letter(index + 1)}（{written}）"
        if column is None:
            extra += [written] if written else []
        elif column in header.index:
            message = Message(
                "与{first}列都是 {column} 列，每列只能有一个", first=header.spots[column], column=column
            )
            problems.append(Problem(column, message, row=1, column=spot))
        else:  # a header in another unit is refused, but the column is there: not "missing" too
            if not header_unit_agrees(column, tail):
                message = Message("列标题中的单位不是本列的{unit}", unit=UNIT_OF[column])
                problems.append(Problem(column, message, row=1, column=spot))
            header.index[column], header.spots[column] = index, spot
    missing = [f"{name}（{HEADERS[name][0]}）" for name in REQUIRED if name not in header.index]
    if missing:
        problems.append(Problem("file", Message("缺少必填列：{missing}", missing=Listed(missing)), row=1))
    if problems:
        raise ValidationFailed(problems)
    if extra:
        result.warnings.append(Message("已忽略未知列：{columns}", columns=Listed(extra)))
    return header


def _current_versions(session: Session, keys: pd.Series) -> pd.DataFrame:
    """The current version (id, version, content hash, city) of each of these claim keys that is stored."""
    names = ["claim_key", "stored_id", "stored_version", "stored_hash", "stored_city"]
    found: list[Row[str, int, int, str, int]] = []
    unique = pd.Series(keys.unique())  # Arrow-backed: no Python string per key unless looked up
    columns = (Claim.claim_key, Claim.id, Claim.version, Claim.content_hash, Claim.city_id)
    query = select(*columns).where(Claim.is_current)
    if len(unique) > 20 * CHUNK:  # a large file: one pass over the current versions beats many lookups
        stored = pd.DataFrame(session.execute(query).all(), columns=names)
        if not stored.empty:
            stored = stored[stored["claim_key"].isin(unique)]
        return _and_retired(session, stored.set_index("claim_key"), unique)
    dialect = session.connection().dialect.name
    for start in range(0, len(unique), LOOKUP):
        found += session.execute(
            query.where(one_of(dialect, Claim.claim_key, unique.iloc[start : start + LOOKUP].tolist()))
        ).all()
    return _and_retired(session, pd.DataFrame(found, columns=names).set_index("claim_key"), unique)


def _and_retired(session: Session, current: pd.DataFrame, keys: pd.Series) -> pd.DataFrame:
    """``current`` with the latest version of each key that has none current: a PACT claim taken out
    of force, whose latest version is marked so (Deprecated, or replaced by another claim id), so
    that its next version is numbered after it."""
    retired = (~Claim.is_current, Claim.superseded_by.is_not(None) | (Claim.pact_status == "deprecated"))
    if session.scalar(select(Claim.id).where(*retired).limit(1)) is None:  # ix_claims_retired: at once
        return current
    missing = sorted(keys[~keys.isin(current.index)].tolist())
    if not missing:
        return current
    columns = (Claim.claim_key, Claim.id, Claim.version, Claim.content_hash, Claim.city_id)
    query = select(*columns).where(*retired)
    if len(missing) > 20 * CHUNK:
        wanted = set(missing)
        found = [row for row in session.execute(query).all() if row[0] in wanted]
    else:
        found = []
        for start in range(0, len(missing), CHUNK):
            found += session.execute(query.where(Claim.claim_key.in_(missing[start : start + CHUNK]))).all()
    if not found:
        return current
    latest = pd.DataFrame(found, columns=["claim_key", *current.columns])
    latest = latest.sort_values("stored_version").drop_duplicates("claim_key", keep="last")
    return pd.concat([current, latest.set_index("claim_key")])


def _source(filename: str) -> str:
    suffix = filename.lower().rsplit(".", 1)[-1]
    return {"xlsx": "xlsx", "json": "pact"}.get(suffix, "csv")


# --- writing ------------------------------------------------------------------------------------------


@dataclass
class _Links:
    """What a new version is linked to: the latest pilot of a company that is a pilot unit (by credit
    code) and the product with a benchmark (by name)."""

    pilots: dict[str, int]
    products: dict[str, int]

    @classmethod
    def of(cls, session: Session) -> _Links:
        pilots = {code: pilot for code, pilot in session.execute(
            select(Organisation.credit_code, func.max(Pilot.id))
            .join(Pilot, Pilot.organisation_id == Organisation.id).group_by(Organisation.credit_code)
        ) if code is not None}  # fmt: skip
        return cls(pilots, dict(session.execute(select(Product.name_zh, Product.id)).all()))


class _Writer:
    """Writes the new versions of an import in bulk while the importer checks the next slice: COPY on
    PostgreSQL (one COPY for the whole import), one prepared INSERT per slice on SQLite, from a
    thread of its own, on the session's connection, which the importer leaves alone until ``close``
    (at most two slices wait in between: the memory stays bounded). The versions they replace are
    marked no longer current once all are written. ``abort`` stops it; the importer's transaction
    is then rolled back."""

    def __init__(self, session: Session, record: ClaimImport, links: _Links) -> None:
        self.connection, self.record, self.links = session.connection(), record, links
        self.slices: queue.Queue[pa.Table | None] = queue.Queue(maxsize=2)
        self.stop, self.superseded = threading.Event(), list[int]()
        self.thread: threading.Thread | None = None
        self.failure: BaseException | None = None

    def write(self, written: pd.DataFrame) -> None:
        """Hand one slice's new versions (checked, joined to their stored versions) to the writer."""
        if written.empty:
            return
        self.superseded += written["stored_id"].dropna().astype(int).tolist()
        self._raise_failure()
        if self.thread is None:
            self.thread = threading.Thread(target=self._run, name="claims-write", daemon=True)
            self.thread.start()
        arrow = self._arrow(written)
        while not self._put(arrow):
            self._raise_failure()

    def close(self) -> None:
        """Wait until every slice is written, then mark the versions replaced as no longer current."""
        if self.thread is not None:
            while not self._put(None):
                self._raise_failure()
            self.thread.join()
            self.thread = None
        self._raise_failure()
        table = cast(Table, Claim.__table__)
        for start in range(0, len(self.superseded), LOOKUP):
            chunk = self.superseded[start : start + LOOKUP]
            self.connection.execute(
                update(table)
                .where(one_of(self.connection.dialect.name, table.c.id, chunk))
                .values(is_current=False)
            )

    def abort(self) -> None:
        if self.thread is not None:
            self.stop.set()
            self.thread.join()
            self.thread = None

    def _put(self, item: pa.Table | None) -> bool:
        try:
            self.slices.put(item, timeout=0.1)
        except queue.Full:
            return False
        return True

    def _raise_failure(self) -> None:
        if self.failure is not None:
            raise self.failure

    def _frames(self) -> Iterator[pa.Table]:
        while not self.stop.is_set():
            try:
                item = self.slices.get(timeout=0.1)
            except queue.Empty:
                continue
            if item is None:
                return
            yield item
        raise _Stopped

    def _run(self) -> None:
        try:
            if self.connection.dialect.name == "postgresql":
                _copy_postgresql(self.connection, self._frames())
            else:
                _insert_sqlite(self.connection, self._frames())
        except _Stopped:
            pass
        except BaseException as error:  # raised by the importer's thread
            self.failure = error
            with contextlib.suppress(queue.Empty):  # let a writing importer see it
                while True:
                    self.slices.get_nowait()

    def _arrow(self, written: pd.DataFrame) -> pa.Table:
        record, links = self.record, self.links
        frame = written.assign(
            version=(written["stored_version"].fillna(0) + 1).astype(int),
            is_current=written.get("is_current", True), source=record.source, imported_at=record.imported_at,
            imported_by_id=record.imported_by_id, import_id=record.id, city_id=written["city_id"].astype("int64"),
            pilot_id=_lookup(written["credit_code"].str.upper(), links.pilots).astype("Int64"),
            product_id=_lookup(written["product"], links.products).astype("Int64"),
        ).rename(columns={"footprint_kgco2e": "footprint"})  # fmt: skip
        table = cast(Table, Claim.__table__)
        # PACT's version links are empty in a spreadsheet (and a PACT file is one slice)
        columns = [
            c.name
            for c in table.columns
            if c.name != "id" and not (c.name in LINKS and frame[c.name].isna().all())
        ]
        arrow = pa.Table.from_pandas(frame[columns], preserve_index=False)
        for name in DATES:
            arrow = arrow.set_column(arrow.schema.get_field_index(name), name, arrow[name].cast(pa.date32()))
        return arrow


class _Stopped(Exception):
    """The writer was stopped (a problem was found, or the import failed): nothing more is written."""


def _copy_postgresql(connection: Connection, frames: Iterator[pa.Table]) -> None:
    """One COPY of every slice, as CSV written by a second thread (Arrow's CSV writer runs without
    the GIL) while this one hands the previous piece to the server, so that the server never waits
    for the next; two pieces at most wait in between (memory stays bounded)."""
    first = next(frames, None)
    if first is None:
        return
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    pieces: queue.Queue[io.BytesIO | BaseException | None] = queue.Queue(maxsize=2)
    stop = threading.Event()

    def write_pieces() -> None:
        item: io.BytesIO | BaseException | None = None
        try:
            for arrow in itertools.chain([first], frames):
                if arrow.column_names != first.column_names:
                    raise RuntimeError("claims slices with different columns")  # the importer's own bug
                for batch in arrow.to_batches(max_chunksize=50_000):
                    item = io.BytesIO()
                    pacsv.write_csv(batch, item, pacsv.WriteOptions(include_header=False))
                    while not stop.is_set():
                        try:
                            pieces.put(item, timeout=0.1)
                            break
                        except queue.Full:
                            continue
                    if stop.is_set():
                        return
            item = None
        except BaseException as error:  # handed over and raised by the COPY's thread
            item = error
        pieces.put(item)

    writer = threading.Thread(target=write_pieces, name="claims-copy-csv", daemon=True)
    writer.start()
    try:
        with cursor.copy(f"COPY claims ({', '.join(first.column_names)}) FROM STDIN (FORMAT csv)") as copy:
            while (item := pieces.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                copy.write(item.getbuffer())
    finally:
        stop.set()
        while writer.is_alive():  # let a writer blocked on a full queue see the stop
            with contextlib.suppress(queue.Empty):
                pieces.get(timeout=0.1)
        writer.join()


def _insert_sqlite(connection: Connection, frames: Iterator[pa.Table]) -> None:
    """Each slice by one prepared INSERT, its values as SQLAlchemy stores them in SQLite: dates as
    ISO text, datetimes as naive UTC text, NaN as NULL. A column holding one value throughout the
    slice (the import's own columns, a field no row fills) is written into the statement once
    instead of bound on every row. A larger page cache for the statements keeps the indexes in
    memory."""
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    (cache,) = cursor.execute("PRAGMA cache_size").fetchone()
    cursor.execute("PRAGMA cache_size=-262144")  # 256 MiB
    try:
        for arrow in frames:
            values, bound = _sqlite_values(arrow)
            rows = zip(*bound, strict=True) if bound else [()] * arrow.num_rows  # every column a literal
            cursor.executemany(f"INSERT INTO claims ({', '.join(arrow.column_names)}) VALUES ({', '.join(values)})",
                               rows)  # fmt: skip
    finally:
        cursor.execute(f"PRAGMA cache_size={int(cache)}")


def _sqlite_values(arrow: pa.Table) -> tuple[list[str], list[list[object]]]:
    """The VALUES list of a slice's INSERT (a literal for a column of one value, ``?`` otherwise)
    and the bound columns' values."""
    values: list[str] = []
    bound: list[list[object]] = []
    for name, column in zip(arrow.column_names, arrow.columns, strict=True):
        literal = _sqlite_literal(column, name in _IMPORT_COLUMNS)
        if literal is not None:
            values.append(literal)
            continue
        values.append("?")
        if pa.types.is_timestamp(column.type):
            bound.append([None if v is None else _utc_text(v) for v in column.to_pylist()])
        elif pa.types.is_date(column.type):
            bound.append(column.cast(pa.string()).to_numpy(zero_copy_only=False).tolist())
        else:
            bound.append(column.to_numpy(zero_copy_only=False).tolist())
    return values, bound


# What the import sets alike on every version it writes (looked at for one value throughout; a
# field of the file only when no row fills it, which costs no pass over it).
_IMPORT_COLUMNS = frozenset({"version", "is_current", "source", "imported_at", "imported_by_id", "import_id"})


def _sqlite_literal(column: pa.ChunkedArray, alike: bool) -> str | None:
    """The SQL literal of a column that holds one value throughout (NULL for none), as binding it
    would store it; None when its values differ (or the value is not of a kind written here).
    Only an ``alike`` column is compared throughout (min and max, one pass)."""
    if column.null_count == len(column):
        return "NULL"
    if not alike or column.null_count:
        return None
    bounds = pc.min_max(column)
    if bounds["min"] != bounds["max"]:
        return None
    value = column[0].as_py()
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        return _quoted(_utc_text(value))
    if isinstance(value, dt.date):
        return _quoted(value.isoformat())
    if isinstance(value, str) and "\x00" not in value:
        return _quoted(value)
    return None  # a float: bound, as SQLite then stores exactly the double given


def _utc_text(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
