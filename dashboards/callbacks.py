"""Page callbacks: one decorator, ``@page_callback``, for every server-side callback of every page.

A page module is ``layout()`` plus small top-level functions::

    @page_callback(Action.EDIT, Output(MESSAGE, "children"), Input(SAVE, "n_clicks"),
                   State(REASON, "value"), alert=Output(MESSAGE, "children"))
    def save(call: Call, _clicks: Clicks, reason: Text) -> Component: ...

Per call, on the server and in this order, the decorator

1. resolves the request's user and asks the permission module (``dashboards.access.request_user``:
   a user whose role does not allow the action gets nothing, 204; the login guard has already
   answered 401 to anyone not logged in);
2. checks every input and state against its parameter's annotation (``Annotated[type, check]``, the
   checks below): a value of the wrong shape or type is refused with 400 before the function runs;
   where the pages have always ignored a malformed value (click counts, refresh counters, filters)
   it is taken as nothing or left out;
3. runs the function with a ``Call`` (the user, the settings, the triggering input and the
   database session, opened on first use with ``dashboards.access.db_session``: committed when the
   function returns, rolled back when it raises);
4. turns a refusal (``TrackerError``, ``ValidationFailed``, ``PermissionDenied``, ``Refused``) into
   the page's alert (``error_alert``, the one place its words are made), ``no_update`` on every
   other output; without ``alert=`` the callback returns nothing (204);
5. logs refusals and malformed calls.

``may=`` adds a question to the permission module (``may_read_work_plan``); ``on_refusal=`` gives
other outputs a value when a refusal is shown (an upload box emptied).

The decorator only records the callback (``REGISTRY``); ``dashboards.app`` registers every page's
callbacks with the app it builds (``register_page_callbacks``), so one module serves many apps.
"""

from __future__ import annotations

import functools
import inspect
import logging
import typing
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from dash import Dash, Input, Output, State, ctx, dcc, no_update
from dash.development.base_component import Component
from dash.exceptions import PreventUpdate
from werkzeug.exceptions import BadRequest

from dashboards.access import app_settings, db_session, request_user
from dashboards.requests import MAX_CALLBACK_BYTES
from dashboards.widgets import alert, decode_upload, has_selection, problems_alert, selected_id
from tracker.access.permissions import Action, PermissionDenied
from tracker.core.config import Settings
from tracker.core.db import TrackerSession
from tracker.core.errors import TrackerError
from tracker.core.i18n import _
from tracker.core.messages import message_of
from tracker.core.validation import ValidationFailed
from tracker.models import User

log = logging.getLogger(__name__)
T = TypeVar("T")
Fn = TypeVar("Fn", bound=Callable[..., object])


# --- refusals and the alert ---------------------------------------------------------------------


class Refused(Exception):
    """A page's own refusal ("choose a row first"): shown in the page's alert, nothing changed."""

    def __init__(self, text: str, color: str = "warning") -> None:
        super().__init__(text)
        self.text, self.color = text, color


Refusal = TrackerError | PermissionDenied | Refused


def error_alert(error: Refusal) -> Component:
    """The alert a refusal is shown as: the one place that makes its words."""
    if isinstance(error, ValidationFailed):
        return problems_alert(error)
    if isinstance(error, Refused):
        return alert(error.text, error.color)
    return alert(message_of(error), "danger")


# --- input checks --------------------------------------------------------------------------------


class Malformed(ValueError):
    """An input no browser sends: the call is refused with 400."""


@dataclass(frozen=True)
class Check(Generic[T]):
    """How one input or state is read: ``read(value)`` returns it typed, raises ``Malformed`` (400) or
    ``PreventUpdate`` (204). ``width`` is how many consecutive inputs the parameter takes (a tuple)."""

    read: Callable[[object], T]
    name: str
    width: int = 1


def _int_or_none(value: object) -> int | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise Malformed("a whole number or nothing")


def _lenient_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _clicks(value: object) -> int | None:
    """A count of clicks: only which input fired matters (``Call.triggered``), so a value that is
    not a count is taken as none."""
    number = _lenient_int(value)
    return number if number is not None and number >= 0 else None


def _counter(value: object) -> int:
    """A refresh counter (a dcc.Store the page counts up): what is not a count is 0."""
    return _clicks(value) or 0


def _text(limit: int) -> Callable[[object], str | None]:
    def read(value: object) -> str | None:
        if value is None or (isinstance(value, str) and len(value) <= limit):
            return value
        raise Malformed(f"text of at most {limit} characters, or nothing")

    return read


def _number_or_text(value: object) -> int | float | str | None:
    if value is None or isinstance(value, str | float) or _lenient_int(value) is not None:
        return value  # type: ignore[return-value]  # an int that is not a bool, by the test above
    raise Malformed("a number, a text or nothing")


def _texts(value: object) -> list[str] | None:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else None


def _rows(value: object) -> list[dict[str, object]] | None:
    """A grid's rows (selected rows, row data): a list of objects, or nothing."""
    if value is None:
        return None
    if isinstance(value, list) and all(isinstance(row, dict) for row in value):
        return [{str(k): v for k, v in row.items()} for row in value]
    raise Malformed("a list of rows, or nothing")


def _mapping(value: object) -> dict[str, object] | None:
    if value is None:
        return None
    if isinstance(value, dict):
        return {str(k): v for k, v in value.items()}
    raise Malformed("an object or nothing")


def _raw(value: object) -> object:
    return value


def many(check: Check[T], width: int) -> Check[tuple[T, ...]]:
    """``width`` consecutive inputs read alike (a row of buttons): one parameter, a tuple."""

    def read(values: object) -> tuple[T, ...]:
        if not isinstance(values, tuple) or len(values) != width:
            raise Malformed(f"{width} values")
        return tuple(check.read(value) for value in values)

    return Check(read, f"{width}×{check.name}", width)


def text_check(limit: int) -> Check[str | None]:
    return Check(_text(limit), f"text≤{limit}")


# The checks, and the annotations a callback's parameters use (the type is what the function gets).
CLICKS, OPTIONAL_INT, ROWS, RAW = (
    Check(_clicks, "clicks"),
    Check(_int_or_none, "int"),
    Check(_rows, "rows"),
    Check(_raw, "raw"),
)
TEXT, LONG_TEXT = text_check(10_000), text_check(100_000)  # an input's text; a form's long texts
# n_clicks, n_intervals: a count, or (anything else) nothing
Clicks = Annotated[int | None, CLICKS]
# a refresh counter in a dcc.Store: what is not a count is 0
Counter = Annotated[int, Check(_counter, "counter")]
# an id or a number from a dropdown or a store: anything else is 400
OptionalInt = Annotated[int | None, OPTIONAL_INT]
# a batch number or an id where the page has always taken anything else as none (a filter)
LenientInt = Annotated[int | None, Check(_lenient_int, "lenient int")]
# a value the domain reads itself (a factor's value: typed as a number, or as text)
NumberOrText = Annotated[int | float | str | None, Check(_number_or_text, "number or text")]
# an input's or a dropdown's text
Text = Annotated[str | None, TEXT]
# dcc.Upload's contents: a data URL (its size is limited by dashboards/requests.py)
Upload = Annotated[str | None, text_check(MAX_CALLBACK_BYTES)]
# a multi-select or a checklist: what is not text is left out
Texts = Annotated[list[str] | None, Check(_texts, "texts")]
# a grid's selectedRows or rowData: a list of objects
Rows = Annotated[list[dict[str, object]] | None, ROWS]
# a dcc.Store's object
Mapping = Annotated[dict[str, object] | None, Check(_mapping, "mapping")]
# read by the function itself, which checks every part (a filter the domain cleans, AG Grid's request)
Raw = Annotated[object, RAW]


# --- the call --------------------------------------------------------------------------------------


class Call:
    """What a page callback is given: the user, the settings, the triggering input and, on first
    use, the database session (one transaction per call)."""

    def __init__(self, user: User, stack: ExitStack, *, read_only: bool) -> None:
        self.user = user
        self._stack, self._read_only = stack, read_only
        self._session: TrackerSession | None = None

    @property
    def session(self) -> TrackerSession:
        if self._session is None:
            self._session = self._stack.enter_context(db_session(read_only=self._read_only))
        return self._session

    @property
    def settings(self) -> Settings:
        return app_settings()

    @property
    def triggered(self) -> str | None:
        """The id of the input that fired the callback (None on the initial call)."""
        triggered = ctx.triggered_id
        return triggered if isinstance(triggered, str) else None


@dataclass(frozen=True)
class PageCallback:
    module: str
    name: str
    dependencies: tuple[Output | Input | State, ...]
    prevent_initial_call: bool | None
    function: Callable[..., object] | None = None  # None: a clientside callback
    clientside: str = ""


REGISTRY: list[PageCallback] = []


def _checks(function: Callable[..., object], count: int) -> list[Check[object]]:
    hints = typing.get_type_hints(function, include_extras=True)
    parameters = list(inspect.signature(function).parameters.values())
    if not parameters or hints.get(parameters[0].name) is not Call:
        raise TypeError(f"{function.__qualname__}: the first parameter is the Call")
    checks = []
    for parameter in parameters[1:]:
        hint = hints.get(parameter.name)
        found = [m for m in getattr(hint, "__metadata__", ()) if isinstance(m, Check)]
        if len(found) != 1:
            raise TypeError(f"{function.__qualname__}: {parameter.name} needs a checked annotation")
        checks.append(found[0])
    if sum(c.width for c in checks) != count:
        raise TypeError(f"{function.__qualname__}: {count} inputs and state, parameters take {len(checks)}")
    return checks


def _read(checks: list[Check[object]], values: tuple[object, ...]) -> list[object]:
    read, at = [], 0
    for check in checks:
        part = values[at] if check.width == 1 else values[at : at + check.width]
        read.append(check.read(part))
        at += check.width
    return read


def _alert_position(outputs: list[Output], wanted: Output | None) -> int | None:
    """Where ``wanted`` is among the outputs (None for None; not among them is an error)."""
    if wanted is None:
        return None
    for index, output in enumerate(outputs):
        if (output.component_id, output.component_property) == (
            wanted.component_id,
            wanted.component_property,
        ):
            return index
    raise TypeError(f"alert={wanted} is not one of the callback's outputs")


def _answer(error: Refusal, position: int | None, width: int, fixed: dict[int | None, object]) -> object:
    if position is None:
        raise PreventUpdate
    shown = error_alert(error)
    if width == 1:
        return shown
    return tuple(shown if i == position else fixed.get(i, no_update) for i in range(width))


def page_callback(
    action: Action,
    *dependencies: Output | Input | State,
    alert: Output | None = None,
    may: Callable[[User], bool] | None = None,
    on_refusal: tuple[tuple[Output, object], ...] = (),
    read_only: bool = False,
    prevent_initial_call: bool | None = None,
) -> Callable[[Fn], Fn]:
    """Register ``function`` as a page callback (see the module's docstring).

    ``action`` is what the user's role must allow; ``dependencies`` are Dash's outputs, inputs and
    state, as for ``app.callback``; ``alert`` is the output a refusal is shown in (one of the
    outputs); ``may`` is a further question to the permission module (``may_read_work_plan``):
    a user it says no to gets nothing, like one whose role does not allow ``action``; ``on_refusal`` gives other outputs a value then (an upload box emptied so the same
    file can be chosen again, a confirmation closed); ``read_only`` opens the session read-only (see
    ``tracker.core.db.transaction``)."""
    outputs = [d for d in dependencies if isinstance(d, Output)]
    arguments = [d for d in dependencies if not isinstance(d, Output)]
    position = _alert_position(outputs, alert)
    fixed = {_alert_position(outputs, output): value for output, value in on_refusal}

    def decorate(function: Fn) -> Fn:
        checks = _checks(function, len(arguments))
        name = f"{function.__module__}.{function.__qualname__}"

        @functools.wraps(function)
        def run(*values: object) -> object:
            user = request_user(action)
            if may is not None and not may(user):
                raise PreventUpdate
            try:
                read = _read(checks, values)
            except Malformed as error:
                log.warning("malformed call of %s by %s: %s", name, user.username, error)
                raise BadRequest(_("请求格式不正确")) from None
            try:
                with ExitStack() as stack:
                    return function(Call(user, stack, read_only=read_only), *read)
            except (TrackerError, PermissionDenied, Refused) as error:
                log.info("%s refused for %s: %s", name, user.username, error)
                return _answer(error, position, len(outputs), fixed)

        REGISTRY.append(PageCallback(function.__module__, name, dependencies, prevent_initial_call, run))
        return function

    return decorate


def page_clientside(
    code: str, *dependencies: Output | Input | State, prevent_initial_call: bool | None = None
) -> None:
    """A callback that runs in the browser (no server side, nothing to check)."""
    module = inspect.stack()[1].frame.f_globals.get("__name__", "")
    REGISTRY.append(PageCallback(module, "clientside", dependencies, prevent_initial_call, clientside=code))


def callbacks_of(module: str) -> Iterator[PageCallback]:
    return (c for c in REGISTRY if c.module == module)


def register_page_callbacks(app: Dash, modules: list[str], *, every_page: bool = True) -> None:
    """Every callback of these modules, registered with ``app``. With ``every_page`` (the app's
    pages), a callback in another module of this package is an error: it would silently be missing."""
    strays = {c.module for c in REGISTRY if c.module.startswith("dashboards.")} - set(modules)
    if every_page and strays:
        raise TypeError(f"page callbacks outside the app's pages: {sorted(strays)}")
    for module in modules:
        for entry in callbacks_of(module):
            if entry.function is None:
                app.clientside_callback(  # type: ignore[no-untyped-call]
                    entry.clientside, *entry.dependencies, prevent_initial_call=entry.prevent_initial_call
                )
            else:
                app.callback(*entry.dependencies, prevent_initial_call=entry.prevent_initial_call)(
                    entry.function
                )


def download(content: bytes, filename: str) -> dict[str, object]:
    """A dcc.Download's data: the file's bytes under its name."""
    sent: dict[str, object] = dcc.send_bytes(content, filename)  # type: ignore[attr-defined, no-untyped-call]
    return sent


def read_upload(contents: str | None) -> bytes:
    """The bytes of a dcc.Upload's data URL; a refusal ("cannot read the file") when it is not one."""
    try:
        return decode_upload(contents)
    except ValueError:
        raise Refused(_("无法读取上传的文件"), "danger") from None


def require_selection(rows: list[dict[str, object]] | None, missing: str) -> None:
    """A refusal, ``missing``, unless the grid has a row selected."""
    if not has_selection(rows):
        raise Refused(missing)


def chosen_row(rows: list[dict[str, object]] | None, missing: str) -> int:
    """The id of the grid's selected row; ``missing`` is the refusal shown when none is selected (a
    malformed row stops the callback, see ``dashboards.widgets.selected_id``)."""
    require_selection(rows, missing)
    return selected_id(rows)
