"""Scheduled jobs: declared in ``jobs.schedule``, run by the ``tracker scheduler`` process only."""
