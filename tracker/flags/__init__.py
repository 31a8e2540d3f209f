"""Risk leads (风险线索) whatever found them: bringing stored flags up to date with a scan (``store``) and
their review lifecycle (``review``).

May import: ``core``, ``models``, ``audit``, ``access``, ``review``, ``delivery`` (``tests/core/test_layers.py`` holds the rule).
"""
