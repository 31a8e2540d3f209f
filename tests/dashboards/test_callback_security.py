"""Every Dash callback, called by hand with POST /_dash-update-component (issue 7, point 7).

The app's ``callback_map`` is walked, so a callback added later is covered without editing this file.
The world is the demo province plus one extra city, 测试市, that owns nothing. Each server-side
callback is called once per trigger input and per id taken from other cities' rows:

- anonymous: 401 every time, and the database does not change;
- a leader (read-only everywhere): the database does not change;
- staff of 测试市: every id given is another city's, so the database does not change and no reply
  names another city's company, pilot or credit code.

Per-page tests check the legitimate paths; this one checks that nothing was forgotten.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, text

from tests.web import login
from tracker.core.db import Base
from tracker.demo.province import DEMO_PASSWORD, build_demo
from tracker.models import (
    Application,
    City,
    Flag,
    Organisation,
    Pilot,
    ProgressUpdate,
    Recipient,
    Role,
    WorkPlanUpdate,
)

# Rows a call may legitimately add without changing anything: the audit trail (and its hash chain),
# logins and sessions.
UNWATCHED = {"audit_events", "audit_chain", "audit_chain_head", "login_attempts", "user_sessions"}
OUTSIDER = "ceshi"


@pytest.fixture
def world(db, factory) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    build_demo(db)
    taiyuan = factory.city("太原")
    empty = City(province_id=taiyuan.province_id, code="149900", name_zh="测试市", short_zh="测试",
                 name_en="Ceshi", phone_area_code="0000")  # fmt: skip
    db.add(empty)
    db.flush()
    factory.user(Role.CITY_STAFF, city="149900", username=OUTSIDER, password=DEMO_PASSWORD)
    db.commit()
    # One id of each kind of row, all belonging to other cities (the outsider's city has none).
    pilot = db.scalars(select(Pilot).where(Pilot.city_id == taiyuan.id).order_by(Pilot.id)).first()
    assert pilot is not None
    ids = {
        "pilot": pilot.id,
        "application": db.scalar(select(Application.id).order_by(Application.id.desc()).limit(1)),
        "flag": db.scalar(select(Flag.id).order_by(Flag.id).limit(1)),
        "update": db.scalar(select(ProgressUpdate.id).where(ProgressUpdate.pilot_id == pilot.id).limit(1)),
        "work_plan_update": db.scalar(select(WorkPlanUpdate.id).limit(1)),
        "recipient": db.scalar(select(Recipient.id).limit(1)),
        "city": taiyuan.id,
    }
    markers = [
        value
        for name, code in db.execute(select(Organisation.name, Organisation.credit_code))
        for value in (name, code)
    ] + list(db.scalars(select(Pilot.name)))
    return {"ids": {k: v for k, v in ids.items() if v is not None}, "pilot": pilot, "markers": markers}


def server_callbacks(app: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    for key, spec in app.callback_map.items():
        if spec.get("callback") is not None:  # clientside callbacks never reach the server
            yield key, spec


def database_print(db: Any) -> str:
    """A digest of every watched table's rows."""
    db.expire_all()
    digest = hashlib.sha256()
    for name, table in sorted(Base.metadata.tables.items()):
        if name in UNWATCHED:
            continue
        order = ", ".join(column.name for column in table.primary_key.columns)
        for row in db.execute(text(f"SELECT * FROM {name} ORDER BY {order}")):
            digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def fuzz_value(item: dict[str, Any], trigger: str, target: int, world: dict[str, Any]) -> Any:
    """A plausible value for one input or state: clicks for the trigger, another city's ids elsewhere."""
    cid, prop = item["id"], item["property"]
    ids = world["ids"]
    if prop in ("n_clicks", "n_intervals"):
        return 1 if f"{cid}.{prop}" == trigger else None
    if prop == "selectedRows":
        return [{"id": target, "row_id": str(target), "pilot_id": ids["pilot"], "task_id": target,
                 "department_id": target, "version": 1, "key": f"flag:{target}", "city_id": ids["city"]}]  # fmt: skip
    if prop == "data":
        if cid.endswith("key"):
            return {"pilot": ids["pilot"], "period": "2025-10"}
        return target
    if prop == "value":
        if cid.endswith("city"):
            return ids["city"]
        if cid.endswith("period"):
            return "2025-10"
        if cid.endswith(("reason", "comment", "note")):
            return "越权测试"
        return None
    if prop == "rowData":
        return [{"id": target, "row_id": str(target), "name": "越权测试"}]
    return None


def payload(
    key: str, spec: dict[str, Any], trigger: str, target: int, world: dict[str, Any]
) -> dict[str, Any]:
    outputs = [
        {"id": part.split(".")[0], "property": part.split(".")[1].split("@")[0]}
        for part in key.strip(".").split("...")
    ]

    def filled(item: dict[str, Any]) -> dict[str, Any]:
        return {**item, "value": fuzz_value(item, trigger, target, world)}

    return {"output": key, "outputs": outputs if len(outputs) > 1 else outputs[0],
            "inputs": [filled(i) for i in spec["inputs"]], "state": [filled(i) for i in spec["state"]],
            "changedPropIds": [trigger]}  # fmt: skip


def calls(app: Any, world: dict[str, Any]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Per server callback, its hand-made requests: one per trigger input and target id."""
    for key, spec in server_callbacks(app):
        yield (
            key,
            [
                payload(key, spec, f"{item['id']}.{item['property']}", target, world)
                for item in spec["inputs"]
                for target in sorted(set(world["ids"].values()))
            ],
        )


def test_the_sweep_covers_every_server_callback(app) -> None:  # type: ignore[no-untyped-def]
    keys = [key for key, _ in server_callbacks(app)]
    # Every page registers its callbacks on the app; the sweep must see the writing ones too.
    assert len(keys) >= 50
    for part in ("jobs-message", "rcp-message", "flg-message", "apps-message", "wp-message", "uform-message"):
        assert any(part in key for key in keys), part


def test_anonymous_gets_401_from_every_callback_and_changes_nothing(app, client, db, world) -> None:  # type: ignore[no-untyped-def]
    before = database_print(db)
    refused = [(key, client.post("/_dash-update-component", json=body).status_code)
               for key, bodies in calls(app, world) for body in bodies]  # fmt: skip
    assert refused and all(status == 401 for _, status in refused), [r for r in refused if r[1] != 401]
    assert database_print(db) == before


def test_a_leader_changes_nothing_through_any_callback(app, client, db, world) -> None:  # type: ignore[no-untyped-def]
    assert login(client, "lingdao", DEMO_PASSWORD).status_code == 302
    before = database_print(db)
    problems = []
    for key, bodies in calls(app, world):
        for body in bodies:
            status = client.post("/_dash-update-component", json=body).status_code
            if status >= 500:
                problems.append((key[:60], body["changedPropIds"], status))
        if database_print(db) != before:
            problems.append((key[:60], "database changed"))
            before = database_print(db)
    assert not problems, problems


def test_another_citys_ids_give_a_city_user_nothing(app, client, db, world) -> None:  # type: ignore[no-untyped-def]
    assert login(client, OUTSIDER, DEMO_PASSWORD).status_code == 302
    before = database_print(db)
    problems = []
    answered = 0
    for key, bodies in calls(app, world):
        for body in bodies:
            response = client.post("/_dash-update-component", json=body)
            if response.status_code >= 500:
                problems.append((key[:60], body["changedPropIds"], response.status_code))
            if response.status_code == 200:
                answered += 1
                reply = json.dumps(response.get_json(), ensure_ascii=False)
                leaked = [marker for marker in world["markers"] if marker in reply]
                if leaked:
                    problems.append((key[:60], body["changedPropIds"], "shows", leaked[:3]))
        if database_print(db) != before:
            problems.append((key[:60], "database changed"))
            before = database_print(db)
    assert not problems, problems
    assert answered > 0  # the outsider is logged in: read callbacks answer, with nothing in them
