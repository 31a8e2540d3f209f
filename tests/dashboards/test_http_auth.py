"""Login, logout and the guard, through real HTTP requests to the app."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.web import csrf_from, login
from tracker.models import Role

PAGES = ["/", "/pilots", "/audit", "/users", "/no-such-page"]
DASH_ENDPOINTS = [
    ("GET", "/_dash-layout"),
    ("GET", "/_dash-dependencies"),
    ("POST", "/_dash-update-component"),
    ("GET", "/_dash-component-suites/dash/dash-renderer/build/dash_renderer.min.js"),
    ("GET", "/_dash-component-suites/dash_ag_grid/dash_ag_grid.min.js"),
    ("GET", "/_dash-config"),
]


@pytest.mark.parametrize("path", [*PAGES, "/pilots?batch=1&city=2"])
def test_anonymous_page_requests_are_sent_to_login_with_next(client, path: str) -> None:  # type: ignore[no-untyped-def]
    response = client.get(path)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login" and parse_qs(location.query)["next"] == [path]


@pytest.mark.parametrize("path", ["/favicon.ico", "/assets/", "/assets//_dash-layout"])
def test_odd_paths_do_not_serve_the_app_shell_to_anonymous_users(client, path: str) -> None:  # type: ignore[no-untyped-def]
    assert client.get(path).status_code in (302, 401, 404)


@pytest.mark.parametrize(("method", "path"), DASH_ENDPOINTS)
def test_anonymous_dash_requests_get_401(client, method: str, path: str) -> None:  # type: ignore[no-untyped-def]
    response = client.open(path, method=method, json={} if method == "POST" else None)
    assert response.status_code == 401
    assert response.get_json()["message"] == "请先登录"


def test_xhr_gets_401_not_a_redirect(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/pilots", headers={"X-Requested-With": "XMLHttpRequest"})
    assert response.status_code == 401


def test_login_page_is_chinese_and_uses_local_assets(client) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/login").get_data(as_text=True)
    assert "用户名" in html and "密码" in html and 'lang="zh-CN"' in html
    assert "http://" not in html and "https://" not in html
    assert client.get("/assets/bootstrap.min.css").status_code == 200


def test_login_sets_an_httponly_samesite_cookie_and_follows_a_safe_next(client, factory) -> None:  # type: ignore[no-untyped-def]
    user = factory.user(Role.CITY_STAFF, "长治")
    response = login(client, user.username, next_url="/pilots")
    assert response.status_code == 302 and response.headers["Location"] == "/pilots"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/_dash-layout").status_code == 200


@pytest.mark.parametrize(
    "evil", ["//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:x"]
)
def test_an_unsafe_next_goes_home(client, factory, evil: str) -> None:  # type: ignore[no-untyped-def]
    user = factory.user(Role.LEADER, None)
    assert login(client, user.username, next_url=evil).headers["Location"] == "/"


def test_wrong_password_is_refused_in_chinese(client, factory) -> None:  # type: ignore[no-untyped-def]
    user = factory.user(Role.LEADER, None)
    response = login(client, user.username, password="Wrong-pass-2025")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)
    assert client.get("/_dash-layout").status_code == 401


def test_repeated_failures_lock_the_login_even_with_the_right_password(client, factory) -> None:  # type: ignore[no-untyped-def]
    user = factory.user(Role.LEADER, None)
    for _ in range(5):
        assert login(client, user.username, password="Wrong-pass-2025").status_code == 401
    locked = login(client, user.username)
    assert locked.status_code == 429
    assert "登录失败次数过多" in locked.get_data(as_text=True)


def test_login_without_the_csrf_token_is_refused(client, factory) -> None:  # type: ignore[no-untyped-def]
    user = factory.user(Role.LEADER, None)
    client.get("/login")
    response = client.post("/login", data={"username": user.username, "password": "Test-password-2025"})
    assert response.status_code == 400


def test_after_logout_the_old_cookie_no_longer_works(app, client, factory) -> None:  # type: ignore[no-untyped-def]
    user = factory.user(Role.CITY_STAFF, "长治")
    login(client, user.username)
    stolen = client.get_cookie("cfp_session").value
    csrf = csrf_from(client.get("/login").get_data(as_text=True))
    assert client.post("/logout", data={"csrf": csrf}).status_code == 302
    assert client.get("/_dash-layout").status_code == 401
    replay = app.server.test_client()
    replay.set_cookie("cfp_session", stolen)
    assert replay.get("/_dash-layout").status_code == 401


def test_disabling_a_user_ends_their_session(client, db, factory) -> None:  # type: ignore[no-untyped-def]
    from tracker.access.accounts import disable_user

    user = factory.user(Role.CITY_STAFF, "长治")
    login(client, user.username)
    assert client.get("/_dash-layout").status_code == 200
    disable_user(db, user)
    db.commit()
    assert client.get("/_dash-layout").status_code == 401


def test_logins_and_logouts_are_audited(client, db, factory) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from tracker.models import AuditEvent

    user = factory.user(Role.CITY_STAFF, "长治")
    login(client, user.username, password="Wrong-pass-2025")
    login(client, user.username)
    actions = db.scalars(
        select(AuditEvent.action).where(AuditEvent.action.in_(["login", "login_failed"]))
    ).all()
    assert actions == ["login_failed", "login"]


def test_errors_are_explained_in_chinese(client, factory) -> None:  # type: ignore[no-untyped-def]
    login(client, factory.user(Role.LEADER, None).username)
    wrong_method = client.post("/healthz")
    assert wrong_method.status_code == 405 and "不支持的请求方式" in wrong_method.get_data(as_text=True)
    missing = client.get("/_dash-component-suites/nothing/here.js")
    assert missing.status_code == 404 and missing.get_json()["message"]


def test_responses_carry_security_headers(client) -> None:  # type: ignore[no-untyped-def]
    headers = client.get("/login").headers
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
    policy = headers["Content-Security-Policy"]
    assert (
        "frame-ancestors 'none'" in policy and "default-src 'self'" in policy and "unsafe-eval" not in policy
    )


def test_an_unknown_dashboard_address_shows_a_chinese_not_found_page(app, client, factory) -> None:  # type: ignore[no-untyped-def]
    import json

    from tests.web import call_callback

    login(client, factory.user(Role.LEADER, None).username)
    page = json.dumps(call_callback(client, app, "_pages_content", {"_pages_location": "/nope"}).get_json(),
                      ensure_ascii=False)  # fmt: skip
    assert "页面不存在" in page


@pytest.mark.parametrize(
    "body",
    [
        {},
        [],
        None,
        {"output": "nope.children", "inputs": []},
        {"output": "registry-grid.rowData", "inputs": 5},
    ],
)
def test_malformed_callback_requests_get_400_not_500(client, factory, body) -> None:  # type: ignore[no-untyped-def]
    login(client, factory.user(Role.LEADER, None).username)
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 400 and response.get_json()["message"] == "请求格式不正确"


def test_a_non_ascii_csrf_value_is_a_400(client) -> None:  # type: ignore[no-untyped-def]
    client.get("/login")
    assert client.post("/login", data={"csrf": "é", "username": "x", "password": "y"}).status_code == 400


def test_logging_in_again_ends_the_previous_session(app, client, factory) -> None:  # type: ignore[no-untyped-def]
    first, second = factory.user(Role.LEADER, None), factory.user(Role.LEADER, None)
    login(client, first.username)
    old = client.get_cookie("cfp_session").value
    login(client, second.username)
    replay = app.server.test_client()
    replay.set_cookie("cfp_session", old)
    assert replay.get("/_dash-layout").status_code == 401


def test_refused_attempts_do_not_extend_the_lock(client, db, factory) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import func, select

    from tracker.models import LoginAttempt

    user = factory.user(Role.LEADER, None)
    for _ in range(8):
        login(client, user.username, password="Wrong-pass-2025")
    assert db.scalar(select(func.count()).select_from(LoginAttempt)) == 5


def test_a_failed_login_with_an_unknown_name_does_not_keep_the_name(client, db) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from tracker.models import AuditEvent

    login(client, "MySecretPassword-2025", password="whatever-123")
    events = db.scalars(select(AuditEvent).where(AuditEvent.action == "login_failed")).all()
    assert len(events) == 1
    assert "MySecretPassword" not in f"{events[0].summary} {events[0].actor_name} {events[0].after}"
