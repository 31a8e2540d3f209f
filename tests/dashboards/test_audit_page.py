"""审计日志 pages on the server (AG Grid's infinite row model): every event is reachable however
long the trail, filters and order are the database's, and a city sees only its own trail."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import insert

from tests.web import call_callback, login
from tracker.models import AuditEvent, Role

GRID = "audit-grid"


def contains(field: str, text: str) -> dict[str, Any]:
    """AG Grid's filter model for one text filter ("contains")."""
    return {field: {"filterType": "text", "type": "contains", "filter": text}}


@pytest.fixture
def trail(db, factory) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    admin = factory.user(Role.PROVINCE_ADMIN, username="guanli")
    city_user = factory.user(Role.CITY_STAFF, "长治", username="czs")
    changzhi, taiyuan = factory.city("长治"), factory.city("太原")
    rows = [{"actor_name": f"操作员{i % 7}", "action": "export" if i % 10 == 0 else "update",
             "entity_type": "pilots", "entity_id": str(i), "summary": f"第{i}号事件",
             "city_id": changzhi.id if i % 2 else taiyuan.id} for i in range(2500)]  # fmt: skip
    db.execute(insert(AuditEvent), rows)
    db.commit()
    return {"admin": admin, "city_user": city_user}


def block(client, app, start: int, end: int, **request: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    answer = call_callback(
        client, app, GRID, {f"{GRID}.getRowsRequest": {"startRow": start, "endRow": end, **request}}
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return answer.get_json()["response"][GRID]["getRowsResponse"]  # type: ignore[no-any-return]


def test_every_event_is_reachable_newest_first_and_the_count_is_the_whole_trail(client, app, trail) -> None:  # type: ignore[no-untyped-def]
    login(client, "guanli")
    everything = block(client, app, 0, 100)
    assert len(everything["rowData"]) == 100 and everything["rowCount"] > 2500  # the trail plus the logins
    planted = contains("summary", "号事件")
    first = block(client, app, 0, 100, filterModel=planted)
    assert first["rowCount"] == 2500 and first["rowData"][0]["summary"] == "第2499号事件"  # newest first
    # past the old cut at the latest 1,000 events
    oldest = block(client, app, 2450, 2550, filterModel=planted)
    assert [r["summary"] for r in oldest["rowData"]] == [f"第{i}号事件" for i in range(49, -1, -1)]
    ascending = block(client, app, 0, 3, filterModel=planted, sortModel=[{"colId": "at", "sort": "asc"}])
    assert [r["summary"] for r in ascending["rowData"]] == ["第0号事件", "第1号事件", "第2号事件"]


def test_filters_run_in_the_database(client, app, trail) -> None:  # type: ignore[no-untyped-def]
    login(client, "guanli")
    by_actor = block(client, app, 0, 100, filterModel=contains("actor", "操作员3"))
    assert by_actor["rowCount"] == len([i for i in range(2500) if i % 7 == 3])
    assert {r["actor"] for r in by_actor["rowData"]} == {"操作员3"}
    exports = block(client, app, 0, 100, filterModel=contains("action", "导出"))
    assert exports["rowCount"] == 250 and {r["action"] for r in exports["rowData"]} == {"导出"}
    wildcard = block(client, app, 0, 100, filterModel=contains("summary", "%"))
    assert wildcard["rowCount"] == 0  # % is searched for as a character, not a wildcard


def test_a_city_sees_only_its_trail_and_bad_requests_change_nothing(client, app, trail) -> None:  # type: ignore[no-untyped-def]
    assert (
        call_callback(
            client, app, GRID, {f"{GRID}.getRowsRequest": {"startRow": 0, "endRow": 100}}
        ).status_code
        == 401
    )
    login(client, "czs")
    mine = block(client, app, 0, 1000, filterModel=contains("summary", "号事件"))
    assert mine["rowCount"] == 1250 and all(int(r["summary"][1:-3]) % 2 == 1 for r in mine["rowData"])
    for bad in (
        {"startRow": 0, "endRow": 100000},
        {"startRow": -5, "endRow": 10},
        {"startRow": 0, "endRow": 10, "sortModel": {"0": 1}},
        {"startRow": 0, "endRow": 10, "sortModel": 3},
        "x",
        {"startRow": 0, "endRow": 10, "filterModel": {"city_id": {"type": "contains", "filter": "1"}}},
    ):
        assert call_callback(client, app, GRID, {f"{GRID}.getRowsRequest": bad}).status_code == 204
    # An integer no browser sends is refused before the callback (dashboards/requests.py).
    huge = {"startRow": 2**63, "endRow": 2**63 + 10}
    assert call_callback(client, app, GRID, {f"{GRID}.getRowsRequest": huge}).status_code == 400
