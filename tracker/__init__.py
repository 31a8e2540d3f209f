"""碳足迹试点监管平台 — domain core.

This package holds the data model, the services and the rules, in capability packages:
``core`` (settings, db, clock, i18n, periods, errors), ``models`` (tables, enums, labels),
``catalogue`` (reference data files), ``audit``, ``access`` (accounts, permissions), ``delivery``
(job runs, outbox, recipients, notices), ``lifecycle`` (applications to pilots), ``flags``,
``progress`` (序时进度, updates, work plan), ``claims`` (registry, library, rules), ``uploads``,
``monitoring`` (figures and read models) and ``demo``. Each package's docstring says what it may
import. Nothing here imports ``dashboards``, ``jobs``, ``reports`` or ``tracker_cli``.
"""

__version__ = "0.1.0"
