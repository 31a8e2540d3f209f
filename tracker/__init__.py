"""碳足迹试点监管平台 — domain core.

This package holds the data model, the services and the rules. It imports
nothing from ``dashboards``, ``jobs``, ``reports`` or ``tracker_cli``.
"""

__version__ = "0.1.0"
