"""tracker flags review …: one review step on a flag from the command line, with the same rules as
the 风险线索 page (tracker.flags.review; who may take which step: tracker.access.permissions)."""

from __future__ import annotations

import click

from tracker.access import accounts
from tracker.core.clock import now_utc
from tracker.core.messages import Message
from tracker.flags.review import FLAG_STEPS, PROPOSAL_EN, PROPOSAL_ZH, STATUS_ZH, review_flag
from tracker_cli.common import AS_OPTION, acting, fail

STEPS = [key.replace("_", "-") for key in FLAG_STEPS]


@click.command("review")
@click.argument("flag_id", type=int)
@click.argument("step", type=click.Choice(STEPS))
@click.option("--to", "assignee_name", help="指派给哪个账户（assign 时，默认本人）/ assign to this account")
@click.option(
    "--reason", help="理由（确认、排除、办结、建议、驳回时必填）/ reason (required but to assign or accept)"
)
@AS_OPTION
def flags_review(
    flag_id: int, step: str, assignee_name: str | None, reason: str | None, username: str
) -> None:
    """核查一条风险线索：市级 assign（本市内）、propose-dismiss、propose-resolve；
    省级 assign、confirm、dismiss、resolve、accept、reject 市级建议。
    / Take a review step: a city assigns and proposes; the province decides."""
    key = step.replace("-", "_")
    if assignee_name and key != "assign":
        fail(Message("--to 仅用于 assign"))
    with acting(username, "tracker flags review") as (session, user):
        assert user is not None
        assignee = accounts.get_user(session, assignee_name) if assignee_name else None
        flag = review_flag(session, user, flag_id, key, now=now_utc(), reason=reason, assignee=assignee)
        done = FLAG_STEPS[key]
        pending = (
            (f"，{PROPOSAL_ZH[flag.proposal]}", f"; {PROPOSAL_EN[flag.proposal]}")
            if flag.proposal
            else ("", "")
        )
        click.echo(f"{done.label_zh}：线索{flag.id}{STATUS_ZH[flag.status]}{pending[0]} / "
                   f"{done.label_en}: flag {flag.id} is {flag.status.value}{pending[1]}")  # fmt: skip
