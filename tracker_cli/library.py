"""tracker library — 参考数据 / the reference library: importing and listing benchmarks, factors, certifiers."""

from __future__ import annotations

from pathlib import Path

import click

from tracker.claims.library import list_benchmarks, list_certifiers, list_factors
from tracker.claims.library_import import LibraryKind, import_library
from tracker.core.config import get_settings
from tracker.core.messages import both
from tracker.models.labels import format_datetime_zh
from tracker_cli.common import AS_OPTION, acting

FILE = click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
REASON = click.option(
    "--reason", required=True, help="修改理由和依据（必填）/ why, and the source (required)"
)
DRY_RUN = click.option(
    "--dry-run", is_flag=True, help="只检查并列出将发生的改动，不写入 / check and list, write nothing"
)


@click.group()
def library() -> None:
    """参考数据：产品基准、电力排放因子、认证机构。 / The reference library: benchmarks, factors, certifiers."""


def _import(kind: LibraryKind, file: Path, reason: str, dry_run: bool, username: str) -> None:
    with acting(username, f"tracker library import-{kind.value}") as (session, user):
        assert user is not None
        result = import_library(
            session, user, kind, file.read_bytes(), file.name, reason=reason, dry_run=dry_run
        )
    for warning in result.warnings:
        click.echo(both(warning), err=True)
    for change in result.changes:
        click.echo(f"  {change.text_zh()}")
    click.echo(both(result.summary))


@library.command("import-benchmarks")
@FILE
@REASON
@DRY_RUN
@AS_OPTION
def import_benchmarks(file: Path, reason: str, dry_run: bool, username: str) -> None:
    """导入产品基准（CSV、XLSX，列同 benchmarks.csv）：全部无误才写入，改动的产品各成一个新版本。
    / Import product benchmarks: all or nothing; each changed product becomes a new version."""
    _import(LibraryKind.BENCHMARKS, file, reason, dry_run, username)


@library.command("import-factors")
@FILE
@REASON
@DRY_RUN
@AS_OPTION
def import_factors(file: Path, reason: str, dry_run: bool, username: str) -> None:
    """导入电力排放因子（CSV、XLSX，列同 emission_factors.csv）：全部无误才写入，改动的因子各成一个新版本。
    / Import electricity factors: all or nothing; each changed factor becomes a new version."""
    _import(LibraryKind.FACTORS, file, reason, dry_run, username)


@library.command("import-certifiers")
@FILE
@REASON
@DRY_RUN
@AS_OPTION
def import_certifiers(file: Path, reason: str, dry_run: bool, username: str) -> None:
    """导入认可的认证机构（列：name, accreditation_no, is_active, note）：全部无误才写入。
    / Import recognised certification bodies (name, accreditation_no, is_active, note): all or nothing."""
    _import(LibraryKind.CERTIFIERS, file, reason, dry_run, username)


@library.command("list")
@click.argument("kind", required=False, type=click.Choice([k.value for k in LibraryKind]))
def library_list(kind: str | None) -> None:
    """列出现行的参考数据（默认全部）。 / List the current reference data (all of it by default)."""
    tz = get_settings().timezone
    with acting(None, "tracker library list") as (session, _user):
        if kind in (None, LibraryKind.BENCHMARKS):
            click.echo("产品基准 / benchmarks: 物理下限 ≤ 合理下限 ≤ 典型值 ≤ 合理上限 (kgCO2e/单位)")
            for b in list_benchmarks(session):
                figures = " ≤ ".join(f"{getattr(b, k).normalize():f}" for k in
                                     ("physical_floor", "plausible_low", "typical", "plausible_high"))  # fmt: skip
                click.echo(f"  {b.product.name_zh:<6} {b.declared_unit:<10} {figures:<28} v{b.version} "
                           f"{b.confidence:<11} {format_datetime_zh(b.changed_at, tz)}")  # fmt: skip
        if kind in (None, LibraryKind.FACTORS):
            click.echo("电力排放因子 / electricity factors:")
            for f in list_factors(session):
                click.echo(f"  {f.factor_key:<26} {f.scope:<4} {f.year} {f.value.normalize():f} {f.unit} v{f.version} "
                           f"{f.confidence:<11} {format_datetime_zh(f.changed_at, tz)}")  # fmt: skip
        if kind in (None, LibraryKind.CERTIFIERS):
            click.echo("认证机构 / certification bodies:")
            for c in list_certifiers(session):
                state = "认可/recognised" if c.is_active else "停用/not recognised"
                click.echo(f"  {c.name}  {c.accreditation_no or '-'}  {state}")
