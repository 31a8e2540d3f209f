"""The marker for audited models (tracker.audit.trail writes an event for every change to them)."""


class Audited:
    """Marker: every insert, update and delete of this model writes an audit event."""

    __audited__ = True
