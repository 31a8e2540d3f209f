"""The ``tracker`` command: the outermost layer, composing tracker, reports, jobs and dashboards."""
