"""Menus show each role only what it can use (issue 22 point 9): every page in a role's menu opens for
it, a page it cannot use is not listed, and a read-only leader's menu has no entry or review pages."""

from __future__ import annotations

from typing import Any

import pytest

from dashboards.app import PAGES
from tests.web import call_callback, login
from tracker.access.permissions import may
from tracker.demo.province import DEMO_PASSWORD, build_demo
from tracker.models import User


@pytest.fixture
def demo(db) -> None:  # type: ignore[no-untyped-def]
    build_demo(db)
    db.commit()


def menu(tree: Any) -> list[tuple[str, str]]:
    """The (address, caption) of every menu link in the shell."""
    found: list[tuple[str, str]] = []
    if isinstance(tree, dict):
        if tree.get("type") == "NavLink":
            found.append((tree["props"]["href"], str(tree["props"]["children"])))
        for value in tree.values():
            found += menu(value)
    elif isinstance(tree, list):
        for value in tree:
            found += menu(value)
    return found


@pytest.mark.parametrize("username", ["admin", "sheng", "lingdao", "changzhi"])
def test_each_role_sees_in_its_menu_exactly_the_pages_it_can_use(client, app, db, demo, username) -> None:  # type: ignore[no-untyped-def]
    user = db.query(User).filter_by(username=username).one()
    login(client, username, DEMO_PASSWORD)
    links = dict(menu(client.get("/_dash-layout").get_json()))
    usable = {page.PATH for page in PAGES if getattr(page, "IN_NAV", True) and page.PATH != "/404"
              and may(user, getattr(page, "NAV_ACTION", page.REQUIRED_ACTION))}  # fmt: skip
    assert set(links) == usable
    for path in links:  # each opens for the role
        answer = call_callback(client, app, "_pages_content", {"_pages_location.pathname": path})
        assert answer.status_code == 200 and "无权" not in answer.get_data(as_text=True), path
    if username == "lingdao":  # reads everything, enters and reviews nothing
        assert not {"/updates", "/applications", "/update-form", "/application-form", "/users"} & set(links)
        assert {"/", "/summary", "/bulletins"} <= set(links)
    if username == "changzhi":
        assert {"/updates", "/city"} <= set(links) and "/users" not in links
    client.get("/lang/en")
    captions = list(dict(menu(client.get("/_dash-layout").get_json())).values())
    assert captions and not any("\u4e00" <= ch <= "\u9fff" for caption in captions for ch in caption)
