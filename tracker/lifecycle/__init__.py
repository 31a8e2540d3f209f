"""From application to finished pilot: application fields and limits (``applications``), the workflow
with its steps, deadlines and quotas (``workflow``), city deadlines (``deadlines``), the official
Excel forms (``forms``) and organisations.

May import: ``core``, ``models``, ``audit``, ``access``, ``review``, ``delivery`` (``tests/core/test_layers.py`` holds the rule).
"""
