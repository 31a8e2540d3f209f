"""Carbon-label claims (虚标乱标核查): the exchange format (``exchange``), the claims registry and its import (``registry``, PACT JSON in ``pact``), the reference
library of benchmarks, factors and certifiers (``library``, ``library_file``, ``library_import``),
the rules (``rules``), the scan that turns findings into flags (``scan``) and synthetic claims for
benchmarks and the demo (``synth``).

May import: ``core``, ``models``, ``catalogue``, ``audit``, ``access``, ``review``, ``delivery``, ``lifecycle``, ``flags`` (``tests/core/test_layers.py`` holds the rule).
"""
