"""调度通报 (/bulletins): the archive of dispatch bulletins, every file as it was sent.

Each role sees the cuts it may read (tracker.access.permissions.visible_bulletins): the province and its
leaders every cut, a city bureau its own city's. A file is downloaded through
/bulletins/<id>/download, which asks the same function and audits the download. A correction
(第N期（更正）) is listed right after the bulletin it corrects, with its reason; both stay downloadable."""

from __future__ import annotations

from dash import html
from dash.development.base_component import Component
from sqlalchemy.orm import Session, joinedload

from dashboards.access import db_session, guarded_layout
from dashboards.grid import data_grid
from tracker.access.permissions import Action, visible_bulletins
from tracker.core.errors import TrackerError
from tracker.core.i18n import N_, _, format_date, label_of, name_of, translated, wide_space
from tracker.core.json_types import JsonRow
from tracker.core.periods import Frequency, parse_period
from tracker.delivery.bulletin_archive import KIND_ZH
from tracker.models import Bulletin, User

PATH = "/bulletins"
NAME = N_("调度通报")
ORDER = 7.2
REQUIRED_ACTION = Action.VIEW
GRID = "bul-grid"
CUT_ZH = {"province": N_("全省"), "leadership": N_("领导摘要")}


def period_label(kind: str, period: str) -> str:
    """2026-10 → 2026年10月; 2026Q3 → 2026年第3季度 (the key itself if it is not a period)."""
    try:
        return label_of(parse_period(period, Frequency.MONTHLY if kind == "monthly" else Frequency.QUARTERLY))
    except TrackerError:
        return period


def cut_label(bulletin: Bulletin) -> str:
    if bulletin.city is not None:
        return name_of(bulletin.city, short=True)
    return translated(CUT_ZH, bulletin.cut)


def bulletin_link(bulletin: Bulletin) -> list[Component]:
    """The bulletin's title as its download link, then its period, cut and date (for lists of them)."""
    return [html.A(bulletin.title, href=f"/bulletins/{bulletin.id}/download", download=""),
            html.Span(f"{wide_space()}{period_label(bulletin.kind, bulletin.period)} · {cut_label(bulletin)} · "
                      f"{format_date(bulletin.issued_on)}", className="text-muted small")]  # fmt: skip


def _size(size: int) -> str:
    return f"{size / 1024:.0f} KB" if size >= 1024 else f"{size} B"


def number_label(bulletin: Bulletin) -> str:
    """第10期, 第10期（更正）, 第10期（更正2）."""
    text = _("第{n}期").format(n=bulletin.number)
    if bulletin.correction == 1:
        return text + _("（更正）")
    return text + _("（更正{n}）").format(n=bulletin.correction) if bulletin.correction else text


def bulletin_rows(session: Session, user: User) -> list[JsonRow]:
    """Latest period first; within it each cut, its corrections right after the original."""
    stmt = visible_bulletins(user).options(joinedload(Bulletin.city))
    originals = {
        (b.kind, b.period): b.issued_on for b in session.scalars(stmt.where(Bulletin.correction == 0))
    }
    bulletins = sorted(session.scalars(stmt).all(), key=lambda b: (
        -originals.get((b.kind, b.period), b.issued_on).toordinal(), b.kind, b.period, b.cut, b.correction))  # fmt: skip
    return [{
        "id": b.id, "number": number_label(b), "kind": translated(KIND_ZH, b.kind), "reason": b.reason or "",
        "period": period_label(b.kind, b.period), "cut": cut_label(b), "issued_on": format_date(b.issued_on),
        "title": b.title, "summary": b.summary, "file": b.file_name, "size": _size(b.size),
    } for b in bulletins]  # fmt: skip


@guarded_layout(REQUIRED_ACTION)
def layout(user: User, **_query: str) -> Component:
    with db_session(read_only=True) as session:
        rows = bulletin_rows(session, user)
    columns = [{"field": "number", "headerName": _("期号"), "width": 130},
               {"field": "kind", "headerName": _("类型"), "width": 90},
               {"field": "period", "headerName": _("期别"), "width": 140},
               {"field": "cut", "headerName": _("版本"), "width": 110},
               {"field": "issued_on", "headerName": _("印发日期"), "width": 140},
               {"field": "title", "headerName": _("标题"), "flex": 1, "minWidth": 260},
               {"field": "summary", "headerName": _("摘要"), "flex": 2, "minWidth": 300, "tooltipField": "summary"},
               {"field": "file", "headerName": _("文件（点击下载）"), "width": 280, "cellRenderer": "BulletinLink"},
               {"field": "size", "headerName": _("大小"), "width": 90},
               {"field": "reason", "headerName": _("更正原因"), "width": 200, "tooltipField": "reason"}]  # fmt: skip
    return html.Div([
        html.H2(_("调度通报"), className="h4"),
        html.P(_("每期调度通报由定时任务生成并发送，此处保存发送时的原件（共 {n} 份）。市级用户只能看到本市版本；"
                 "每次下载都记入审计日志。").format(n=len(rows)), className="text-muted small"),
        html.P(_("更正的通报（第N期（更正））列在原件之后，原件仍可下载；更正由省级管理员在“定时任务”页发布。"),
               className="text-muted small"),
        data_grid(GRID, columns, rows, height="70vh"),
    ])  # fmt: skip
