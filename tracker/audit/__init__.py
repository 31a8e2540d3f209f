"""The audit trail: every change to an audited model written as an event in the same transaction
(``trail``), linked into a tamper-evident hash chain (``chain``).

May import: ``core``, ``models`` (``tests/core/test_layers.py`` holds the rule).
"""
