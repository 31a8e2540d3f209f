"""The foundations every other package stands on: settings, the database engine and column types, the
one clock, translation, reporting periods and working days, errors and validation, secrets
redaction, bounded spreadsheet reading, credit-code checks, migrations.

May import: nothing else in ``tracker`` (``tests/core/test_layers.py`` holds the rule).
"""
