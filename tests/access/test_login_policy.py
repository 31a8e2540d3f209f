"""The login policy: the answer does not tell whether an account exists; failures slow down the
(account, address) pair that made them, with a delay that doubles, instead of locking the account
for everyone; an address that fails across many accounts is slowed as a whole; the waits end."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from tests.web import login
from tracker.access import accounts
from tracker.core import clock
from tracker.models import Role

T0 = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)
WRONG = "Wrong-pass-2025"


def from_address(app: Any, address: str) -> Any:
    client = app.server.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def page_text(response: Any) -> str:
    """The login page without what differs by design: the typed name and the form's CSRF token."""
    text = response.get_data(as_text=True)
    return re.sub(r'name="csrf" value="[^"]*"', "", text)


def test_an_unknown_name_and_a_wrong_password_get_the_same_answer(app, factory, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    user = factory.user(Role.LEADER, None, username="zhenren")
    verified: list[str] = []
    real = accounts._verify
    monkeypatch.setattr(
        accounts, "_verify", lambda stored, password: verified.append(stored) or real(stored, password)
    )
    wrong = login(from_address(app, "10.0.0.1"), user.username, password=WRONG)
    count_known = len(verified)
    unknown = login(from_address(app, "10.0.0.2"), "jiaren", password=WRONG)
    assert wrong.status_code == unknown.status_code == 401
    assert page_text(wrong).replace("zhenren", "NAME") == page_text(unknown).replace("jiaren", "NAME")
    assert 'value="zhenren"' in wrong.get_data(as_text=True) and 'value="jiaren"' in unknown.get_data(
        as_text=True
    )
    # Both verify one argon2 hash (a dummy one for the unknown name): the same work, the same time.
    assert count_known == len(verified) - count_known >= 1


def test_a_stranger_guessing_slows_only_their_own_address(app, factory) -> None:  # type: ignore[no-untyped-def]
    admin = factory.user(Role.PROVINCE_ADMIN, username="guanliyuan")
    stranger = from_address(app, "203.0.113.9")
    with clock.pinned(T0):
        for _ in range(5):
            assert login(stranger, admin.username, password=WRONG).status_code == 401
        slowed = login(stranger, admin.username, password=WRONG)
        assert slowed.status_code == 429 and slowed.headers["Retry-After"] == "2"
        assert "登录失败次数过多，请2秒后再试" in slowed.get_data(as_text=True)
        # The admin, from the office, logs in at once with the right password.
        assert login(from_address(app, "10.1.2.3"), admin.username).status_code == 302


def test_the_delay_doubles_with_each_failure_and_ends(app, factory) -> None:  # type: ignore[no-untyped-def]
    user = factory.user(Role.LEADER, None, username="manman")
    client = from_address(app, "10.0.0.7")
    with clock.pinned(T0):
        for _ in range(5):
            login(client, user.username, password=WRONG)
    with clock.pinned(T0 + dt.timedelta(seconds=1)):
        assert login(client, user.username).status_code == 429  # even the right password waits
    with clock.pinned(T0 + dt.timedelta(seconds=3)):
        assert login(client, user.username, password=WRONG).status_code == 401  # the 6th failure
    with clock.pinned(T0 + dt.timedelta(seconds=6)):
        assert login(client, user.username).status_code == 429  # now 4 s after the latest failure
    with clock.pinned(T0 + dt.timedelta(seconds=8)):
        assert login(client, user.username).status_code == 302


def test_an_address_failing_across_many_accounts_is_slowed_as_a_whole(app, factory) -> None:  # type: ignore[no-untyped-def]
    users = [factory.user(Role.LEADER, None, username=f"yonghu{i}") for i in range(5)]
    sprayer = from_address(app, "198.51.100.4")
    with clock.pinned(T0):
        for user in users:
            for _ in range(4):  # under each account's own limit
                assert login(sprayer, user.username, password=WRONG).status_code == 401
        assert login(sprayer, users[0].username).status_code == 429  # 20 failures from one address
        assert login(from_address(app, "10.9.9.9"), users[0].username).status_code == 302


@pytest.mark.parametrize(("failures", "wait"), [(4, 0.0), (5, 2.0), (6, 4.0), (7, 8.0), (40, 900.0)])
def test_the_delay_schedule(failures: int, wait: float) -> None:
    assert accounts.LoginLimits().delay(failures, 5) == wait
