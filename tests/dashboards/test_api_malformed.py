"""Never a 500 from the API for a malformed request: every operation of the OpenAPI description,
called by a city token with malformed bodies (wrong shapes and types, unknown ids, huge integers,
nested lists, missing keys, deep nesting, not JSON) and malformed query values, answers 4xx with a
JSON error (or 2xx where the request is in fact acceptable)."""

from __future__ import annotations

import json
from typing import Any

from tests.dashboards.test_api import PERIOD
from tests.dashboards.test_api import world as world  # the fixture, for this module

BODIES: list[Any] = [None, [], {}, "", 0, 2**63, [[[]]], {"tasks": None}, {"tasks": {}}, {"tasks": [[]]},
                     {"tasks": [{"task_id": 2**63, "percent": 1}]}, {"tasks": [{"task_id": "x", "percent": "y"}]},
                     {"tasks": [{"percent": 10}]}, {"work_done": ["a"]}, {"version": "v"}, {"version": 2**63},
                     {"milestones": [{"milestone_id": -1, "reached": "yes"}]}, {"submit": "maybe"},
                     {"tasks": [{"task_id": 1, "percent": 1e308}]}, {"a": {"b": {"c": [1, [2, [3]]]}}}]  # fmt: skip
QUERIES = ["on=not-a-day", "on=9999-99-99", "on=2026-02-30", "period=2026-13", "period=" + "9" * 20,
           "city=" + "x" * 50, "city=%00", "on=2026-11-30&period=2026Q9", "on[]=1"]  # fmt: skip


STATUSES: list[int] = []


def answered(response: Any) -> bool:
    STATUSES.append(response.status_code)
    if response.status_code >= 500:
        return False
    if response.status_code >= 400:
        body = response.get_json(silent=True)
        return isinstance(body, dict) and bool(body.get("message"))
    return True


def test_every_operation_refuses_malformed_requests_without_a_server_error(client, world) -> None:  # type: ignore[no-untyped-def]
    spec = client.get("/api/v1/openapi.json").get_json()
    auth = world["auth"]["city"]
    mine = world["mine"].id
    bad: list[str] = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            concrete = "/api/v1" + path.replace("{pilot_id}", str(mine)).replace("{period}", PERIOD.key)
            if concrete.startswith("/api/v1/api/v1"):
                concrete = concrete[len("/api/v1") :]
            for query in QUERIES:
                response = client.open(f"{concrete}?{query}", method=method.upper(), headers=auth, json={})
                if not answered(response):
                    bad.append(f"{method} {concrete}?{query} → {response.status_code}")
            if "requestBody" not in operation:
                continue
            for body in BODIES:
                response = client.open(concrete, method=method.upper(), headers=auth, data=json.dumps(body),
                                       content_type="application/json")  # fmt: skip
                if not answered(response):
                    bad.append(f"{method} {concrete} {body!r:.40} → {response.status_code}")
            deep = "[" * 5000 + "]" * 5000
            for raw, content_type in ((deep, "application/json"), ("{not json", "application/json"),
                                      ("tasks=1", "application/x-www-form-urlencoded")):  # fmt: skip
                response = client.open(
                    concrete, method=method.upper(), headers=auth, data=raw, content_type=content_type
                )
                if not answered(response) or response.status_code < 400:
                    bad.append(f"{method} {concrete} {raw[:20]!r} → {response.status_code}")
    assert bad == []
    assert {200, 400, 415, 422} <= set(STATUSES), sorted(set(STATUSES))  # the requests reached every layer
