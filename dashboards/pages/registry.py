"""试点名录: every pilot the user may see, filterable, sortable, exportable to Excel."""

from __future__ import annotations

from typing import Annotated

import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html
from dash.development.base_component import Component

from dashboards.access import app_settings, db_session, guarded_layout
from dashboards.callbacks import RAW, Call, Clicks, download, many, page_callback
from dashboards.filters import chosen_in_query
from dashboards.grid import data_grid
from dashboards.widgets import dropdown_labels
from reports.excel import write_table
from tracker.access.permissions import Action
from tracker.audit import trail as audit
from tracker.core.clock import local_today
from tracker.core.i18n import N_, _, format_date
from tracker.core.json_types import JsonRow, Option
from tracker.core.periods import reporting_period
from tracker.models import User
from tracker.monitoring.registry import REGISTRY_COLUMNS, RegistryFilters, filter_options, registry_rows
from tracker.progress.expected import thresholds_from

PATH = "/pilots"
NAME = N_("试点名录")
ORDER = 1
REQUIRED_ACTION = Action.VIEW

GRID = "registry-grid"
COUNT = "registry-count"
EXPORT = "registry-export"
DOWNLOAD = "registry-download"
FILTERS = {
    "city_ids": ("registry-city", N_("城市"), "cities"),
    "product_ids": ("registry-product", N_("试点产品"), "products"),
    "categories": ("registry-category", N_("试点类别"), "categories"),
    "statuses": ("registry-status", N_("试点状态"), "statuses"),
    "batch_numbers": ("registry-batch", N_("批次"), "batches"),
    "progress": ("registry-progress", N_("进度状态（纳入调度）"), "progress"),
    "overdue": ("registry-overdue", N_("里程碑"), "overdue"),
}
# On the status's stored value, not its words (which follow the reader's language).
_STATUS_CLASSES = {
    "progress-ok": "params.data.progress_key == 'on_track' || params.data.progress_key == 'finished'",
    "progress-behind": "params.data.progress_key == 'behind'",
    "progress-serious": "params.data.progress_key == 'seriously_behind'",
}


def _column_defs() -> list[JsonRow]:
    defs: list[JsonRow] = []
    for key, caption in REGISTRY_COLUMNS:
        column: JsonRow = {"field": key, "headerName": _(caption)}
        if key in ("start_date", "end_date"):
            column |= {"filter": "agDateColumnFilter", "valueFormatter": {"function": "zhDate(params.value)"}}
        elif key in ("expected", "actual", "gap"):
            column |= {"filter": "agNumberColumnFilter", "type": "numericColumn", "width": 120}
        elif key == "progress_status":
            column["cellClassRules"] = _STATUS_CLASSES
        if key == "name":
            column |= {"pinned": "left", "minWidth": 280, "cellRenderer": "PilotLink"}
        defs.append(column)
    return defs


def _filter_row(options: dict[str, list[Option]], chosen: dict[str, list[int | str]]) -> Component:
    cols = [
        dbc.Col([dbc.Label(_(caption), html_for=cid, className="small mb-0"),
                 dcc.Dropdown(id=cid, options=options[key], multi=True, placeholder=_("全部"), value=chosen.get(field),
                              labels=dropdown_labels(), maxHeight=320)], md=2)
        for field, (cid, caption, key) in FILTERS.items()
    ]  # fmt: skip
    cols.append(dbc.Col(dbc.Button(_("导出Excel"), id=EXPORT, color="success", className="mt-4"), md=2))
    return dbc.Row(cols, className="g-2 mb-2")


@guarded_layout(REQUIRED_ACTION)
def layout(user: User, **query: str) -> Component:
    with db_session(read_only=True) as session:
        options = filter_options(session, user)
    today = local_today(app_settings().timezone)
    return html.Div([
        html.H2(_("试点名录"), className="h4"),
        html.P(_("序时进度按截至今日（{date}）计算；按进度状态或逾期里程碑筛选时，只列本报告期纳入调度的试点，与概览的统计一致。").format(
            date=format_date(today)), className="text-muted small"),
        _filter_row(options, chosen_in_query(query, options)),  # ?city=…&status=… (the overview links so)
        html.Div(id=COUNT, className="small text-muted mb-1"),
        data_grid(GRID, _column_defs(), floating_filter=True),
        dcc.Download(id=DOWNLOAD),
    ])  # fmt: skip


FilterValues = Annotated[tuple[object, ...], many(RAW, len(FILTERS))]  # each cleaned by RegistryFilters


def _rows_for(call: Call, filter_values: tuple[object, ...]) -> list[JsonRow]:
    filters = RegistryFilters.from_inputs(**dict(zip(FILTERS, filter_values, strict=True)))
    with db_session(read_only=True) as session:
        today = local_today(call.settings.timezone)
        return registry_rows(session, call.user, filters, today, thresholds=thresholds_from(call.settings),
                             period=reporting_period(today, call.settings.reporting))  # fmt: skip


@page_callback(Action.VIEW, Output(GRID, "rowData"), Output(COUNT, "children"),
               *[Input(cid, "value") for cid, _caption, _key in FILTERS.values()])  # fmt: skip
def load_registry(call: Call, filter_values: FilterValues) -> tuple[list[JsonRow], str]:
    rows = _rows_for(call, filter_values)
    return rows, _("共 {n} 个试点").format(n=len(rows))


@page_callback(Action.EXPORT, Output(DOWNLOAD, "data"), Input(EXPORT, "n_clicks"),
               *[State(cid, "value") for cid, _caption, _key in FILTERS.values()], prevent_initial_call=True)  # fmt: skip
def export_registry(call: Call, _clicks: Clicks, filter_values: FilterValues) -> dict[str, object]:
    rows = _rows_for(call, filter_values)
    today = local_today(call.settings.timezone)
    content = write_table(
        _("试点名录"), [(k, _(c)) for k, c in REGISTRY_COLUMNS], rows, date_keys=("start_date", "end_date"),
        note=_("导出时间：{date}　导出人：{who}　共{n}个试点").format(
            date=format_date(today), who=call.user.display_name, n=len(rows)),
    )  # fmt: skip
    audit.record(
        call.session, "export", "pilots", summary=f"试点名录 {len(rows)} 行", city_id=call.user.city_id
    )
    return download(content, f"试点名录_{today.isoformat()}.xlsx")
