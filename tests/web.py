"""Helpers for talking to the app over HTTP in tests: log in, and call Dash callbacks directly."""

from __future__ import annotations

import re
from typing import Any

from tests.factories import PASSWORD


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "login form has no CSRF token"
    return match.group(1)


def login(client: Any, username: str, password: str = PASSWORD, next_url: str = "/") -> Any:
    page = client.get("/login")
    return client.post("/login", data={"csrf": csrf_from(page.get_data(as_text=True)), "username": username,
                                       "password": password, "next": next_url})  # fmt: skip


def callback_for(
    app: Any, output_id: str, values: dict[str, Any] | None = None
) -> tuple[str, dict[str, Any]]:
    """The registered callback whose outputs include component ``output_id``.

    Several callbacks may write one output (``allow_duplicate``); then the one whose inputs and
    state cover the given values is chosen.
    """
    wanted = {key.split(".")[0] for key in values or {}}
    candidates = [(key, spec) for key, spec in app.callback_map.items() if f"{output_id}." in key]
    if not candidates:
        raise KeyError(output_id)

    def covered(spec: dict[str, Any]) -> int:
        ids = {item["id"] for item in spec["inputs"] + spec["state"]}
        return len(wanted & ids) - 100 * len(wanted - ids)

    return max(candidates, key=lambda pair: covered(pair[1]))


def _value(values: dict[str, Any], item: dict[str, Any]) -> Any:
    qualified = f"{item['id']}.{item['property']}"
    return values[qualified] if qualified in values else values.get(item["id"])


def call_callback(client: Any, app: Any, output_id: str, values: dict[str, Any] | None = None) -> Any:
    """POST /_dash-update-component exactly as the browser would, with chosen input values.

    ``values`` maps a component id (or ``id.property``) to its value; the inputs named there are the
    ones that changed.
    """
    values = values or {}
    key, spec = callback_for(app, output_id, values)
    outputs = [
        {"id": part.split(".")[0], "property": part.split(".")[1].split("@")[0]}
        for part in key.strip(".").split("...")
    ]
    inputs = [{**item, "value": _value(values, item)} for item in spec["inputs"]]
    state = [{**item, "value": _value(values, item)} for item in spec["state"]]
    changed = [f"{item['id']}.{item['property']}" for item in inputs if item["id"] in values] or [
        f"{inputs[0]['id']}.{inputs[0]['property']}"
    ]
    payload = {"output": key, "outputs": outputs if len(outputs) > 1 else outputs[0], "inputs": inputs,
               "state": state, "changedPropIds": changed}  # fmt: skip
    return client.post("/_dash-update-component", json=payload)


def component(tree: Any, component_id: str) -> Any:
    """The props of the component with that id in a rendered layout (None if absent)."""
    if isinstance(tree, dict) and tree.get("id") == component_id:
        return tree
    for value in tree.values() if isinstance(tree, dict) else tree if isinstance(tree, list) else []:
        found = component(value, component_id)
        if found is not None:
            return found
    return None
