"""One palette for what a colour says about progress, on every page, chart, workbook and PDF.

A pilot's colour is its status (``tracker.progress.expected``); a group's (a city's bar or bubble, a
workbook's gap cell) is the status its gap would give a pilot under the configured thresholds
(``TRACKER_BEHIND_GAP``, ``TRACKER_SERIOUSLY_BEHIND_GAP``), so a city 10 points behind is amber
when the bands are 5 and 20, and red only from 20.
"""

from __future__ import annotations

from decimal import Decimal

from tracker.progress.expected import ProgressStatus, Thresholds

# Strong colours (chart marks), Bootstrap's: green, amber, red, blue, grey.
STATUS_HEX = {
    ProgressStatus.ON_TRACK: "#198754",
    ProgressStatus.BEHIND: "#fd7e14",
    ProgressStatus.SERIOUSLY_BEHIND: "#dc3545",
    ProgressStatus.FINISHED: "#0d6efd",
    ProgressStatus.NOT_STARTED: "#6c757d",
}
# Pale cell fills with a dark font of the same hue (Excel's "good / neutral / bad" styles).
STATUS_CELL = {
    ProgressStatus.ON_TRACK: ("#C6EFCE", "#006100"),
    ProgressStatus.BEHIND: ("#FFEB9C", "#9C5700"),
    ProgressStatus.SERIOUSLY_BEHIND: ("#F8CBAD", "#9C0006"),
    ProgressStatus.FINISHED: ("#BDD7EE", "#1F4E78"),
    ProgressStatus.NOT_STARTED: ("#EDEDED", "#3F3F3F"),
}
# Bootstrap contextual names for badges and text.
STATUS_CONTEXT = {
    ProgressStatus.ON_TRACK: "success",
    ProgressStatus.BEHIND: "warning",
    ProgressStatus.SERIOUSLY_BEHIND: "danger",
    ProgressStatus.FINISHED: "primary",
    ProgressStatus.NOT_STARTED: "secondary",
}


def gap_status(gap: Decimal | float | None, thresholds: Thresholds) -> ProgressStatus:
    """The status a gap (percentage points behind 序时进度) stands for under the thresholds."""
    if gap is None:
        return ProgressStatus.NOT_STARTED
    value = Decimal(str(gap))
    if value >= thresholds.seriously_behind:
        return ProgressStatus.SERIOUSLY_BEHIND
    if value >= thresholds.behind:
        return ProgressStatus.BEHIND
    return ProgressStatus.ON_TRACK


def gap_colour(gap: Decimal | float | None, thresholds: Thresholds) -> str:
    return STATUS_HEX[gap_status(gap, thresholds)]


def rgb(hex_colour: str) -> tuple[int, int, int]:
    """ "#F8CBAD" → (248, 203, 173), for the PDF."""
    value = hex_colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)
