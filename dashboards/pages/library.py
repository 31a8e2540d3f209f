"""参考数据: the reference library the claim rules judge against — product benchmarks, electricity
factors and recognised certification bodies — with each entry's history.

Who sees it: everyone who may view (Action.VIEW: provincial admin and staff, city staff, leaders).
The figures are public, and the rules judge every city's claims against them, so a city bureau
should be able to see what its claims were held to; the library belongs to no city, so nothing is
scoped. Who edits: the provincial administrator only (tracker.access.permissions.may_edit_library); the
forms and the file import are shown to the admin alone, and every write is checked again in
tracker.claims.library, so a hand-made request from anyone else changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html, no_update
from dash.development.base_component import Component
from dash.exceptions import PreventUpdate
from sqlalchemy.orm import Session

from dashboards.access import app_settings, db_session, guarded_layout
from dashboards.callbacks import (
    RAW,
    ROWS,
    Call,
    Clicks,
    Counter,
    NumberOrText,
    Raw,
    Refused,
    Rows,
    Text,
    Upload,
    many,
    page_callback,
    page_clientside,
)
from dashboards.grid import data_grid
from dashboards.widgets import (
    ROW_ID,
    alert,
    decode_upload,
    has_selection,
    simple_table,
    with_row_ids,
)
from tracker.access.permissions import Action, may_edit_library
from tracker.claims.library import (
    LibraryProblem,
    LibraryVersion,
    NothingChanged,
    benchmark_history,
    certifier_history,
    factor_history,
    list_benchmarks,
    list_certifiers,
    list_factors,
    recognise_certifier,
    set_benchmark,
    set_factor,
)
from tracker.claims.library_import import LibraryKind, import_library
from tracker.core.errors import TrackerError
from tracker.core.i18n import N_, _, format_datetime, name_of, translated
from tracker.core.json_types import JsonRow
from tracker.core.messages import Message, message_of
from tracker.core.validation import Problem, ValidationFailed
from tracker.models import User

PATH = "/library"
NAME = N_("参考数据")
ORDER = 7.5
REQUIRED_ACTION = Action.VIEW
FACTOR_SCOPES = {
    "全国": N_("全国"),
    "华北": N_("华北"),
    "山西": N_("山西"),
}  # a factor's region, in the reader's language

TABS, MESSAGE, HISTORY, REFRESH = "lib-tabs", "lib-message", "lib-history", "lib-refresh"
GRIDS = {LibraryKind.BENCHMARKS: "lib-benchmarks", LibraryKind.FACTORS: "lib-factors",
         LibraryKind.CERTIFIERS: "lib-certifiers"}  # fmt: skip
TAB_NAMES = {LibraryKind.BENCHMARKS: N_("产品基准"), LibraryKind.FACTORS: N_("电力排放因子"),
             LibraryKind.CERTIFIERS: N_("认证机构")}  # fmt: skip
# the benchmark form: figure → (input id, caption), in the order they must rise
FIGURES = {"physical_floor": ("lib-b-floor", N_("物理下限")), "plausible_low": ("lib-b-low", N_("合理下限")),
           "typical": ("lib-b-typical", N_("典型值")), "plausible_high": ("lib-b-high", N_("合理上限"))}  # fmt: skip
B_PRODUCT, B_UNIT, B_CONFIDENCE, B_BASIS, B_REASON, B_SAVE = (
    "lib-b-product", "lib-b-unit", "lib-b-confidence", "lib-b-basis", "lib-b-reason", "lib-b-save")  # fmt: skip
F_KEY, F_VALUE, F_SOURCE, F_REASON, F_SAVE = (
    "lib-f-key",
    "lib-f-value",
    "lib-f-source",
    "lib-f-reason",
    "lib-f-save",
)
C_NAME, C_NUMBER, C_NOTE, C_REASON, C_ADD, C_WITHDRAW = (
    "lib-c-name", "lib-c-number", "lib-c-note", "lib-c-reason", "lib-c-add", "lib-c-withdraw")  # fmt: skip
UPLOAD, UPLOAD_NAME, IMPORT_REASON, CHECK, APPLY, IMPORT_RESULT = (
    "lib-upload", "lib-upload-name", "lib-import-reason", "lib-import-check", "lib-import-apply", "lib-import-result")  # fmt: skip
EDIT_BOXES = {LibraryKind.BENCHMARKS: "lib-b-box", LibraryKind.FACTORS: "lib-f-box",
              LibraryKind.CERTIFIERS: "lib-c-box"}  # fmt: skip
IMPORT_BOX = "lib-import-box"
COLUMNS = {
    LibraryKind.BENCHMARKS: [("product", N_("产品"), 110), ("declared_unit", N_("声明单位"), 110),
                             ("physical_floor", N_("物理下限"), 110), ("plausible_low", N_("合理下限"), 110),
                             ("typical", N_("典型值"), 100), ("plausible_high", N_("合理上限"), 110),
                             ("confidence", N_("可信度"), 110), ("version", N_("版本"), 80),
                             ("changed_at", N_("修改时间"), 175), ("basis", N_("依据"), 320)],
    LibraryKind.FACTORS: [("factor_key", N_("因子编号"), 190), ("scope", N_("范围"), 80), ("year", N_("年份"), 80),
                          ("kind", N_("类型"), 240), ("value", N_("数值"), 100), ("unit", N_("单位"), 110),
                          ("confidence", N_("可信度"), 110), ("version", N_("版本"), 80),
                          ("changed_at", N_("修改时间"), 175), ("source", N_("来源"), 280)],
    LibraryKind.CERTIFIERS: [("name", N_("机构名称"), 240), ("accreditation_no", N_("批准号"), 170),
                             ("state", N_("状态"), 100), ("note", N_("备注"), 260), ("changed_at", N_("修改时间"), 175)],
}  # fmt: skip
NUMERIC = {"physical_floor", "plausible_low", "typical", "plausible_high", "value", "version", "year"}


def _tz() -> ZoneInfo:
    return app_settings().timezone


def _grid(kind: LibraryKind) -> Component:
    columns = [{"field": f, "headerName": _(h), "width": w, "tooltipField": f}
               | ({"type": "numericColumn", "filter": "agNumberColumnFilter"} if f in NUMERIC else {})
               for f, h, w in COLUMNS[kind]]  # fmt: skip
    grid = data_grid(GRIDS[kind], columns, height="40vh")
    grid.dashGridOptions = {
        **grid.dashGridOptions,
        "rowSelection": {"mode": "singleRow", "enableClickSelection": True},
    }
    grid.getRowId = ROW_ID
    return grid


def _field(
    caption: str, component: Any, md: int = 2
) -> Component:  # Any: Dash declares no typed id on a component
    return dbc.Col([dbc.Label(caption, html_for=component.id, className="small mb-0"), component], md=md)


def _reason_box(box_id: str) -> Component:
    return dbc.Textarea(id=box_id, rows=2, maxLength=1000, placeholder=_("修改理由和依据（必填）"))


def _benchmark_form(products: list[JsonRow], editor: bool) -> Component:
    figures = [
        _field(_(caption), dbc.Input(id=box, type="number", step="any")) for box, caption in FIGURES.values()
    ]
    return html.Div([
        html.H3(_("修改产品基准（保存为新版本，应满足 物理下限 ≤ 合理下限 ≤ 典型值 ≤ 合理上限）"), className="h6"),
        dbc.Row([_field(_("产品"), dcc.Dropdown(id=B_PRODUCT, options=products, clearable=False)), *figures,
                 _field(_("声明单位"), dbc.Input(id=B_UNIT, maxLength=64), 1),
                 _field(_("可信度"), dbc.Input(id=B_CONFIDENCE, maxLength=64), 1)], className="g-2 mb-2"),
        dbc.Row([_field(_("依据"), dbc.Textarea(id=B_BASIS, rows=2, maxLength=2000), 6),
                 _field(_("理由"), _reason_box(B_REASON), 4),
                 dbc.Col(dbc.Button(_("保存为新版本"), id=B_SAVE, color="primary", size="sm", className="mt-4"), md=2)],
                className="g-2"),
    ], id=EDIT_BOXES[LibraryKind.BENCHMARKS], hidden=not editor, className="mt-3")  # fmt: skip


def _factor_form(factors: list[JsonRow], editor: bool) -> Component:
    return html.Div([
        html.H3(_("修改电力排放因子（保存为新版本）"), className="h6"),
        dbc.Row([_field(_("因子"), dcc.Dropdown(id=F_KEY, options=factors, clearable=False), 3),
                 _field(_("数值"), dbc.Input(id=F_VALUE, type="number", step="any")),
                 _field(_("来源"), dbc.Input(id=F_SOURCE, maxLength=500), 3),
                 _field(_("理由"), _reason_box(F_REASON), 3),
                 dbc.Col(dbc.Button(_("保存为新版本"), id=F_SAVE, color="primary", size="sm", className="mt-4"), md=1)],
                className="g-2"),
    ], id=EDIT_BOXES[LibraryKind.FACTORS], hidden=not editor, className="mt-3")  # fmt: skip


def _certifier_form(editor: bool) -> Component:
    return html.Div([
        html.H3(_("认可或停用认证机构"), className="h6"),
        dbc.Row([_field(_("机构名称"), dbc.Input(id=C_NAME, maxLength=200), 3),
                 _field(_("批准号"), dbc.Input(id=C_NUMBER, maxLength=64)),
                 _field(_("备注"), dbc.Input(id=C_NOTE, maxLength=500)),
                 _field(_("理由"), _reason_box(C_REASON), 3),
                 dbc.Col([dbc.Button(_("认可"), id=C_ADD, color="primary", size="sm", className="mt-4 me-1"),
                          dbc.Button(_("停用"), id=C_WITHDRAW, color="danger", size="sm", className="mt-4")], md=2)],
                className="g-2"),
    ], id=EDIT_BOXES[LibraryKind.CERTIFIERS], hidden=not editor, className="mt-3")  # fmt: skip


def _import_card(editor: bool) -> Component:
    return dbc.Card(dbc.CardBody([
        html.H3(_("从文件导入当前选项卡的数据（CSV 或 XLSX，列同目录文件；先检查，再导入）"), className="h6"),
        dbc.Row([
            dbc.Col(dcc.Upload(id=UPLOAD, children=html.Div(_("拖入或点击选择 .csv / .xlsx 文件")), className="upload-box",
                               accept=".csv,.xlsx", max_size=5 * 1024 * 1024), md=3),
            dbc.Col(html.Div(id=UPLOAD_NAME, className="small text-muted mt-2"), md=2),
            dbc.Col(_reason_box(IMPORT_REASON), md=4),
            dbc.Col([dbc.Button(_("检查（不写入）"), id=CHECK, color="secondary", size="sm", className="me-1"),
                     dbc.Button(_("导入"), id=APPLY, color="primary", size="sm", disabled=True)], md=3),
        ], className="g-2"),
        html.Div(id=IMPORT_RESULT, className="mt-2"),
    ]), id=IMPORT_BOX, className="mt-3", style={} if editor else {"display": "none"})  # fmt: skip


@guarded_layout(REQUIRED_ACTION)
def layout(user: User, **_query: str) -> Component:
    editor = may_edit_library(user)
    with db_session() as session:
        products: list[JsonRow] = [
            {"label": name_of(b.product), "value": b.product.name_zh} for b in list_benchmarks(session)
        ]
        factors: list[JsonRow] = [
            {
                "label": f"{f.factor_key} ({translated(FACTOR_SCOPES, f.scope)} {f.year})",
                "value": f.factor_key,
            }
            for f in list_factors(session)
        ]
    forms = {LibraryKind.BENCHMARKS: _benchmark_form(products, editor), LibraryKind.FACTORS: _factor_form(factors, editor),
             LibraryKind.CERTIFIERS: _certifier_form(editor)}  # fmt: skip
    note = (_("您是省级管理员：每次修改保存为新版本并须说明理由，旧版本保留，审计日志记录修改人。") if editor
            else _("只读：参考数据由省级管理员维护。核查规则按现行版本判断各市的碳足迹声明。"))  # fmt: skip
    return html.Div([
        html.H2(_("参考数据"), className="h4"),
        html.P([note, " ", _("选择一行可查看其全部版本。")], className="text-muted small"),
        html.Div(id=MESSAGE),
        dbc.Tabs([dbc.Tab([_grid(kind), forms[kind]], label=_(TAB_NAMES[kind]), tab_id=kind.value) for kind in LibraryKind],
                 id=TABS, active_tab=LibraryKind.BENCHMARKS.value, className="mb-2"),
        html.H3(_("版本记录"), className="h6 mt-3"),
        html.Div(html.P(_("请选择一行"), className="text-muted small"), id=HISTORY),
        _import_card(editor),
        dcc.Store(id=REFRESH, data=0),
    ])  # fmt: skip


# --- rows and histories as shown -----------------------------------------------------------------


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _grid_rows(session: Session) -> dict[LibraryKind, list[JsonRow]]:
    tz = _tz()
    benchmarks: list[JsonRow] = [{"id": b.product_id, "product": name_of(b.product), "declared_unit": b.declared_unit,
                   **{k: _number(getattr(b, k)) for k in FIGURES}, "confidence": b.confidence, "version": b.version,
                   "changed_at": format_datetime(b.changed_at, tz), "basis": b.basis}
                  for b in list_benchmarks(session)]  # fmt: skip
    factors: list[JsonRow] = [{"id": f.factor_key, "factor_key": f.factor_key, "scope": translated(FACTOR_SCOPES, f.scope), "year": f.year, "kind": f.kind,
                "value": _number(f.value), "unit": f.unit, "confidence": f.confidence, "version": f.version,
                "changed_at": format_datetime(f.changed_at, tz), "source": f.source}
               for f in list_factors(session)]  # fmt: skip
    certifiers = [{"id": c.id, "name": c.name, "accreditation_no": c.accreditation_no or "",
                   "state": _("认可") if c.is_active else _("已停用"), "note": c.note or "",
                   "changed_at": format_datetime(c.changed_at, tz)} for c in list_certifiers(session)]  # fmt: skip
    return {
        LibraryKind.BENCHMARKS: benchmarks,
        LibraryKind.FACTORS: factors,
        LibraryKind.CERTIFIERS: certifiers,
    }


def _shown(value: object) -> str:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, bool):
        return _("认可") if value else _("停用")
    return "" if value is None else str(value)


def _history_table(kind: LibraryKind, versions: list[LibraryVersion]) -> Component:
    tz = _tz()
    head = [
        _("变更次序") if kind is LibraryKind.CERTIFIERS else _("版本"),
        _("修改时间"),
        _("修改人"),
        _("理由"),
    ]
    keys: tuple[str, ...] = {
        LibraryKind.BENCHMARKS: (
            "physical_floor",
            "plausible_low",
            "typical",
            "plausible_high",
            "declared_unit",
        ),
        LibraryKind.FACTORS: ("value", "unit", "source"),
        LibraryKind.CERTIFIERS: (),
    }[kind]
    captions = {"declared_unit": _("声明单位"), "value": _("数值"), "unit": _("单位"), "source": _("来源")}
    head += [_(FIGURES[k][1]) if k in FIGURES else captions[k] for k in keys] or [_("变更内容")]
    rows = []
    for v in versions:
        if kind is LibraryKind.CERTIFIERS:
            number = _("第{n}次").format(n=v.version) if v.version else ""
        else:
            number = f"v{v.version}" if v.version else ""
        number += _("（现行）") if v.is_current else ""
        who = v.changed_by or _("初始数据")
        cells = [_shown(v.figures.get(k)) for k in keys] or [_certifier_change(v.figures)]
        rows.append([number, format_datetime(v.changed_at, tz), who, v.reason, *cells])
    return simple_table(head, rows, "lib-history-table")


def _certifier_change(figures: JsonRow) -> str:
    captions = {"is_active": _("状态"), "accreditation_no": _("批准号"), "note": _("备注")}
    return "；".join(f"{captions[k]}：{_shown(v) or '—'}" for k, v in figures.items())


# --- reading what the browser sent ---------------------------------------------------------------


def _missing(value: object) -> bool:
    """An empty form field: the browser sends None (or an empty text) for a box left blank or typed
    with something that is not a number."""
    return value is None or (isinstance(value, str) and not value.strip())


def _figures(values: Sequence[object]) -> JsonRow:
    """The four benchmark figures as typed; every one is required (the form shows all four), so an
    empty one is refused by name rather than the stored figure carried over. Whether each is a
    number ≥ 0 and in order is checked by tracker.claims.library.set_benchmark."""
    figures = dict(zip(FIGURES, values, strict=True))
    empty: list[Problem] = [
        LibraryProblem(key, Message("不能为空，请填写数值")) for key, v in figures.items() if _missing(v)
    ]
    if empty:
        raise ValidationFailed(empty)
    return figures


def _kind(value: object) -> LibraryKind:
    if not isinstance(value, str):
        raise PreventUpdate
    try:
        return LibraryKind(value)
    except ValueError:
        raise PreventUpdate from None


def _selected(rows: list[dict[str, object]] | None) -> int | str:
    """The ``id`` of the grid's selected row (a product id, a factor key, a certifier id)."""
    if not rows:
        raise PreventUpdate
    value = rows[0].get("id")
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise PreventUpdate
    return value


def _history_of(session: Session, kind: LibraryKind, key: int | str) -> list[LibraryVersion]:
    if kind is LibraryKind.FACTORS:
        return factor_history(session, str(key))
    if not isinstance(key, int) or isinstance(key, bool):
        raise PreventUpdate
    return (
        benchmark_history(session, key) if kind is LibraryKind.BENCHMARKS else certifier_history(session, key)
    )


def _changed(change: Callable[[], object], done: str, refresh: int) -> tuple[object, int]:
    """Run one edit; (message, refresh). An edit that changes nothing is a warning."""
    try:
        change()
    except NothingChanged as error:
        raise Refused(message_of(error)) from None
    return alert(done), refresh + 1


MESSAGE_OUT = Output(MESSAGE, "children", allow_duplicate=True)
REFRESH_OUT = Output(REFRESH, "data", allow_duplicate=True)
Selections = Annotated[tuple[list[dict[str, object]] | None, ...], many(ROWS, len(GRIDS))]
FigureValues = Annotated[tuple[object, ...], many(RAW, len(FIGURES))]


@page_callback(Action.VIEW, *[Output(grid, "rowData") for grid in GRIDS.values()], Input(REFRESH, "data"))
def load(call: Call, _refresh: Raw) -> tuple[object, ...]:
    rows = _grid_rows(call.session)
    return tuple(with_row_ids(rows[kind]) for kind in GRIDS)


@page_callback(Action.VIEW, Output(HISTORY, "children"), Input(TABS, "active_tab"),
               *[Input(grid, "selectedRows") for grid in GRIDS.values()], Input(REFRESH, "data"))  # fmt: skip
def history(call: Call, tab: Raw, selections: Selections, _refresh: Raw) -> object:
    kind = _kind(tab)
    selection = dict(zip(GRIDS, selections, strict=True))[kind]
    if not has_selection(selection):
        return html.P(_("请选择一行"), className="text-muted small")
    return _history_table(kind, _history_of(call.session, kind, _selected(selection)))


@page_callback(Action.VIEW, *[Output(box, "value") for box in (B_PRODUCT, *[b for b, _c in FIGURES.values()], B_UNIT,
                                                               B_CONFIDENCE, B_BASIS)],
               Input(GRIDS[LibraryKind.BENCHMARKS], "selectedRows"), prevent_initial_call=True)  # fmt: skip
def fill_benchmark(call: Call, rows: Rows) -> tuple[object, ...]:
    _selected(rows)
    row = (rows or [{}])[0]
    return (row.get("product"), *[row.get(k) for k in FIGURES], row.get("declared_unit"), row.get("confidence"),
            row.get("basis"))  # fmt: skip


@page_callback(Action.VIEW, Output(F_KEY, "value"), Output(F_VALUE, "value"), Output(F_SOURCE, "value"),
               Input(GRIDS[LibraryKind.FACTORS], "selectedRows"), prevent_initial_call=True)  # fmt: skip
def fill_factor(call: Call, rows: Rows) -> tuple[object, ...]:
    _selected(rows)
    row = (rows or [{}])[0]
    return row.get("factor_key"), row.get("value"), row.get("source")


@page_callback(Action.VIEW, Output(C_NAME, "value"), Output(C_NUMBER, "value"), Output(C_NOTE, "value"),
               Input(GRIDS[LibraryKind.CERTIFIERS], "selectedRows"), prevent_initial_call=True)  # fmt: skip
def fill_certifier(call: Call, rows: Rows) -> tuple[object, ...]:
    _selected(rows)
    row = (rows or [{}])[0]
    return row.get("name"), row.get("accreditation_no"), row.get("note")


@page_callback(Action.EDIT, MESSAGE_OUT, REFRESH_OUT, Input(B_SAVE, "n_clicks"), State(B_PRODUCT, "value"),
               *[State(box, "value") for box, _caption in FIGURES.values()], State(B_UNIT, "value"),
               State(B_CONFIDENCE, "value"), State(B_BASIS, "value"), State(B_REASON, "value"),
               State(REFRESH, "data"), alert=MESSAGE_OUT, prevent_initial_call=True)  # fmt: skip
def save_benchmark(call: Call, _clicks: Clicks, product: Text, figures: FigureValues, unit: Text, confidence: Text,
                   basis: Text, reason: Text, refresh: Counter) -> tuple[object, int]:  # fmt: skip
    if not product:
        raise Refused(_("请先选择产品"))
    return _changed(lambda: set_benchmark(call.session, call.user, product, reason=reason or "",
                                          **_figures(list(figures)), declared_unit=unit or None,
                                          confidence=confidence or None, basis=basis or None),
                    _("已保存{product}的产品基准新版本").format(product=product), refresh)  # fmt: skip


@page_callback(Action.EDIT, MESSAGE_OUT, REFRESH_OUT, Input(F_SAVE, "n_clicks"), State(F_KEY, "value"),
               State(F_VALUE, "value"), State(F_SOURCE, "value"), State(F_REASON, "value"), State(REFRESH, "data"),
               alert=MESSAGE_OUT, prevent_initial_call=True)  # fmt: skip
def save_factor(
    call: Call, _clicks: Clicks, key: Text, value: NumberOrText, source: Text, reason: Text, refresh: Counter
) -> tuple[object, int]:
    if not key:
        raise Refused(_("请先选择因子"))
    if value is None or _missing(value):
        raise TrackerError(Message("请填写因子数值"))
    return _changed(lambda: set_factor(call.session, call.user, key, value=value, reason=reason or "",
                                       source=source or None),
                    _("已保存因子{key}的新版本").format(key=key), refresh)  # fmt: skip


@page_callback(Action.EDIT, MESSAGE_OUT, REFRESH_OUT, Input(C_ADD, "n_clicks"), Input(C_WITHDRAW, "n_clicks"),
               State(C_NAME, "value"), State(C_NUMBER, "value"), State(C_NOTE, "value"), State(C_REASON, "value"),
               State(REFRESH, "data"), alert=MESSAGE_OUT, prevent_initial_call=True)  # fmt: skip
def save_certifier(call: Call, _add: Clicks, _withdraw: Clicks, name: Text, number: Text, note: Text, reason: Text,
                   refresh: Counter) -> tuple[object, int]:  # fmt: skip
    if call.triggered not in (C_ADD, C_WITHDRAW):
        raise PreventUpdate
    active = call.triggered == C_ADD
    if not (reason or "").strip():
        raise Refused(_("修改参考数据须说明理由和来源"), "danger")
    done = _("已认可：{name}") if active else _("已停用：{name}")
    return _changed(lambda: recognise_certifier(call.session, call.user, name or "", accreditation_no=number or "",
                                                note=note or "", active=active, reason=reason or ""),
                    done.format(name=(name or "").strip()), refresh)  # fmt: skip


# A new file or another tab needs a new check before it can be imported.
page_clientside(
    "function(name, _tab) { return [true, name ? name : '', null]; }",
    Output(APPLY, "disabled", allow_duplicate=True), Output(UPLOAD_NAME, "children"),
    Output(IMPORT_RESULT, "children", allow_duplicate=True),
    Input(UPLOAD, "filename"), Input(TABS, "active_tab"), prevent_initial_call=True,
)  # fmt: skip

IMPORT_OUT = Output(IMPORT_RESULT, "children", allow_duplicate=True)


@page_callback(Action.EDIT, IMPORT_OUT, Output(APPLY, "disabled"), REFRESH_OUT,
               Input(CHECK, "n_clicks"), Input(APPLY, "n_clicks"), State(UPLOAD, "contents"),
               State(UPLOAD, "filename"), State(TABS, "active_tab"), State(IMPORT_REASON, "value"),
               State(REFRESH, "data"), alert=IMPORT_OUT, on_refusal=((Output(APPLY, "disabled"), True),),
               prevent_initial_call=True)  # fmt: skip
def import_file(call: Call, _check: Clicks, _apply: Clicks, contents: Upload, filename: Text, tab: Raw,
                reason: Text, refresh: Counter) -> tuple[object, ...]:  # fmt: skip
    if call.triggered not in (CHECK, APPLY):
        raise PreventUpdate
    kind, dry_run = _kind(tab), call.triggered == CHECK
    try:
        content = decode_upload(contents)
    except ValueError:
        raise Refused(_("请先选择要导入的文件")) from None
    result = import_library(call.session, call.user, kind, content, filename or "", reason=reason or "",
                            dry_run=dry_run)  # fmt: skip
    notes = [html.Li(w.text()) for w in result.warnings] + [html.Li(c.text_zh()) for c in result.changes]
    body = [html.Strong(f"{filename or ''}：{result.summary.text()}"), html.Ul(notes, className="small mb-0")]
    if dry_run:
        ready = bool(result.changes)
        hint = _("确认无误后点击“导入”写入。") if ready else _("没有需要写入的改动。")
        shown = dbc.Alert([*body, html.P(hint, className="small mb-0")], color="info", className="py-2")
        return shown, not ready, no_update
    return dbc.Alert(body, color="success", className="py-2"), True, refresh + 1
