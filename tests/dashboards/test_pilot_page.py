"""The pilot page (/pilot?id=N): its figures are the progress function's, plan changes after the
start show the approved value struck through, and nobody outside the pilot's scope sees it."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.web import call_callback, login
from tracker.models import Milestone, Role, WorkflowStep
from tracker.monitoring.pilot_record import plan_changes, progress_curve, update_lines
from tracker.progress.expected import Thresholds, load_progress

TZ = ZoneInfo("Asia/Shanghai")
TODAY = dt.datetime.now(TZ).date()


def page(client: Any, app: Any, pilot_id: object, on: str | None = None) -> Any:
    search = f"?id={pilot_id}" + (f"&on={on}" if on else "")
    answer = call_callback(client, app, "_pages_content", {"_pages_location.pathname": "/pilot",
                                                            "_pages_location.search": search})  # fmt: skip
    assert answer.status_code == 200
    return json.loads(answer.get_data(as_text=True))["response"]["_pages_content"]["children"]


def find(tree: Any, component_id: str) -> Any:
    if isinstance(tree, dict):
        if tree.get("props", {}).get("id") == component_id:
            return tree
        return next((hit for v in tree.get("props", {}).values() if (hit := find(v, component_id))), None)
    if isinstance(tree, list):
        return next((hit for item in tree if (hit := find(item, component_id))), None)
    return None


def text_of(tree: Any) -> str:
    return json.dumps(tree, ensure_ascii=False)


@pytest.fixture
def started(factory, db):  # type: ignore[no-untyped-def]
    pilot = factory.pilot("长治", start=TODAY - dt.timedelta(days=120))
    db.add(Milestone(pilot_id=pilot.id, title="建成数据采集系统", due_date=TODAY - dt.timedelta(days=1),
                     indicator="覆盖阶段数", target_value="6"))  # fmt: skip
    db.add(WorkflowStep(subject_type="pilot", subject_id=pilot.id, city_id=pilot.city_id, step="start",
                        from_status="published", to_status="in_implementation", actor_name="czp",
                        at=dt.datetime.now(dt.UTC) - dt.timedelta(days=120)))  # fmt: skip
    db.commit()
    month = TODAY.replace(day=1) - dt.timedelta(days=1)
    factory.accepted_update(pilot, month.replace(day=1), month, "30")
    factory.user(Role.CITY_STAFF, "长治", username="czp")
    factory.user(Role.CITY_STAFF, "太原", username="typ")
    factory.user(Role.LEADER, username="ldp")
    return pilot


def test_the_header_shows_the_progress_functions_figures(client, app, db, started) -> None:  # type: ignore[no-untyped-def]
    login(client, "czp")
    tree = page(client, app, started.id)
    figure = load_progress(db, [started.id], TODAY)[started.id]
    assert find(tree, "pilot-expected")["props"]["children"] == f"{figure.expected.normalize():f}%"
    assert find(tree, "pilot-actual")["props"]["children"] == "30%"
    assert "逾期" in text_of(find(tree, "pilot-milestones"))  # due yesterday, not reached
    assert "0→30" in text_of(find(tree, "pilot-updates")) or "—→30" in text_of(find(tree, "pilot-updates"))
    timeline, curve = (
        find(tree, "pilot-timeline")["props"]["figure"],
        find(tree, "pilot-curve")["props"]["figure"],
    )
    assert len(timeline["data"][0]["y"]) == len(started.tasks)  # a bar per task
    assert timeline["layout"]["shapes"][0]["x0"] == TODAY.isoformat()  # the line for today
    expected, actual = curve["data"]
    assert expected["x"][-1] == actual["x"][-1] == TODAY.isoformat()
    assert expected["y"][-1] == float(figure.expected) and actual["y"][-1] == 30.0  # ends at the header


def test_the_gantt_shows_the_plan_against_reality(client, app, db, started) -> None:  # type: ignore[no-untyped-def]
    from dashboards.pages.pilot import MILESTONE_STATES, milestone_state
    from tracker.progress.expected import task_lines

    login(client, "czp")
    figure = find(page(client, app, started.id), "pilot-timeline")["props"]["figure"]
    plan, done, ticks, diamonds = figure["data"]  # no baseline: the plan is unchanged since the start
    lines = {line.number: line for line in task_lines(db, started.id, TODAY)}
    for name, span, filled, tick, expected in zip(plan["y"], plan["x"], done["x"], ticks["x"], ticks["customdata"],
                                                  strict=True):  # fmt: skip
        line = lines[name.split(" ")[0]]
        assert filled == round(span * float(line.actual) / 100)  # the bar filled to the reported progress
        assert expected == float(line.expected)
        offset = dt.date.fromisoformat(tick) - line.planned_start  # the tick at its 序时进度
        assert offset.days == round((line.planned_end - line.planned_start).days * float(line.expected) / 100)
    (milestone,) = started.milestones
    assert milestone_state(milestone, TODAY) == "overdue"  # due yesterday, not reached
    assert diamonds["marker"]["color"] == [MILESTONE_STATES["overdue"][0]] and diamonds["text"] == [
        milestone.title
    ]
    assert diamonds["customdata"] == ["逾期未达成"]
    # Reached two days late: "late", not "on time"; a plan moved after the start gets its approved bar beneath.
    milestone.achieved_on = milestone.due_date + dt.timedelta(days=2)
    task = started.tasks[0]
    approved_end = task.planned_end
    task.planned_end = approved_end + dt.timedelta(days=30)
    db.commit()
    assert milestone_state(milestone, TODAY + dt.timedelta(days=2)) == "late"
    figure = find(page(client, app, started.id), "pilot-timeline")["props"]["figure"]
    baseline = next(t for t in figure["data"] if t["name"] == "批准的计划")
    assert baseline["y"] == [f"{task.number} {task.title}"]
    assert baseline["x"] == [((approved_end - task.planned_start).days + 1) * 86_400_000]


def test_a_past_date_gives_that_days_figures(client, app, db, started) -> None:  # type: ignore[no-untyped-def]
    login(client, "czp")
    day = started.start_date + dt.timedelta(days=10)
    tree = page(client, app, started.id, day.isoformat())
    figure = load_progress(db, [started.id], day)[started.id]
    assert find(tree, "pilot-expected")["props"]["children"] == f"{figure.expected.normalize():f}%"
    assert find(tree, "pilot-actual")["props"]["children"] == "0%"


def test_plan_changes_after_the_start_are_struck_through(client, app, db, started) -> None:  # type: ignore[no-untyped-def]
    task = started.tasks[0]
    task.weight = Decimal(3)
    started.milestones[0].target_value = "8"
    db.commit()
    changes = plan_changes(db, started, TZ)
    assert Decimal(changes.of("tasks", task.id)["weight"].old) == 1
    assert changes.of("milestones", started.milestones[0].id)["target_value"].old == "6"
    login(client, "czp")
    tree = page(client, app, started.id)
    tasks = text_of(find(tree, "pilot-tasks"))
    assert '"type": "Del"' in tasks and '"children": "1"' in tasks
    assert '"type": "Del"' in text_of(find(tree, "pilot-milestones"))
    # Changed back: no longer a change.
    task.weight = Decimal(1)
    db.commit()
    assert "weight" not in plan_changes(db, started, TZ).of("tasks", task.id)


def test_no_changes_are_marked_before_the_start(factory, db) -> None:  # type: ignore[no-untyped-def]
    from tracker.models import PilotStatus

    pilot = factory.pilot("长治", start=TODAY + dt.timedelta(days=30), status=PilotStatus.PUBLISHED)
    pilot.tasks[0].weight = Decimal(2)
    db.commit()
    changes = plan_changes(db, pilot, TZ)
    assert changes.since is None and not changes.by_row


def test_the_curve_ends_at_the_header_figures(db, started) -> None:  # type: ignore[no-untyped-def]
    points = progress_curve(db, started, TODAY, Thresholds())
    figure = load_progress(db, [started.id], TODAY)[started.id]
    assert points[0].on == started.start_date and points[-1].on == TODAY
    assert (points[-1].expected, points[-1].actual) == (figure.expected, figure.actual)
    assert [p.on for p in points] == sorted({p.on for p in points})
    assert len(update_lines(db, started)) == 1


def test_other_cities_and_anonymous_get_nothing(client, app, started) -> None:  # type: ignore[no-untyped-def]
    client.get("/login")  # the first request registers the pages' callbacks
    anonymous = call_callback(client, app, "_pages_content", {"_pages_location.pathname": "/pilot",
                                                               "_pages_location.search": f"?id={started.id}"})  # fmt: skip
    assert anonymous.status_code == 401
    login(client, "typ")
    tree = page(client, app, started.id)
    assert "不在您的权限范围内" in text_of(tree) and started.name not in text_of(tree)
    for junk in ("abc", "-1", "99999999999999", ""):
        assert "不在您的权限范围内" in text_of(page(client, app, junk))


def test_a_leader_reads_the_page_without_the_audit_trail(client, app, started) -> None:  # type: ignore[no-untyped-def]
    login(client, "ldp")
    tree = page(client, app, started.id)
    assert started.name in text_of(tree)
    assert "暂无" in text_of(find(tree, "pilot-audit"))  # leaders do not read the audit trail


def test_a_pilot_started_without_a_recorded_step_counts_from_its_start_day(factory, db) -> None:  # type: ignore[no-untyped-def]
    pilot = factory.pilot("长治", start=TODAY - dt.timedelta(days=30))  # in implementation, no start step
    pilot.tasks[0].weight = Decimal(2)
    db.commit()
    changes = plan_changes(db, pilot, TZ)
    assert changes.since == dt.datetime.combine(pilot.start_date, dt.time(), tzinfo=TZ)
    assert Decimal(changes.of("tasks", pilot.tasks[0].id)["weight"].old) == 1
