"""通知 on the web (issue 18, point 7): the unread count in the menu bar and "2条更新被退回" for the
city user who logs in after two returns; /notices lists only the user's own; marking read (one or
all) by POSTs to /_dash-update-component is the owner's alone (anonymous, another city's user, a
leader are refused and change nothing)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import select

from tests.delivery.test_notices import LATER, returned, submitted
from tests.web import call_callback, login
from tracker.models import Notice, Role

GRID = "ntc-grid"


@pytest.fixture
def told(factory, db) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Two returns of 长治's update: its staff have two unread notices each."""
    world = {
        "pilot": factory.pilot("长治", name="长治焦炭试点"),
        "city": factory.user(Role.CITY_STAFF, "长治", username="czw"),
        "colleague": factory.user(Role.CITY_STAFF, "长治", username="czw2"),
        "other": factory.user(Role.CITY_STAFF, "太原", username="tyw"),
        "province": factory.user(Role.PROVINCE_STAFF, username="shw"),
        "leader": factory.user(Role.LEADER, None, username="ldw"),
    }
    first = returned(db, world, submitted(db, world))
    returned(
        db,
        world,
        submitted(db, world, 45, version=first.version, day=dt.date(2025, 12, 8)),
        reason="仍缺附件",
        now=LATER,
    )
    return world


def shell(client: Any) -> str:
    answer = client.get("/_dash-layout")
    assert answer.status_code == 200
    return json.dumps(answer.get_json(), ensure_ascii=False)


def page(client: Any, app: Any) -> str:
    answer = call_callback(client, app, "_pages_content", {"_pages_location.pathname": "/notices"})
    assert answer.status_code == 200
    return json.dumps(answer.get_json()["response"], ensure_ascii=False)


def unread(db: Any, user: Any) -> list[int]:
    db.expire_all()
    return list(db.scalars(select(Notice.id).where(Notice.user_id == user.id, Notice.read_at.is_(None))
                           .order_by(Notice.id)))  # fmt: skip


def mark(client: Any, app: Any, ids: list[int] | None) -> Any:
    values: dict[str, Any] = {"ntc-read-all": 1} if ids is None else {
        "ntc-read": 1, f"{GRID}.selectedRows": [{"id": i} for i in ids]}  # fmt: skip
    return call_callback(client, app, GRID, values)


def test_a_city_user_logging_in_after_two_returns_sees_them_in_the_menu_bar(client, told) -> None:  # type: ignore[no-untyped-def]
    assert login(client, "czw").status_code == 302
    layout = shell(client)
    assert "2条更新被退回" in layout and "shell-notice-count" in layout
    assert '"children": "2"' in layout  # the unread count
    client.get("/lang/en")
    assert "Updates returned: 2" in shell(client)


def test_a_user_with_nothing_unread_sees_no_count_and_no_line(client, told) -> None:  # type: ignore[no-untyped-def]
    assert login(client, "tyw").status_code == 302
    layout = shell(client)
    assert "shell-notice-count" in layout and "更新被退回" not in layout
    assert '"children": "2"' not in layout


def test_the_list_holds_only_ones_own_newest_first_with_links(client, app, told) -> None:  # type: ignore[no-untyped-def]
    assert login(client, "czw").status_code == 302
    shown = page(client, app)
    assert "长治焦炭试点的2025年11月调度更新被省级退回" in shown
    assert shown.index("仍缺附件") < shown.index("任务进度与附件不符")  # newest first
    assert f"/update-form?pilot={told['pilot'].id}&period=2025-11" in shown
    client.post("/logout")
    assert login(client, "tyw").status_code == 302
    other = page(client, app)
    assert "长治焦炭试点" not in other and "没有通知" in other


def test_marking_one_then_all_read_updates_the_count_and_the_line(client, app, db, told) -> None:  # type: ignore[no-untyped-def]
    city = told["city"]
    first, second = unread(db, city)
    assert login(client, "czw").status_code == 302
    answer = mark(client, app, [second])
    assert answer.status_code == 200
    response = answer.get_json()["response"]
    assert {row["id"]: row["state"] for row in response[GRID]["rowData"]} == {first: "未读", second: "已读"}
    assert "1条更新被退回" in json.dumps(response, ensure_ascii=False)
    assert unread(db, city) == [first]
    answer = mark(client, app, None)
    response = answer.get_json()["response"]
    assert (
        response["shell-notice-count"]["children"] is None
        and response["shell-notice-line"]["children"] is None
    )
    assert unread(db, city) == [] and len(unread(db, told["colleague"])) == 2  # the colleague's stay unread


@pytest.mark.parametrize("username", [None, "tyw", "ldw", "czw2"])
def test_nobody_marks_anothers_notices(client, app, db, told, username) -> None:  # type: ignore[no-untyped-def]
    mine = unread(db, told["city"])
    if username is not None:
        assert login(client, username).status_code == 302
    answer = mark(client, app, mine)
    if username is None:
        assert answer.status_code == 401
    else:
        assert answer.status_code == 200
        assert "只能标记自己的通知" in json.dumps(answer.get_json(), ensure_ascii=False)
        mark(client, app, None)  # "all" is all of one's own
    assert unread(db, told["city"]) == mine
