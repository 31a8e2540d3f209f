"""A pilot's year of implementation: expected progress (序时进度, ``expected``), periodic updates and their
review (``updates``; what submitting and reviewing record, shared with the work plan, ``reviewed``), the Excel entry template (``sheets``), consistency checks on reports
(``consistency``) and the provincial work plan (``workplan``).

May import: ``core``, ``models``, ``audit``, ``access``, ``review``, ``delivery``, ``lifecycle``, ``flags`` (``tests/core/test_layers.py`` holds the rule).
"""
