"""tracker claims — 碳足迹声明 / carbon-label claims: importing the exchange file."""

from __future__ import annotations

from pathlib import Path

import click

from tracker.claims import import_claims
from tracker_cli.lifecycle import AS_OPTION, _acting


@click.group()
def claims() -> None:
    """碳足迹声明登记与核查。 / Carbon-label claims: registry and checks."""


@claims.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="只检查，不写入 / check only, write nothing")
@AS_OPTION
def claims_import(file: Path, dry_run: bool, username: str) -> None:
    """导入声明交换文件（CSV 或 XLSX）：全部无误才写入，否则列出每个问题的行列。
    / Import a claims exchange file (CSV or XLSX): all or nothing, every problem with its row and column."""
    with _acting(username, "tracker claims import") as (session, user):
        assert user is not None
        result = import_claims(session, user, file.read_bytes(), file.name, dry_run=dry_run)
    for warning in result.warnings:
        click.echo(warning, err=True)
    click.echo(f"{result.summary_zh()} / {result.summary_en()}")
