"""Limits and shape checks on every request, before any page, callback or API code sees it.

- **Size**: a callback request may carry an upload (base64 in JSON: the largest upload, 20 MB of
  evidence, with its encoding overhead), anything else at most 1 MiB; a larger body is refused
  with 413 from its Content-Length, before it is read.
- **Nesting and numbers**: JSON nested deeper than ``MAX_DEPTH`` (no callback value or API body
  comes near it), JSON the parser cannot nest that deep at all, and integers beyond ±2⁵³ are
  refused with 400.
- **API bodies** must be JSON (``application/json``): anything else is 415.
- **Callback calls** must be calls this app knows: the output named, and the inputs and state the
  callback declares, in its order, each with its id and property, and an address's parts as text
  (a path starting with /); else 400, never a 500 from inside Dash.
"""

from __future__ import annotations

from typing import Any

from dash import Dash, Output
from flask import Flask, Response, jsonify, request

from tracker.core.i18n import _

MAX_CALLBACK_BYTES = 32 * 2**20
MAX_OTHER_BYTES = 2**20
MAX_DEPTH = 100
MAX_INTEGER = 2**53  # JavaScript's safe integers: what a browser sends exactly
CALLBACK_PATH = "/_dash-update-component"
BODY_METHODS = ("POST", "PUT", "PATCH")


def _refusal(code: int, zh: str, detail: str) -> Response:
    response = jsonify(error=code, message=zh, message_en=detail)
    response.status_code = code
    return response


def _bad_request(detail: str) -> Response:
    return _refusal(400, _("请求格式不正确"), f"Malformed request: {detail}")


def depth(value: object) -> int:
    """How deeply lists and objects nest in a parsed JSON value (a scalar is 0), without recursion.
    An integer beyond what a browser can send exactly (±2⁵³) counts as too deep: no id or count is
    that large, and the database could not hold it."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, int) and not isinstance(item, bool) and abs(item) > MAX_INTEGER:
            return MAX_DEPTH + 1
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        if level > MAX_DEPTH:
            return level
        stack.extend((child, level + 1) for child in children)
    return deepest


def parsed_body() -> tuple[object, Response | None]:
    """The request's JSON and a refusal (None when it may be used)."""
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # the parser itself cannot nest so deep
        return None, _bad_request("JSON nested too deeply")
    if depth(body) > MAX_DEPTH:
        return None, _bad_request(f"JSON nested deeper than {MAX_DEPTH}, or an integer beyond ±2^53")
    return body, None


def _limit_size() -> None:
    request.max_content_length = MAX_CALLBACK_BYTES if request.path == CALLBACK_PATH else MAX_OTHER_BYTES


def _api_body() -> Response | None:
    if not request.path.startswith("/api/") or request.method not in BODY_METHODS:
        return None
    if request.mimetype != "application/json":
        return _refusal(415, _("请求体须为 JSON"), "The body must be JSON (Content-Type: application/json)")
    body, refusal = parsed_body()
    if refusal is None and body is None and request.content_length:
        return _bad_request("the body is not JSON")
    return refusal


def _declared_ids(spec: list[dict[str, Any]]) -> list[tuple[object, str]]:  # Any: Dash's callback_map
    return [(item["id"], item["property"]) for item in spec]


def _mismatch(sent: object, declared: list[tuple[object, str]], key: str) -> str | None:
    if not isinstance(sent, list) or len(sent) != len(declared):
        return f"{key} must list the callback's {len(declared)} items"
    for item, (component, prop) in zip(sent, declared, strict=True):
        if isinstance(component, dict):  # pattern-matching: one item or a list of items, ids as objects
            items = item if isinstance(item, list) else [item]
            if not all(isinstance(i, dict) and isinstance(i.get("id"), dict) and i.get("property") == prop
                       for i in items):  # fmt: skip
                return f"{key}: {prop} of a pattern-matching id"
        elif not isinstance(item, dict) or item.get("id") != component or item.get("property") != prop:
            return f"{key}: expected {component}.{prop}"
    return None


def _outputs_mismatch(
    sent: object, outputs: Output | list[Output] | tuple[Output, ...]
) -> str | None:  # Dash's callback_map
    declared = outputs if isinstance(outputs, list | tuple) else [outputs]
    wanted = [(o.component_id, o.component_property) for o in declared]
    items = sent if isinstance(sent, list) else [sent]
    if len(items) != len(wanted):
        return "outputs do not match the callback"
    for item, (component, prop) in zip(items, wanted, strict=True):
        if isinstance(component, dict):
            continue  # pattern-matching outputs are resolved by Dash from the inputs
        # An output shared with another callback (allow_duplicate) is named "children@<hash>".
        if not isinstance(item, dict) or item.get("id") != component:
            return "outputs do not match the callback"
        sent_prop = item.get("property")
        if not isinstance(sent_prop, str) or sent_prop.split("@")[0] != prop:
            return "outputs do not match the callback"
    return None


def install_request_limits(server: Flask) -> None:
    """Body size per path and the API's JSON-only bodies, for every request."""
    server.before_request(_limit_size)
    server.before_request(_api_body)


def _address_problem(items: list[dict[str, object]]) -> str | None:
    """An address's parts (dcc.Location): what a browser sends is always text; a path starts with /."""
    for item in items:
        prop, value = item.get("property"), item.get("value")
        if prop in ("pathname", "search", "hash", "href") and not (value is None or isinstance(value, str)):
            return f"{prop} must be text"
        if prop == "pathname" and isinstance(value, str) and not value.startswith("/"):
            return "a pathname starts with /"
    return None


def _call_problem(app: Dash, body: object) -> str | None:
    """What is wrong with a callback call's body (None: it is a call this app knows)."""
    if not isinstance(body, dict):
        return "body is not a JSON object"
    spec = app.callback_map.get(body.get("output")) if isinstance(body.get("output"), str) else None
    if spec is None or "callback" not in spec:  # a clientside callback has no server side
        return "unknown output"
    if "outputs" in body and (problem := _outputs_mismatch(body["outputs"], spec["output"])):
        return problem
    for key in ("inputs", "state"):
        if problem := _mismatch(body.get(key, []), _declared_ids(spec[key]), key):
            return problem
    if problem := _address_problem(body.get("inputs", []) + body.get("state", [])):
        return problem
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        return "changedPropIds must be a list of strings"
    return None


def install_callback_request_checks(app: Dash) -> None:
    """Refuse an update request whose body is not a callback call this app knows."""

    def check() -> Response | None:
        if request.path != CALLBACK_PATH or request.method != "POST":
            return None
        body, refusal = parsed_body()
        if refusal is not None:
            return refusal
        problem = _call_problem(app, body)
        return _bad_request(problem) if problem else None

    app.server.before_request(check)
