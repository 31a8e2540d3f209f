# dash-ag-grid ships no type information: the grid is a Dash component whose props (AG Grid's
# options, passed to the browser as they are) are read and set by name.
from typing import Any

from dash.development.base_component import Component

class AgGrid(Component):
    def __init__(self, children: object = ..., **props: object) -> None: ...
    def __getattr__(self, name: str) -> Any: ...
    def __setattr__(self, name: str, value: object) -> None: ...
