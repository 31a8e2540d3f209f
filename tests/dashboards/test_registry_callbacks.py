"""The registry callbacks, called directly with POST /_dash-update-component, as each kind of user."""

from __future__ import annotations

import io
import json

import openpyxl
import pytest

from tests.web import call_callback, login
from tracker.models import Role

GRID = "registry-grid"


def rows_of(response) -> list[dict]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.get_data(as_text=True)
    return json.loads(response.get_data(as_text=True))["response"][GRID]["rowData"]


@pytest.fixture
def two_cities(factory):  # type: ignore[no-untyped-def]
    return factory.pilot("长治", name="示例长治焦炭试点"), factory.pilot(
        "太原", name="示例太原钢铁试点", product="钢铁"
    )


def test_anonymous_callback_post_gets_401_and_no_rows(app, client, two_cities) -> None:  # type: ignore[no-untyped-def]
    response = call_callback(client, app, GRID)
    assert response.status_code == 401
    assert "示例" not in response.get_data(as_text=True)


def test_city_user_gets_only_their_citys_rows(app, client, factory, two_cities) -> None:  # type: ignore[no-untyped-def]
    user = factory.user(Role.CITY_STAFF, "长治")
    login(client, user.username)
    names = {row["name"] for row in rows_of(call_callback(client, app, GRID))}
    assert "示例长治焦炭试点" in names and "示例太原钢铁试点" not in names


def test_city_user_asking_for_another_citys_id_gets_nothing(app, client, factory, two_cities) -> None:  # type: ignore[no-untyped-def]
    user = factory.user(Role.CITY_STAFF, "长治")
    login(client, user.username)
    taiyuan = factory.city("太原").id
    assert rows_of(call_callback(client, app, GRID, {"registry-city": [taiyuan]})) == []


def test_province_staff_get_every_city_and_filters_apply(app, client, factory, two_cities) -> None:  # type: ignore[no-untyped-def]
    login(client, factory.user(Role.PROVINCE_STAFF).username)
    names = {row["name"] for row in rows_of(call_callback(client, app, GRID))}
    assert {"示例长治焦炭试点", "示例太原钢铁试点"} <= names
    steel = factory.product("钢铁").id
    filtered = rows_of(call_callback(client, app, GRID, {"registry-product": [steel]}))
    assert [row["name"] for row in filtered] == ["示例太原钢铁试点"]


@pytest.mark.parametrize("junk", ["1 OR 1=1", {"$ne": 1}, [True, "x", None], 3.5, [2**53], list(range(5000))])
def test_malformed_filter_values_are_ignored_not_an_error(app, client, factory, two_cities, junk) -> None:  # type: ignore[no-untyped-def]
    user = factory.user(Role.CITY_STAFF, "长治")
    login(client, user.username)
    names = {row["name"] for row in rows_of(call_callback(client, app, GRID, {"registry-city": junk}))}
    assert names == {"示例长治焦炭试点"}


def test_integers_no_browser_sends_are_refused_before_the_callback(app, client, factory, two_cities) -> None:  # type: ignore[no-untyped-def]
    user = factory.user(Role.CITY_STAFF, "长治")
    login(client, user.username)
    for junk in ([10**30], [2**63]):
        assert call_callback(client, app, GRID, {"registry-city": junk}).status_code == 400


def test_the_excel_export_holds_only_the_users_city(app, client, factory, two_cities) -> None:  # type: ignore[no-untyped-def]
    user = factory.user(Role.CITY_STAFF, "长治")
    login(client, user.username)
    response = call_callback(client, app, "registry-download", {"registry-export": 1})
    data = json.loads(response.get_data(as_text=True))["response"]["registry-download"]["data"]
    import base64

    book = openpyxl.load_workbook(io.BytesIO(base64.b64decode(data["content"])))
    values = [cell for row in book.active.iter_rows(values_only=True) for cell in row if cell]
    assert "示例长治焦炭试点" in values and "示例太原钢铁试点" not in values
    assert data["filename"].endswith(".xlsx")


def test_a_leader_may_read_and_export_but_not_reach_admin_pages(app, client, factory, two_cities) -> None:  # type: ignore[no-untyped-def]
    login(client, factory.user(Role.LEADER, None).username)
    assert len(rows_of(call_callback(client, app, GRID))) >= 2
    links = hrefs(client.get("/_dash-layout").get_json())
    assert "/pilots" in links and "/users" not in links and "/audit" not in links
    page = json.dumps(call_callback(client, app, "_pages_content", {"_pages_location": "/users"}).get_json(),
                      ensure_ascii=False)  # fmt: skip
    assert "您没有访问此页面的权限" in page and "users-grid" not in page


def test_the_admin_sees_the_admin_pages(app, client, factory) -> None:  # type: ignore[no-untyped-def]
    login(client, factory.user(Role.PROVINCE_ADMIN).username)
    assert {"/pilots", "/users", "/audit"} <= hrefs(client.get("/_dash-layout").get_json())
    page = json.dumps(call_callback(client, app, "_pages_content", {"_pages_location": "/users"}).get_json())
    assert "users-grid" in page


def hrefs(tree) -> set[str]:  # type: ignore[no-untyped-def]
    """Every href in a Dash component tree (as JSON)."""
    found: set[str] = set()
    if isinstance(tree, dict):
        if isinstance(tree.get("href"), str):
            found.add(tree["href"])
        for value in tree.values():
            found |= hrefs(value)
    elif isinstance(tree, list):
        for value in tree:
            found |= hrefs(value)
    return found


def test_the_callback_itself_asks_the_permission_module(
    app, client, factory, two_cities, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Past the login guard, a callback still refuses when the permission module says no."""
    login(client, factory.user(Role.PROVINCE_STAFF).username)
    monkeypatch.setattr("dashboards.access.may", lambda _user, _action: False)
    response = call_callback(client, app, GRID)
    assert response.status_code == 204
    assert response.get_data() == b""
