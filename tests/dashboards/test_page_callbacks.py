"""The page-callback decorator itself (dashboards/callbacks.py), on a probe callback registered with
the test app: who may call it, how its inputs are checked, how a refusal becomes the page's alert
and that a refusal leaves the database as it was."""

from __future__ import annotations

import json
from typing import Any

import pytest
from dash import Input, Output, State

from dashboards.callbacks import (
    CLICKS,
    OPTIONAL_INT,
    Call,
    Clicks,
    OptionalInt,
    Refused,
    Rows,
    Text,
    many,
    page_callback,
    register_page_callbacks,
)
from tests.web import call_callback, login
from tracker.access.permissions import Action, PermissionDenied
from tracker.core.errors import TrackerError
from tracker.core.messages import Message
from tracker.models import Role, User

OUT, GO, ROW, WORDS, ROWS = "pcb-out", "pcb-go", "pcb-id", "pcb-words", "pcb-rows"
RAN: list[tuple[int | None, str | None]] = []


@page_callback(
    Action.EDIT, Output(OUT, "children"), Output(f"{OUT}-2", "children"),
    Input(GO, "n_clicks"), State(ROW, "value"), State(WORDS, "value"), State(ROWS, "selectedRows"),
    alert=Output(OUT, "children"), prevent_initial_call=True,
)  # fmt: skip
def probe(
    call: Call, _clicks: Clicks, row_id: OptionalInt, words: Text, _rows: Rows
) -> tuple[object, object]:
    RAN.append((row_id, words))
    if words == "deny":
        raise PermissionDenied(Message("不许动"))
    if words in ("rename", "rename then refuse"):
        user = call.session.get(User, row_id)
        assert user is not None
        user.display_name = "改过的名字"
        call.session.flush()
        if words == "rename then refuse":
            raise TrackerError(Message("改名被拒"))
    if words == "warn":
        raise Refused("请先选择")
    return f"好 {row_id} {words}", "二"


@pytest.fixture
def probe_app(app):  # type: ignore[no-untyped-def]
    register_page_callbacks(app, [__name__], every_page=False)
    RAN.clear()
    return app


@pytest.fixture
def staff(factory) -> User:  # type: ignore[no-untyped-def]
    return factory.user(Role.CITY_STAFF, "长治", username="pcb-staff")


def answer(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, (response.status_code, response.get_data(as_text=True))
    return json.loads(response.get_data(as_text=True))["response"]  # type: ignore[no-any-return]


def post(client: Any, app: Any, **values: Any) -> Any:
    return call_callback(client, app, OUT, {GO: 1, **values})


def test_the_probe_runs_for_a_user_whose_role_allows_the_action(client, probe_app, staff) -> None:  # type: ignore[no-untyped-def]
    login(client, staff.username)
    shown = answer(post(client, probe_app, **{ROW: 7, WORDS: "你好"}))
    assert shown[OUT]["children"] == "好 7 你好" and shown[f"{OUT}-2"]["children"] == "二"
    assert RAN == [(7, "你好")]


def test_anonymous_is_refused_and_the_function_never_runs(client, probe_app) -> None:  # type: ignore[no-untyped-def]
    assert post(client, probe_app, **{ROW: 7}).status_code == 401
    assert RAN == []


def test_a_role_without_the_action_gets_nothing_and_the_function_never_runs(
    client, probe_app, factory
) -> None:  # type: ignore[no-untyped-def]
    leader = factory.user(Role.LEADER, None, username="pcb-leader")
    login(client, leader.username)
    response = post(client, probe_app, **{ROW: 7, WORDS: "x"})
    assert response.status_code == 204 and RAN == []


@pytest.mark.parametrize(
    ("component", "bad"),
    [(ROW, True), (ROW, False), (ROW, 1.5), (ROW, "7"), (ROW, [7]), (WORDS, 5), (WORDS, ["x"]),
     (WORDS, "字" * 10_001), (ROWS, {"id": 1}), (ROWS, [1, 2]), (ROWS, "rows")],
)  # fmt: skip
def test_a_wrong_typed_input_is_a_400_before_the_function_runs(
    client, probe_app, staff, component, bad
) -> None:  # type: ignore[no-untyped-def]
    login(client, staff.username)
    response = post(client, probe_app, **{ROW: 7, WORDS: "x", component: bad})
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.is_json and response.get_json()["message"]
    assert RAN == []


@pytest.mark.parametrize("clicks", [-1, "1", True, [1]])
def test_clicks_only_say_which_input_fired_so_odd_counts_are_none(client, probe_app, staff, clicks) -> None:  # type: ignore[no-untyped-def]
    login(client, staff.username)
    assert answer(post(client, probe_app, **{GO: clicks, ROW: 7, WORDS: "x"}))[OUT]["children"] == "好 7 x"


def test_a_permission_refusal_is_the_pages_alert_and_nothing_else_changes(client, probe_app, staff) -> None:  # type: ignore[no-untyped-def]
    login(client, staff.username)
    shown = answer(post(client, probe_app, **{ROW: 7, WORDS: "deny"}))
    assert "不许动" in json.dumps(shown[OUT]["children"], ensure_ascii=False)
    assert shown[OUT]["children"]["props"]["color"] == "danger"
    assert f"{OUT}-2" not in shown  # no_update: the other output is left as it was
    assert RAN == [(7, "deny")]


def test_a_pages_own_refusal_is_a_warning(client, probe_app, staff) -> None:  # type: ignore[no-untyped-def]
    login(client, staff.username)
    shown = answer(post(client, probe_app, **{ROW: 7, WORDS: "warn"}))
    assert shown[OUT]["children"]["props"]["color"] == "warning"
    assert "请先选择" in json.dumps(shown[OUT]["children"], ensure_ascii=False)


def test_the_session_commits_on_success_and_rolls_back_a_refusal(client, probe_app, staff, db) -> None:  # type: ignore[no-untyped-def]
    login(client, staff.username)
    refused = answer(post(client, probe_app, **{ROW: staff.id, WORDS: "rename then refuse"}))
    assert "改名被拒" in json.dumps(refused[OUT]["children"], ensure_ascii=False)
    db.expire_all()
    assert db.get(User, staff.id).display_name == "pcb-staff"
    answer(post(client, probe_app, **{ROW: staff.id, WORDS: "rename"}))
    db.expire_all()
    assert db.get(User, staff.id).display_name == "改过的名字"


def test_a_parameter_without_a_check_or_the_wrong_count_is_refused_when_defined() -> None:
    with pytest.raises(TypeError, match="needs a checked annotation"):

        @page_callback(Action.VIEW, Output("pcb-x", "children"), Input("pcb-y", "n_clicks"))
        def unchecked(call: Call, clicks: int) -> object:
            return clicks

    with pytest.raises(TypeError, match="inputs and state"):

        @page_callback(
            Action.VIEW, Output("pcb-x", "children"), Input("pcb-y", "n_clicks"), State("pcb-z", "value")
        )
        def too_few(call: Call, clicks: Clicks) -> object:
            return clicks

    with pytest.raises(TypeError, match="not one of the callback's outputs"):
        page_callback(Action.VIEW, Output("pcb-x", "children"), alert=Output("pcb-elsewhere", "children"))


def test_many_reads_a_row_of_inputs_alike() -> None:
    three = many(CLICKS, 3)
    assert three.width == 3 and three.read((None, 1, "x")) == (None, 1, None)
    ids = many(OPTIONAL_INT, 2)
    with pytest.raises(ValueError, match="whole number"):
        ids.read((1, "2"))
