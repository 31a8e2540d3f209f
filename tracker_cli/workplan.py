"""tracker workplan …: the provincial work plan's progress by department (晋环发〔2024〕31号) from the
command line: a period's list, saving or submitting one department's update, the admin's review."""

from __future__ import annotations

import click

from tracker.core.clock import now_utc
from tracker.core.config import get_settings
from tracker.core.messages import Label, Message
from tracker.models import WorkPlanUpdate
from tracker.progress.updates import STATUS_ZH
from tracker.progress.workplan import (
    WorkPlanEntry,
    WorkPlanLine,
    find_department,
    find_task,
    review_work_plan_update,
    save_work_plan_update,
    submit_work_plan_update,
    work_plan_completeness,
    work_plan_lines,
)
from tracker_cli.common import AS_OPTION, AS_OPTIONAL, PERIOD_HELP, acting, as_operator, fail, period_option


class WholeNumber(click.ParamType[int, str | int]):
    """An integer argument refused in Chinese and English (click's own message is English only)."""

    name = "integer"

    def convert(self, value: str | int, param: click.Parameter | None, ctx: click.Context | None) -> int:
        try:
            return int(value)
        except (TypeError, ValueError):
            self.fail(f"应为整数：{value} / not a whole number: {value}", param, ctx)


WHOLE = WholeNumber()


@click.group()
def workplan() -> None:
    """省级工作方案：按部门调度12项重点任务的进展。 / The provincial work plan's progress by department."""


def _line_text(line: WorkPlanLine) -> str:
    task, department, update = line.assignment.task, line.assignment.department, line.update
    where = f"{task.number}. {task.title_zh}\t{department.short_zh}（{line.assignment.duty_zh}）"
    if update is None:
        return f"—\t—\t未填报/missing\t—\t—\t{where}"
    progress = f"{update.progress:.1f}%" if update.progress is not None else "—"
    late = "是/yes" if update.is_late else "否/no"
    return f"{update.id}\t{update.version}\t{STATUS_ZH[update.status]}/{update.status.value}\t{progress}\t{late}\t{where}"


@workplan.command("list")
@click.option("--period", "period_text", help=PERIOD_HELP)
@AS_OPTIONAL
def workplan_list(period_text: str | None, username: str | None) -> None:
    """列出某报告期各项任务、各部门的进展（编号、版本、状态、进度、是否逾期）和完整率。
    / List the period's work-plan updates by task and department, with completeness."""
    with acting(username, "tracker workplan list") as (session, user):
        operator = as_operator(session, user)
        period = period_option(period_text)
        lines = work_plan_lines(session, operator, period)
        if not lines:
            fail(
                Message("{label}早于工作方案印发，无需调度", label=Label(period.label_zh, period.label_en)),
            )
        click.echo(f"{period.label_zh} / {period.label_en}")
        click.echo("编号/id\t版本/version\t状态/status\t进度/progress\t逾期/late\t任务/task\t部门/department")
        for line in lines:
            click.echo(_line_text(line))
        total = work_plan_completeness(session, operator, period)
        shares = [f"{v}%" if v is not None else "—" for v in (total.completeness, total.timeliness)]
        click.echo(f"应报/expected {total.expected}，已报/submitted {total.submitted}，按时/on time {total.on_time}，"
                   f"已采纳/accepted {total.accepted}；完整率/completeness {shares[0]}，及时率/timeliness {shares[1]}")  # fmt: skip


@workplan.command("save")
@click.argument("task_number", type=WHOLE)
@click.option("--department", "department_text", required=True, help="部门，如 省市场监管局 / department")
@click.option(
    "--period", "period_text", required=True, help="报告期，如 2026-11、2026年11月、2026Q4 / period"
)
@click.option("--progress", required=True, help="完成进度 0–100，如 40 或 40% / progress 0–100")
@click.option("--work-done", required=True, help="本期工作进展（≤2000字）/ work done")
@click.option("--problems", default="", help="存在问题 / problems")
@click.option("--next-steps", default="", help="下步计划 / next steps")
@click.option(
    "--version", type=WHOLE, help="修改已有进展时，读到的版本号 / the version read, to change an update"
)
@click.option("--submit", is_flag=True, help="保存后提交审核 / submit after saving")
@AS_OPTION
def workplan_save(task_number: int, department_text: str, period_text: str, progress: str, work_done: str,
                  problems: str, next_steps: str, version: int | None, submit: bool, username: str) -> None:  # fmt: skip
    """省级业务人员保存（可同时提交）某项重点任务某部门某报告期的进展。
    / Provincial staff save (and optionally submit) a department's progress on a key task."""
    settings = get_settings()
    now = now_utc()
    with acting(username, "tracker workplan save") as (session, user):
        assert user is not None
        period = period_option(period_text)
        task, department = (
            find_task(session, user, task_number),
            find_department(session, user, department_text),
        )
        entry = WorkPlanEntry(progress, work_done, problems, next_steps)
        update = save_work_plan_update(session, user, task.id, department.id, period, entry,
                                       today=now.astimezone(settings.timezone).date(), version=version)  # fmt: skip
        if submit:
            update = submit_work_plan_update(session, user, update.id, version=update.version,
                                             reporting=settings.reporting, now=now, tz=settings.timezone)  # fmt: skip
        click.echo(_saved(update, submit))


def _saved(update: WorkPlanUpdate, submitted: bool) -> str:
    done = "已提交 / submitted" if submitted else "已保存草稿 / draft saved"
    late = "（逾期 / late）" if update.is_late else ""
    return (f"{done}{late}: {update.task.number}. {update.task.title_zh} · {update.department.short_zh}，"
            f"编号/id {update.id}，版本/version {update.version}")  # fmt: skip


@workplan.command("review")
@click.argument("update_id", type=WHOLE)
@click.argument("decision")
@click.option("--version", type=WHOLE, required=True, help="审核时看到的版本号 / the version you reviewed")
@click.option("--reason", help="退回理由（退回时必填）/ reason (required to return)")
@AS_OPTION
def workplan_review(update_id: int, decision: str, version: int, reason: str | None, username: str) -> None:
    """省级管理员审核一份已提交的进展：accept 采纳（随即锁定）或 return 退回。
    / The provincial admin accepts (locks) or returns a submitted work-plan update."""
    if decision not in ("accept", "return"):
        fail(Message("审核结论应为 accept（采纳）或 return（退回），而不是 {decision}", decision=decision))  # fmt: skip
    with acting(username, "tracker workplan review") as (session, user):
        assert user is not None
        update = review_work_plan_update(session, user, update_id, accept=decision == "accept", version=version,
                                         now=now_utc(), reason=reason)  # fmt: skip
        zh = "已采纳" if decision == "accept" else "已退回"
        click.echo(f"{zh} / {decision}ed: {update.task.number}. {update.task.title_zh} · {update.department.short_zh}"
                   f"，版本/version {update.version}")  # fmt: skip
