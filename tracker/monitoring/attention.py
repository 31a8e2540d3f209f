"""需关注的试点: the pilots of a scope that need a regulator's attention now, most urgent first.

Read from the figures every surface shares (``tracker.monitoring.figures.scope_figures``): the same
population, the same statuses, overdue milestones, updates and open flags the headline cards count,
so a pilot is listed for a reason exactly when a card counts it for that reason (the cards' drill-down
lists hold the same pilots). The figures are the reader's (``visible_pilots`` and ``visible_flags``
of the permission module), so a city bureau sees only its own pilots.

A pilot is listed for any of these reasons, most severe first:

1. **严重滞后** – its progress status is seriously behind (the 其中严重滞后 card);
2. **高风险线索未办结** – it has an open high-severity flag (open, under review or confirmed: the
   未办结风险线索 card's 高);
3. **里程碑逾期** – a milestone is past its due day and not reached (the 逾期里程碑 card);
4. **进展被退回** – its update for the period was returned and awaits resubmission;
5. **逾期报送** – its update for the period was first submitted after the due day, or the due day
   has passed and nothing has been submitted (a draft is not submitted).

Urgency: more reasons first; among as many reasons, the most severe reason first (the order
above); then the larger gap to 序时进度 (序时进度 − 实际进度), then more overdue milestones and open
high flags; last the city's code and the pilot's id, so the order is stable.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import IntEnum

from tracker.core.i18n import N_
from tracker.core.messages import Message
from tracker.models import Pilot, ProgressUpdate, Severity, UpdateStatus
from tracker.monitoring.figures import Figures
from tracker.progress.expected import ProgressStatus


class Reason(IntEnum):
    """Why a pilot needs attention; the lower, the more severe."""

    SERIOUSLY_BEHIND = 1
    HIGH_FLAG = 2
    OVERDUE_MILESTONE = 3
    RETURNED = 4
    LATE = 5


REASON_LABELS = {
    Reason.SERIOUSLY_BEHIND: N_("严重滞后"),
    Reason.HIGH_FLAG: N_("高风险线索未办结"),
    Reason.OVERDUE_MILESTONE: N_("里程碑逾期"),
    Reason.RETURNED: N_("进展被退回"),
    Reason.LATE: N_("逾期报送"),
}


@dataclass(frozen=True)
class AttentionRow:
    """One pilot needing attention, with its reasons (most severe first)."""

    pilot: Pilot
    reasons: tuple[Reason, ...]
    gap: Decimal  # 序时进度 − 实际进度, percentage points
    status: ProgressStatus
    overdue_milestones: int
    high_flags: int

    def reason_messages(self) -> list[Message]:
        """The reasons as short labels, with their counts where there can be several."""
        counts = {Reason.OVERDUE_MILESTONE: self.overdue_milestones, Reason.HIGH_FLAG: self.high_flags}
        shown = []
        for reason in self.reasons:
            n = counts.get(reason, 1)
            shown.append(Message("{reason}（{n}）", reason=Message(REASON_LABELS[reason]), n=n)
                         if n > 1 else Message(REASON_LABELS[reason]))  # fmt: skip
        return shown

    def urgency(self) -> tuple[int, int, Decimal, int, str, int]:
        return (-len(self.reasons), min(self.reasons), -self.gap, -(self.overdue_milestones + self.high_flags),
                self.pilot.city.code, self.pilot.id)  # fmt: skip


def needing_attention(figures: Figures) -> list[AttentionRow]:
    """The figures' pilots that need attention, most urgent first (see the module's docstring)."""
    high: dict[int, int] = {}
    for severity, pilot_id, _city_id in figures.flags:
        if severity is Severity.HIGH and pilot_id is not None:
            high[pilot_id] = high.get(pilot_id, 0) + 1
    due = figures.total.reporting.due
    rows = []
    for pilot in figures.pilots:
        progress = figures.progress[pilot.id]
        overdue = len(figures.overdue.get(pilot.id, []))
        update = figures.updates.get(pilot.id)
        reasons = [
            reason
            for reason, applies in (
                (Reason.SERIOUSLY_BEHIND, progress.status is ProgressStatus.SERIOUSLY_BEHIND),
                (Reason.HIGH_FLAG, high.get(pilot.id, 0) > 0),
                (Reason.OVERDUE_MILESTONE, overdue > 0),
                (Reason.RETURNED, update is not None and update.status is UpdateStatus.RETURNED),
                (Reason.LATE, _late(update, figures.on > due)),
            )
            if applies
        ]
        if reasons:
            rows.append(AttentionRow(pilot, tuple(reasons), progress.gap, progress.status, overdue,
                                     high.get(pilot.id, 0)))  # fmt: skip
    return sorted(rows, key=AttentionRow.urgency)


def _late(update: ProgressUpdate | None, past_due: bool) -> bool:
    """First submitted after the due day (timeliness's rule: the first submission counts), or
    nothing submitted once the due day has passed."""
    if update is not None and (
        update.submitted_at is not None or update.status in (UpdateStatus.SUBMITTED, UpdateStatus.ACCEPTED)
    ):
        return update.is_late
    return past_due
