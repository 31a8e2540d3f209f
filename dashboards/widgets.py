"""Small pieces the pages share: feedback alerts and reading a grid's selected row."""

from __future__ import annotations

from typing import Any, TypeVar

import dash_bootstrap_components as dbc
from dash.exceptions import PreventUpdate

from tracker.permissions import Action, can

T = TypeVar("T")


def alert(text: str, color: str = "success") -> Any:
    return dbc.Alert(text, color=color, dismissable=True, className="py-2")


def selected_id(rows: Any) -> int:
    """The id of the grid's selected row; anything malformed (a hand-made POST) stops the callback."""
    if not rows or not isinstance(rows, list) or not isinstance(rows[0], dict):
        raise PreventUpdate
    try:
        return int(rows[0]["id"])
    except (KeyError, TypeError, ValueError):
        raise PreventUpdate from None


def visible_row(session: Any, user: Any, model: type[T], row_id: int) -> T:
    """The row if the user may see it; another city's id (or a missing one) stops the callback,
    so a hand-made POST learns nothing, not even whether the id exists."""
    row = session.get(model, row_id)
    if row is None or not can(user, Action.VIEW, row):
        raise PreventUpdate
    return row  # type: ignore[no-any-return]
