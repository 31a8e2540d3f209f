"""Getting things to people exactly once: job runs claimed before any work (``job_runs``), the mail and
group-robot outbox (``outbox``), who is sent to (``recipients``), in-app and mail notices
(``notices``), and the archive of bulletins as sent (``bulletin_archive``).

May import: ``core``, ``models``, ``audit``, ``access`` (``tests/core/test_layers.py`` holds the rule).
"""
