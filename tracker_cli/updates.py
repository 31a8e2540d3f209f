"""tracker updates …: the periodic update cycle (调度) from the command line, for regulators and for
automation: the Excel template, importing it, the province's review, exceptions, and completeness."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from reports.excel import csv_text
from reports.update_template import update_template_xlsx
from tracker.audit import trail as audit
from tracker.core.clock import now_utc
from tracker.core.config import get_settings
from tracker.core.messages import Label, Message, both
from tracker.core.periods import Period
from tracker.models import ProgressUpdate, UpdateStatus
from tracker.progress.completeness import completeness
from tracker.progress.owed import grant_window_exception, owing_pilots
from tracker.progress.sheets import import_update_sheet, template_data
from tracker.progress.updates import STATUS_ZH, review_update, updates_for
from tracker_cli.common import (
    AS_OPTION,
    AS_OPTIONAL,
    PERIOD_HELP,
    acting,
    as_operator,
    fail,
    find_city,
    period_option,
)


@click.group()
def updates() -> None:
    """试点进展调度：模板、导入、审核、例外、完整率。 / Periodic progress updates."""


@updates.command("template")
@click.argument("out", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--period", "period_text", help=PERIOD_HELP)
@click.option("--city", help="城市（省级用户可选）/ city (provincial users)")
@AS_OPTIONAL
def updates_template(out: Path, period_text: str | None, city: str | None, username: str | None) -> None:
    """下载某报告期的调度填报模板（预填本市试点、任务和上期数值）。 / Write the period's Excel entry template."""
    with acting(username, "tracker updates template") as (session, user):
        operator = as_operator(session, user)
        period = period_option(period_text)
        city_id = find_city(session, city).id if city else None
        template = template_data(session, operator, period, city_id)
        out.write_bytes(update_template_xlsx(template))
        audit.record(session, "export", "progress_updates", summary=f"调度填报模板 {period.label_zh} {len(template.pilots)} 个试点",
                     city_id=operator.city_id)  # fmt: skip
    click.echo(f"已写出{period.label_zh}模板，{len(template.pilots)}个试点 / template for {period.label_en}, "
               f"{len(template.pilots)} pilot(s): {out}")  # fmt: skip


@updates.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--submit", is_flag=True, help="保存后提交省厅审核 / submit after saving")
@click.option("--dry-run", is_flag=True, help="只检查，不写入 / check only, write nothing")
@AS_OPTION
def updates_import(file: Path, submit: bool, dry_run: bool, username: str) -> None:
    """导入填好的调度填报模板：全部无误才写入，否则列出每个问题的行列。
    / Import a filled template: all or nothing; every problem with its row and column."""
    settings = get_settings()
    with acting(username, "tracker updates import") as (session, user):
        assert user is not None
        result = import_update_sheet(session, user, file.read_bytes(), reporting=settings.reporting,
                                     now=now_utc(), tz=settings.timezone, submit=submit,
                                     dry_run=dry_run)  # fmt: skip
    click.echo(both(result.summary))


@updates.command("review")
@click.argument("update_id", type=int)
@click.argument("decision", type=click.Choice(["accept", "return"]))
@click.option("--version", type=int, required=True, help="审核时看到的版本号 / the version you reviewed")
@click.option("--reason", help="退回理由（退回时必填）/ reason (required to return)")
@click.option("--acknowledge", is_flag=True,
              help="已核实审核提示后采纳（有提示时必需）/ accept having checked the review warnings (needed when there are any)")  # fmt: skip
@AS_OPTION
def updates_review(update_id: int, decision: str, version: int, reason: str | None, acknowledge: bool,
                   username: str) -> None:  # fmt: skip
    """省厅审核一份已提交的更新：accept 采纳（随即锁定）或 return 退回。有审核提示时，核实后加 --acknowledge 才能采纳。
    / The province accepts (locks) or returns a submitted update; with review warnings, accepting needs --acknowledge."""
    from tracker.access.permissions import may_review_updates
    from tracker.progress.consistency import checks_from
    from tracker.progress.review_context import review_warnings

    checks = checks_from(get_settings())
    with acting(username, "tracker updates review") as (session, user):
        assert user is not None
        found = session.get(ProgressUpdate, update_id)
        mine = found is not None and may_review_updates(user, found)
        warnings = (
            review_warnings(session, found, checks) if acknowledge and found is not None and mine else []
        )
        for warning in warnings:
            click.echo(f"已核实 / acknowledged: {both(warning.message)}")
        update = review_update(session, user, update_id, accept=decision == "accept", version=version,
                               now=now_utc(), reason=reason, acknowledged=[w.key for w in warnings],
                               checks=checks)  # fmt: skip
        zh = "已采纳" if decision == "accept" else "已退回"
        click.echo(
            f"{zh} / {decision}ed: {update.pilot.name} {Period(update.period_start, update.period_end).label_zh}"
        )


@updates.command("grant")
@click.option("--city", required=True, help="城市，如 长治 / city")
@click.option("--period", "period_text", required=True, help=PERIOD_HELP)
@click.option("--until", required=True, help="开放至，如 2026-12-31 / open until")
@click.option("--reason", required=True, help="理由 / reason")
@AS_OPTION
def updates_grant(city: str, period_text: str, until: str, reason: str, username: str) -> None:
    """省厅为某市某报告期开放逾期填报（例外）。 / Reopen entry for one city and period."""
    from tracker.lifecycle.deadlines import parse_chinese_or_iso_date

    with acting(username, "tracker updates grant") as (session, user):
        assert user is not None
        period = period_option(period_text)
        row = grant_window_exception(session, user, city=find_city(session, city), period=period,
                                     until=parse_chinese_or_iso_date(until), reason=reason)  # fmt: skip
        click.echo(f"已开放{row.city.name_zh}{period.label_zh}填报至{row.until.isoformat()} / "
                   f"reopened {period.label_en} until {row.until.isoformat()}")  # fmt: skip


@updates.command("completeness")
@click.option("--period", "period_text", help=PERIOD_HELP)
@AS_OPTIONAL
def updates_completeness(period_text: str | None, username: str | None) -> None:
    """各市报送完整率和及时率。 / Completeness and timeliness per city."""
    with acting(username, "tracker updates completeness") as (session, user):
        operator = as_operator(session, user)
        period = period_option(period_text)
        lines = completeness(session, operator, period)
        if not lines:
            fail(Message("{label}没有应报的试点", label=Label(period.label_zh, period.label_en)))
        from tracker.models import City

        click.echo(f"{period.label_zh} / {period.label_en}")
        click.echo(
            "城市/city\t应报/expected\t已报/submitted\t按时/on time\t完整率/completeness\t及时率/timeliness"
        )
        for line in sorted(lines, key=lambda x: (x.city_id is None, x.city_id or 0)):
            name = "全省/province" if line.city_id is None else session.get(City, line.city_id).name_zh  # type: ignore[union-attr]
            share = [f"{v}%" if v is not None else "—" for v in (line.completeness, line.timeliness)]
            click.echo(f"{name}\t{line.expected}\t{line.submitted}\t{line.on_time}\t{share[0]}\t{share[1]}")


@updates.command("list")
@click.option("--period", "period_text", help=PERIOD_HELP)
@click.option(
    "--status", type=click.Choice([s.value for s in UpdateStatus]), help="只列某一状态 / only this status"
)
@AS_OPTIONAL
def updates_list(period_text: str | None, status: str | None, username: str | None) -> None:
    """列出某报告期应报试点及其更新（编号、版本、状态、是否逾期）。 / List the period's updates."""
    with acting(username, "tracker updates list") as (session, user):
        operator = as_operator(session, user)
        period = period_option(period_text)
        click.echo(f"{period.label_zh} / {period.label_en}")
        click.echo("更新编号/id\t版本/version\t状态/status\t逾期/late\t城市/city\t试点/pilot")
        pilots = owing_pilots(session, operator, period)
        updates = updates_for(session, [p.id for p in pilots], period)
        for pilot in pilots:
            update = updates.get(pilot.id)
            if status and (update is None or update.status.value != status):
                continue
            if update is None:
                click.echo(f"—\t—\t未填报/missing\t—\t{pilot.city.name_zh}\t{pilot.name}")
                continue
            click.echo(f"{update.id}\t{update.version}\t{STATUS_ZH[update.status]}/{update.status.value}\t"
                       f"{'是/yes' if update.is_late else '否/no'}\t{pilot.city.name_zh}\t{pilot.name}")  # fmt: skip


@click.group()
def flags() -> None:
    """风险线索（一致性核查）。 / Integrity flags."""


@flags.command("scan")
def flags_scan() -> None:
    """对已提交和已采纳的进展报告运行一致性核查，新发现记为风险线索（同一发现不重复记录）。
    / Run the progress consistency checks; each finding is recorded once."""
    from tracker.progress.consistency import scan_progress

    with acting(None, "tracker flags scan") as (session, _user):
        result = scan_progress(session, now=now_utc())
    click.echo(f"新发现{len(result.new)}条，再次发现{result.seen_again}条，自动关闭{result.closed}条 / "
               f"{len(result.new)} new, {result.seen_again} seen again, {result.closed} closed")  # fmt: skip


def _local(moment: dt.datetime, tz: dt.tzinfo) -> str:
    """A stored UTC time in the configured zone, to the second: 2026-11-24T17:12:00+08:00."""
    return moment.astimezone(tz).replace(microsecond=0).isoformat()


@flags.command("export")
@click.argument("out", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@AS_OPTIONAL
def flags_export(out: Path, username: str | None) -> None:
    """导出未办结的风险线索（CSV，UTF-8），每条一行；声明线索的 claim_id 为原文件中的编号。
    / Export every flag not yet closed to CSV, one row each, with the claim's own claim_id."""
    import csv

    from sqlalchemy import and_
    from sqlalchemy.orm import aliased

    from tracker.access.permissions import visible_flags
    from tracker.models import City, Claim, Flag, FlagStatus

    columns = ("flag_id", "claim_id", "rule_id", "severity", "status", "message", "message_en", "subject_type",
               "city", "first_seen", "last_seen")  # fmt: skip
    tz = get_settings().timezone
    with acting(username, "tracker flags export") as (session, user):
        reader = as_operator(session, user)
        city_of = aliased(City)  # the scope's own subquery reads cities too
        stmt = (
            visible_flags(reader)
            .where(Flag.status.in_((FlagStatus.OPEN, FlagStatus.UNDER_REVIEW, FlagStatus.CONFIRMED)))
            .outerjoin(Claim, and_(Flag.subject_type == "claim", Claim.id == Flag.subject_id))
            .outerjoin(city_of, city_of.id == Flag.city_id)
            .with_only_columns(Flag.id, Claim.claim_key, Flag.rule_id, Flag.severity, Flag.status, Flag.message_zh, Flag.message_en, Flag.subject_type, city_of.short_zh, Flag.first_seen, Flag.last_seen)
            .order_by(Flag.severity, Flag.rule_id, Flag.id)
        )  # fmt: skip
        written = 0
        with out.open("w", encoding="utf-8-sig", newline="") as handle:  # the BOM: Excel reads it as UTF-8
            writer = csv.writer(handle)
            writer.writerow(columns)
            for flag_id, key, rule, severity, status, zh, en, subject, city, first, last in session.execute(
                stmt
            ):
                writer.writerow([flag_id, *(csv_text(cell) for cell in (
                    key or "", rule, severity.value, status.value, zh, en, subject, city or "",
                    _local(first, tz), _local(last, tz)))])  # fmt: skip
                written += 1
        audit.record(session, "export", "flags", summary=f"风险线索 {written} 条", city_id=reader.city_id)
    click.echo(f"已导出{written}条风险线索 / {written} open flags written to {out}")
