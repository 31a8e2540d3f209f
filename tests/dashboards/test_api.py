"""The JSON API under /api/v1: tokens, scope, validation, the update cycle, and a schemathesis run
against its own OpenAPI description."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from sqlalchemy import select

from tracker.access import accounts
from tracker.core.periods import Frequency, Reporting, reporting_period
from tracker.models import ApiToken, AuditEvent, ProgressUpdate, Role, UpdateStatus
from tracker.progress.expected import load_progress
from tracker.progress.updates import find_update, review_update

TODAY = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
PERIOD = reporting_period(TODAY, Reporting(Frequency.MONTHLY, 5, 10))


@pytest.fixture
def world(factory, db):  # type: ignore[no-untyped-def]
    mine = factory.pilot("长治", start=TODAY - dt.timedelta(days=200))
    theirs = factory.pilot("太原", product="钢铁", start=TODAY - dt.timedelta(days=200))
    users = {
        "city": factory.user(Role.CITY_STAFF, "长治", username="czapi"),
        "other": factory.user(Role.CITY_STAFF, "太原", username="tyapi"),
        "province": factory.user(Role.PROVINCE_STAFF, username="shengapi"),
        "leader": factory.user(Role.LEADER, username="ldapi"),
    }
    tokens = {name: accounts.issue_api_token(db, user) for name, user in users.items()}
    db.commit()
    return {"mine": mine, "theirs": theirs, "users": users,
            "auth": {name: {"Authorization": f"Bearer {token}"} for name, token in tokens.items()}}  # fmt: skip


def entry(pilot: Any, percent: object, **extra: Any) -> dict[str, Any]:
    return {
        "tasks": [{"task_id": pilot.tasks[0].id, "percent": percent}],
        "work_done": "完成数据采集",
        **extra,
    }


def test_the_description_is_generated_openapi_3(client) -> None:  # type: ignore[no-untyped-def]
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert {
        "/api/v1/pilots",
        "/api/v1/pilots/{pilot_id}",
        "/api/v1/pilots/{pilot_id}/updates/{period}",
    } <= set(spec["paths"])
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    body = spec["paths"]["/api/v1/pilots/{pilot_id}/updates/{period}"]["put"]["requestBody"]
    assert "UpdateInput" in json.dumps(body)


def test_no_token_bad_token_revoked_token_disabled_user(client, db, world) -> None:  # type: ignore[no-untyped-def]
    for headers in ({}, {"Authorization": "Bearer cfp_nonsense"}, {"Authorization": "Basic eDp5"}):
        answer = client.get("/api/v1/pilots", headers=headers)
        assert answer.status_code == 401
        assert answer.get_json()["message"] == "请提供有效的 API 令牌" and answer.get_json()["message_en"]
    assert client.get("/api/v1/pilots", headers=world["auth"]["city"]).status_code == 200
    accounts.revoke_api_tokens(db, world["users"]["city"])
    db.commit()
    assert client.get("/api/v1/pilots", headers=world["auth"]["city"]).status_code == 401
    accounts.disable_user(db, world["users"]["other"])
    db.commit()
    assert client.get("/api/v1/pilots", headers=world["auth"]["other"]).status_code == 401
    # Only the hash is stored, and issuing and revoking are audited.
    token = world["auth"]["province"]["Authorization"].split()[1]
    assert token not in {row.token_hash for row in db.scalars(select(ApiToken))}
    assert {"api_token_issue", "api_token_revoke"} <= set(db.scalars(select(AuditEvent.action)))


def test_a_session_cookie_does_not_open_the_api(client, world) -> None:  # type: ignore[no-untyped-def]
    from tests.web import login

    login(client, "czapi")
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/pilots").status_code == 401


def test_unknown_api_paths_are_json_404_and_wrong_methods_405(client, world) -> None:  # type: ignore[no-untyped-def]
    for path in ("/api/v1/nothing", "/api/v2/pilots", f"/api/v1/pilots/{2**40}"):
        answer = client.get(path, headers=world["auth"]["city"])
        assert answer.status_code == 404 and answer.get_json()["error"] == 404, path
    assert client.delete("/api/v1/pilots", headers=world["auth"]["city"]).status_code == 405


def test_a_city_token_sees_only_its_city(client, db, world) -> None:  # type: ignore[no-untyped-def]
    city, theirs = world["auth"]["city"], world["theirs"]
    listed = client.get("/api/v1/pilots", headers=city).get_json()
    assert [p["id"] for p in listed] == [world["mine"].id]
    for path in (f"/api/v1/pilots/{theirs.id}", f"/api/v1/pilots/{theirs.id}/updates",
                 f"/api/v1/pilots/{theirs.id}/updates/{PERIOD.key}"):  # fmt: skip
        answer = client.get(path, headers=city)
        assert answer.status_code == 404, path
        assert theirs.name not in answer.get_data(as_text=True)
    written = client.put(
        f"/api/v1/pilots/{theirs.id}/updates/{PERIOD.key}", headers=city, json=entry(theirs, 50)
    )
    assert written.status_code == 404
    assert db.scalars(select(ProgressUpdate)).first() is None
    province = client.get("/api/v1/pilots", headers=world["auth"]["province"]).get_json()
    assert {p["id"] for p in province} == {world["mine"].id, theirs.id}


def test_leaders_and_the_province_do_not_enter_updates(client, db, world) -> None:  # type: ignore[no-untyped-def]
    mine = world["mine"]
    for who in ("leader", "province"):
        answer = client.put(f"/api/v1/pilots/{mine.id}/updates/{PERIOD.key}", headers=world["auth"][who],
                            json=entry(mine, 30))  # fmt: skip
        assert answer.status_code == 403, who
        assert answer.get_json()["message"] and answer.get_json()["message_en"]
    assert client.get(f"/api/v1/pilots/{mine.id}", headers=world["auth"]["leader"]).status_code == 200
    assert db.scalars(select(ProgressUpdate)).first() is None


@pytest.mark.parametrize("payload, field", [
    ({"tasks": [{"task_id": 1, "percent": 101}]}, "tasks"),
    ({"tasks": [{"task_id": 1, "percent": "四十"}]}, "tasks"),
    ({"tasks": [{"percent": 40}]}, "tasks"),
    ({"tasks": "all done"}, "tasks"),
    ({"work_done": "x" * 2001}, "work_done"),
    ({"work_done": "bad\x00text"}, "work_done"),
    ({"milestones": [{"milestone_id": 1, "achieved_on": "yesterday"}]}, "milestones"),
    ({"version": "two"}, "version"),
    ({"submit": "maybe"}, "submit"),
])  # fmt: skip
def test_invalid_payloads_get_422_with_field_errors(client, db, world, payload, field) -> None:  # type: ignore[no-untyped-def]
    answer = client.put(f"/api/v1/pilots/{world['mine'].id}/updates/{PERIOD.key}", headers=world["auth"]["city"],
                        json=payload)  # fmt: skip
    assert answer.status_code == 422
    body = answer.get_json()
    assert body["message"] == "提交的数据有误" and body["message_en"] == "Invalid data"
    assert field in body["errors"]["json"]
    assert db.scalars(select(ProgressUpdate)).first() is None


def test_domain_refusals_are_422_with_both_languages(client, db, world) -> None:  # type: ignore[no-untyped-def]
    mine, theirs, city = world["mine"], world["theirs"], world["auth"]["city"]
    foreign_task = client.put(f"/api/v1/pilots/{mine.id}/updates/{PERIOD.key}", headers=city,
                              json={"tasks": [{"task_id": theirs.tasks[0].id, "percent": 10}]})  # fmt: skip
    assert foreign_task.status_code == 422
    assert "不属于该试点" in foreign_task.get_json()["errors"]["tasks"][0]
    incomplete = client.put(f"/api/v1/pilots/{mine.id}/updates/{PERIOD.key}", headers=city,
                            json={"tasks": [], "submit": True})  # fmt: skip
    assert incomplete.status_code == 422 and "work_done" in incomplete.get_json()["errors"]
    assert db.scalars(select(ProgressUpdate)).first() is None  # the draft of a refused submission is not kept
    for period in ("2026-13", "0000-01", "2026Q4", "soon"):
        answer = client.get(f"/api/v1/pilots/{mine.id}/updates/{period}", headers=city)
        assert answer.status_code == 422, period
        assert answer.get_json()["message"] and answer.get_json()["message_en"]
    before_start = client.put(f"/api/v1/pilots/{mine.id}/updates/2020-01", headers=city, json=entry(mine, 5))
    assert before_start.status_code == 422 and "无需填报" in before_start.get_json()["message"]


def test_the_cycle_through_the_api_matches_the_progress_function(client, db, world, settings) -> None:  # type: ignore[no-untyped-def]
    mine, city = world["mine"], world["auth"]["city"]
    url = f"/api/v1/pilots/{mine.id}/updates/{PERIOD.key}"
    draft = client.put(url, headers=city, json=entry(mine, 40))
    assert draft.status_code == 200, draft.get_json()
    assert draft.get_json()["status"] == "draft" and draft.get_json()["tasks"][0]["percent"] == 40.0
    version = draft.get_json()["version"]
    # A second writer who read the same version: the first save wins, the second is refused.
    assert client.put(url, headers=city, json=entry(mine, 45, version=version)).status_code == 200
    stale = client.put(url, headers=city, json=entry(mine, 99, version=version))
    assert stale.status_code == 409 and "覆盖" in stale.get_json()["message"]
    current = client.get(url, headers=city).get_json()
    assert current["tasks"][0]["percent"] == 45.0
    submitted = client.put(url, headers=city, json=entry(mine, 45, version=current["version"], submit=True))
    assert submitted.get_json()["status"] == "submitted"
    assert (
        client.put(
            url, headers=city, json=entry(mine, 50, version=submitted.get_json()["version"])
        ).status_code
        == 409
    )
    update = db.scalars(select(ProgressUpdate)).one()
    review_update(db, world["users"]["province"], update.id, accept=True, version=update.version,
                  now=dt.datetime.now(dt.UTC))  # fmt: skip
    db.commit()
    on = min(PERIOD.end, TODAY)
    figures = client.get(f"/api/v1/pilots/{mine.id}?on={on.isoformat()}", headers=city).get_json()
    expected = load_progress(db, [mine.id], on)[mine.id]
    assert figures["progress"]["actual"] == 45.0 == float(expected.actual)
    assert Decimal(str(figures["progress"]["expected"])) == expected.expected
    assert figures["tasks"][0]["actual"] == 45.0
    listed = client.get(f"/api/v1/pilots/{mine.id}/updates", headers=city).get_json()
    assert [(u["period"], u["status"]) for u in listed] == [(PERIOD.key, "accepted")]
    assert db.get(ProgressUpdate, update.id).status is UpdateStatus.ACCEPTED


# --- schemathesis: generated requests from the description find no server error ---------------


def test_generated_requests_never_get_a_server_error(app, db, world) -> None:  # type: ignore[no-untyped-def]
    """Every operation, with requests generated from the description, as a city token: once as
    generated (mostly ids and periods that do not exist), once aimed at a real pilot in scope, the
    period being reported and the version last read, so that writes reach the domain functions and
    the database with whatever text and numbers the generator makes up."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app.server)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 6
    mine = world["mine"]
    seen: list[int] = []

    def aim(case: Any) -> None:
        case.path_parameters["pilot_id"] = mine.id
        if "period" in case.path_parameters:
            case.path_parameters["period"] = PERIOD.key
        if isinstance(case.body, dict):
            db.expire_all()
            update = find_update(db, mine.id, PERIOD)
            case.body["version"] = update.version if update else None
            tasks = case.body.get("tasks")
            if isinstance(tasks, list) and tasks and isinstance(tasks[0], dict):
                tasks[0]["task_id"] = mine.tasks[0].id

    def fuzz(operation: Any, aimed: bool) -> None:
        @given(case=operation.as_strategy())
        @settings(max_examples=50, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def run(case) -> None:  # type: ignore[no-untyped-def]
            if aimed:
                aim(case)
            response = case.call_and_validate(headers=world["auth"]["city"], checks=[not_a_server_error])
            seen.append(response.status_code)

        run()

    for operation in operations:
        fuzz(operation, aimed=False)
        if "{pilot_id}" in operation.path:
            fuzz(operation, aimed=True)
    assert {200, 404, 422} <= set(seen) and max(seen) < 500
