"""The dashboard's side of the scheduled jobs, over HTTP: 调度通报 (the archive and its downloads),
定时任务 (history, next runs, run now, failed and uncertain messages, whether the scheduler is alive)
and 发送对象 (recipients). Every callback and
download is asked as anonymous, as a role that may not, and as a user of another city."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.dashboards.test_workplan_page import body
from tests.web import call_callback, login
from tracker.core import clock
from tracker.core.messages import Message
from tracker.delivery.bulletin_archive import archive_bulletin
from tracker.delivery.job_runs import claim_run, finish_run
from tracker.delivery.outbox import enqueue
from tracker.delivery.recipients import RecipientEntry, save_recipient
from tracker.models import (
    Audience,
    AuditEvent,
    Channel,
    JobRequest,
    MessageState,
    OutboxMessage,
    Recipient,
    Role,
    RunState,
    SchedulerProcess,
)

NOW = dt.datetime(2026, 11, 8, 1, 0, tzinfo=dt.UTC)


def page(client: Any, app: Any, path: str) -> str:
    """The page's layout as the browser gets it, as text."""
    return json.dumps(body(call_callback(client, app, "_pages_content", {"_pages_location": path})),
                      ensure_ascii=False)  # fmt: skip


def as_text(response: Any) -> str:
    """A JSON answer as readable text (Chinese unescaped); the status code when there is none."""
    if response.status_code != 200:
        return str(response.status_code)
    return json.dumps(json.loads(response.get_data(as_text=True)), ensure_ascii=False)


def nav(client: Any) -> str:
    response = client.get("/_dash-layout")
    assert response.status_code == 200
    return as_text(response)


@pytest.fixture
def world(db, factory, session_factory):  # type: ignore[no-untyped-def]
    users = {
        "admin": factory.user(Role.PROVINCE_ADMIN, username="guanli"),
        "staff": factory.user(Role.PROVINCE_STAFF, username="sheng"),
        "leader": factory.user(Role.LEADER, None, username="lingdao"),
        "city": factory.user(Role.CITY_STAFF, "长治", username="czu"),
        "other": factory.user(Role.CITY_STAFF, "太原", username="tyu"),
    }
    province_id = users["admin"].province_id
    bulletins = {}
    for cut, city in (
        ("province", None),
        ("leadership", None),
        ("city-140400", "长治"),
        ("city-140100", "太原"),
    ):
        city_id = factory.city(city).id if city else None
        bulletins[cut] = archive_bulletin(
            db, province_id=province_id, kind="monthly", period="2026-10", cut=cut, city_id=city_id, number=10,
            issued_on=dt.date(2026, 11, 8), title=f"调度通报 第10期 {cut}", summary=f"摘要 {cut}",
            file_name=f"bulletin-{cut}.xlsx", content_type="application/octet-stream", content=f"file {cut}".encode(),
            run_id=None, now=NOW,
        )  # fmt: skip
    claim = claim_run(session_factory, "monthly_bulletin", "2026-10", now=NOW, trigger="scheduled")
    assert claim is not None
    finish_run(
        session_factory,
        claim,
        RunState.SUCCEEDED,
        now=NOW + dt.timedelta(seconds=75),
        reason=Message("发送13条"),
    )
    failed = enqueue(db, key="monthly_bulletin/2026-10/province/r1", channel="email", recipient="qhc@example.com",
                     subject="调度通报 第10期", body="...", now=NOW)  # fmt: skip
    assert failed is not None
    failed.state, failed.attempts, failed.last_error = (
        MessageState.FAILED,
        5,
        "ConnectionRefusedError: [Errno 111]",
    )
    uncertain = enqueue(db, key="monthly_bulletin/2026-10/city-140400/r2", channel="email", recipient="cz@example.com",
                        subject="调度通报 第10期 长治", body="...", now=NOW)  # fmt: skip
    assert uncertain is not None
    uncertain.state, uncertain.attempts, uncertain.claimed_at, uncertain.claimed_by = (
        MessageState.UNCERTAIN, 1, NOW, "sched-host:4242")  # fmt: skip
    recipients = {
        "changzhi": save_recipient(db, users["admin"], RecipientEntry(Audience.CITY, factory.city("长治"), Channel.EMAIL,
                                                                      "cz@example.com", "长治市局")),
        "taiyuan": save_recipient(db, users["admin"], RecipientEntry(Audience.CITY, factory.city("太原"), Channel.WEBHOOK,
                                                                     "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=SECRET",
                                                                     "太原市局群")),
        "province": save_recipient(db, users["admin"], RecipientEntry(Audience.PROVINCE, None, Channel.EMAIL,
                                                                      "qhc@example.com", "应对气候变化处")),
    }  # fmt: skip
    db.commit()
    return {
        "users": users,
        "bulletins": bulletins,
        "failed": failed,
        "uncertain": uncertain,
        "recipients": recipients,
    }


# --- 调度通报 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("username", "cuts"), [
    ("guanli", {"province", "leadership", "city-140400", "city-140100"}),
    ("lingdao", {"province", "leadership", "city-140400", "city-140100"}),
    ("czu", {"city-140400"}),
])  # fmt: skip
def test_each_role_sees_the_bulletins_it_may_read(client, app, world, username: str, cuts: set[str]) -> None:  # type: ignore[no-untyped-def]
    login(client, username)
    shown = page(client, app, "/bulletins")
    assert {cut for cut in world["bulletins"] if f"摘要 {cut}" in shown} == cuts
    assert "第10期" in shown and "2026年10月" in shown and "2026年11月8日" in shown


def test_a_download_is_the_file_as_archived_and_is_audited(client, app, db, world) -> None:  # type: ignore[no-untyped-def]
    own = world["bulletins"]["city-140400"]
    login(client, "czu")
    response = client.get(f"/bulletins/{own.id}/download")
    assert response.status_code == 200 and response.data == b"file city-140400"
    assert "bulletin-city-140400.xlsx" in response.headers["Content-Disposition"]
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "download",
                                                AuditEvent.entity_type == "bulletins")).one()  # fmt: skip
    assert (event.entity_id, event.actor_name) == (str(own.id), "czu")


def test_another_citys_bulletin_and_the_anonymous_get_nothing(client, app, db, world) -> None:  # type: ignore[no-untyped-def]
    others = [world["bulletins"][cut].id for cut in ("city-140100", "province", "leadership")]
    for bulletin_id in others:  # anonymous: sent to log in, no file
        response = client.get(f"/bulletins/{bulletin_id}/download")
        assert response.status_code in (302, 401, 404) and b"file " not in response.data
    login(client, "czu")
    for bulletin_id in [*others, 999_999]:
        response = client.get(f"/bulletins/{bulletin_id}/download")
        assert response.status_code == 404 and b"file " not in response.data
    assert db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "download")) == 0


# --- 定时任务 ----------------------------------------------------------------------------------


def test_the_jobs_page_is_for_the_province(client, app, world) -> None:  # type: ignore[no-untyped-def]
    for username, shown in (("guanli", True), ("sheng", True), ("lingdao", False), ("czu", False)):
        login(client, username)
        assert ("定时任务" in nav(client)) is shown, username
        text = page(client, app, "/jobs")
        assert ("月度调度通报" in text) is shown and ("没有访问此页面的权限" in text) is not shown, username
        response = call_callback(client, app, "jobs-history", {"jobs-refresh": 1})
        assert (response.status_code == 200) is shown, username
        client.post("/logout")


def test_the_province_reads_history_next_runs_and_failed_messages(client, app, world) -> None:  # type: ignore[no-untyped-def]
    login(client, "sheng")
    answer = body(call_callback(client, app, "jobs-history", {"jobs-refresh": 1}))
    (run,) = answer["jobs-history"]["rowData"]
    assert (run["name"], run["period"], run["state"], run["trigger"], run["duration"], run["reason"]) == (
        "月度调度通报", "2026-10", "完成", "定时", "1分15秒", "发送13条")  # fmt: skip
    (failed,) = answer["jobs-failed"]["rowData"]
    assert failed["recipient"] == "qhc@example.com" and "ConnectionRefusedError" in failed["error"]
    schedule = {row["id"]: row for row in answer["jobs-schedule"]["rowData"]}
    assert (
        schedule["monthly_bulletin"]["cron"] == "0 9 8 * *"
        and "日 09:00" in schedule["monthly_bulletin"]["next_run"]
    )
    text = page(client, app, "/jobs")
    assert "仅限省级管理员" in text and "jobs-run" not in text  # staff read; no run form


def test_the_admin_asks_for_a_run_and_the_request_waits_for_the_scheduler(client, app, db, world) -> None:  # type: ignore[no-untyped-def]
    login(client, "guanli")
    answer = body(call_callback(client, app, "jobs-message", {"jobs-run": 1, "jobs-job": "monthly_bulletin",
                                                              "jobs-period": "2026年9月"}))  # fmt: skip
    assert "已提交运行请求" in json.dumps(answer, ensure_ascii=False)
    (request,) = db.scalars(select(JobRequest)).all()
    assert (request.job, request.period, request.requested_by, request.taken_at) == (
        "monthly_bulletin", "2026-09", "guanli", None)  # fmt: skip
    assert (
        db.scalars(select(AuditEvent).where(AuditEvent.action == "request_run")).one().actor_name == "guanli"
    )
    pending = body(call_callback(client, app, "jobs-pending", {"jobs-refresh": 2}))["jobs-pending"]["rowData"]
    assert [(p["name"], p["period"], p["by"]) for p in pending] == [("月度调度通报", "2026-09", "guanli")]


@pytest.mark.parametrize(("values", "message"), [
    ({"jobs-job": "monthly_bulletin", "jobs-period": "2026-10"}, "不会重复运行"),  # done already
    ({"jobs-job": "monthly_bulletin", "jobs-period": "2026-13"}, "报告期"),
    ({"jobs-job": "rm -rf", "jobs-period": "2026-10"}, "请选择要运行的任务"),
    ({"jobs-job": "reminders", "jobs-period": ""}, "请填写期别"),
])  # fmt: skip
def test_a_bad_run_request_is_refused_clearly_and_changes_nothing(
    client, app, db, world, values, message
) -> None:  # type: ignore[no-untyped-def]
    login(client, "guanli")
    answer = json.dumps(body(call_callback(client, app, "jobs-message", {"jobs-run": 1, **values})),
                        ensure_ascii=False)  # fmt: skip
    assert message in answer
    assert db.scalars(select(JobRequest)).all() == []


def test_the_admin_sends_a_failed_message_again(client, app, db, world) -> None:  # type: ignore[no-untyped-def]
    login(client, "guanli")
    failed = world["failed"]
    answer = json.dumps(body(call_callback(client, app, "jobs-message", {
        "jobs-requeue": 1, "jobs-failed": [{"id": failed.id, "row_id": str(failed.id)}]})), ensure_ascii=False)  # fmt: skip
    assert "已将 1 条消息重新排队" in answer
    db.expire_all()
    message = db.get(OutboxMessage, failed.id)
    assert (message.state, message.attempts) == (MessageState.PENDING, 0)
    assert db.scalars(select(AuditEvent).where(AuditEvent.action == "requeue")).one().actor_name == "guanli"


@pytest.mark.parametrize("username", ["sheng", "lingdao", "czu", None])
def test_no_one_but_the_admin_runs_or_resends(client, app, db, world, username) -> None:  # type: ignore[no-untyped-def]
    if username:
        login(client, username)
    failed = world["failed"]
    run = call_callback(client, app, "jobs-message", {"jobs-run": 1, "jobs-job": "monthly_bulletin",
                                                      "jobs-period": "2026-09"})  # fmt: skip
    resend = call_callback(client, app, "jobs-message", {"jobs-requeue": 1,
                                                         "jobs-failed": [{"id": failed.id, "row_id": str(failed.id)}]})  # fmt: skip
    for response in (run, resend):
        if username is None:
            assert response.status_code == 401
        elif username == "sheng":  # may see the page: told why, nothing done
            assert "仅省级管理员" in as_text(response)
        else:
            assert response.status_code == 204
    db.expire_all()
    assert db.scalars(select(JobRequest)).all() == []
    assert db.get(OutboxMessage, failed.id).state is MessageState.FAILED
    assert db.scalars(select(AuditEvent).where(AuditEvent.action.in_(["request_run", "requeue"]))).all() == []


def decide(client: Any, app: Any, button: str, message: OutboxMessage) -> Any:
    return call_callback(client, app, "jobs-message", {button: 1, "jobs-uncertain": [
        {"id": message.id, "row_id": str(message.id)}]})  # fmt: skip


def test_staff_see_the_uncertain_messages_and_may_not_decide(client, app, db, world) -> None:  # type: ignore[no-untyped-def]
    uncertain = world["uncertain"]
    login(client, "sheng")
    answer = body(call_callback(client, app, "jobs-uncertain", {"jobs-refresh": 1}))
    (row,) = answer["jobs-uncertain"]["rowData"]
    assert (row["recipient"], row["worker"], row["message_id"]) == (
        "cz@example.com", "sched-host:4242", uncertain.message_id)  # fmt: skip
    text = page(client, app, "/jobs")
    assert "状态不明的消息" in text and "不会自动重发" in text
    for button in ("jobs-resend", "jobs-delivered"):
        assert "仅省级管理员" in as_text(decide(client, app, button, uncertain))
    db.expire_all()
    assert db.get(OutboxMessage, uncertain.id).state is MessageState.UNCERTAIN
    assert db.scalars(select(AuditEvent).where(AuditEvent.entity_type == "outbox")).all() == []


@pytest.mark.parametrize("username", ["lingdao", "czu", None])
def test_leaders_city_users_and_the_anonymous_neither_see_nor_decide(
    client, app, db, world, username
) -> None:  # type: ignore[no-untyped-def]
    uncertain = world["uncertain"]
    if username:
        login(client, username)
    expected = 401 if username is None else 204
    assert call_callback(client, app, "jobs-uncertain", {"jobs-refresh": 1}).status_code == expected
    for button in ("jobs-resend", "jobs-delivered"):
        assert decide(client, app, button, uncertain).status_code == expected
    db.expire_all()
    assert db.get(OutboxMessage, uncertain.id).state is MessageState.UNCERTAIN
    assert db.scalars(select(AuditEvent).where(AuditEvent.entity_type == "outbox")).all() == []


def test_the_admin_resends_an_uncertain_message_with_its_message_id(client, app, db, world) -> None:  # type: ignore[no-untyped-def]
    uncertain = world["uncertain"]
    login(client, "guanli")
    assert "jobs-resend" in page(client, app, "/jobs")
    assert "沿用原 Message-ID" in as_text(decide(client, app, "jobs-resend", uncertain))
    db.expire_all()
    message = db.get(OutboxMessage, uncertain.id)
    assert (message.state, message.attempts, message.message_id) == (
        MessageState.PENDING,
        0,
        uncertain.message_id,
    )
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "resend_uncertain")).one()
    assert event.actor_name == "guanli" and event.after["message_ids"] == [uncertain.message_id]
    assert "已不在状态不明列表中" in as_text(decide(client, app, "jobs-delivered", uncertain))  # decided once


def test_the_admin_marks_an_uncertain_message_delivered(client, app, db, world) -> None:  # type: ignore[no-untyped-def]
    uncertain = world["uncertain"]
    login(client, "guanli")
    assert "记为已送达" in as_text(decide(client, app, "jobs-delivered", uncertain))
    db.expire_all()
    message = db.get(OutboxMessage, uncertain.id)
    assert (message.state, message.sent_at) == (MessageState.SENT, NOW)
    assert (
        db.scalars(select(AuditEvent).where(AuditEvent.action == "mark_delivered")).one().actor_name
        == "guanli"
    )
    rows = body(call_callback(client, app, "jobs-uncertain", {"jobs-refresh": 2}))["jobs-uncertain"][
        "rowData"
    ]
    assert rows == []


def status(client: Any, app: Any) -> str:
    return json.dumps(body(call_callback(client, app, "jobs-scheduler", {"jobs-refresh": 1}))["jobs-scheduler"],
                      ensure_ascii=False)  # fmt: skip


def test_the_page_says_whether_the_scheduler_is_alive(client, app, db, world) -> None:  # type: ignore[no-untyped-def]
    login(client, "sheng")
    assert "调度进程未运行" in status(client, app)
    now = clock.now_utc()  # the page's clock (set by TRACKER_TEST_CLOCK, or the wall clock)
    process = SchedulerProcess(host="sched-host", pid=4242, started_at=now - dt.timedelta(hours=3),
                               last_beat=now - dt.timedelta(seconds=10))  # fmt: skip
    db.add(process)
    db.commit()
    shown = status(client, app)
    assert (
        "调度进程运行中" in shown
        and "sched-host" in shown
        and "4242" in shown
        and "已等待超过1分钟" not in shown
    )
    process.last_beat = now - dt.timedelta(minutes=5)
    db.add(
        JobRequest(
            job="flag_scan",
            period="2026-11-24",
            requested_by="guanli",
            requested_at=now - dt.timedelta(minutes=2),
        )
    )
    db.commit()
    shown = status(client, app)
    assert "调度进程已停止" in shown and "5分钟前" in shown and "4242" in shown
    assert "有 1 个手动运行请求已等待超过1分钟" in shown and "夜间风险核查" in shown


# --- 发送对象 ----------------------------------------------------------------------------------


def recipients_shown(client: Any, app: Any) -> dict[str, dict[str, Any]]:
    rows = body(call_callback(client, app, "rcp-grid", {"rcp-refresh": 1}))["rcp-grid"]["rowData"]
    return {row["name"]: row for row in rows}


def test_the_admin_manages_all_and_a_city_only_its_own(client, app, world) -> None:  # type: ignore[no-untyped-def]
    login(client, "guanli")
    assert set(recipients_shown(client, app)) == {"长治市局", "太原市局群", "应对气候变化处"}
    webhook = recipients_shown(client, app)["太原市局群"]["address"]
    assert webhook == "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?…"  # the key is not shown in the list
    client.post("/logout")
    login(client, "czu")
    assert "发送对象" in nav(client) and "定时任务" not in nav(client)
    assert set(recipients_shown(client, app)) == {"长治市局"}
    for username in ("sheng", "lingdao"):
        client.post("/logout")
        login(client, username)
        assert "发送对象" not in nav(client)
        assert "没有访问此页面的权限" in page(client, app, "/recipients")
        assert call_callback(client, app, "rcp-grid", {"rcp-refresh": 1}).status_code == 204


def add(client: Any, app: Any, **fields: Any) -> str:
    values = {"rcp-add": 1, "rcp-audience": "city", "rcp-city": None, "rcp-channel": "email", "rcp-address": "",
              "rcp-name": "", "rcp-active": ["on"]} | {f"rcp-{k}": v for k, v in fields.items()}  # fmt: skip
    return as_text(call_callback(client, app, "rcp-message", values))


def test_a_city_adds_its_own_recipient_and_it_is_audited(client, app, db, world, factory) -> None:  # type: ignore[no-untyped-def]
    login(client, "czu")
    answer = add(client, app, city=factory.city("长治").id, address="zhang@example.gov.cn", name="张科长")
    assert "已保存：张科长" in answer
    row = db.scalars(select(Recipient).where(Recipient.address == "zhang@example.gov.cn")).one()
    assert (row.audience, row.city_id, row.active) == (Audience.CITY, factory.city("长治").id, True)
    event = db.scalars(select(AuditEvent).where(AuditEvent.entity_type == "recipients",
                                                AuditEvent.entity_id == str(row.id))).one()  # fmt: skip
    assert event.action == "create" and event.actor_name == "czu"
    assert row.locale == "zh_CN"  # the form's default: messages in Chinese


def test_a_recipient_can_be_written_to_in_english(client, app, db, world, factory) -> None:  # type: ignore[no-untyped-def]
    login(client, "czu")
    assert "已保存" in add(client, app, city=factory.city("长治").id, address="en@example.gov.cn", name="Mr Li",
                           locale="en")  # fmt: skip
    row = db.scalars(select(Recipient).where(Recipient.address == "en@example.gov.cn")).one()
    assert row.locale == "en" and recipients_shown(client, app)["Mr Li"]["locale"] == "English"
    shown = body(
        call_callback(client, app, "rcp-address", {"rcp-grid": [{"id": row.id, "row_id": str(row.id)}]})
    )
    assert shown["rcp-locale"]["value"] == "en"


@pytest.mark.parametrize(("fields", "message"), [
    ({"address": "not-an-address", "name": "张科长"}, "不是有效的电子邮件地址"),
    ({"address": "a@example.com", "name": ""}, "名称不能为空"),
    ({"channel": "webhook", "address": "ftp://x", "name": "群"}, "群机器人地址应为"),
    ({"channel": "fax", "address": "a@example.com", "name": "x"}, "类型或方式不正确"),
    ({"address": "cz@example.com", "name": "重复"}, "已有相同的发送对象"),
    ({"address": "a@example.com", "name": "x", "locale": "fr"}, "不支持的语言：fr"),
])  # fmt: skip
def test_bad_input_is_refused_with_a_reason_and_nothing_is_saved(
    client, app, db, world, factory, fields, message
) -> None:  # type: ignore[no-untyped-def]
    login(client, "czu")
    before = db.scalar(select(func.count()).select_from(Recipient))
    assert message in add(client, app, city=factory.city("长治").id, **fields)
    assert db.scalar(select(func.count()).select_from(Recipient)) == before


def test_a_city_user_cannot_reach_another_city_or_the_province(client, app, db, world, factory) -> None:  # type: ignore[no-untyped-def]
    taiyuan = world["recipients"]["taiyuan"]
    login(client, "czu")
    before = db.scalar(select(func.count()).select_from(Recipient))
    assert "无权管理这些发送对象" in add(
        client, app, city=factory.city("太原").id, address="x@example.com", name="x"
    )
    assert "无权管理这些发送对象" in add(client, app, audience="province", address="x@example.com", name="x")
    assert db.scalar(select(func.count()).select_from(Recipient)) == before
    selected = [{"id": taiyuan.id, "row_id": str(taiyuan.id)}]
    assert call_callback(client, app, "rcp-address", {"rcp-grid": selected}).status_code == 204  # not shown
    answer = call_callback(client, app, "rcp-message", {
        "rcp-save": 1, "rcp-grid": selected, "rcp-audience": "city", "rcp-city": factory.city("长治").id,
        "rcp-channel": "email", "rcp-address": "hijack@example.com", "rcp-name": "x", "rcp-active": []})  # fmt: skip
    assert "没有这个发送对象" in as_text(answer)
    db.expire_all()
    assert (
        db.get(Recipient, taiyuan.id).address.endswith("key=SECRET") and db.get(Recipient, taiyuan.id).active
    )


def test_selecting_a_row_fills_the_form_and_saving_switches_it_off(client, app, db, world, factory) -> None:  # type: ignore[no-untyped-def]
    changzhi = world["recipients"]["changzhi"]
    login(client, "czu")
    selected = [{"id": changzhi.id, "row_id": str(changzhi.id)}]
    shown = body(call_callback(client, app, "rcp-address", {"rcp-grid": selected}))
    assert (
        shown["rcp-address"]["value"] == "cz@example.com"
        and shown["rcp-city"]["value"] == factory.city("长治").id
    )
    answer = call_callback(client, app, "rcp-message", {
        "rcp-save": 1, "rcp-grid": selected, "rcp-audience": "city", "rcp-city": factory.city("长治").id,
        "rcp-channel": "email", "rcp-address": "cz@example.com", "rcp-name": "长治市局", "rcp-active": []})  # fmt: skip
    assert "已保存" in as_text(answer)
    db.expire_all()
    assert db.get(Recipient, changzhi.id).active is False
    assert recipients_shown(client, app)["长治市局"]["active"] == "停用"


def test_anonymous_posts_to_every_new_callback_get_401(client, app, world) -> None:  # type: ignore[no-untyped-def]
    for output_id, values in (("jobs-history", {"jobs-refresh": 1}), ("jobs-message", {"jobs-run": 1}),
                              ("jobs-message", {"jobs-requeue": 1}), ("jobs-message", {"jobs-resend": 1}),
                              ("jobs-message", {"jobs-delivered": 1}), ("rcp-grid", {"rcp-refresh": 1}),
                              ("rcp-address", {"rcp-grid": [{"id": 1}]}), ("rcp-message", {"rcp-add": 1})):  # fmt: skip
        assert call_callback(client, app, output_id, values).status_code == 401, output_id


# --- 强制运行与更正通报 -------------------------------------------------------------------------

EARLY = dt.datetime(2026, 12, 2, 1, 0, tzinfo=dt.UTC)  # November's updates are due on 5 December


def test_an_early_bulletin_shows_its_completeness_and_waits_for_confirmation(client, app, db, world) -> None:  # type: ignore[no-untyped-def]
    login(client, "guanli")
    with clock.pinned(EARLY):
        asked = body(call_callback(client, app, "jobs-message", {"jobs-run": 1, "jobs-job": "monthly_bulletin",
                                                                 "jobs-period": "2026-11"}))  # fmt: skip
        assert asked["jobs-confirm"]["hidden"] is False
        shown = json.dumps(asked["jobs-confirm-text"]["children"], ensure_ascii=False)
        assert "更新截止2026年12月5日，尚未到期" in shown and "完整率0/0" in shown and "强制" in shown
        assert db.scalars(select(JobRequest)).all() == []  # nothing asked for yet
        data = asked["jobs-confirm-data"]["data"]
        cancelled = as_text(call_callback(client, app, "jobs-message", {"jobs-confirm-no": 1,
                                                                        "jobs-confirm-data": data}))  # fmt: skip
        assert "已取消" in cancelled and db.scalars(select(JobRequest)).all() == []
        done = as_text(
            call_callback(client, app, "jobs-message", {"jobs-confirm-yes": 1, "jobs-confirm-data": data})
        )
    assert "已提交运行请求" in done
    (request,) = db.scalars(select(JobRequest)).all()
    assert (request.job, request.period, request.force, request.requested_by) == (
        "monthly_bulletin", "2026-11", True, "guanli")  # fmt: skip
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "request_run")).one()
    assert event.actor_name == "guanli" and "强制运行" in (event.summary or "")


def test_the_admin_corrects_an_issued_bulletin_after_seeing_what_it_will_be(client, app, db, world) -> None:  # type: ignore[no-untyped-def]
    login(client, "guanli")
    text = page(client, app, "/jobs")
    assert "更正通报" in text and "jobs-fix" in text
    values = {"jobs-fix": 1, "jobs-fix-kind": "monthly", "jobs-fix-period": "2026年10月",
              "jobs-fix-reason": "长治市数据更正"}  # fmt: skip
    with clock.pinned(EARLY):
        asked = body(call_callback(client, app, "jobs-message", values))
        shown = json.dumps(asked["jobs-confirm-text"]["children"], ensure_ascii=False)
        assert "第10期（更正）" in shown and "2026年11月8日印发" in shown and "长治市数据更正" in shown
        assert db.scalars(select(JobRequest)).all() == []
        done = as_text(call_callback(client, app, "jobs-message", {
            "jobs-confirm-yes": 1, "jobs-confirm-data": asked["jobs-confirm-data"]["data"]}))  # fmt: skip
    assert "已提交运行请求" in done and "2026-10#1" in done
    (request,) = db.scalars(select(JobRequest)).all()
    assert (request.job, request.reason) == ("monthly_bulletin_correction", "长治市数据更正")
    assert (
        db.scalars(select(AuditEvent).where(AuditEvent.action == "request_correction")).one().actor_name
        == "guanli"
    )
    refused = as_text(call_callback(client, app, "jobs-message", {**values, "jobs-fix-period": "2026-09"}))
    assert "尚未印发" in refused


@pytest.mark.parametrize("username", ["sheng", "lingdao", "czu", None])
def test_no_one_but_the_admin_forces_or_corrects(client, app, db, world, username) -> None:  # type: ignore[no-untyped-def]
    """Posted straight to the callbacks, as a hand-made request would be."""
    if username:
        login(client, username)
    forced = {"action": "force", "job": "monthly_bulletin", "period": "2026-11"}
    corrected = {"action": "correct", "kind": "monthly", "period": "2026-10", "reason": "x"}
    with clock.pinned(EARLY):
        responses = [call_callback(client, app, "jobs-message", {"jobs-confirm-yes": 1, "jobs-confirm-data": data})
                     for data in (forced, corrected)]  # fmt: skip
        responses.append(call_callback(client, app, "jobs-message", {
            "jobs-fix": 1, "jobs-fix-kind": "monthly", "jobs-fix-period": "2026-10", "jobs-fix-reason": "x"}))  # fmt: skip
    for response in responses:
        if username is None:
            assert response.status_code == 401
        elif username == "sheng":  # may see the page: told why, nothing done
            assert "仅省级管理员" in as_text(response)
        else:
            assert response.status_code == 204
    assert db.scalars(select(JobRequest)).all() == []
    assert (
        db.scalars(
            select(AuditEvent).where(AuditEvent.action.in_(["request_run", "request_correction"]))
        ).all()
        == []
    )


def test_a_correction_is_listed_right_after_its_original_and_both_download(client, app, db, world) -> None:  # type: ignore[no-untyped-def]
    original = world["bulletins"]["province"]
    corrected = archive_bulletin(
        db, province_id=original.province_id, kind="monthly", period="2026-10", cut="province", city_id=None,
        number=10, issued_on=dt.date(2026, 11, 20), title="调度通报 第10期（更正） province", summary="更正摘要",
        file_name="bulletin-province-fix.xlsx", content_type="application/octet-stream", content=b"file fixed",
        run_id=None, now=NOW, correction=1, reason="长治数据有误",
    )  # fmt: skip
    db.commit()
    login(client, "lingdao")
    shown = page(client, app, "/bulletins")
    assert "第10期（更正）" in shown and "长治数据有误" in shown
    order = ["摘要 city-140100", "摘要 city-140400", "摘要 leadership", "摘要 province", "更正摘要"]
    positions = [shown.index(text) for text in order]
    assert positions == sorted(positions)  # each cut in turn, the correction right after its original
    for bulletin, content in ((original, b"file province"), (corrected, b"file fixed")):
        response = client.get(f"/bulletins/{bulletin.id}/download")
        assert response.status_code == 200 and response.data == content
