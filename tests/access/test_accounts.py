"""Accounts: creation rules, passwords, and the `tracker users` commands (bilingual errors, no change)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from tracker.access import accounts
from tracker.models import Role, User


def test_city_staff_must_name_a_city_and_province_staff_must_not(db) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(accounts.AccountError, match="市级用户必须指定城市"):
        accounts.create_user(
            db, username="nocity", display_name="x", role=Role.CITY_STAFF, password="Good-pass-123"
        )
    with pytest.raises(accounts.AccountError, match="省级用户不能绑定城市"):
        accounts.create_user(db, username="prov", display_name="x", role=Role.PROVINCE_STAFF,
                             password="Good-pass-123", city="长治")  # fmt: skip


@pytest.mark.parametrize("password", ["short-1", "1234567890123", "onlyletterspassword"])
def test_weak_passwords_are_refused(db, password: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(accounts.AccountError):
        accounts.create_user(db, username="weak", display_name="x", role=Role.LEADER, password=password)


def test_passwords_are_stored_as_argon2_hashes(factory) -> None:  # type: ignore[no-untyped-def]
    user = factory.user(Role.LEADER, None)
    assert user.password_hash.startswith("$argon2id$")


def test_changing_a_password_ends_existing_sessions(db, factory) -> None:  # type: ignore[no-untyped-def]
    user = factory.user(Role.CITY_STAFF, "长治")
    token = accounts.start_session(db, user, hours=8)
    db.flush()
    assert accounts.user_for_session(db, token) == user
    accounts.set_password(db, user, "Another-pass-2025")
    db.flush()
    assert accounts.user_for_session(db, token) is None


def test_users_cli_adds_lists_changes_and_disables(cli_database: str) -> None:
    from tracker_cli.main import cli

    url = cli_database
    run = CliRunner().invoke
    added = run(cli, ["users", "add", "wang", "--role", "city_staff", "--city", "长治"],
                input="Good-pass-2025\nGood-pass-2025\n")  # fmt: skip
    assert added.exit_code == 0, added.output
    listed = run(cli, ["users", "list"])
    assert "wang" in listed.output and "长治" in listed.output
    assert run(cli, ["users", "passwd", "wang"], input="Newer-pass-2025\nNewer-pass-2025\n").exit_code == 0
    assert run(cli, ["users", "disable", "wang"]).exit_code == 0
    assert "停用" in run(cli, ["users", "list"]).output

    # Bad input: a clear message in both languages, non-zero exit, nothing written.
    unknown_city = run(cli, ["users", "add", "lisi", "--role", "city_staff", "--city", "上海"],
                       input="Good-pass-2025\nGood-pass-2025\n")  # fmt: skip
    assert unknown_city.exit_code != 0
    assert "未知城市" in unknown_city.output and "Unknown city" in unknown_city.output
    duplicate = run(
        cli, ["users", "add", "wang", "--role", "leader"], input="Good-pass-2025\nGood-pass-2025\n"
    )
    assert duplicate.exit_code != 0 and "already exists" in duplicate.output
    missing = run(cli, ["users", "passwd", "nobody"], input="Good-pass-2025\nGood-pass-2025\n")
    assert missing.exit_code != 0 and "用户不存在" in missing.output
    from tracker.core.db import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(User)).scalar_one() == 1
    engine.dispose()


def test_api_tokens_from_the_cli(cli_database: str) -> None:
    from tracker.core.db import make_engine, make_session_factory, transaction
    from tracker_cli.main import cli

    run = CliRunner().invoke
    assert run(cli, ["users", "add", "zhao", "--role", "city_staff", "--city", "长治"],
               input="Good-pass-2025\nGood-pass-2025\n").exit_code == 0  # fmt: skip
    issued = run(cli, ["users", "token", "zhao", "--label", "长治市调度系统"])
    assert issued.exit_code == 0, issued.output
    token = issued.stdout.strip()
    assert token.startswith("cfp_") and len(token) > 40
    factory = make_session_factory(make_engine(cli_database))
    with transaction(factory) as session:
        user = accounts.user_for_api_token(session, token)
        assert user is not None and user.username == "zhao"
    revoked = run(cli, ["users", "token", "zhao", "--revoke"])
    assert revoked.exit_code == 0 and "1" in revoked.output
    with transaction(factory) as session:
        assert accounts.user_for_api_token(session, token) is None
    missing = run(cli, ["users", "token", "nobody"])
    assert missing.exit_code != 0 and "用户不存在" in missing.output and "No such user" in missing.output
