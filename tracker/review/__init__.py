"""The one review cycle: a typed state machine of steps (who may take a step from which status to
which, and whether it needs a reason), the record of every step taken (``record_step``), and the one
way a reviewed row is locked before it changes (``locked``). Applications and pilots
(``tracker.lifecycle.workflow``), periodic updates and the work plan (``tracker.progress``) and flags
(``tracker.flags.review``) all declare their steps here and record them through it.

May import: ``core``, ``models``, ``audit``, ``access`` (``tests/core/test_layers.py`` holds the rule).
"""
