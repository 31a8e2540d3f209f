"""tracker applications … / tracker pilots …: the application workflow and the official forms."""

from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import select

from reports.forms import application_form_xlsx, pilot_list_xlsx, summary_table_xlsx
from tracker.access.permissions import Action as PermissionAction
from tracker.access.permissions import require
from tracker.audit import trail as audit
from tracker.core.clock import local_today, now_utc
from tracker.core.config import get_settings
from tracker.core.messages import Message, both
from tracker.lifecycle.deadlines import batch_for
from tracker.lifecycle.forms import form_values, import_applications, published_list_rows, summary_table_rows
from tracker.lifecycle.workflow import APPLICATION_STEPS, PILOT_STEPS, advance_application, advance_pilot
from tracker.models import Application, Batch, Pilot
from tracker.models.labels import format_date_zh
from tracker_cli.common import AS_OPTION, AS_OPTIONAL, acting, as_operator, fail, find_city


@click.group()
def applications() -> None:
    """试点申报：导入、导出汇总表和申报表，办理审核步骤。 / Applications: import, export, workflow steps."""


@applications.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--city", required=True, help="城市，如 长治 / city")
@click.option(
    "--batch",
    "batch_number",
    type=int,
    help="批次号（默认当前仍可申报的批次）/ batch (default: the open one)",
)
@click.option("--dry-run", is_flag=True, help="只检查，不写入 / check only, write nothing")
@AS_OPTION
def applications_import(
    file: Path, city: str, batch_number: int | None, dry_run: bool, username: str
) -> None:
    """导入汇总表（附件1/2）或申报表（附件3），全部通过才写入。 / Import a summary table or an application form, all or nothing."""
    settings = get_settings()
    now = now_utc()
    with acting(username, "tracker applications import") as (session, user):
        assert user is not None
        city_row = find_city(session, city)
        batch = batch_for(session, city_row, batch_number, now.astimezone(settings.timezone).date())
        result = import_applications(session, user, file.read_bytes(), city=city_row, batch=batch, now=now,
                                     tz=settings.timezone, dry_run=dry_run)  # fmt: skip
        for warning in result.warnings:
            click.echo(f"提示 / note: {both(warning)}")
        kind = "申报表 / application form" if result.kind == "form" else "汇总表 / summary table"
        click.echo(f"{kind}：{city_row.name_zh} {batch.name_zh}")
        click.echo(both(result.summary))


@applications.command("export")
@click.option("--batch", "batch_number", required=True, type=int, help="批次号 / batch number")
@click.option("--city", required=True, help="城市，如 长治 / city")
@click.argument("out", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@AS_OPTIONAL
def applications_export(batch_number: int, city: str, out: Path, username: str | None) -> None:
    """导出某市某批次的汇总表（附件1版式）。 / Export a city's summary table for a batch (Annex 1 layout)."""
    with acting(username, "tracker applications export") as (session, user):
        city_row = find_city(session, city)
        batch = batch_for(session, city_row, batch_number, local_today(get_settings().timezone))
        rows = summary_table_rows(session, as_operator(session, user), city_row, batch)
        out.write_bytes(summary_table_xlsx(f"{city_row.name_zh}生态环境局", rows))
        audit.record(session, "export", "applications", summary=f"汇总表 {city_row.short_zh} 第{batch_number}批 {len(rows)} 行",
                     city_id=city_row.id)  # fmt: skip
    click.echo(f"已导出{len(rows)}条 / exported {len(rows)} row(s): {out}")


@applications.command("export-form")
@click.argument("application_id", type=int)
@click.argument("out", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@AS_OPTIONAL
def applications_export_form(application_id: int, out: Path, username: str | None) -> None:
    """导出一份申报表（附件3版式）。 / Export one application form (Annex 3 layout)."""
    with acting(username, "tracker applications export-form") as (session, user):
        application = session.get(Application, application_id)
        if application is None:
            fail(Message("申报不存在：{application_id}", application_id=application_id))
        assert application is not None
        require(as_operator(session, user), PermissionAction.EXPORT, application)
        out.write_bytes(application_form_xlsx(form_values(application)))
        audit.record(session, "export", "application", application_id, summary="申报表",
                     city_id=application.city_id)  # fmt: skip
    click.echo(f"已导出 / exported: {out}")


@applications.command("advance")
@click.argument("application_id", type=int)
@click.argument("step", type=click.Choice(list(APPLICATION_STEPS)))
@click.option("--reason", help="理由（退回、未入选时必填）/ reason (required to return or not select)")
@AS_OPTION
def applications_advance(application_id: int, step: str, reason: str | None, username: str) -> None:
    """办理申报的一个步骤（submit 提交、return 退回、pass 初审通过、forward 报送省厅、start_review 开始专家评审、
    select 入选、reject 未入选）。 / Perform one workflow step on an application."""
    settings = get_settings()
    with acting(username, "tracker applications advance") as (session, user):
        assert user is not None
        entry = advance_application(session, user, application_id, step, now=now_utc(),
                                    tz=settings.timezone, reason=reason)  # fmt: skip
    click.echo(f"已办理 / done: {APPLICATION_STEPS[step].label_zh} → {entry.to_status}")


@click.group()
def pilots() -> None:
    """试点：导出名单，办理公布、启动、延期、完成、退出。 / Pilots: export the list, lifecycle steps."""


@pilots.command("export-list")
@click.argument("out", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--batch", "batch_number", type=int, help="只导出某一批次 / only this batch")
@AS_OPTIONAL
def pilots_export_list(out: Path, batch_number: int | None, username: str | None) -> None:
    """导出已公布的试点名单。 / Export the published pilot list."""
    with acting(username, "tracker pilots export-list") as (session, user):
        operator = as_operator(session, user)
        batch = None
        if batch_number is not None:
            batch = session.scalars(
                select(Batch).where(Batch.province_id == operator.province_id, Batch.number == batch_number)
            ).first()
            if batch is None:
                fail(Message("没有第{batch_number}批", batch_number=batch_number))
        rows = published_list_rows(session, operator, batch)
        subtitle = f"（{batch.name_zh}）" if batch else ""
        out.write_bytes(pilot_list_xlsx(rows, subtitle=subtitle))
        audit.record(
            session, "export", "pilots", summary=f"试点名单 {len(rows)} 个", city_id=operator.city_id
        )
    click.echo(f"已导出{len(rows)}个试点 / exported {len(rows)} pilot(s): {out}")


@pilots.command("advance")
@click.argument("pilot_id", type=int)
@click.argument("step", type=click.Choice(list(PILOT_STEPS)))
@click.option("--reason", help="理由（延期、退出时必填）/ reason (required to extend or withdraw)")
@click.option("--date", "on", help="启动日期或延期后的结束日期，如 2026-01-01 / start date, or new end date")
@AS_OPTION
def pilots_advance(pilot_id: int, step: str, reason: str | None, on: str | None, username: str) -> None:
    """办理试点的一个步骤（publish 公布、start 启动实施、extend 延期、complete 完成、withdraw 退出）。
    / Perform one step on a pilot (publish, start, extend, complete, withdraw)."""
    from tracker.lifecycle.deadlines import parse_chinese_or_iso_date

    settings = get_settings()
    with acting(username, "tracker pilots advance") as (session, user):
        assert user is not None
        new_date = parse_chinese_or_iso_date(on) if on else None
        today = local_today(settings.timezone)
        advance_pilot(session, user, pilot_id, step, today=today, reason=reason, new_date=new_date)
        pilot = session.get(Pilot, pilot_id)
        assert pilot is not None
        click.echo(f"已办理 / done: {PILOT_STEPS[step].label_zh}；{pilot.name}（{format_date_zh(pilot.start_date)}—"
                   f"{format_date_zh(pilot.end_date)}）")  # fmt: skip


@click.command("grant")
@click.option("--batch", "batch_number", required=True, type=int, help="批次号 / batch number")
@click.option("--city", required=True, help="城市，如 长治 / city")
@click.option("--until", required=True, help="延至哪天（含），如 2026-12-31 / reopened until (inclusive)")
@click.option("--reason", required=True, help="理由 / reason")
@AS_OPTION
def deadlines_grant(batch_number: int, city: str, until: str, reason: str, username: str) -> None:
    """为某市某批次开放逾期申报（仅省级）。 / Reopen a batch for one city (provincial staff only)."""
    from tracker.lifecycle.deadlines import grant_exception, parse_chinese_or_iso_date

    with acting(username, "tracker deadlines grant") as (session, user):
        assert user is not None
        city_row = find_city(session, city)
        batch = batch_for(session, city_row, batch_number, local_today(get_settings().timezone))
        row = grant_exception(session, user, batch=batch, city=city_row, until=parse_chinese_or_iso_date(until),
                              reason=reason)  # fmt: skip
        click.echo(f"已开放 / reopened: {city_row.short_zh} {batch.name_zh} → {format_date_zh(row.until)}")
