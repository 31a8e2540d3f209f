"""Never a 500 for a malformed request: every server callback in ``app.callback_map``, posted by a
logged-in city user with one input or state at a time set to a value of the wrong shape or type
(nothing, empty and odd lists and objects, text, huge and negative numbers, a huge id in a selected
row), answers below 500; a refusal is a JSON error. The walk covers callbacks added later."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web import login
from tracker.demo.province import DEMO_PASSWORD, build_demo

BAD: list[Any] = [None, [], {}, "", "x", -1, 2**63, 1.5, True, [1, 2], {"a": 1}, [{"id": 2**63}], [[]], [None],
                  "<script>"]  # fmt: skip


def calls(app: Any) -> list[tuple[str, dict[str, Any]]]:
    """One request per server callback, per input or state, per bad value."""
    found = []
    for key, spec in app.callback_map.items():
        if "callback" not in spec:  # clientside: no server side to call
            continue
        declared = spec["output"] if isinstance(spec["output"], list | tuple) else [spec["output"]]
        outputs: Any = [{"id": o.component_id, "property": o.component_property} for o in declared]
        if not isinstance(spec["output"], list | tuple):
            outputs = outputs[0]
        items = spec["inputs"] + spec["state"]
        if any(isinstance(i["id"], dict) for i in items):
            continue  # pattern-matching ids: none in this app today
        for target, item in enumerate(items):
            for bad in BAD:
                values = [dict(i, value=bad if n == target else None) for n, i in enumerate(items)]
                changed = [f"{item['id']}.{item['property']}"] if target < len(spec["inputs"]) else []
                body = {"output": key, "outputs": outputs, "inputs": values[: len(spec["inputs"])],
                        "state": values[len(spec["inputs"]):], "changedPropIds": changed}  # fmt: skip
                found.append((f"{key[:50]} {item['id']}.{item['property']}={bad!r}", body))
    return found


@pytest.fixture
def demo_city_user(db, client):  # type: ignore[no-untyped-def]
    build_demo(db)
    db.commit()
    login(client, "changzhi", DEMO_PASSWORD)
    return client


def test_every_callback_answers_a_malformed_call_below_500(app, demo_city_user) -> None:  # type: ignore[no-untyped-def]
    client = demo_city_user
    made = calls(app)
    assert len(made) > 1000  # every page's callbacks, not a handful
    server_errors, answered = [], 0
    for name, body in made:
        answer = client.post("/_dash-update-component", json=body)
        assert answer.status_code != 401, "the city user is logged in"
        answered += answer.status_code in (200, 204)
        if answer.status_code >= 500:
            server_errors.append(name)
        elif 400 <= answer.status_code < 500:
            assert answer.is_json and answer.get_json()["message"], name
    assert server_errors == []
    assert answered > len(made) // 2  # most calls reached their callback (which refused or ignored them)
