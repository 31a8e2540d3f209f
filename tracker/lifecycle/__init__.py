"""From application to finished pilot: application fields and limits (``applications``), the steps
of applications and pilots (``workflow``), batch deadlines and exceptions (``deadlines``), quotas
(``quotas``), a pilot made at selection (``pilots``) and its refined plan (``plan``), the official
Excel forms (``forms``) and organisations.

May import: ``core``, ``models``, ``audit``, ``access``, ``review``, ``delivery`` (``tests/core/test_layers.py`` holds the rule).
"""
