"""The permission module: scope by role and city, and what each role may do."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tracker.access.permissions import (
    Action,
    PermissionDenied,
    can,
    may_edit_library,
    may_manage_recipients,
    may_run_jobs,
    require,
    visible_audit_events,
    visible_pilots,
)
from tracker.models import Pilot, Role


def test_city_staff_see_only_their_citys_pilots(db, factory) -> None:  # type: ignore[no-untyped-def]
    own, other = factory.pilot("长治"), factory.pilot("太原")
    user = factory.user(Role.CITY_STAFF, "长治")
    seen = set(db.scalars(visible_pilots(user)))
    assert own in seen and other not in seen


def test_provincial_staff_see_every_city(db, factory) -> None:  # type: ignore[no-untyped-def]
    pilots = {factory.pilot("长治"), factory.pilot("太原")}
    user = factory.user(Role.PROVINCE_STAFF)
    assert pilots <= set(db.scalars(visible_pilots(user)))


def test_a_city_bound_leader_sees_only_that_city(db, factory) -> None:  # type: ignore[no-untyped-def]
    own, other = factory.pilot("大同"), factory.pilot("长治")
    leader = factory.user(Role.LEADER, "大同")
    seen = set(db.scalars(visible_pilots(leader)))
    assert own in seen and other not in seen


def test_city_staff_cannot_edit_another_citys_pilot(factory) -> None:  # type: ignore[no-untyped-def]
    user = factory.user(Role.CITY_STAFF, "长治")
    assert can(user, Action.EDIT, factory.pilot("长治"))
    with pytest.raises(PermissionDenied):
        require(user, Action.EDIT, factory.pilot("太原"))


@pytest.mark.parametrize("action", [Action.CREATE, Action.EDIT, Action.DELETE, Action.MANAGE_USERS,
                                    Action.VIEW_AUDIT])  # fmt: skip
def test_a_leader_cannot_change_anything(factory, action: Action) -> None:  # type: ignore[no-untyped-def]
    leader = factory.user(Role.LEADER, None)
    pilot = factory.pilot("长治")
    assert can(leader, Action.VIEW, pilot)
    assert not can(leader, action, pilot)
    assert not can(leader, action)


def test_only_the_provincial_admin_manages_users(factory) -> None:  # type: ignore[no-untyped-def]
    target = factory.user(Role.CITY_STAFF, "长治")
    assert can(factory.user(Role.PROVINCE_ADMIN), Action.MANAGE_USERS, target)
    for role, city in ((Role.PROVINCE_STAFF, None), (Role.CITY_STAFF, "长治"), (Role.LEADER, None)):
        assert not can(factory.user(role, city), Action.MANAGE_USERS, target)


@pytest.mark.parametrize(("role", "city"), [(Role.PROVINCE_ADMIN, None), (Role.PROVINCE_STAFF, None),
                                            (Role.CITY_STAFF, "长治"), (Role.LEADER, None)])  # fmt: skip
def test_the_administrators_own_powers_are_the_administrators_alone(
    factory, role: Role, city: str | None
) -> None:  # type: ignore[no-untyped-def]
    """Reference data, running jobs and every city's recipients: the provincial admin only, all
    answered by the one action table."""
    user = factory.user(role, city)
    admin = role is Role.PROVINCE_ADMIN
    assert may_edit_library(user) is admin
    assert may_run_jobs(user) is admin
    assert may_manage_recipients(user) is (role in (Role.PROVINCE_ADMIN, Role.CITY_STAFF))
    assert can(user, Action.MANAGE_ALL_RECIPIENTS) is admin
    assert can(user, Action.KEEP_AUDIT) is admin


def test_disabled_and_anonymous_users_may_do_nothing(db, factory) -> None:  # type: ignore[no-untyped-def]
    user = factory.user(Role.PROVINCE_ADMIN)
    user.is_active = False
    factory.pilot("长治")
    assert not can(user, Action.VIEW)
    assert not can(None, Action.VIEW)
    assert db.scalars(visible_pilots(None)).all() == []
    assert db.scalars(visible_pilots(user)).all() == []
    with pytest.raises(PermissionDenied, match="请先登录"):
        require(None, Action.VIEW)


def test_city_staff_read_only_their_citys_audit_trail(db, factory) -> None:  # type: ignore[no-untyped-def]
    factory.pilot("长治")
    factory.pilot("太原")
    user = factory.user(Role.CITY_STAFF, "长治")
    cities = {e.city_id for e in db.scalars(visible_audit_events(user))}
    assert cities == {factory.city("长治").id}
    assert db.scalars(select(Pilot)).all()


@pytest.mark.parametrize(("role", "city", "read", "enter", "review"), [
    (Role.PROVINCE_ADMIN, None, True, True, True),
    (Role.PROVINCE_STAFF, None, True, True, False),
    (Role.LEADER, None, True, False, False),
    (Role.LEADER, "大同", False, False, False),  # a city's leader: province-level work is not theirs
    (Role.CITY_STAFF, "长治", False, False, False),
])  # fmt: skip
def test_who_reads_enters_and_reviews_the_work_plan(db, factory, role: Role, city: str | None, read: bool,
                                                    enter: bool, review: bool) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    from tracker.access.permissions import may_enter_work_plan, may_read_work_plan, may_review_work_plan
    from tracker.models import WorkPlanTask

    user = factory.user(role, city)
    task = db.scalars(select(WorkPlanTask).where(WorkPlanTask.number == 3)).one()
    for target in (task, None):  # that task, or the work plan in general (menus, buttons)
        allowed = (may_read_work_plan(user, target), may_enter_work_plan(user, target),
                   may_review_work_plan(user, target))  # fmt: skip
        assert allowed == (read, enter, review)
