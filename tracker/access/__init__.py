"""Who may do what: accounts, login and sessions (``accounts``), and the one permission module
(``permissions``) that every page, callback, route, command and job asks.

May import: ``core``, ``models``, ``audit`` (``tests/core/test_layers.py`` holds the rule).
"""
