"""Shape checks on Dash callback requests: malformed bodies get 400, never a 500 from inside Dash."""

from __future__ import annotations

from typing import Any

from dash import Dash
from flask import jsonify, request

from tracker.i18n import _


def _bad_request(detail: str) -> Any:
    response = jsonify(
        error=400, message=_("请求格式不正确"), message_en=f"Malformed callback request: {detail}"
    )
    response.status_code = 400
    return response


def install_callback_request_checks(app: Dash) -> None:
    """Refuse an update request whose body is not a callback call this app knows."""

    def check() -> Any:
        if request.path != "/_dash-update-component" or request.method != "POST":
            return None
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return _bad_request("body is not a JSON object")
        if not isinstance(body.get("output"), str) or body["output"] not in app.callback_map:
            return _bad_request("unknown output")
        for key in ("inputs", "state"):
            if not isinstance(body.get(key, []), list) or not all(
                isinstance(i, dict) for i in body.get(key, [])
            ):
                return _bad_request(f"{key} must be a list of objects")
        return None

    app.server.before_request(check)
