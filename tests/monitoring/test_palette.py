"""One palette from the configured thresholds: a city's colour is the status its gap would give a
pilot under the same bands, on the overview's bars and bubbles, the summary's bars and the
workbook's chart; the stylesheet's progress classes use the same colours."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from reports.bulletin import bulletin_xlsx
from tests.reports.test_bulletin import build
from tracker.access.permissions import system_reader
from tracker.core.periods import Period, Reporting
from tracker.monitoring.bulletin_data import Cut
from tracker.monitoring.figures import scope_figures
from tracker.monitoring.palette import STATUS_HEX, gap_colour, gap_status
from tracker.progress.expected import ProgressStatus, Thresholds

CSS = Path(__file__).resolve().parents[2] / "dashboards" / "assets" / "tracker.css"


@pytest.mark.parametrize(
    ("gap", "bands", "status"),
    [
        (Decimal("10.1"), (5, 20), ProgressStatus.BEHIND),  # 长治 at 10.1 was red under a hard-coded 10
        (Decimal("3.9"), (5, 20), ProgressStatus.ON_TRACK),  # 忻州 at 3.9 was orange under "> 0"
        (Decimal("20"), (5, 20), ProgressStatus.SERIOUSLY_BEHIND),
        (Decimal("10.1"), (2, 10), ProgressStatus.SERIOUSLY_BEHIND),  # other bands, other colour
        (Decimal("-4"), (5, 20), ProgressStatus.ON_TRACK),
    ],
)
def test_a_gap_takes_the_colour_its_band_gives(
    gap: Decimal, bands: tuple[int, int], status: ProgressStatus
) -> None:
    thresholds = Thresholds(Decimal(bands[0]), Decimal(bands[1]))
    assert gap_status(gap, thresholds) is status
    assert gap_colour(gap, thresholds) == STATUS_HEX[status]


def test_the_stylesheet_uses_the_palette() -> None:
    css = CSS.read_text(encoding="utf-8")
    classes = {"progress-ok": ProgressStatus.ON_TRACK, "progress-behind": ProgressStatus.BEHIND,
               "progress-serious": ProgressStatus.SERIOUSLY_BEHIND}  # fmt: skip
    for name, status in classes.items():
        colour = re.search(rf"\.{name}\s*{{[^}}]*color:\s*(#[0-9a-fA-F]{{6}})", css)
        assert colour is not None and colour.group(1).lower() == STATUS_HEX[status].lower(), name


def test_the_workbook_chart_colours_each_city_by_its_band(db, settings, factory) -> None:  # type: ignore[no-untyped-def]
    start = dt.date(2025, 1, 1)
    behind = factory.pilot("长治", start=start, name="长治试点")
    factory.accepted_update(behind, dt.date(2025, 11, 1), dt.date(2025, 11, 30), "0")
    ahead = factory.pilot("太原", start=start, name="太原试点")
    factory.accepted_update(ahead, dt.date(2025, 11, 1), dt.date(2025, 11, 30), "100")
    for bands, changzhi in (((5, 20), ProgressStatus.SERIOUSLY_BEHIND), ((5, 100), ProgressStatus.BEHIND)):
        tuned = dataclasses.replace(
            settings, behind_gap=Decimal(bands[0]), seriously_behind_gap=Decimal(bands[1])
        )
        data = build(db, tuned, Cut.province())
        line = next(c for c in data.cities if c.city == "长治市")
        assert gap_status(line.gap, data.figures.thresholds) is changzhi
        with zipfile.ZipFile(io.BytesIO(bulletin_xlsx(data))) as book:
            charts = [book.read(n).decode() for n in book.namelist() if n.startswith("xl/charts/chart")]
        bars = next(c for c in charts if "c:barChart" in c)
        assert STATUS_HEX[changzhi].lstrip("#").upper() in bars.upper()


def test_the_figures_carry_the_thresholds_their_statuses_came_from(db, factory) -> None:  # type: ignore[no-untyped-def]
    pilot = factory.pilot("长治")
    bands = Thresholds(Decimal(1), Decimal(2))
    period = Period(dt.date(2025, 11, 1), dt.date(2025, 11, 30))
    figures = scope_figures(db, system_reader(pilot.city.province_id), on=dt.date(2025, 12, 10), period=period,
                            reporting=Reporting(), thresholds=bands)  # fmt: skip
    assert figures.thresholds == bands
