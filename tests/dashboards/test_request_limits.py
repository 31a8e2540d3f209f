"""Request limits before any code reads a body: oversize bodies 413 from their Content-Length,
non-JSON API bodies 415, JSON nested beyond reason 400, and callback calls that do not match the
callback they name 400; none of them changes anything."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from dashboards.requests import MAX_CALLBACK_BYTES, MAX_DEPTH, MAX_OTHER_BYTES
from tests.dashboards.test_api import PERIOD, entry
from tests.dashboards.test_api import world as world  # the fixture, for this module
from tests.web import callback_for, login
from tracker.models import ProgressUpdate, Role


def updates(db: Any) -> int:
    return db.scalar(select(func.count()).select_from(ProgressUpdate)) or 0


def test_an_api_body_that_is_not_json_is_415_and_writes_nothing(client, db, world) -> None:  # type: ignore[no-untyped-def]
    mine, city = world["mine"], world["auth"]["city"]
    url = f"/api/v1/pilots/{mine.id}/updates/{PERIOD.key}"
    for content_type in ("text/plain", "application/x-www-form-urlencoded", None):
        headers = {**city, **({"Content-Type": content_type} if content_type else {})}
        answer = client.put(url, headers=headers, data=json.dumps(entry(mine, 40)))
        assert answer.status_code == 415, (content_type, answer.status_code)
        assert answer.get_json()["message_en"].startswith("The body must be JSON")
    assert updates(db) == 0
    assert client.put(url, headers=city, json=entry(mine, 40)).status_code == 200  # JSON still works


def test_an_oversize_body_is_refused_from_its_length(client, factory, world) -> None:  # type: ignore[no-untyped-def]
    mine, city = world["mine"], world["auth"]["city"]
    url = f"/api/v1/pilots/{mine.id}/updates/{PERIOD.key}"
    big = b'{"work_done": "' + b"x" * (MAX_OTHER_BYTES + 10) + b'"}'
    answer = client.put(url, headers={**city, "Content-Type": "application/json"}, data=big)
    assert answer.status_code == 413
    assert client.post("/login", data={"username": "x" * (MAX_OTHER_BYTES + 10)}).status_code == 413
    # A callback may carry an upload, up to its own limit (the anonymous get 401 before any reading).
    factory.user(Role.CITY_STAFF, "长治", username="limits0")
    login(client, "limits0")
    over = b"[" + b" " * (MAX_CALLBACK_BYTES + 10) + b"]"
    assert (
        client.post("/_dash-update-component", data=over, content_type="application/json").status_code == 413
    )


def nested(levels: int) -> str:
    return "[" * levels + "]" * levels


def test_deep_json_is_400_on_the_api_and_on_callbacks(client, app, factory, world) -> None:  # type: ignore[no-untyped-def]
    mine, city = world["mine"], world["auth"]["city"]
    url = f"/api/v1/pilots/{mine.id}/updates/{PERIOD.key}"
    for levels in (MAX_DEPTH + 5, 100_000):  # deeper than allowed, and deeper than the parser can go
        body = '{"work_done": "x", "tasks": ' + nested(levels) + "}"
        answer = client.put(url, headers={**city, "Content-Type": "application/json"}, data=body)
        assert answer.status_code == 400, levels
    factory.user(Role.CITY_STAFF, "长治", username="limits")
    login(client, "limits")
    key, spec = callback_for(app, "ov-cards")
    for levels in (MAX_DEPTH + 5, 100_000):
        inputs = [{**item, "value": json.loads(nested(3))} for item in spec["inputs"]]
        body = json.dumps({"output": key, "outputs": [], "inputs": inputs, "changedPropIds": []})
        body = body.replace("[[[]]]", nested(levels), 1)
        answer = client.post("/_dash-update-component", data=body, content_type="application/json")
        assert answer.status_code == 400, levels


def test_a_callback_call_that_does_not_match_its_callback_is_400(client, app, factory, world) -> None:  # type: ignore[no-untyped-def]
    factory.user(Role.CITY_STAFF, "长治", username="limits2")
    login(client, "limits2")
    key, spec = callback_for(app, "ov-cards")
    outputs = [
        {"id": part.split(".")[0], "property": part.split(".")[1]} for part in key.strip(".").split("...")
    ]
    good = [{**item, "value": None} for item in spec["inputs"]]
    cases = {
        "too few inputs": {"output": key, "outputs": outputs, "inputs": good[:-1]},
        "an input renamed": {"output": key, "outputs": outputs, "inputs": [{**good[0], "id": "ov-other"}, *good[1:]]},
        "a property changed": {"output": key, "outputs": outputs, "inputs": [{**good[0], "property": "data"}, *good[1:]]},
        "outputs not the callback's": {"output": key, "outputs": [{"id": "x", "property": "y"}], "inputs": good},
        "outputs not objects": {"output": key, "outputs": [1] * len(outputs), "inputs": good},
        "inputs not a list": {"output": key, "outputs": outputs, "inputs": {"id": "ov-batch"}},
        "a clientside callback": {"output": next(k for k, v in app.callback_map.items() if "callback" not in v),
                                   "inputs": []},
        "changedPropIds not strings": {"output": key, "outputs": outputs, "inputs": good, "changedPropIds": [1]},
    }  # fmt: skip
    for name, body in cases.items():
        answer = client.post(
            "/_dash-update-component", data=json.dumps(body), content_type="application/json"
        )
        assert answer.status_code == 400, name
        assert answer.get_json()["message"] == "请求格式不正确", name
    fine = {"output": key, "outputs": outputs, "inputs": good, "changedPropIds": ["ov-batch.value"]}
    assert client.post("/_dash-update-component", json=fine).status_code == 200


def test_an_output_shared_by_callbacks_is_accepted_as_the_browser_names_it(
    client, app, factory, world
) -> None:  # type: ignore[no-untyped-def]
    """Dash names an output that several callbacks write (allow_duplicate) "children@<hash>"."""
    factory.user(Role.PROVINCE_STAFF, username="limits3")
    login(client, "limits3")
    key = next(
        k for k, v in app.callback_map.items() if "@" in k and not k.startswith("..") and "callback" in v
    )
    spec = app.callback_map[key]
    component, prop = key.split(".", 1)
    body = {"output": key, "outputs": {"id": component, "property": prop},
            "inputs": [{**item, "value": None} for item in spec["inputs"]],
            "state": [{**item, "value": None} for item in spec["state"]], "changedPropIds": []}  # fmt: skip
    answer = client.post("/_dash-update-component", json=body)
    assert answer.status_code != 400, answer.get_data(as_text=True)
    assert answer.status_code < 500
