"""AG Grid with the project's defaults: the reader's language (AG Grid's own zh-CN file), filters, paging."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path

import dash_ag_grid as dag

from tracker.core.i18n import english


@cache
def _zh_cn() -> dict[str, str]:
    text: dict[str, str] = json.loads(
        (Path(__file__).parent / "aggrid_locale_zh_cn.json").read_text(encoding="utf-8")
    )
    # The paging bar is built as "{to} … {of} … {page}": word-for-word 的/页 reads badly
    # ("1 至 50 的 76", "页 1 的 2"); "1 至 50 / 76" and "第 1 / 2 页" read as Chinese.
    return text | {"of": "/", "page": "第", "noRowsToShow": "没有数据"}


# No column narrower than this (a few characters and the sort and filter marks): on a narrow screen a
# grid that cannot fit scrolls sideways instead of squeezing its columns (flex and size-to-fit alike).
MIN_COLUMN_WIDTH = 80


def locale_text() -> dict[str, str]:
    """AG Grid's own words in the reader's language: zh-CN from @ag-grid-community/locale (MIT),
    shipped with the package; English is AG Grid's default."""
    return {} if english() else dict(_zh_cn())


def data_grid(grid_id: str, column_defs: Sequence[Mapping[str, object]], row_data: Sequence[Mapping[str, object]] | None = None,
              *, height: str = "65vh", floating_filter: bool = False) -> dag.AgGrid:  # fmt: skip
    """A grid of ``height``; ``height="auto"`` for a short list: as tall as its rows, no pages."""
    auto = height == "auto"
    return dag.AgGrid(
        id=grid_id,
        columnDefs=column_defs,
        rowData=row_data or [],
        defaultColDef={
            "filter": True,
            "sortable": True,
            "resizable": True,
            "floatingFilter": floating_filter,
            "minWidth": MIN_COLUMN_WIDTH,
        },
        dashGridOptions={
            "pagination": not auto,
            "paginationPageSize": 50,
            "animateRows": False,
            "localeText": locale_text(),
        }
        | ({"domLayout": "autoHeight"} if auto else {}),
        style={} if auto else {"height": height},
        className="ag-theme-quartz",
    )
