"""A deterministic demo province a year into the programme (``province``) and its work plan
(``workplan``); every unit is fictitious.

May import: everything in ``tracker`` (``tests/core/test_layers.py`` holds the rule).
"""
