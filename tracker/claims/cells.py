"""Cells of the claims exchange file read as numbers and dates, a column at a time (DOMAIN.md §9).

The plain forms (1234.5, 2025-06-28) are parsed at C speed over the whole column. Only the cells
that are not plain go the longer way, still over the column: Arrow's regular expressions (RE2, in
C++) take them apart, and full-width characters are folded only in the cells that have them; no
Python loop runs per cell. What is written as Chinese Excel users write it is read; what could
mean two things is refused rather than guessed: 1,23 is no thousands grouping, 28/6/2025 has no
year first, a unit other than the column's own is not converted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tracker.claims.exchange import unit_key

# Full-width ASCII (！ to ～: digits, ．，％, letters) as ASCII, the ideographic space as a space, the
# minus sign as a hyphen-minus; only cells holding one of them are translated.
WIDE = str.maketrans({chr(0xFF01 + i): chr(0x21 + i) for i in range(94)} | {"\u3000": " ", "\u2212": "-"})
_HAS_WIDE = "[\uff01-\uff5e\u3000\u2212]"
_ISO = r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"  # read at C speed (pandas' strptime, slow on other text)
_PLAIN = r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$"  # what Arrow's cast reads
# A number: grouped by thousands (every group of three after the first), or plain; then, after
# optional spaces, the rest, which is read as a unit only if it starts with a letter (Latin or
# Chinese) or % (so 1,23 is 1 followed by ",23": no number). RE2 syntax.
_NUMBER = (r"^(?P<number>[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?"
           r"|(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?))\s*(?P<unit>.*)$")  # fmt: skip
# A date, year first: 2025-6-28, 2025/6/28 or 2025.6.28 (one separator throughout, a time of day
# allowed after T or a space), 2025年6月28日, or an Excel serial day number (fraction = time of day).
_TIME = r"(?:[T ][0-9]{1,2}:[0-9]{2}.*)?"
_DATE = "^(?:" + "|".join(
    [rf"(?P<y{n}>[0-9]{{4}}){s}(?P<m{n}>[0-9]{{1,2}}){s}(?P<d{n}>[0-9]{{1,2}}){_TIME}" for n, s in enumerate(("-", "/", r"\."))]
    + [r"(?P<y3>[0-9]{4})\s*年\s*(?P<m3>[0-9]{1,2})\s*月\s*(?P<d3>[0-9]{1,2})\s*日",
       r"(?P<serial>[0-9]{5}(?:\.[0-9]+)?)"]) + ")$"  # fmt: skip
# Excel serial days read as dates: 1990-01-01 to 2099-12-31 only; outside, a number is no date here.
SERIAL_FIRST, SERIAL_LAST = 32874, 73050
EXCEL_EPOCH = pd.Timestamp("1899-12-30")  # serial 1 is 1900-01-01 and Excel counts a 29 Feb 1900
# One resolution whatever the cells (pandas infers seconds for a column of no dates): the content hash
# of a claim hashes the stored integers, so the same day must always be the same number.
DATE_TYPE = "datetime64[us]"
YEAR_ONE = pd.Timestamp("0001-01-01")
SNIFF = 1000  # cells looked at to choose how to read a date column
_NULL = pa.scalar(None, pa.string())


def numbers(text: pd.Series, unit: str) -> tuple[pd.Series, pd.Series]:
    """Text as float64 (NaN where empty or not a number), and where a number carries a unit that is
    not ``unit`` (its value is not to be used). Thousands separators, full-width digits and
    punctuation and a trailing ``unit`` (in any spelling, 千克CO2e for kgCO2e) are allowed."""
    array = pa.array(text, type=pa.string(), from_pandas=True)
    other = pd.Series(False, index=text.index)
    try:  # the common case, all plain numbers: Arrow parses them at C speed
        return _floats(pc.if_else(pc.equal(array, ""), _NULL, array), text.index), other
    except pa.ArrowInvalid:
        plain = pc.fill_null(pc.match_substring_regex(array, _PLAIN), False)
    value = _floats(pc.if_else(plain, array, _NULL), text.index)
    rest = (text != "").to_numpy() & ~plain.to_numpy(zero_copy_only=False)
    if rest.any():
        value[rest], other[rest] = _written_numbers(text[rest], unit)
    return value, other


def _floats(array: pa.Array, index: pd.Index) -> pd.Series:
    parsed = pc.cast(array, pa.float64())
    return pd.Series(parsed.to_numpy(zero_copy_only=False), index=index, dtype="float64")


def _written_numbers(text: pd.Series, unit: str) -> tuple[pd.Series, pd.Series]:
    parts = pc.extract_regex(_narrow(text), _NUMBER)
    number = pc.replace_substring(pc.struct_field(parts, "number"), ",", "")
    value = _floats(pc.if_else(pc.equal(number, ""), _NULL, number), text.index)
    written = pd.Series(pc.struct_field(parts, "unit").to_numpy(zero_copy_only=False), index=text.index)
    keys = _unit_keys(written.fillna(""))
    value = value.where(keys.notna())
    return value, value.notna() & (keys != "") & (keys != unit_key(unit))


def _narrow(text: pd.Series) -> pa.Array:
    """The cells with full-width characters translated (only those cells), as an Arrow array."""
    wide = _matches(text, _HAS_WIDE)
    if not wide.any():
        return pa.array(text, type=pa.string(), from_pandas=True)
    narrowed = text.copy()
    narrowed[wide] = text[wide].str.translate(WIDE)
    return pa.array(narrowed, type=pa.string(), from_pandas=True)


def _matches(text: pd.Series, pattern: str) -> np.ndarray:
    """Where ``pattern`` (RE2) matches, as a boolean array."""
    found = pc.match_substring_regex(pa.array(text, type=pa.string(), from_pandas=True), pattern)
    return np.asarray(pc.fill_null(found, False).to_numpy(zero_copy_only=False), dtype=bool)


def _unit_keys(written: pd.Series) -> pd.Series:
    """``exchange.unit_key`` of what follows each number ("" for nothing; None where it is no unit,
    as ",23" or "。6"), computed once per distinct text (a column has few)."""
    codes, uniques = pd.factorize(written)
    keys = [unit_key(u) if not u or u[0].isalpha() or u[0] == "%" else None for u in map(str, uniques)]
    return pd.Series(np.array([*keys, ""], dtype=object)[codes], index=written.index)


def dates(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Text as dates (NaT where empty or not a date), and where a cell is written as a date that
    does not exist (2025年2月30日, year 0). YYYY-MM-DD is read from the first ten characters, at C speed;
    only the cells it does not read go through the other forms."""
    value = _iso_dates(text)
    missing = pd.Series(False, index=text.index)
    rest = (text != "") & value.isna()
    if rest.any():
        other, missing[rest] = _written_dates(text[rest])
        value[rest] = other.astype(DATE_TYPE)
    year_zero = value < YEAR_ONE  # pandas reads 0000-01-01; Python and the databases have no year 0
    if year_zero.any():
        value, missing = value.where(~year_zero), missing | year_zero
    return value, missing


def _iso_dates(text: pd.Series) -> pd.Series:
    """The cells that start YYYY-M-D, read by pandas' strptime at C speed; the others are NaT. Its
    failing is slow (about 2 µs a cell), so when the column's first cells are not all so or empty,
    the column is sifted first (Arrow, 0.04 µs a cell); a plain column is read whole, costing nothing."""
    head = text.iloc[:SNIFF]
    if (_matches(head, _ISO) | (head == "").to_numpy()).all():
        return _strptime(text)
    iso = _matches(text, _ISO)
    value = pd.Series(pd.NaT, index=text.index, dtype=DATE_TYPE)
    value[iso] = _strptime(text[iso])
    return value


def _strptime(text: pd.Series) -> pd.Series:
    """The first ten characters as YYYY-MM-DD: Arrow's cast reads a column of such days (or empty
    cells) at C speed; a column holding anything else (2025-6-28, 2025-02-30) is read by pandas."""
    head = pc.utf8_slice_codeunits(pa.array(text, type=pa.string(), from_pandas=True), 0, 10)
    try:
        days = pc.cast(pc.if_else(pc.equal(head, ""), _NULL, head), pa.date32())
    except pa.ArrowInvalid:
        return pd.to_datetime(text.str.slice(0, 10), format="%Y-%m-%d", errors="coerce").astype(DATE_TYPE)
    stamps = pc.cast(days, pa.timestamp("us")).to_numpy(zero_copy_only=False)
    return pd.Series(stamps, index=text.index, dtype=DATE_TYPE)


def _written_dates(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    parts = pc.extract_regex(_narrow(text), _DATE)

    def field(name: str) -> pd.Series:
        found = pc.coalesce(*(_empty_null(pc.struct_field(parts, f"{name}{n}")) for n in range(4)))
        return pd.Series(pc.cast(found, pa.float64()).to_numpy(zero_copy_only=False), index=text.index)

    days = pd.DataFrame({"year": field("y"), "month": field("m"), "day": field("d")})
    value = pd.to_datetime(days, errors="coerce")
    serial = pd.Series(pc.cast(_empty_null(pc.struct_field(parts, "serial")), pa.float64())
                       .to_numpy(zero_copy_only=False), index=text.index).floordiv(1)  # fmt: skip
    sane = serial.between(SERIAL_FIRST, SERIAL_LAST)
    value = value.where(~sane, EXCEL_EPOCH + pd.to_timedelta(serial.where(sane), unit="D"))
    return value, days["year"].notna() & value.isna()


def _empty_null(array: pa.Array) -> pa.Array:
    """An extracted group as null where it did not take part (RE2 gives an empty string)."""
    return pc.if_else(pc.equal(array, ""), _NULL, array)
