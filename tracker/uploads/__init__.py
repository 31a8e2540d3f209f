"""Uploaded files: an application's supporting files and the evidence attached to an update, stored by
content hash and served only to those who may see them.

May import: ``core``, ``models``, ``audit``, ``access``, ``review``, ``lifecycle``, ``progress`` (``tests/core/test_layers.py`` holds the rule).
"""
