"""Translation catalogue and locale formatting. Source strings are Chinese (the UI is Chinese first);
English comes from the catalogue ``tracker/locale/<locale>/LC_MESSAGES/messages.po``.

``_()`` translates now, into the locale of the current request (``current_locale``, set per request
from the user's choice). Text defined at import time (page names, column captions, label tables) is
marked with ``N_()``, which only marks it for extraction, and translated with ``_()`` where it is
shown: a string translated at import would stay in whatever language the process started with.

The catalogue is read from its ``.po`` file by Babel, so there is no compiled file to keep in step.
Extraction: ``pybabel extract -k N_ --no-location --sort-output -o messages.pot dashboards tracker``
(``tests/core/test_i18n.py`` checks that every marked string has its English translation).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache, lru_cache
from importlib import resources
from typing import Protocol, TypeVar
from zoneinfo import ZoneInfo

from babel.dates import format_date as babel_date
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

DEFAULT_LOCALE = "zh_CN"
LOCALES = {"zh_CN": "中文", "en": "English"}  # each named in its own language, for the switch
current_locale: ContextVar[str] = ContextVar("current_locale", default=DEFAULT_LOCALE)
K = TypeVar("K")  # a label table's key: an enum member, a stored code, a rule id


@cache
def catalogue(locale: str) -> dict[str, str]:
    """The translations of one locale (source → translation); empty when there is no catalogue."""
    po = resources.files("tracker").joinpath("locale", locale, "LC_MESSAGES", "messages.po")
    if not po.is_file():
        return {}
    with po.open("rb") as handle:
        parsed = read_po(handle, locale=locale)
    return {
        m.id: m.string
        for m in parsed
        if isinstance(m.id, str) and m.id and isinstance(m.string, str) and m.string
    }


def _(message: str) -> str:
    """Translate a Chinese source string into the current locale (the source when not translated)."""
    locale = current_locale.get()
    if locale == DEFAULT_LOCALE:
        return message
    return catalogue(locale).get(message, message)


def translated(table: Mapping[K, str], key: K, fallback: str | None = None) -> str:
    """The word a table (marked with ``N_``) holds for ``key``, in the reader's language; for a key
    the table does not know, ``fallback`` (by default the key itself, as stored)."""
    words = table.get(key)
    if words is None:
        return str(key) if fallback is None else fallback
    return _(words)


def N_(message: str) -> str:
    """Mark text defined at import time for the catalogue; translate it with ``_()`` when shown."""
    return message


def english() -> bool:
    return current_locale.get() != DEFAULT_LOCALE


def format_date(value: dt.date | None) -> str:
    """A date for the reader: 2025年6月28日 in Chinese, Jun 28, 2025 in English (empty for None)."""
    if value is None:
        return ""
    if not english():
        return f"{value.year}年{value.month}月{value.day}日"
    return _medium_date(value, current_locale.get())


@lru_cache(maxsize=8192)
def _medium_date(value: dt.date, locale: str) -> str:
    """Babel's medium date, remembered: a scan renders the same days for thousands of findings."""
    return babel_date(value, format="medium", locale=locale)


def format_datetime(value: dt.datetime | None, tz: ZoneInfo) -> str:
    """A stored UTC time in the local zone: 2025年6月28日 14:05 / Jun 28, 2025 14:05."""
    if value is None:
        return ""
    local = value.astimezone(tz)
    return f"{format_date(local.date())} {local:%H:%M}"


def format_number(value: float | int | None, digits: int = 0) -> str:
    """Grouped digits in the reader's locale (12,345.6); empty for None."""
    if value is None:
        return ""
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale="zh_CN" if not english() else current_locale.get())


def label_of(thing: object) -> str:
    """The reader's-language label of something that carries both (``label_zh`` and ``label_en``)."""
    return str(getattr(thing, "label_en" if english() else "label_zh"))


def wide_space() -> str:
    """The gap between fields on one line: an ideographic space in Chinese, two spaces in English."""
    return "  " if english() else "\u3000"


def colon() -> str:
    """A caption's colon: "：" in Chinese, ": " in English."""
    return ": " if english() else "："


def name_of(thing: object, *, short: bool = False) -> str:
    """The reader's-language name of a catalogue entry known in both languages (a province, a city, a
    product): ``name_en`` in English (first letter capitalised), else ``name_zh`` (``short_zh`` when
    ``short``: 太原 rather than 太原市). Names entered by users have no English and are shown as entered."""
    if english():
        name = str(getattr(thing, "name_en", "") or "")
        if name:
            return name[:1].upper() + name[1:]
    return str(getattr(thing, "short_zh" if short else "name_zh"))


class Numbered(Protocol):
    """A selection batch, as ``batch_name`` reads it."""

    @property
    def number(self) -> int: ...
    @property
    def name_zh(self) -> str: ...


def batch_name(batch: Numbered) -> str:
    """A selection batch's name: 第一批 as stored in Chinese, "Batch 1" in English."""
    return _("第{number}批").format(number=batch.number) if english() else batch.name_zh


@contextmanager
def use_locale(locale: str) -> Iterator[None]:
    """Run a block in one locale (e.g. a Chinese official document built during an English request)."""
    token = current_locale.set(locale)
    try:
        yield
    finally:
        current_locale.reset(token)
