"""tracker claims — 碳足迹声明 / carbon-label claims: importing the exchange file."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from tracker.claims.registry import import_claims
from tracker.core.clock import now_utc
from tracker.core.messages import both
from tracker_cli.common import AS_OPTION, acting


@click.group()
def claims() -> None:
    """碳足迹声明登记与核查。 / Carbon-label claims: registry and checks."""


@claims.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="只检查，不写入 / check only, write nothing")
@click.option("--city", help="PACT JSON 的所属城市（JSON 不含城市）/ the city of a PACT JSON file's claims")
@click.option(
    "--credit-code",
    help="一家企业的 PACT JSON 的统一社会信用代码（companyIds 中没有时）"
    " / the credit code of a one-company PACT JSON file whose companyIds hold none",
)
@AS_OPTION
def claims_import(
    file: Path, dry_run: bool, city: str | None, credit_code: str | None, username: str
) -> None:
    """导入声明交换文件（CSV、XLSX，或 PACT ProductFootprint JSON v2/v3）：全部无误才写入，否则列出每个问题的位置
    （表格：行列；PACT：第几个 footprint、其 id 和字段）。
    / Import claims (exchange CSV/XLSX, or PACT JSON v2/v3): all or nothing, every problem with where it
    is (a sheet's row and column; a PACT footprint, its id and field)."""
    with acting(username, "tracker claims import") as (session, user):
        assert user is not None
        result = import_claims(session, user, file.read_bytes(), file.name, dry_run=dry_run, city=city,
                               credit_code=credit_code)  # fmt: skip
    for warning in result.warnings:
        click.echo(both(warning), err=True)
    click.echo(both(result.summary))


@claims.command("scan")
def claims_scan() -> None:
    """对全部现行声明运行核查规则，新发现记为风险线索（同一发现不重复记录）；按规则和严重程度汇总。
    / Run every claim rule over all current claim versions; summary by rule and severity."""

    from tracker.claims.rules import RULE_BY_ID, RULES
    from tracker.claims.scan import scan_claims

    with (
        acting(None, "tracker claims scan") as (session, _user),
        click.progressbar(length=len(RULES), label="核查 / checking", file=sys.stderr) as bar,
    ):
        result = scan_claims(session, now=now_utc(), on_rule=lambda _rule: bar.update(1))
    click.echo(both(result.summary))
    for rule_id, found in sorted(
        result.by_rule.items(), key=lambda item: (RULE_BY_ID[item[0]].severity, item[0])
    ):
        click.echo(f"  {RULE_BY_ID[rule_id].severity.value:<7} {rule_id:<32} {found}")
    click.echo("与基准比对（单位换算后）/ judged against a benchmark (after unit conversion):")
    for rule_id, count in result.judged.items():
        if rule_id == "UNIT_NOT_COMPARABLE":
            click.echo(f"  无法比对 / not comparable{'':<8} {count} 条声明 / claims")
        else:
            click.echo(f"  {rule_id:<32} {count} 条声明 / claims")
