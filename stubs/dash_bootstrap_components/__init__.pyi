# dash-bootstrap-components ships no type information: every component is a Dash component that
# takes its children and props as the Dash component classes do (checked by Dash in the browser).
from dash.development.base_component import Component

class _Component(Component):
    def __init__(self, children: object = ..., **props: object) -> None: ...

def __getattr__(name: str) -> type[_Component]: ...
