"""`tracker flags review`: the same two-level review as the page, through the same permission module;
bad input and refusals get a Chinese and an English message and a non-zero exit code."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from tracker.core.db import make_engine, make_session_factory
from tracker.models import City, Flag, FlagStatus, Severity, WorkflowStep
from tracker_cli.main import cli

PASSWORDS = "Good-pass-2025\nGood-pass-2025\n"


@pytest.fixture
def setup(cli_database: str) -> dict[str, Any]:
    run = CliRunner().invoke
    for name, role, city in (("adm", "province_admin", None), ("shg", "province_staff", None),
                             ("czg", "city_staff", "长治"), ("czg2", "city_staff", "长治"),
                             ("tyg", "city_staff", "太原"), ("ldg", "leader", None)):  # fmt: skip
        result = run(
            cli, ["users", "add", name, "--role", role, *(["--city", city] if city else [])], input=PASSWORDS
        )
        assert result.exit_code == 0, result.output
    factory = make_session_factory(make_engine(cli_database))
    with factory() as session:
        city_id = session.scalar(select(City.id).where(City.short_zh == "长治"))
        flag = Flag(fingerprint=uuid.uuid4().hex, rule_id="PROGRESS_BACKWARDS", severity=Severity.HIGH,
                    subject_type="update", subject_id=1, city_id=city_id, message_zh="进度倒退",
                    message_en="progress went backwards", evidence={})  # fmt: skip
        session.add(flag)
        session.commit()
        return {"factory": factory, "flag": flag.id}


def review(flag_id: int, *args: str) -> Any:
    return CliRunner().invoke(cli, ["flags", "review", str(flag_id), *args])


def state(setup: dict[str, Any]) -> tuple[Any, ...]:
    with setup["factory"]() as session:
        flag = session.get(Flag, setup["flag"])
        steps = session.scalars(select(WorkflowStep.step).where(WorkflowStep.subject_id == flag.id,
                                                                WorkflowStep.subject_type == "flag")).all()  # fmt: skip
        return flag.status, flag.proposal, list(steps)


def test_the_city_proposes_and_the_province_decides(setup) -> None:  # type: ignore[no-untyped-def]
    flag = setup["flag"]
    done = review(flag, "assign", "--to", "czg2", "--as", "czg")
    assert done.exit_code == 0 and "分派核查" in done.output and "under_review" in done.output
    refused = review(flag, "assign", "--to", "shg", "--as", "czg")
    assert refused.exit_code != 0 and "只能分派" in refused.output and "Assign only" in refused.output
    proposed = review(flag, "propose-dismiss", "--reason", "企业补充了佐证材料", "--as", "czg")
    assert proposed.exit_code == 0, proposed.output
    assert "待省级审核：市级建议排除" in proposed.output and "the city proposes to dismiss" in proposed.output
    rejected = review(flag, "reject", "--as", "shg")
    assert rejected.exit_code != 0 and "须填写理由" in rejected.output and "needs a reason" in rejected.output
    assert review(flag, "reject", "--reason", "材料不足", "--as", "shg").exit_code == 0
    assert state(setup) == (FlagStatus.UNDER_REVIEW, None, ["assign", "propose_dismiss", "reject"])
    assert review(flag, "propose-dismiss", "--reason", "现场核实属实", "--as", "czg").exit_code == 0
    accepted = review(flag, "accept", "--as", "adm")
    assert accepted.exit_code == 0 and "dismissed" in accepted.output
    assert state(setup)[:2] == (FlagStatus.DISMISSED, None)


def test_a_city_cannot_dismiss_what_the_province_confirmed(setup) -> None:  # type: ignore[no-untyped-def]
    flag = setup["flag"]
    assert review(flag, "confirm", "--reason", "属实", "--as", "adm").exit_code == 0
    for step in ("dismiss", "resolve", "confirm", "accept"):
        refused = review(flag, step, "--reason", "本市认为不是问题", "--as", "czg")
        assert refused.exit_code != 0 and "省级" in refused.output and "provincial" in refused.output, step
    late = review(flag, "propose-dismiss", "--reason", "本市认为不是问题", "--as", "czg")
    assert late.exit_code != 0 and "已确认" in late.output
    assert state(setup) == (FlagStatus.CONFIRMED, None, ["confirm"])
    assert review(flag, "propose-resolve", "--reason", "已整改", "--as", "czg").exit_code == 0
    assert review(flag, "accept", "--as", "shg").exit_code == 0
    assert state(setup) == (FlagStatus.RESOLVED, None, ["confirm", "propose_resolve", "accept"])


def test_leaders_other_cities_and_bad_input_are_refused(setup) -> None:  # type: ignore[no-untyped-def]
    flag = setup["flag"]
    leader = review(flag, "confirm", "--reason", "x", "--as", "ldg")
    assert (
        leader.exit_code != 0 and "无权执行此操作" in leader.output and "Permission denied" in leader.output
    )
    other = review(flag, "propose-dismiss", "--reason", "x", "--as", "tyg")
    assert other.exit_code != 0 and "风险线索不存在" in other.output and "No such flag" in other.output
    province = review(flag, "propose-dismiss", "--reason", "x", "--as", "shg")
    assert province.exit_code != 0 and "市的生态环境部门提出" in province.output
    assert review(999_999, "confirm", "--reason", "x", "--as", "adm").exit_code != 0
    assert review(flag, "delete", "--as", "adm").exit_code != 0
    wrong_to = review(flag, "confirm", "--to", "czg", "--reason", "x", "--as", "adm")
    assert wrong_to.exit_code != 0 and "--to" in wrong_to.output
    nobody = review(flag, "assign", "--to", "nobody", "--as", "adm")
    assert nobody.exit_code != 0 and "用户不存在" in nobody.output
    assert state(setup) == (FlagStatus.OPEN, None, [])
