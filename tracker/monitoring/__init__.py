"""What the pages, reports and bulletins read, as plain data: the one figure computation (``figures``),
the overview, the registry rows, one pilot's record, the city workspace, the flag queue, the
bulletin's figures (``bulletin_data``) and the palette of status colours.

May import: every package above except ``demo`` (``tests/core/test_layers.py`` holds the rule).
"""
