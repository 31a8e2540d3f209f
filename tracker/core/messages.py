"""One message mechanism. A message is an id (its Chinese source text, a ``str.format`` template) and
its parameters; it is translated only when shown, into the reader's language (the web request's, the
CLI's two languages, a mail's recipient's), from the catalogue ``tracker/locale``. Errors, the
problems of a refused input and the findings of a rule all carry one; nothing splits or parses a
"中文 / English" string.

``Message`` is also the extraction keyword: ``scripts/translations.py`` collects every
``Message("…")`` id with the ``_()`` and ``N_()`` strings, and ``tests/core/test_i18n.py`` checks each
has its English translation with the same placeholders.
"""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import Protocol, TypeGuard, cast

from tracker.core.i18n import DEFAULT_LOCALE, catalogue, current_locale, format_date, use_locale


class Shown(Protocol):
    """Anything that can be shown in a given locale (a message, a problem, a list of them)."""

    def text(self, locale: str | None = None) -> str: ...


class Message:
    """A message id and its parameters. A parameter that is itself ``Shown`` is rendered in the same
    locale; any other value is formatted by the template (``{share:.1f}``)."""

    __slots__ = ("id", "params")

    def __init__(self, id: str, /, **params: object) -> None:
        self.id = id
        self.params: Mapping[str, object] = params

    def text(self, locale: str | None = None) -> str:
        locale = locale or current_locale.get()
        template = self.id if locale == DEFAULT_LOCALE else catalogue(locale).get(self.id, self.id)
        used = _fields(template)  # a parameter the template does not show is not rendered
        values = {k: v.text(locale) if _shown(v) else v for k, v in self.params.items() if k in used}
        return template.format(**values)

    def with_params(self, **more: object) -> Message:
        """The same message with more parameters (a checker's template, given each cell's value)."""
        return Message(self.id, **self.params, **more)

    @property
    def zh(self) -> str:
        return self.text(DEFAULT_LOCALE)

    @property
    def en(self) -> str:
        return self.text("en")

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return f"Message({self.id!r}, **{dict(self.params)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Message) and (self.id, dict(self.params)) == (other.id, dict(other.params))

    def __hash__(self) -> int:
        return hash(self.id)


@lru_cache(maxsize=4096)
def _fields(template: str) -> frozenset[str]:
    """The parameters a template shows (``{share:.1f}`` → share, ``{a.b}`` or ``{a[0]}`` → a, and those
    of a nested spec: ``{x:{width}}`` → x and width)."""
    found: set[str] = set()
    for _text, field, spec, _conversion in string.Formatter().parse(template):
        if field:
            found.add(field.split(".")[0].split("[")[0])
        if spec and "{" in spec:
            found |= _fields(spec)
    return frozenset(found)


class HasMessage(Protocol):
    """An error, a problem, a flag, a plan: anything with a ``message``."""

    @property
    def message(self) -> Shown: ...


def message_of(thing: HasMessage) -> str:
    """The thing's message in the reader's language (the web request's locale)."""
    return thing.message.text()


class CarriesMessage:
    """A thing that carries a ``message`` (an error, a problem, a run's report), with read-only views of
    it in each language for code that wants one."""

    message: Message

    @property
    def message_zh(self) -> str:
        return self.message.zh

    @property
    def message_en(self) -> str:
        return self.message.en


class Joined:
    """Several shown things on one line: "；" between them in Chinese, "; " in other languages."""

    __slots__ = ("parts",)

    def __init__(self, parts: Iterable[Shown]) -> None:
        self.parts = tuple(parts)

    def text(self, locale: str | None = None) -> str:
        locale = locale or current_locale.get()
        return ("；" if locale == DEFAULT_LOCALE else "; ").join(p.text(locale) for p in self.parts)


class Lines:
    """Shown things one under another (a mail's body), in the same locale; a None part is left out, an
    empty string is an empty line."""

    __slots__ = ("parts",)

    def __init__(self, *parts: Shown | str | None) -> None:
        self.parts = tuple(part for part in parts if part is not None)

    def text(self, locale: str | None = None) -> str:
        locale = locale or current_locale.get()
        return "\n".join(part if isinstance(part, str) else part.text(locale) for part in self.parts)


class InLocale:
    """A text built by code that writes in the current locale (``_()``, ``format_date``: a bulletin's
    summary sentence), built when shown, in the locale it is shown in."""

    __slots__ = ("build",)

    def __init__(self, build: Callable[[], str]) -> None:
        self.build = build

    def text(self, locale: str | None = None) -> str:
        with use_locale(locale or current_locale.get()):
            return self.build()


class Listed:
    """Names in a row: "、" between them in Chinese, ", " in other languages (each name as given, or
    shown in the locale when it is a ``Label`` or a message)."""

    __slots__ = ("items",)

    def __init__(self, items: Iterable[object]) -> None:
        self.items = tuple(items)

    def text(self, locale: str | None = None) -> str:
        locale = locale or current_locale.get()
        shown = (item.text(locale) if _shown(item) else str(item) for item in self.items)
        return ("、" if locale == DEFAULT_LOCALE else ", ").join(shown)


class Day:
    """A date shown as the reader writes it: 2025年6月28日, Jun 28, 2025."""

    __slots__ = ("date",)

    def __init__(self, date: dt.date) -> None:
        self.date = date

    def text(self, locale: str | None = None) -> str:
        with use_locale(locale or current_locale.get()):
            return format_date(self.date)


def _shown(value: object) -> TypeGuard[Shown]:
    return isinstance(value, Message | Joined) or callable(getattr(value, "text", None))


def both(message: Shown) -> str:
    """Chinese and English on one line, for logs and for the CLI's one-line forms."""
    zh, en = message.text(DEFAULT_LOCALE), message.text("en")
    return zh if zh == en else f"{zh} / {en}"


class Label:
    """A name known in both languages where it is declared (a field, a step, a status): shown in the
    reader's language when it is a message's parameter."""

    __slots__ = ("en", "zh")

    def __init__(self, zh: str, en: str) -> None:
        self.zh, self.en = zh, en

    def text(self, locale: str | None = None) -> str:
        return self.zh if (locale or current_locale.get()) == DEFAULT_LOCALE else self.en

    def __repr__(self) -> str:
        return f"Label({self.zh!r}, {self.en!r})"


# --- stored messages ----------------------------------------------------------------------------------
# A message kept in the database (a job run's outcome, a notice) is stored as its id and parameters, in
# JSON, and rendered when read, in the reader's language. Parameters keep their kind: a name declared
# in both languages, a date, a list; any other shown thing is kept as its Chinese and English texts.

Data = None | bool | int | float | str | list["Data"] | dict[str, "Data"]


def to_data(value: object) -> Data:
    """A message or a parameter as JSON-able data (``from_data`` reads it back)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Message):
        return {"m": value.id, "p": {k: to_data(v) for k, v in value.params.items()}}
    if isinstance(value, Label):
        return {"label": [value.zh, value.en]}
    if isinstance(value, Day):
        return {"day": value.date.isoformat()}
    if isinstance(value, dt.date):
        return {"day": value.isoformat()}
    if isinstance(value, Listed):
        return {"listed": [to_data(item) for item in value.items]}
    if isinstance(value, Joined):
        return {"joined": [to_data(part) for part in value.parts]}
    if _shown(value):
        return {"label": [value.text(DEFAULT_LOCALE), value.text("en")]}
    return str(value)


def from_data(data: Data) -> object:
    """What ``to_data`` stored: a ``Message`` for a message, the parameter for a parameter. Data of an
    unknown shape is shown as it is (a stored row is never refused for its form)."""
    if not isinstance(data, dict):
        return data
    if isinstance(data.get("m"), str):
        params = data.get("p")
        return Message(
            cast(str, data["m"]),
            **{k: from_data(v) for k, v in (params if isinstance(params, dict) else {}).items()},
        )
    pair = data.get("label")
    if isinstance(pair, list) and len(pair) == 2:
        return Label(str(pair[0]), str(pair[1]))
    if isinstance(data.get("day"), str):
        try:
            return Day(dt.date.fromisoformat(cast(str, data["day"])))
        except ValueError:
            return data["day"]
    if isinstance(data.get("listed"), list):
        return Listed(from_data(item) for item in cast(list[Data], data["listed"]))
    if isinstance(data.get("joined"), list):
        parts = (from_data(item) for item in cast(list[Data], data["joined"]))
        return Joined(p if _shown(p) else Label(str(p), str(p)) for p in parts)
    return str(data)


def stored_message(data: Data) -> Message | None:
    """The message in stored data, or None when the data holds none."""
    value = from_data(data)
    return value if isinstance(value, Message) else None
